"""ConvolutionInputGenerator: the sliding-window (im2col) generator in front of a
convolution's MVAU (or a depthwise layer)."""

from __future__ import annotations

import numpy as np

from qnn2fpga.errors import DataTypeError, FoldingError, ModelError
from qnn2fpga.graph import new_tensor, node_attr
from qnn2fpga.layers.numerics import sliding_window_dim
from qnn2fpga.layers.attrs import DTypeAttr, FoldAttr, IntAttr, IntsAttr, StrAttr
from qnn2fpga.layers.base import Example, HwLayer
from qnn2fpga.layers.registry import register_layer
from qnn2fpga.layers.conversion import converts, int_datatype, replace, typed_node
from qnn2fpga.layers.fm_padding import FMPadding
from qnn2fpga.layers.resources import Memory, counter_bits, in_luts
from qnn2fpga.layers.rtl import RAM_STYLES, RtlInstance


@register_layer("ConvolutionInputGenerator")
class ConvolutionInputGenerator(HwLayer):
    """NHWC (N, IH, IW, C) -> (N, OH, OW, KH*KW*C): for each output pixel the KH x KW
    window, element (ky*KW + kx)*C + c = x[oy*sh + ky*dh, ox*sw + kx*dw, c], the ordering
    of qonnx's Im2Col. No padding (FMPadding does that). SIMD channels per cycle.
    depthwise=1 (in front of a VVAU, whose PE equals this SIMD): the window of each pixel in
    the depthwise order instead, element (c // SIMD)*KH*KW*SIMD + (ky*KW + kx)*SIMD + c % SIMD
    (vvau.depthwise_order): per group of SIMD channels the whole window.

    RTL (rtl/convolution_input_generator): the output stream is, per output pixel (oy, ox),
    for ky, for kx, for channel fold c/SIMD, one word each (depthwise=1: for channel fold,
    for ky, for kx), out of a circular line buffer (`line_buffer_depth()` words, ram_style).

    parallel_window=1 (FINN's name; needs SIMD = IFMChannels): one whole window per output
    word, KH*KW*C elements in the order above (with SIMD = C the depthwise order is the
    standard one), one input pixel per cycle and at most one window per cycle
    (convolution_input_generator_parallel.sv: (KH-1)*dh image rows of line buffer and a
    register window). A consumer reading fewer elements per word gets a width converter
    (transforms.insert_streams.InsertDWC)."""

    ConvKernelDim = IntsAttr(length=2, doc="[KH, KW]")
    IFMChannels = IntAttr(doc="input channels C")
    IFMDim = IntsAttr(length=2, doc="[IH, IW]")
    OFMDim = IntsAttr(length=2, doc="[OH, OW]")
    Stride = IntsAttr([1, 1], length=2, doc="[sh, sw]")
    Dilation = IntsAttr([1, 1], length=2, doc="[dh, dw]")
    SIMD = FoldAttr(divides="IFMChannels", doc="channels per cycle; divides IFMChannels")
    inputDataType = DTypeAttr(doc="datatype of the image")
    outputDataType = DTypeAttr(doc="datatype of the windows (equal to inputDataType)")
    depthwise = IntAttr(0, allowed=(0, 1), doc="1: feeds a depthwise layer")
    ram_style = StrAttr("auto", allowed=RAM_STYLES, doc="line buffer memory style")
    parallel_window = IntAttr(0, allowed=(0, 1), doc="1: a whole window per cycle (needs SIMD = IFMChannels)")

    def normal_input_shapes(self):
        ih, iw = self.IFMDim
        return [(1, ih, iw, self.IFMChannels)]

    def normal_output_shapes(self):
        (oh, ow), (kh, kw) = self.OFMDim, self.ConvKernelDim
        return [(1, oh, ow, kh * kw * self.IFMChannels)]

    def input_datatypes(self):
        return [self.inputDataType]

    def output_datatypes(self):
        return [self.outputDataType]

    def input_folds(self):
        return [self.SIMD]

    def output_folds(self):
        if self.parallel_window:
            kh, kw = self.ConvKernelDim
            return [kh * kw * self.IFMChannels]
        return [self.SIMD]

    def fold_ties(self):
        return ["SIMD"] if self.depthwise else []

    def window_span(self) -> int:
        """WIN: stream words from a window's first to its last word, inclusive:
        ((KH-1)*dh*IW + (KW-1)*dw + 1) * IFMChannels/SIMD."""
        (kh, kw), (dh, dw) = self.ConvKernelDim, self.Dilation
        return ((kh - 1) * dh * self.IFMDim[1] + (kw - 1) * dw + 1) * (self.IFMChannels // self.SIMD)

    def parallel_line_buffer(self) -> tuple[int, int]:
        """(words, elements per word) of the parallel generator's line buffer: a delay line
        of dh*IW pixels whose word holds the KH-1 pixels dh, 2*dh, ... rows above in one
        column, (KH-1)*dh image rows in all ((0, 0) for KH = 1)."""
        kh, dh = self.ConvKernelDim[0], self.Dilation[0]
        return (dh * self.IFMDim[1], (kh - 1) * self.IFMChannels) if kh > 1 else (0, 0)

    def line_buffer_depth(self) -> int:
        """Words of the RTL's circular line buffer: WIN + the largest move of the window's
        first word between consecutive output pixels (next column, next row, next frame),
        so the next window is always stored by the time the reader needs it (about
        (2*(KH-1)*dh + 1) image rows for stride 1, 2*WIN words for a 1-D window)."""
        (ih, iw), (oh, ow) = self.IFMDim, self.OFMDim
        (sh, sw), cf = self.Stride, self.IFMChannels // self.SIMD
        steps = [sw, sh * iw - (ow - 1) * sw, ih * iw - (oh - 1) * sh * iw - (ow - 1) * sw]
        return self.window_span() + max(steps) * cf

    def memories(self):
        """The line buffer: `line_buffer_depth()` words of SIMD elements; parallel_window=1:
        `parallel_line_buffer()` (none for KH = 1; a one-word delay line is a register)."""
        from qnn2fpga import packing  # noqa: PLC0415

        bits = packing.element_bits(self.inputDataType)
        if self.parallel_window:
            depth, elems = self.parallel_line_buffer()
            return [Memory(depth, elems * bits, self.ram_style, rom=False)] if depth > 1 else []
        return [Memory(self.line_buffer_depth(), self.SIMD * bits, self.ram_style, rom=False)]

    def resource_class(self) -> str:
        """The parallel generator is another module: its own model once calibrated."""
        return f"{self.op_type}/parallel" if self.parallel_window else self.op_type

    def resource_features(self):
        """Sizes of rtl/convolution_input_generator: stream_bits, the two-word output queue;
        lutram_bits, the read register of a line buffer in LUTs (block RAM has its own);
        addr_bits, the line buffer's address width (write, read and window base
        addresses, each stepped modulo the depth); count_bits, the window and pixel
        counters, the offset in the window and the fill level."""
        from qnn2fpga import packing  # noqa: PLC0415

        if self.parallel_window:
            return self._parallel_features()
        width = self.SIMD * packing.element_bits(self.inputDataType)
        (oh, ow), (kh, kw) = self.OFMDim, self.ConvKernelDim
        depth, win = self.line_buffer_depth(), self.window_span()
        # off (0 .. WIN), the signed fill level (up to DEPTH + the largest step), the counters
        count_bits = (counter_bits(win + 1) + counter_bits(2 * depth - win + 1) + 1 + counter_bits(
            self.IFMChannels // self.SIMD) + counter_bits(kw) + counter_bits(kh) + counter_bits(ow) + counter_bits(oh))
        return {"one": 1, "stream_bits": 2 * width, "lutram_bits": width if in_luts(self.memories()[0]) else 0,
                "addr_bits": counter_bits(depth), "count_bits": count_bits, "dsp": 0}

    def _parallel_features(self):
        """Sizes of convolution_input_generator_parallel.sv (its own resource model,
        `resource_class`, fitted to the cal_swgp_* Yosys runs): stream_bits, the 2-pixel input
        queue; reg_bits, the registers a pixel or window only moves through (the pixel
        waiting for its line-buffer read, the (span-1) x KH register window, the output
        window); lutram_bits, the line buffer's read register when in LUTs; addr_bits,
        its address; count_bits, the pixel and next-window row and column counters."""
        from qnn2fpga import packing  # noqa: PLC0415

        bits = packing.element_bits(self.inputDataType)
        (ih, iw), (kh, kw), c = self.IFMDim, self.ConvKernelDim, self.IFMChannels
        span = (kw - 1) * self.Dilation[1] + 1
        pixel = c * bits
        mems = self.memories()
        depth, elems = self.parallel_line_buffer()
        return {"one": 1, "stream_bits": 2 * pixel, "reg_bits": pixel + (span - 1) * kh * pixel + kh * kw * pixel,
                "lutram_bits": elems * bits if mems and in_luts(mems[0]) else 0, "addr_bits": counter_bits(depth),
                "count_bits": 2 * counter_bits(ih) + 2 * counter_bits(iw), "dsp": 0}

    def cycles(self) -> int:
        """max(IH*IW*C, OH*OW*KH*KW*C) / SIMD: one word per cycle on the busier side (the
        output unless the stride skips input); ignores the initial line-buffer fill, which
        the RTL's `latency` covers (back-to-back frames overlap their fills). When the
        input is the busier side and the window does not reach the last image rows or
        columns (a stride that does not fit the image), the last frame's last output
        leaves before those unused input words arrive: first input to last output is then
        shorter than this, the interval between frames is not.
        parallel_window=1: max(IH*IW, OH*OW) = IH*IW, one input pixel per cycle (at most one
        window per cycle), with the same caveat."""
        return self.stream_bound_cycles()

    def rtl(self, params):
        """rtl/convolution_input_generator: no parameter memories; the line buffer is
        internal. latency: the first window waits for the WIN words it spans, plus the
        read pipeline (3 cycles) and a margin of 2."""
        from qnn2fpga import packing  # noqa: PLC0415

        (kh, kw), (ih, iw) = self.ConvKernelDim, self.IFMDim
        (sh, sw), (dh, dw) = self.Stride, self.Dilation
        p = dict(IFM_H=ih, IFM_W=iw, CHANNELS=self.IFMChannels, K_H=kh, K_W=kw, STRIDE_H=sh, STRIDE_W=sw,
                 DIL_H=dh, DIL_W=dw, SIMD=self.SIMD, ELEM_BITS=packing.element_bits(self.inputDataType),
                 DEPTHWISE=self.depthwise, RAM_STYLE=self.ram_style)
        if self.parallel_window:
            # A window leaves 3 cycles after the pixel that completes it (input queue, line
            # buffer read, output register), plus a margin of 2.
            del p["SIMD"], p["DEPTHWISE"]
            return RtlInstance(module="convolution_input_generator_parallel", library=self.rtl_library, params=p,
                               latency=5)
        return RtlInstance(module="convolution_input_generator", library=self.rtl_library, params=p,
                           latency=self.window_span() + 5)

    def check_layer(self) -> None:
        values = {"ConvKernelDim": self.ConvKernelDim, "IFMDim": self.IFMDim, "OFMDim": self.OFMDim,
                  "Stride": self.Stride, "Dilation": self.Dilation, "IFMChannels": [self.IFMChannels]}
        for name, v in values.items():
            if any(d < 1 for d in v):
                raise ModelError(self.where, f"{name}={v} has a non-positive entry", f"make {name} positive")
        expected = [sliding_window_dim(*args) for args in zip(self.IFMDim, self.ConvKernelDim, self.Stride,
                                                           self.Dilation)]
        if expected != self.OFMDim:
            raise ModelError(self.where, f"OFMDim={self.OFMDim}, but IFMDim={self.IFMDim}, ConvKernelDim="
                             f"{self.ConvKernelDim}, Stride={self.Stride}, Dilation={self.Dilation} give {expected}",
                             f"set OFMDim={expected} (pad with an FMPadding layer for other sizes)")
        if self.parallel_window and self.SIMD != self.IFMChannels:
            raise FoldingError(self.where, f"parallel_window=1 reads one whole pixel per cycle, but SIMD={self.SIMD} "
                               f"is not IFMChannels={self.IFMChannels}",
                               f"set SIMD={self.IFMChannels}, or parallel_window=0")
        if self.outputDataType != self.inputDataType:
            raise DataTypeError(self.where, f"outputDataType={self.outputDataType.name} differs from inputDataType="
                                f"{self.inputDataType.name}; windows pass values through",
                                f"set outputDataType={self.inputDataType.name}")

    def execute(self, x):
        (oh, ow), (kh, kw) = self.OFMDim, self.ConvKernelDim
        (sh, sw), (dh, dw) = self.Stride, self.Dilation
        n, c = x.shape[0], x.shape[-1]
        out = np.empty((n, oh, ow, kh, kw, c), dtype=x.dtype)
        for ky in range(kh):
            for kx in range(kw):
                y0, x0 = ky * dh, kx * dw
                out[:, :, :, ky, kx, :] = x[:, y0:y0 + sh * (oh - 1) + 1:sh, x0:x0 + sw * (ow - 1) + 1:sw, :]
        out = out.reshape(n, oh, ow, kh * kw * c)
        if self.depthwise:
            from qnn2fpga.layers.vvau import depthwise_order  # noqa: PLC0415

            out = depthwise_order(out, c, self.SIMD)
        return out

    @classmethod
    def examples(cls, rng):
        def cfg(k, c, ifm, stride=(1, 1), dil=(1, 1), simd=1, dt="INT4", dw=0, par=0):
            ofm = [sliding_window_dim(*a) for a in zip(ifm, k, stride, dil)]
            return dict(ConvKernelDim=list(k), IFMChannels=c, IFMDim=list(ifm), OFMDim=ofm, Stride=list(stride),
                        Dilation=list(dil), SIMD=simd, inputDataType=dt, outputDataType=dt, depthwise=dw,
                        parallel_window=par)

        return [
            Example(cfg((3, 3), 4, (6, 6), simd=2), label="3x3"),
            Example(cfg((2, 3), 3, (7, 5), stride=(2, 1), simd=3, dt="UINT2"), label="non-square, strided"),
            Example(cfg((3, 3), 2, (7, 7), dil=(2, 2), dt="BIPOLAR"), label="dilated bipolar"),
            Example(cfg((1, 3), 4, (1, 8), simd=4, dw=1), label="1-D depthwise"),
            Example(cfg((3, 2), 3, (7, 6), stride=(2, 1), dil=(1, 2), simd=3, par=1), label="parallel window"),
        ]

    # ---- the Verilog library of rtl() (read by qnn_accelerator and rtlsim) ----

    rtl_library = "//rtl/convolution_input_generator"

    # ---- conversion from the front end (transforms/to_hw.py) ----

    @converts("Im2Col", order=20)
    def from_im2col(cls, model, n):
        """Im2Col (NHWC) on an integer input -> [FMPadding ->] ConvolutionInputGenerator."""
        xdt = int_datatype(model, n.input[0])
        if xdt is None:
            return None
        _, ih, iw, c = model.get_tensor_shape(n.input[0])
        _, oh, ow, _ = model.get_tensor_shape(n.output[0])
        kh, kw = node_attr(n, "kernel_size")
        pads = list(node_attr(n, "pad_amount", [0, 0, 0, 0]))
        src, nodes = n.input[0], []
        if any(pads):
            ph, pw = ih + pads[0] + pads[2], iw + pads[1] + pads[3]
            padded = new_tensor(model, [1, ph, pw, c], xdt)
            nodes.append(typed_node(FMPadding, [src], [padded], f"{n.name}_pad", Padding=pads, ImgDim=[ih, iw],
                                    NumChannels=c, SIMD=1, inputDataType=xdt.name,
                                    padValue=int(node_attr(n, "pad_value", 0))))
            src, ih, iw = padded, ph, pw
        nodes.append(typed_node(
            cls, [src], [n.output[0]], n.name, ConvKernelDim=[kh, kw], IFMChannels=c, IFMDim=[ih, iw],
            OFMDim=[oh, ow], Stride=list(node_attr(n, "stride")), Dilation=list(node_attr(n, "dilations", [1, 1])),
            SIMD=1, inputDataType=xdt.name, outputDataType=xdt.name, depthwise=int(node_attr(n, "depthwise", 0))))
        return replace(model, [n], nodes)
