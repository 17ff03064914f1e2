"""Per-layer RTL code generation: the parameter-binding wrapper (from the template
rtl/common/layer_wrapper.sv.j2) and the memory init files of one hardware layer.
Output is deterministic: sorted parameters, no timestamps, no absolute paths."""

from __future__ import annotations

import os
from dataclasses import dataclass

import jinja2

from qnn2fpga import errors, packing
from qnn2fpga.layers.base import HwLayer
from qnn2fpga.layers.rtl import RtlInstance

TEMPLATE = "rtl/common/layer_wrapper.sv.j2"
# The AXI4-lite slave port of a runtime-writable memory (rtl/common/axil_mem_write.sv).
AXILITE_SIGNALS = ("awaddr", "awvalid", "awready", "wdata", "wstrb", "wvalid", "wready", "bresp", "bvalid",
                   "bready", "araddr", "arvalid", "arready", "rdata", "rresp", "rvalid", "rready")


@dataclass
class GeneratedRtl:
    instance: RtlInstance
    wrapper: str  # SystemVerilog text of the wrapper module
    memory_files: dict  # file name -> contents


def _verilog_value(v) -> str:
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, int):
        return str(v) if v >= 0 else f"-{-v}"
    return '"' + str(v).replace('"', "") + '"'


def memory_file_name(top: str, param: str) -> str:
    """File name of the memory file bound to parameter `param` of wrapper `top`."""
    return f"{top}_{param.lower()}.hex"


def stream_port(prefix: str, i: int) -> str:
    """AXI-stream port name of a layer's i-th streamed input (prefix s_axis) or output
    (m_axis): `s_axis`, `s_axis_1`, ..."""
    return prefix if i == 0 else f"{prefix}_{i}"


def stream_ports(layer: HwLayer, prefix: str, n: int, width) -> list[dict]:
    return [{"name": stream_port(prefix, i), "width": width(i)} for i in range(n)]


def generate(layer: HwLayer, params, top: str, template_text: str, memory_dir: str) -> GeneratedRtl:
    """The wrapper `top` around the layer's RTL module and its memory files. `memory_dir`
    is where the simulator/synthesis will find the files (a path relative to its working
    directory), written into the memory parameters."""
    inst = layer.rtl(params)
    if inst is None:
        raise errors.UnsupportedOpError(layer.where, "has no RTL implementation yet",
                                        "use a layer with an RTL backend (see rtl/)")
    values = dict(inst.params)
    files = {}
    for pname, (words, width) in sorted(inst.memories.items()):
        fname = memory_file_name(top, pname)
        files[fname] = packing.hex_lines(words, width)
        values[pname] = f"{memory_dir}/{fname}" if memory_dir else fname
    passed = []
    if inst.weight_stream:
        passed += [f"s_axis_w_{s}" for s in ("tdata", "tvalid", "tready")]
    if inst.axilite:
        passed += [f"s_axilite_{s}" for s in AXILITE_SIGNALS]
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
    text = env.from_string(template_text).render(
        header=f"generated from layer {layer.onnx_node.name} ({layer.op_type}); do not edit",
        module=inst.module, top=top,
        in_ports=stream_ports(layer, "s_axis", len(layer.normal_input_shapes()), layer.get_instream_width),
        out_ports=stream_ports(layer, "m_axis", len(layer.normal_output_shapes()), layer.get_outstream_width),
        weight_width=inst.weight_stream[1] if inst.weight_stream else 0,
        axilite_addr_bits=inst.axilite[1] if inst.axilite else 0, passed_ports=passed,
        params=[(k, _verilog_value(values[k])) for k in sorted(values)],
        unused_outputs=sorted(inst.unused_outputs.items()), tied_inputs=sorted(inst.tied_inputs.items()))
    return GeneratedRtl(inst, text, files)


def write(gen: GeneratedRtl, wrapper_path: str, memory_dir: str) -> None:
    with open(wrapper_path, "w") as f:
        f.write(gen.wrapper)
    os.makedirs(memory_dir, exist_ok=True)
    for name, text in gen.memory_files.items():
        with open(os.path.join(memory_dir, name), "w") as f:
            f.write(text)
