"""StreamingFIFO: an AXI-stream FIFO between two layers (rtl/common/axis_fifo.sv)."""

from __future__ import annotations

from qnn2fpga.errors import ModelError
from qnn2fpga.layers import numerics
from qnn2fpga.layers.attrs import DTypeAttr, FoldAttr, IntAttr, IntsAttr, StrAttr
from qnn2fpga.layers.base import ChannelStreams, Example, HwLayer
from qnn2fpga.layers.registry import register_layer
from qnn2fpga.layers.resources import Memory
from qnn2fpga.layers.rtl import RAM_STYLES, RtlInstance


@register_layer("StreamingFIFO")
class StreamingFIFO(ChannelStreams, HwLayer):
    """Passes (*numInputVectors, NumChannels) through unchanged, PE elements per word,
    buffering up to `depth` words. Shift-register FIFOs for small depths, RAM
    (ram_style) for large ones, chosen by `fifo_impl`."""

    folded_by_neighbours = True

    NumChannels = IntAttr(doc="channels (innermost axis)")
    PE = FoldAttr(divides="NumChannels", doc="elements per stream word; divides NumChannels")
    dataType = DTypeAttr(doc="element datatype")
    numInputVectors = IntsAttr([1], doc="leading dimensions, e.g. [1, H, W]")
    depth = IntAttr(doc="capacity in words")
    fifo_impl = StrAttr("auto", allowed=("auto", "srl", "ram"), doc="srl, ram, or auto (srl up to 64 words)")
    ram_style = StrAttr("auto", allowed=RAM_STYLES, doc="memory style of a RAM FIFO")

    def input_datatypes(self):
        return [self.dataType]

    def output_datatypes(self):
        return [self.dataType]

    def check_layer(self) -> None:
        if self.depth < 1:
            raise ModelError(self.where, f"depth={self.depth} is not positive", "set depth to at least 1 word")

    def impl(self) -> str:
        """srl, or ram (fifo_impl; "auto" picks srl up to 64 words, as rtl/common/axis_fifo.sv)."""
        return self.fifo_impl if self.fifo_impl != "auto" else ("srl" if self.depth <= 64 else "ram")

    def memories(self):
        from qnn2fpga import packing  # noqa: PLC0415

        if self.impl() != "ram":
            return []
        return [Memory(self.depth, self.PE * packing.element_bits(self.dataType), self.ram_style, rom=False)]

    def resource_features(self):
        """A shift register (width x 32-word SRL slices) or a RAM with pointers."""
        from qnn2fpga import packing  # noqa: PLC0415

        width = self.PE * packing.element_bits(self.dataType)
        srl = self.impl() == "srl"
        return {"one": 1, "srl_bits": width * -(-self.depth // 32) if srl else 0,
                "width": width, "pointer_bits": 0 if srl else 2 * max(1, self.depth.bit_length()), "dsp": 0}

    def execute(self, x):
        return numerics.as_int64(x)

    def rtl(self, params):
        """axis_fifo: WIDTH = PE element bits; latency 1 (shift register) or 3 (RAM)."""
        from qnn2fpga import packing  # noqa: PLC0415

        width = self.PE * packing.element_bits(self.dataType)
        p = dict(WIDTH=width, DEPTH=self.depth, IMPL=self.fifo_impl, RAM_STYLE=self.ram_style)
        count_bits = max(1, (self.depth).bit_length())
        return RtlInstance(module="axis_fifo", library=self.rtl_library, params=p, latency=3,
                           unused_outputs={"count": count_bits})

    @classmethod
    def examples(cls, rng):
        return [
            Example(dict(NumChannels=8, PE=4, dataType="INT4", depth=16, numInputVectors=[1, 2, 2]), label="srl"),
            Example(dict(NumChannels=6, PE=3, dataType="BIPOLAR", depth=256, fifo_impl="ram"), label="ram"),
        ]

    # ---- the Verilog library of rtl() (read by qnn_accelerator and rtlsim) ----

    rtl_library = "//rtl/common:axis_fifo"
