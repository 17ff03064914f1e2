"""StreamingMaxPool: max pooling over NHWC images, channels streamed PE at a time."""

from __future__ import annotations

import numpy as np

from qnn2fpga.errors import ModelError
from qnn2fpga.layers.attrs import DTypeAttr, FoldAttr, IntAttr, IntsAttr
from qnn2fpga.layers.base import Example, HwLayer
from qnn2fpga.layers.registry import register_layer
from qnn2fpga.graph import node_attr
from qnn2fpga.layers.conversion import converts, int_datatype, replace, typed_node
from qnn2fpga.layers.resources import Memory, counter_bits
from qnn2fpga.layers import numerics
from qnn2fpga.layers.numerics import sliding_window_dim
from qnn2fpga.layers.rtl import RtlInstance


@register_layer("StreamingMaxPool")
class StreamingMaxPool(HwLayer):
    """(N, H, W, C) -> (N, OH, OW, C), out[oy, ox, c] = max of the PoolDim window at
    (oy*sh, ox*sw). No padding; ceil_mode=1 adds a last, partial window on an axis when it
    starts inside the image. Stride defaults to PoolDim (empty list = PoolDim)."""

    PoolDim = IntsAttr(length=2, doc="[kh, kw]")
    ImgDim = IntsAttr(length=2, doc="[H, W]")
    NumChannels = IntAttr(doc="channels C")
    Stride = IntsAttr([], doc="[sh, sw]; [] means PoolDim")
    PE = FoldAttr(divides="NumChannels", doc="channels per cycle; divides NumChannels")
    dataType = DTypeAttr(doc="datatype of input and output")
    ceil_mode = IntAttr(0, allowed=(0, 1), doc="1: keep a last partial window")

    def stride(self) -> list[int]:
        """The effective stride: Stride, or PoolDim when Stride is empty."""
        return self.Stride or self.PoolDim

    def out_dim(self) -> list[int]:
        return [sliding_window_dim(i, k, s, 1, bool(self.ceil_mode))
                for i, k, s in zip(self.ImgDim, self.PoolDim, self.stride())]

    def normal_input_shapes(self):
        h, w = self.ImgDim
        return [(1, h, w, self.NumChannels)]

    def normal_output_shapes(self):
        oh, ow = self.out_dim()
        return [(1, oh, ow, self.NumChannels)]

    def input_datatypes(self):
        return [self.dataType]

    def output_datatypes(self):
        return [self.dataType]

    def input_folds(self):
        return [self.PE]

    def output_folds(self):
        return [self.PE]

    def open_row_windows(self) -> int:
        """Row windows open at once: ceil(kh / sh), at most OH (rtl/streaming_max_pool)."""
        kh, sh, oh = self.PoolDim[0], self.stride()[0], self.out_dim()[0]
        return min(-(-kh // sh), oh)

    def memories(self):
        """One row of running maxima: OW * C/PE words, each holding PE elements for every
        row window open at once (one for kh <= sh, two for CNV-like 3x3 stride 2)."""
        from qnn2fpga import packing  # noqa: PLC0415

        _, ow = self.out_dim()
        width = self.open_row_windows() * self.PE * packing.element_bits(self.dataType)
        return [Memory(ow * (self.NumChannels // self.PE), width, "auto", rom=False)]

    def open_column_windows(self) -> int:
        """Column windows open at once: ceil(kw / sw), at most OW (rtl/streaming_max_pool)."""
        kw, sw, ow = self.PoolDim[1], self.stride()[1], self.out_dim()[1]
        return min(-(-kw // sw), ow)

    def resource_features(self):
        """Sizes of rtl/streaming_max_pool (word: PE elements of b bits; NA, NAV: the open
        column and row windows): stream_bits, the stage and output registers; cmp_bits,
        the (NA + NAV) element-wise maxima's multiplexers, a LUT per bit; cmp_tree_bits,
        their comparators, b * ceil(log2 b) per element (nothing for 1-bit elements, whose
        maximum is an OR); slot_bits, choosing the closing window among the open ones
        ((NA - 1 + NAV - 1) words); row_bits, the row-maxima memory's read word and its
        forwarding register; delay_ff_bits / delay_srl_bits, the per-channel-word delay
        lines of the open column windows (flip-flops for one or two channel words, else
        shift registers of up to 32 words); count_bits, the position counters and window
        offsets with their compares."""
        from qnn2fpga import packing  # noqa: PLC0415

        b = packing.element_bits(self.dataType)
        bits = self.PE * b
        na, nav, cf = self.open_column_windows(), self.open_row_windows(), self.NumChannels // self.PE
        (kh, kw), (sh, sw), (h, w), (_, ow) = self.PoolDim, self.stride(), self.ImgDim, self.out_dim()
        count_bits = (counter_bits(cf) + counter_bits(w) + counter_bits(h) + counter_bits(sw) + counter_bits(sh)
                      + 2 * counter_bits(ow * cf) + na * counter_bits(kw) + nav * counter_bits(kh)
                      + counter_bits(na) + counter_bits(nav))
        delay = na * bits
        return {"one": 1, "stream_bits": 2 * bits, "cmp_bits": (na + nav) * bits,
                "cmp_tree_bits": (na + nav) * bits * (b - 1).bit_length(), "slot_bits": (na + nav - 2) * bits,
                "row_bits": nav * bits, "delay_ff_bits": delay * cf if cf < 3 else 0,
                "delay_srl_bits": delay * -(-cf // 32) if cf >= 3 else 0, "count_bits": count_bits, "dsp": 0}

    def cycles(self) -> int:
        """H*W*C / PE: input-bound, one input word per cycle (outputs are fewer). The RTL
        takes 2 cycles more per frame (1 when ceil_mode=0 drops rows or columns at the end:
        it holds the frame's last output until the frame's input has all gone in)."""
        return self.stream_bound_cycles()

    def rtl(self, params):
        """rtl/streaming_max_pool: no parameter memories; latency 2."""
        from qnn2fpga import packing  # noqa: PLC0415

        (kh, kw), (sh, sw), (h, w) = self.PoolDim, self.stride(), self.ImgDim
        dt = self.dataType
        p = dict(POOL_H=kh, POOL_W=kw, STRIDE_H=sh, STRIDE_W=sw, IMG_H=h, IMG_W=w, CHANNELS=self.NumChannels,
                 PE=self.PE, BITS=packing.element_bits(dt), SIGNED=int(dt.signed() and dt != numerics.BIPOLAR),
                 CEIL_MODE=self.ceil_mode, RAM_STYLE="auto")
        return RtlInstance(module="streaming_max_pool", library=self.rtl_library, params=p, latency=2)

    def check_layer(self) -> None:
        if len(self.stride()) != 2:
            raise ModelError(self.where, f"Stride={self.Stride} needs 2 entries (or none)", "set Stride=[sh, sw]")
        for name, v in (("PoolDim", self.PoolDim), ("ImgDim", self.ImgDim), ("Stride", self.stride()),
                        ("NumChannels", [self.NumChannels])):
            if any(d < 1 for d in v):
                raise ModelError(self.where, f"{name}={v} has a non-positive entry", f"make {name} positive")
        if min(self.out_dim()) < 1:
            raise ModelError(self.where, f"PoolDim={self.PoolDim} does not fit ImgDim={self.ImgDim}",
                             "use a smaller pool window")

    def execute(self, x):
        (kh, kw), (sh, sw), (oh, ow) = self.PoolDim, self.stride(), self.out_dim()
        n, h, w, c = x.shape
        # Partial (ceil-mode) windows: pad the far edges with -inf so they never win.
        ph, pw = max(0, (oh - 1) * sh + kh - h), max(0, (ow - 1) * sw + kw - w)
        xp = np.pad(x.astype(np.float64), ((0, 0), (0, ph), (0, pw), (0, 0)), constant_values=-np.inf)
        out = np.full((n, oh, ow, c), -np.inf)
        for ky in range(kh):
            for kx in range(kw):
                out = np.maximum(out, xp[:, ky:ky + sh * (oh - 1) + 1:sh, kx:kx + sw * (ow - 1) + 1:sw, :])
        return out

    @classmethod
    def examples(cls, rng):
        return [
            Example(dict(PoolDim=[2, 2], ImgDim=[4, 6], NumChannels=4, PE=2, dataType="INT4"), label="2x2"),
            Example(dict(PoolDim=[3, 3], ImgDim=[7, 7], NumChannels=3, Stride=[2, 2], PE=3, dataType="UINT3"),
                    label="overlapping"),
            Example(dict(PoolDim=[2, 2], ImgDim=[5, 5], NumChannels=2, dataType="BIPOLAR", ceil_mode=1),
                    label="ceil mode, bipolar"),
        ]

    # ---- the Verilog library of rtl() (read by qnn_accelerator and rtlsim) ----

    rtl_library = "//rtl/streaming_max_pool"

    # ---- conversion from the front end (transforms/to_hw.py) ----

    @converts("MaxPoolNHWC", order=40)
    def from_maxpool(cls, model, n):
        """MaxPoolNHWC (no padding, floor or ceil mode) on an integer input -> StreamingMaxPool."""
        xdt = int_datatype(model, n.input[0])
        if xdt is None or any(node_attr(n, "pads", [0])):
            return None
        _, ih, iw, c = model.get_tensor_shape(n.input[0])
        node = typed_node(cls, [n.input[0]], [n.output[0]], n.name, PoolDim=list(node_attr(n, "kernel_shape")),
                          ImgDim=[ih, iw], NumChannels=c, Stride=list(node_attr(n, "strides")), PE=1,
                          dataType=xdt.name, ceil_mode=int(node_attr(n, "ceil_mode", 0)))
        return replace(model, [n], [node])
