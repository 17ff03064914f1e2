"""The stitched accelerator: every hardware layer's generated wrapper plus a top module
that joins them by AXI-stream wires (template rtl/common/stitched_top.sv.j2), as one
deterministic SystemVerilog file and the layers' memory files.

The hardware layers form a graph with one stream in and one stream out: a chain, or
branches that fork at a DuplicateStreams and join at an AddStreams (residual blocks).
Every stream runs from one layer output to one layer input; the top has the layers'
interface (clk, rst_n, s_axis_*, m_axis_*), so the generic stream testbench
(rtl/common/tb/stream_tb.cpp) drives it like one layer. Streams are named s0 (the
input), then s<k> for the k-th layer output in graph order. Layers with runtime-writeable
parameters share one AXI-lite port `s_axilite_*` on the top (rtl/common/axil_split.sv):
the k-th such layer owns byte addresses [k << B, (k + 1) << B), B the widest layer's
address bits; `Stitched.axilite_writes` gives the writes that load new parameters.
Layers whose weights live outside the design (mem_mode "external") take them on one
more stream each: weight stream k (`WeightStream`, in graph order) is the top's
`s_axis_w_tvalid[k]` / `s_axis_w_tready[k]` with its word in `s_axis_w_tdata` at bits
[offset +: width]. The host sends `words` (one frame's weight words) once per frame;
`Stitched.weight_stream_words` gives them for other weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import jinja2
import numpy as np
from qonnx.core.modelwrapper import ModelWrapper

from qnn2fpga import codegen, errors
from qnn2fpga.layers.base import HwLayer
from qnn2fpga.layers.registry import get_layer, is_hw_layer

# The Verilog library of the AXI-lite split the top instantiates (runtime-writeable layers).
AXIL_SPLIT_LIBRARY = "//rtl/common:axil_split"


@dataclass
class WeightStream:
    node: str  # the layer's node name
    width: int  # bits per word
    offset: int  # the word's lowest bit in the top's s_axis_w_tdata
    words: list  # one frame's words, in stream order (the weights once per input vector)
    index: int = 0  # k: s_axis_w_tvalid[k]; its wires in the top are w<k>_*

    @property
    def name(self) -> str:
        return f"w{self.index}"


@dataclass
class Stitched:
    top: str
    verilog: str  # the wrappers and the top, one file
    memory_files: dict = field(default_factory=dict)
    layers: list = field(default_factory=list)  # HwLayer in graph order
    params: list = field(default_factory=list)  # their parameter arrays
    ins: list = field(default_factory=list)  # per layer: the streams into its inputs
    outs: list = field(default_factory=list)  # per layer: the streams out of its outputs
    widths: dict = field(default_factory=dict)  # stream -> bits
    latency: int = 0  # summed pipeline latencies of the layers
    # Runtime-writeable layers behind the top's s_axilite port: node name -> (base byte
    # address, memory parameter name, address bits: the layer owns base .. base + 2**bits - 1).
    axilite: dict = field(default_factory=dict)
    axilite_slave_bits: int = 0
    axilite_addr_bits: int = 0  # of the top's s_axilite port
    weight_streams: list = field(default_factory=list)  # WeightStream, in graph order

    def weight_stream_words(self, node: str, params) -> list[int]:
        """One frame's words on the weight stream of layer `node` (mem_mode "external")
        for its parameter arrays `params`."""
        ws = next((w for w in self.weight_streams if w.node == node), None)
        if ws is None:
            raise errors.ModelError(f"layer '{node}'", "takes no weight stream in this design",
                                    f"use one of: {', '.join(w.node for w in self.weight_streams) or 'none'}")
        layer = next(la for la in self.layers if la.onnx_node.name == node)
        return list(layer.rtl(list(params)).weight_stream[0])

    def axilite_writes(self, node: str, params) -> list[tuple[int, int]]:
        """(address, data) writes through the top's AXI-lite port that load `params`
        (the layer's parameter arrays) into the runtime-writeable layer `node`."""
        from qnn2fpga import packing  # noqa: PLC0415

        if node not in self.axilite:
            raise errors.ModelError(f"layer '{node}'", "has no runtime-writeable parameters in this design",
                                    f"use one of: {', '.join(self.axilite) or 'none'}")
        base, memory, _ = self.axilite[node]
        layer = next(la for la in self.layers if la.onnx_node.name == node)
        words, width = layer.rtl(list(params)).memories[memory]
        return [(base + a, d) for a, d in packing.axilite_writes(words, width)]

    @property
    def input_layer(self):
        return next(la for la, ins in zip(self.layers, self.ins) if "s0" in ins)

    @property
    def output_stream(self) -> str:
        consumed = {s for ins in self.ins for s in ins}
        return next(s for outs in self.outs for s in outs if s not in consumed)

    @property
    def output_layer(self):
        out = self.output_stream
        return next(la for la, outs in zip(self.layers, self.outs) if out in outs)

    @property
    def in_words(self) -> int:
        """Input stream words per frame."""
        first = self.input_layer
        return math.prod(first.get_normal_input_shape(0)[1:]) // first.input_folds()[0]

    @property
    def out_words(self) -> int:
        """Output stream words per frame."""
        last = self.output_layer
        return math.prod(last.get_normal_output_shape(0)[1:]) // last.output_folds()[0]

    def stall_bound(self) -> int:
        """Cycles without any stream moving after which a run is a deadlock: one frame
        through every layer in turn plus the pipeline latencies (no layer computes
        longer than its own cycles without a handshake)."""
        return sum(layer.cycles() for layer in self.layers) + self.latency + 64


def hw_nodes(model: ModelWrapper) -> list:
    nodes = [n for n in model.graph.node if is_hw_layer(n)]
    if not nodes:
        raise errors.ModelError("the model", "has no hardware layers", "compile it first (qnn2fpga compile)")
    return nodes


NOT_STITCHABLE_FIX = ("estimates and python-mode execution work without it: build with --stop_step "
                      "generate_estimate_reports, or run --mode python")


def _named(nodes) -> str:
    return ", ".join(f"{n.op_type} '{n.name}'" for n in nodes)


def _check_stitchable(model: ModelWrapper, nodes: list) -> None:
    """Names what keeps the hardware layers from being one design: layers without an RTL
    implementation, or software nodes between hardware layers (ops not converted)."""
    no_rtl = [n for n in nodes if type(get_layer(n)).rtl is HwLayer.rtl]
    if no_rtl:
        raise errors.UnsupportedOpError(_named(no_rtl), f"{'has' if len(no_rtl) == 1 else 'have'} no RTL "
                                        "implementation yet, so the design cannot be stitched or simulated",
                                        NOT_STITCHABLE_FIX)
    # Software nodes downstream of a hardware layer and upstream of another one.
    after, frontier = set(), [t for n in nodes for t in n.output]
    while frontier:
        for c in model.find_consumers(frontier.pop()) or []:
            if not is_hw_layer(c) and c.name not in after:
                after.add(c.name)
                frontier.extend(c.output)
    before, frontier = set(), [t for n in nodes for t in n.input]
    while frontier:
        p = model.find_producer(frontier.pop())
        if p is not None and not is_hw_layer(p) and p.name not in before:
            before.add(p.name)
            frontier.extend(p.input)
    between = [n for n in model.graph.node if n.name in after & before]
    if between:
        raise errors.UnsupportedOpError("the hardware layers", f"are split by software nodes {_named(between)} "
                                        "(ops with no hardware layer yet), so they cannot be stitched into one "
                                        "design", NOT_STITCHABLE_FIX)


def stream_graph(model: ModelWrapper) -> tuple[list, list, list]:
    """(hardware nodes, their input streams, their output streams): stream names per
    node input/output (see the module text). Refuses a tensor read by two layers (a fork
    needs a DuplicateStreams), a layer output also read by software (only the design's
    output leaves the hardware), and a second stream into or out of the hardware."""
    nodes = hw_nodes(model)
    _check_stitchable(model, nodes)
    names, ins, outs = {}, [], []
    for n in nodes:
        outs.append([names.setdefault(t, f"s{len(names) + 1}") for t in n.output])
    external_in = []
    for n in nodes:
        k = len(get_layer(n).normal_input_shapes())
        streams = []
        for t in n.input[:k]:
            if t not in names:
                external_in.append(t)
                streams.append("s0")
            else:
                streams.append(names[t])
        ins.append(streams)
    if len(set(external_in)) != 1:
        raise errors.UnsupportedOpError("the hardware layers", f"read {len(set(external_in))} streams from "
                                        f"outside ({', '.join(sorted(set(external_in)))})",
                                        "stitching needs exactly one stream in")
    readers = {}
    for n, streams in zip(nodes, ins):
        for s in streams:
            readers.setdefault(s, []).append(n)
    for s, rs in sorted(readers.items()):
        if len(rs) > 1:
            where = "the input" if s == "s0" else f"stream {s}"
            raise errors.UnsupportedOpError(f"{rs[1].op_type} node '{rs[1].name}'", f"reads {where} that "
                                            f"'{rs[0].name}' also reads", "copy the stream with a "
                                            "DuplicateStreams layer, one output per reader")
    external_out = [s for o in outs for s in o if s not in readers]
    if len(external_out) != 1:
        raise errors.UnsupportedOpError("the hardware layers", f"have {len(external_out)} output streams",
                                        "stitching needs exactly one stream out")
    graph_outputs = {o.name for o in model.graph.output}
    for n, node_outs in zip(nodes, outs):
        for t, s in zip(n.output, node_outs):
            software = [c for c in model.find_consumers(t) or [] if not is_hw_layer(c)]
            if s != external_out[0] and (software or t in graph_outputs):
                who = f"software node '{software[0].name}'" if software else "the graph output"
                raise errors.UnsupportedOpError(f"{n.op_type} node '{n.name}'", f"feeds the next layer and also "
                                                f"{who}; only the design's one output stream leaves the hardware",
                                                "move that consumer into hardware or after the last layer")
    return nodes, ins, outs


def hw_chain(model: ModelWrapper) -> list:
    """The hardware nodes in graph order (any graph stream_graph accepts)."""
    return stream_graph(model)[0]


def layer_params(model: ModelWrapper, node) -> list[np.ndarray]:
    layer = get_layer(node)
    n = len(layer.normal_input_shapes())
    return [model.get_initializer(t) for t in node.input[n:]]


def stitch(model: ModelWrapper, top: str, wrapper_template: str, top_template: str, memory_dir: str) -> Stitched:
    nodes, ins, outs = stream_graph(model)
    out = Stitched(top=top, verilog="", ins=ins, outs=outs)
    texts, views, writeable = [], [], []  # writeable: (node name, memory parameter, address bits)
    for node, node_ins, node_outs in zip(nodes, ins, outs):
        layer, params = get_layer(node), layer_params(model, node)
        name = f"{top}_{node.name.lower()}"
        gen = codegen.generate(layer, params, name, wrapper_template, memory_dir)
        texts.append(gen.wrapper)
        out.memory_files.update(gen.memory_files)
        out.layers.append(layer)
        out.params.append(params)
        out.latency += gen.instance.latency
        for i, s in enumerate(node_outs):
            out.widths[s] = layer.get_outstream_width(i)
        for i, s in enumerate(node_ins):
            width = layer.get_instream_width(i)
            if out.widths.setdefault(s, width) != width:
                raise errors.ModelError(layer.where, f"takes {width}-bit words on input {i}, but its producer "
                                        f"writes {out.widths[s]}-bit words", "insert width converters first "
                                        "(qnn2fpga.transforms.insert_streams.InsertDWC)")
        ports = [(codegen.stream_port("s_axis", i), s) for i, s in enumerate(node_ins)]
        ports += [(codegen.stream_port("m_axis", i), s) for i, s in enumerate(node_outs)]
        if gen.instance.weight_stream:
            words, width = gen.instance.weight_stream
            offset = sum(w.width for w in out.weight_streams)
            ws = WeightStream(node.name, width, offset, list(words), len(out.weight_streams))
            out.weight_streams.append(ws)
            ports.append(("s_axis_w", ws.name))
        axl = None
        if gen.instance.axilite:
            memory, bits = gen.instance.axilite
            axl = {"k": len(writeable), "bits": bits}
            writeable.append((node.name, memory, bits))
        views.append({"module": name, "instance": f"u_{node.name.lower()}", "ports": ports, "axilite": axl})
    streams = [{"name": s, "width": out.widths[s]} for s in sorted(out.widths, key=lambda s: int(s[1:]))]
    axilite = None
    if writeable:
        out.axilite_slave_bits = max(bits for _, _, bits in writeable)
        out.axilite_addr_bits = out.axilite_slave_bits + max(1, (len(writeable) - 1).bit_length())
        out.axilite = {n: (k << out.axilite_slave_bits, mem, bits) for k, (n, mem, bits) in enumerate(writeable)}
        axilite = {"n": len(writeable), "slave_bits": out.axilite_slave_bits, "addr_bits": out.axilite_addr_bits,
                   "bits": [bits for _, _, bits in writeable]}
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
    texts.append(env.from_string(top_template).render(
        header=f"generated from {len(nodes)} layers ({', '.join(n.name for n in nodes)}); do not edit", top=top,
        in_stream="s0", out_stream=out.output_stream, in_width=out.widths["s0"],
        out_width=out.widths[out.output_stream], streams=streams, layers=views, axilite=axilite,
        weight_streams=out.weight_streams))
    # One file holds every module, so its name matches only the top's.
    out.verilog = "/* verilator lint_off DECLFILENAME */\n" + "\n".join(texts)
    return out


def execute_chain(stitched: Stitched, x: np.ndarray) -> np.ndarray:
    """The layers' numpy golden models over the stitched graph (x: the input stream's
    values); returns the output stream's values."""
    values = {"s0": x}
    for layer, params, ins, outs in zip(stitched.layers, stitched.params, stitched.ins, stitched.outs):
        y = layer.execute(*[layer.as_input_shape(i, values[s]) for i, s in enumerate(ins)], *params)
        for s, v in zip(outs, (y,) if isinstance(y, np.ndarray) else y):
            values[s] = v
    return values[stitched.output_stream]
