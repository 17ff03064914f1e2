"""GlobalAccPool: the channel sums of a whole NHWC image (global average pooling without
the division, which stays a scalar Mul for the streamliner or the software tail)."""

from __future__ import annotations

import numpy as np

from qnn2fpga.errors import ModelError
from qnn2fpga.graph import node_attr
from qnn2fpga.layers import numerics
from qnn2fpga.layers.attrs import DTypeAttr, FoldAttr, IntAttr, IntsAttr
from qnn2fpga.layers.base import Example, HwLayer
from qnn2fpga.layers.conversion import converts, int_datatype, replace, typed_node
from qnn2fpga.layers.registry import register_layer
from qnn2fpga.layers.resources import Memory, counter_bits
from qnn2fpga.layers.rtl import RtlInstance


class ChannelSums:
    """What GlobalAccPool and Pool share: both sum each channel over groups of
    `group_pixels()` consecutive pixels of PE-channel words, with the one RTL module
    rtl/global_acc_pool (a running sum per channel word). Needs NumChannels, PE and
    inputDataType attributes."""

    rtl_library = "//rtl/global_acc_pool"

    def group_pixels(self) -> int:
        raise NotImplementedError

    def input_datatypes(self):
        return [self.inputDataType]

    def output_datatypes(self):
        return [numerics.sum_datatype(self.inputDataType, self.group_pixels())]

    def input_folds(self):
        return [self.PE]

    def output_folds(self):
        return [self.PE]

    def _bits(self) -> tuple[int, int]:
        from qnn2fpga import packing  # noqa: PLC0415

        return packing.element_bits(self.inputDataType), packing.element_bits(self.output_datatypes()[0])

    def memories(self):
        """The running sums: NumChannels/PE words of PE sums (flip-flops when there is one
        word). The RTL sets no ram_style: Yosys takes the cheaper of LUTRAM and block RAM
        (deep, narrow sums go to block RAM, the read address register absorbed)."""
        _, acc = self._bits()
        words = self.NumChannels // self.PE
        return [Memory(words, self.PE * acc, "auto", rom=False)] if words > 1 else []

    def resource_features(self):
        """Sizes of rtl/global_acc_pool: add_bits, the PE running-sum adders and the output
        register; restart_bits, the same bits when restarting a sum at a group's first
        pixel costs a LUT of its own (the pixel compare and the two operand bits exceed
        the five shared inputs of a carry-chain LUT: more than 8 pixels); acc_bits, the running sums when
        they are flip-flops (one channel word; more words are LUTRAM, counted by
        memories()); count_bits, the channel-word and pixel counters with their compares.
        No DSP."""
        _, acc = self._bits()
        words = self.NumChannels // self.PE
        wide = counter_bits(self.group_pixels()) > 3
        return {"one": 1, "add_bits": self.PE * acc, "restart_bits": self.PE * acc if wide else 0,
                "acc_bits": self.PE * acc if words == 1 else 0,
                "count_bits": counter_bits(words) + counter_bits(self.group_pixels()), "dsp": 0}

    def cycles(self) -> int:
        """The input words of a frame, one per cycle (outputs are fewer). The RTL sends a
        group's sums one cycle after its last input word (latency 1)."""
        return self.stream_bound_cycles()

    def rtl(self, params):
        """rtl/global_acc_pool: no parameter memories; latency 1."""
        dt = self.inputDataType
        bits, acc = self._bits()
        p = dict(CHANNELS=self.NumChannels, PE=self.PE, PIXELS=self.group_pixels(), BITS=bits, ACC_BITS=acc,
                 SIGNED=int(dt.signed() and dt != numerics.BIPOLAR), BIPOLAR=int(dt == numerics.BIPOLAR))
        return RtlInstance(module="global_acc_pool", library=self.rtl_library, params=p, latency=1)


@register_layer("GlobalAccPool")
class GlobalAccPool(ChannelSums, HwLayer):
    """(N, H, W, C) -> (N, 1, 1, C), out[c] = the sum of x[y, x, c] over the image, in
    the narrowest integer datatype holding H*W times the input range. PE channels per
    cycle."""

    ImgDim = IntsAttr(length=2, doc="[H, W]")
    NumChannels = IntAttr(doc="channels C")
    PE = FoldAttr(divides="NumChannels", doc="channels per cycle; divides NumChannels")
    inputDataType = DTypeAttr(doc="datatype of the image")

    def group_pixels(self) -> int:
        return self.ImgDim[0] * self.ImgDim[1]

    def normal_input_shapes(self):
        h, w = self.ImgDim
        return [(1, h, w, self.NumChannels)]

    def normal_output_shapes(self):
        return [(1, 1, 1, self.NumChannels)]

    def check_layer(self) -> None:
        for name, v in (("ImgDim", self.ImgDim), ("NumChannels", [self.NumChannels])):
            if any(d < 1 for d in v):
                raise ModelError(self.where, f"{name}={v} has a non-positive entry", f"make {name} positive")

    def execute(self, x):
        n, h, w, c = x.shape
        return numerics.pool_sums(x.reshape(n, h * w, c), h * w).reshape(n, 1, 1, c).astype(np.float64)

    @classmethod
    def examples(cls, rng):
        return [
            Example(dict(ImgDim=[4, 6], NumChannels=4, PE=2, inputDataType="UINT4"), label="unsigned"),
            Example(dict(ImgDim=[3, 3], NumChannels=3, PE=3, inputDataType="INT8"), label="signed, PE = C"),
            Example(dict(ImgDim=[1, 5], NumChannels=2, PE=1, inputDataType="BIPOLAR"), label="bipolar"),
        ]

    # ---- conversion from the front end (transforms/to_hw.py) ----

    @converts("ReduceSum", order=45)
    def from_reduce_sum(cls, model, n):
        """ReduceSum over the H and W axes of an NHWC integer image, keepdims=1 (what
        transforms/lower.py makes of GlobalAveragePool and ReduceMean) -> GlobalAccPool."""
        from qnn2fpga.transforms.lower import reduce_axes  # noqa: PLC0415

        xdt = int_datatype(model, n.input[0])
        shape = model.get_tensor_shape(n.input[0])
        if xdt is None or len(shape) != 4 or reduce_axes(model, n) != [1, 2] or not node_attr(n, "keepdims", 1):
            return None
        _, h, w, c = shape
        node = typed_node(cls, [n.input[0]], [n.output[0]], n.name, ImgDim=[h, w], NumChannels=c, PE=1,
                          inputDataType=xdt.name)
        return replace(model, [n], [node])
