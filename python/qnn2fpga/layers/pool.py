"""Pool: average pooling with any kernel and stride, as channel sums of the windows a
ConvolutionInputGenerator streams (the division stays a scalar Mul for the streamliner).

Least new code: a window of the sliding-window stream is KH*KW consecutive pixels of
NumChannels channels, so the sums are GlobalAccPool's with a group of KH*KW pixels instead
of the whole image; both layers share the ChannelSums hooks and the RTL module
rtl/global_acc_pool. Max pooling stays StreamingMaxPool (no window buffer needed)."""

from __future__ import annotations

import numpy as np

from qnn2fpga.errors import ModelError
from qnn2fpga.graph import const
from qnn2fpga.layers import numerics
from qnn2fpga.layers.attrs import DTypeAttr, FoldAttr, IntAttr, IntsAttr, StrAttr
from qnn2fpga.layers.base import Example, HwLayer
from qnn2fpga.layers.conversion import converts, int_datatype, replace, typed_node
from qnn2fpga.layers.global_acc_pool import ChannelSums
from qnn2fpga.layers.registry import register_layer


@register_layer("Pool")
class Pool(ChannelSums, HwLayer):
    """(N, OH, OW, KH*KW*C) windows, element k*C + c the window's pixel k of channel c
    (ConvolutionInputGenerator's order) -> (N, OH, OW, C), out[oy, ox, c] = the sum of
    the window's KH*KW values of channel c, in the narrowest integer datatype holding
    KH*KW times the input range. PE channels per cycle. It reads the window generator's
    standard order (all channels of one window pixel, then the next pixel), not the
    channel-group-major order a depthwise VVAU reads: the conversion marks its generator
    depthwise=0, so the generator's SIMD is free and a width converter joins the two folds."""

    PoolDim = IntsAttr(length=2, doc="[KH, KW]")
    OutImgDim = IntsAttr(length=2, doc="[OH, OW]: windows per column and row")
    NumChannels = IntAttr(doc="channels C")
    PE = FoldAttr(divides="NumChannels", doc="channels per cycle; divides NumChannels")
    inputDataType = DTypeAttr(doc="datatype of the windows")
    Function = StrAttr("Acc", allowed=("Acc",), doc="Acc: channel sums (an average's numerator)")

    def group_pixels(self) -> int:
        return self.PoolDim[0] * self.PoolDim[1]

    def normal_input_shapes(self):
        oh, ow = self.OutImgDim
        return [(1, oh, ow, self.group_pixels() * self.NumChannels)]

    def normal_output_shapes(self):
        oh, ow = self.OutImgDim
        return [(1, oh, ow, self.NumChannels)]

    def check_layer(self) -> None:
        for name, v in (("PoolDim", self.PoolDim), ("OutImgDim", self.OutImgDim), ("NumChannels", [self.NumChannels])):
            if any(d < 1 for d in v):
                raise ModelError(self.where, f"{name}={v} has a non-positive entry", f"make {name} positive")

    def execute(self, x):
        n, oh, ow, _ = x.shape
        c = self.NumChannels
        sums = numerics.pool_sums(x.reshape(n * oh * ow * self.group_pixels(), c), self.group_pixels())
        return sums.reshape(n, oh, ow, c).astype(np.float64)

    @classmethod
    def examples(cls, rng):
        return [
            Example(dict(PoolDim=[2, 2], OutImgDim=[3, 3], NumChannels=4, PE=2, inputDataType="UINT4"), label="2x2"),
            Example(dict(PoolDim=[3, 3], OutImgDim=[2, 4], NumChannels=3, PE=3, inputDataType="INT8"),
                    label="3x3, PE = C"),
            Example(dict(PoolDim=[1, 3], OutImgDim=[1, 5], NumChannels=2, PE=1, inputDataType="BIPOLAR"),
                    label="1-D bipolar"),
        ]

    # ---- conversion from the front end (transforms/to_hw.py) ----

    @converts("MatMul", order=24)
    def from_window_sum(cls, model, n):
        """MatMul of a depthwise ConvolutionInputGenerator's windows with ones on each
        channel's taps and zeros elsewhere (what lower makes of the ones-weighted depthwise
        Conv that streamline makes of an AveragePool) -> Pool, its generator set to the
        standard order (depthwise=0). Runs before VVAU (25) and MVAU (30)."""
        from qnn2fpga.layers.convolution_input_generator import ConvolutionInputGenerator  # noqa: PLC0415

        swg = model.find_producer(n.input[0])
        w = const(model, n.input[1])
        xdt = int_datatype(model, n.input[0])
        if swg is None or swg.op_type != "ConvolutionInputGenerator" or w is None or xdt is None:
            return None
        gen = ConvolutionInputGenerator(swg)
        (kh, kw), c = gen.ConvKernelDim, gen.IFMChannels
        if not gen.depthwise or len(model.find_consumers(swg.output[0])) != 1 or \
                not np.array_equal(w, np.tile(np.eye(c), (kh * kw, 1))):
            return None
        gen.set_attr("depthwise", 0)
        node = typed_node(cls, [n.input[0]], [n.output[0]], n.name, PoolDim=[kh, kw], OutImgDim=gen.OFMDim,
                          NumChannels=c, PE=1, inputDataType=xdt.name, Function="Acc")
        return replace(model, [n], [node])
