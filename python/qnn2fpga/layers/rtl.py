"""The RTL backend vocabulary: what a layer's `rtl()` hook returns, and the attribute
values the RTL modules take as parameters.

A layer with a hand-written RTL implementation returns an `RtlInstance` from
`HwLayer.rtl(params)`; qnn2fpga.codegen generates the wrapper and memory files from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Memory options of the layers with parameter memories (FINN's names), passed to the RTL
# as MEM_MODE and RAM_STYLE parameters.
MEM_MODES = ("internal_decoupled", "internal_embedded", "external")
RAM_STYLES = ("auto", "block", "distributed", "ultra")


@dataclass(frozen=True)
class RtlInstance:
    """A hand-written RTL module bound to one layer: `module` from the Bazel
    verilog_library `library`, top-level `params`, and `memories` (parameter name ->
    (words, word width)) written to $readmemh files whose paths fill those parameters.
    `latency`: cycles beyond `cycles()` the module may take for a frame (pipeline fill).
    `unused_outputs`: extra output ports (name -> width) the wrapper leaves unconnected;
    `tied_inputs`: extra input ports (name -> Verilog constant) the wrapper ties off.
    `weight_stream`: (words of one frame, width) when the module takes its parameters on
    a second AXI stream `s_axis_w` (mem_mode "external"): the wrapper exposes that port
    and the testbench streams these words. `axilite`: (memory parameter name, address
    bits) when that memory is writable at run time through the AXI-lite port
    `s_axilite_*` (packing.axilite_writes gives the writes of its words)."""

    module: str
    library: str
    params: dict
    memories: dict = field(default_factory=dict)
    latency: int = 0
    unused_outputs: dict = field(default_factory=dict)
    tied_inputs: dict = field(default_factory=dict)
    weight_stream: tuple | None = None
    axilite: tuple | None = None


def axilite_tie_offs() -> dict:
    """RtlInstance fields that leave a module's AXI-lite port idle (not runtime-writable)."""
    tied = dict(awvalid="1'b0", wvalid="1'b0", arvalid="1'b0", awaddr="'0", araddr="'0", wdata="'0",
                wstrb="'0", bready="1'b1", rready="1'b1")
    unused = dict(awready=1, wready=1, bresp=2, bvalid=1, arready=1, rdata=32, rresp=2, rvalid=1)
    return dict(tied_inputs={f"s_axilite_{k}": v for k, v in tied.items()},
                unused_outputs={f"s_axilite_{k}": w for k, w in unused.items()})
