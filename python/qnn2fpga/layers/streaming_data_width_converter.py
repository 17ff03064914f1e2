"""StreamingDataWidthConverter: re-cuts a stream into words of another width (between
layers whose SIMD/PE differ), rtl/dwc/stream_dwc.sv."""

from __future__ import annotations

import math

from qnn2fpga.errors import ModelError
from qnn2fpga.layers import numerics
from qnn2fpga.layers.attrs import DTypeAttr, FoldAttr, IntAttr, IntsAttr
from qnn2fpga.layers.base import ChannelStreams, Example, HwLayer
from qnn2fpga.layers.registry import register_layer
from qnn2fpga.layers.rtl import RtlInstance


@register_layer("StreamingDataWidthConverter")
class StreamingDataWidthConverter(ChannelStreams, HwLayer):
    """Passes (*numInputVectors, NumChannels) through unchanged; input words carry inFold
    elements, output words outFold. Any ratio, also non-integer ones (e.g. 3 -> 2)."""

    folded_by_neighbours = True

    NumChannels = IntAttr(doc="channels (innermost axis)")
    inFold = FoldAttr(divides="NumChannels", doc="elements per input word; divides NumChannels")
    outFold = FoldAttr(divides="NumChannels", doc="elements per output word; divides NumChannels")
    dataType = DTypeAttr(doc="element datatype")
    numInputVectors = IntsAttr([1], doc="leading dimensions, e.g. [1, H, W]")

    def input_datatypes(self):
        return [self.dataType]

    def output_datatypes(self):
        return [self.dataType]

    def input_folds(self):
        return [self.inFold]

    def output_folds(self):
        return [self.outFold]

    def cycles(self) -> int:
        """V * max(words in, words out) per vector of NumChannels (rtl/dwc: + 1 or 2 to drain,
        counted as latency)."""
        return math.prod(self.numInputVectors) * max(self.NumChannels // self.inFold,
                                                     self.NumChannels // self.outFold)

    def check_layer(self) -> None:
        if self.NumChannels < 1:
            raise ModelError(self.where, f"NumChannels={self.NumChannels} is not positive", "set NumChannels >= 1")

    def resource_features(self):
        """A wire when the widths are equal. Integer upsizing without partial words: the
        waiting words and the output register (2 * out - in flip-flops, `buf_bits`) and a
        write enable per waiting word (`sel_words`, out / in - 1). Else rtl/dwc/stream_dwc.sv's
        bit buffer of B = in + out + min(in, out) - G bits (G: the gcd unit) and the
        multiplexers that append an input word at any unit position (each buffer bit picks
        one of in/G + 1)."""
        from qnn2fpga import packing  # noqa: PLC0415

        bits = packing.element_bits(self.dataType)
        i, o, total = self.inFold * bits, self.outFold * bits, self.NumChannels * bits
        if i == o:
            return {"one": 0, "buf_bits": 0, "place_bits": 0, "sel_words": 0, "dsp": 0}
        if o % i == 0 and total % o == 0:
            return {"one": 1, "buf_bits": 2 * o - i, "place_bits": 0, "sel_words": o // i - 1, "dsp": 0}
        g = math.gcd(i, o, total)
        b = i + o + min(i, o) - g
        return {"one": 1, "buf_bits": b, "place_bits": b * math.ceil(math.log2(i // g + 1)), "sel_words": 0, "dsp": 0}

    def execute(self, x):
        return numerics.as_int64(x)

    def rtl(self, params):
        """stream_dwc with one vector as its frame: TOTAL_BITS = NumChannels * element bits."""
        from qnn2fpga import packing  # noqa: PLC0415

        bits = packing.element_bits(self.dataType)
        p = dict(IN_WIDTH=self.inFold * bits, OUT_WIDTH=self.outFold * bits, TOTAL_BITS=self.NumChannels * bits)
        return RtlInstance(module="stream_dwc", library=self.rtl_library, params=p, latency=2)

    @classmethod
    def examples(cls, rng):
        return [
            Example(dict(NumChannels=12, inFold=3, outFold=2, dataType="INT4", numInputVectors=[1, 2]),
                    label="3 -> 2 elements"),
            Example(dict(NumChannels=8, inFold=1, outFold=8, dataType="BIPOLAR"), label="upsize"),
        ]

    # ---- the Verilog library of rtl() (read by qnn_accelerator and rtlsim) ----

    rtl_library = "//rtl/dwc:stream_dwc"
