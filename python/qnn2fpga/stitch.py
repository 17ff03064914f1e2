"""The stitched accelerator: every hardware layer's generated wrapper plus a top module
that joins them in stream order (template rtl/common/stitched_top.sv.j2), as one
deterministic SystemVerilog file and the layers' memory files.

Handles a chain of single-input, single-output layers (the fully connected networks);
the top has the layers' interface (clk, rst_n, s_axis_*, m_axis_*), so the generic
stream testbench (rtl/common/tb/stream_tb.cpp) drives it like one layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jinja2
import numpy as np
from qonnx.core.modelwrapper import ModelWrapper

from qnn2fpga import codegen, errors
from qnn2fpga.layers.base import get_layer, is_hw_layer


@dataclass
class Stitched:
    top: str
    verilog: str  # the wrappers and the top, one file
    memory_files: dict = field(default_factory=dict)
    layers: list = field(default_factory=list)  # HwLayer in stream order
    params: list = field(default_factory=list)  # their parameter arrays
    latency: int = 0  # summed pipeline latencies of the layers


def hw_chain(model: ModelWrapper) -> list:
    """The hardware nodes in stream order; refuses anything but one chain."""
    nodes = [n for n in model.graph.node if is_hw_layer(n)]
    if not nodes:
        raise errors.ModelError("the model", "has no hardware layers", "compile it first (qnn2fpga compile)")
    for a, b in zip(nodes, nodes[1:]):
        if len(a.output) != 1 or list(b.input[:1]) != [a.output[0]] or len(model.find_consumers(a.output[0])) != 1:
            raise errors.UnsupportedOpError(f"{b.op_type} node '{b.name}'", "does not simply follow the layer before it "
                                            "(stitching handles chains of layers)", "use a network without branches")
    return nodes


def layer_params(model: ModelWrapper, node) -> list[np.ndarray]:
    layer = get_layer(node)
    n = len(layer.normal_input_shapes())
    return [model.get_initializer(t) for t in node.input[n:]]


def stitch(model: ModelWrapper, top: str, wrapper_template: str, top_template: str, memory_dir: str) -> Stitched:
    out = Stitched(top=top, verilog="")
    texts, views = [], []
    nodes = hw_chain(model)
    streams = []
    for i, node in enumerate(nodes):
        layer, params = get_layer(node), layer_params(model, node)
        name = f"{top}_{node.name.lower()}"
        gen = codegen.generate(layer, params, name, wrapper_template, memory_dir)
        if gen.instance.weight_stream or gen.instance.axilite:
            raise errors.UnsupportedOpError(layer.where, "needs an external weight stream or AXI-lite port, which "
                                            "stitching does not route yet", "use mem_mode internal_* and "
                                            "runtime_writeable_weights=0")
        texts.append(gen.wrapper)
        out.memory_files.update(gen.memory_files)
        out.layers.append(layer)
        out.params.append(params)
        out.latency += gen.instance.latency
        if i == 0:
            streams.append({"name": "s0", "width": layer.get_instream_width()})
        streams.append({"name": f"s{i + 1}", "width": layer.get_outstream_width()})
        views.append({"module": name, "instance": f"u_{node.name.lower()}", "src": f"s{i}", "dst": f"s{i + 1}"})
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
    texts.append(env.from_string(top_template).render(
        header=f"generated from {len(nodes)} layers ({', '.join(n.name for n in nodes)}); do not edit", top=top,
        in_width=streams[0]["width"], out_width=streams[-1]["width"], streams=streams, layers=views))
    # One file holds every module, so its name matches only the top's.
    out.verilog = "/* verilator lint_off DECLFILENAME */\n" + "\n".join(texts)
    return out


def execute_chain(stitched: Stitched, x: np.ndarray) -> np.ndarray:
    """The layers' numpy golden models in sequence (x: the first layer's input)."""
    for layer, params in zip(stitched.layers, stitched.params):
        y = layer.execute(x, *params)
        x = y[0] if isinstance(y, tuple) else y
    return x
