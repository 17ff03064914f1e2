"""VVAU: vector-vector-activation unit, the layer behind a depthwise convolution (each
channel convolved with its own kernel; FINN's VectorVectorActivation)."""

from __future__ import annotations

import math

import numpy as np

from qnn2fpga.errors import ModelError
from qnn2fpga.graph import new_const
from qnn2fpga.layers import numerics
from qnn2fpga.layers.accumulate import AccumulatorLayer, fuse_activation
from qnn2fpga.layers.attrs import DTypeAttr, FoldAttr, IntAttr, IntsAttr, StrAttr
from qnn2fpga.layers.base import Example, HwLayer
from qnn2fpga.layers.conversion import converts, int_datatype
from qnn2fpga.layers.registry import get_layer, register_layer
from qnn2fpga.layers.resources import Memory
from qnn2fpga.layers.rtl import MEM_MODES, RAM_STYLES, RtlInstance


def depthwise_order(windows: np.ndarray, channels: int, pe: int) -> np.ndarray:
    """Windows in qonnx's Im2Col order (..., KH*KW*C), element k*C + c, -> the depthwise
    stream order (..., KH*KW*C), element (c // PE)*KH*KW*PE + k*PE + c % PE: per group of
    PE channels, the whole window, PE channels per window position. ConvolutionInputGenerator
    with depthwise=1 (SIMD = PE) produces it and VVAU reads it."""
    lead, kk = windows.shape[:-1], windows.shape[-1] // channels
    w = windows.reshape(*lead, kk, channels // pe, pe)
    return np.moveaxis(w, -3, -2).reshape(*lead, kk * channels)


@register_layer("VVAU")
class VVAU(AccumulatorLayer, HwLayer):
    """out[..., c] = act(sum_k x[..., k, c] * W[c, k]): x the KH x KW windows of a
    depthwise convolution, W (Channels, KH*KW) one kernel per channel (k = ky*KW + kx).

    Input stream (..., KH*KW*C) in the depthwise order (`depthwise_order`): for each of
    CF = C/PE channel groups the window's KH*KW positions, PE channels each; a word holds
    SIMD consecutive positions of one group, element s*PE + pe. Output (..., C), PE
    channels per word. Folding: per output pixel CF groups of SF = KH*KW/SIMD words, one
    PE x SIMD tile of products per cycle. The producer (ConvolutionInputGenerator with
    depthwise=1) streams PE channels per word (its SIMD = PE, a fold tie); a width
    converter groups SIMD of its words. The accumulator is exact; with noActivation=0,
    thresholds (C, T) or (1, T) as in MVAU.
    """

    Channels = IntAttr(doc="channels C (input = output channels)")
    Kernel = IntsAttr(length=2, doc="[KH, KW]")
    KernelSize = IntAttr(doc="KH*KW, window positions per channel (what SIMD divides)")
    Dim = IntsAttr(length=2, doc="[OH, OW]: output pixels")
    PE = FoldAttr(divides="Channels", doc="channels per cycle; divides Channels")
    SIMD = FoldAttr(divides="KernelSize", doc="window positions per cycle; divides KernelSize = KH*KW")
    inputDataType = DTypeAttr(doc="datatype of x")
    weightDataType = DTypeAttr(doc="datatype of W")
    outputDataType = DTypeAttr(doc="datatype of the output")
    accDataType = DTypeAttr("INT32", doc="accumulator datatype; must hold every window sum")
    noActivation = IntAttr(0, allowed=(0, 1), doc="1: output the accumulator, no thresholds")
    ActVal = IntAttr(0, doc="added to the threshold count")
    mem_mode = StrAttr("internal_decoupled", allowed=MEM_MODES, doc="where the weights live")
    # No "ultra": rtl/vvau has no runtime-writable weights, and UltraRAM no initial contents.
    ram_style = StrAttr("auto", allowed=tuple(s for s in RAM_STYLES if s != "ultra"), doc="weight memory style")

    def normal_input_shapes(self):
        return [(1, *self.Dim, self.KernelSize * self.Channels)]

    def normal_output_shapes(self):
        return [(1, *self.Dim, self.Channels)]

    def input_datatypes(self):
        return [self.inputDataType]

    def output_datatypes(self):
        return [self.outputDataType]

    def input_folds(self):
        return [self.PE * self.SIMD]

    def output_folds(self):
        return [self.PE]

    def producer_fold(self) -> int:
        """The depthwise window generator in front streams PE channels per word."""
        return self.PE

    def cycles(self) -> int:
        """OH*OW * C/PE * KH*KW/SIMD: every weight tile of PE x SIMD once per pixel."""
        return math.prod(self.Dim) * (self.Channels // self.PE) * (self.KernelSize // self.SIMD)

    def calc_wmem(self) -> int:
        """Weight memory depth: CF * SF words of PE*SIMD weights."""
        return (self.Channels // self.PE) * (self.KernelSize // self.SIMD)

    def weight_matrix(self, w: np.ndarray) -> np.ndarray:
        """(KH*KW, Channels): column c is channel c's kernel."""
        return np.asarray(w).T

    def weight_stream_width(self) -> int:
        return 0 if self.mem_mode == "internal_embedded" else \
            self.PE * self.SIMD * self.weightDataType.bitwidth()

    def op_and_param_counts(self):
        n = self.Channels * self.KernelSize
        counts = {f"op_mac_{self.inputDataType.name}_{self.weightDataType.name}": n * math.prod(self.Dim),
                  f"param_weight_{self.weightDataType.name}": n}
        if not self.noActivation:
            counts[f"param_threshold_{self.accDataType.name}"] = self.Channels * self.n_thresholds()
        return counts

    def memories(self):
        from qnn2fpga import packing  # noqa: PLC0415

        mems = []
        if self.mem_mode != "external":
            mems.append(Memory(self.calc_wmem(), self.PE * self.SIMD * packing.element_bits(self.weightDataType),
                               self.ram_style))
        if not self.noActivation:
            mems.append(Memory(self.Channels // self.PE, self.PE * self.n_thresholds() * (self.acc_bits() + 1),
                               "auto"))
        return mems

    def resource_features(self):
        """Sizes of rtl/vvau, the MVAU datapath with DEPTHWISE = 1 (MVAU.resource_features
        has the finer split): product_bits, the PE*SIMD product lanes by kind (an XNOR per
        lane; P bits negated or passed for one bipolar operand; Booth digits x P bits of
        LUT multipliers; nothing for DSP products); sum_bits, each lane's adder into a sum
        log2(SIMD) bits wider than its term; acc_bits, the PE accumulators (none when one
        word holds the window); pe_bits, each PE's dot-product and accumulator registers;
        cmp_bits, the threshold comparators; stream_bits, the input,
        output and weight stream registers; wfifo_bits, the weight streamer's output FIFO
        (shift registers) in mem_mode internal_decoupled."""
        from qnn2fpga import packing  # noqa: PLC0415

        product, p_bits, digits = self.product_kind()
        lanes = self.PE * self.SIMD
        tree = math.ceil(math.log2(self.SIMD + 1))
        per_lane = {"xnor": 1, "sign": p_bits, "booth": digits * p_bits, "dsp": 0}[product]
        wstream = self.weight_stream_width()
        return {
            "one": 1,
            "product_bits": lanes * per_lane,
            "sum_bits": lanes * (tree if product == "xnor" else p_bits + tree),
            "acc_bits": self.PE * self.acc_bits() if self.KernelSize > self.SIMD else 0,
            "pe_bits": self.PE * ((1 if product == "xnor" else p_bits) + tree + self.acc_bits()),
            "cmp_bits": self.PE * self.n_thresholds() * (self.acc_bits() + 1),
            "stream_bits": lanes * packing.element_bits(self.inputDataType)
            + self.PE * packing.element_bits(self.outputDataType) + wstream,
            "wfifo_bits": wstream if self.mem_mode == "internal_decoupled" else 0,
            "dsp": lanes if product == "dsp" else 0,
        }

    def check_layer(self) -> None:
        if self.Channels < 1 or any(v < 1 for v in self.Kernel) or any(v < 1 for v in self.Dim):
            raise ModelError(self.where, f"Channels={self.Channels}, Kernel={self.Kernel}, Dim={self.Dim} must be "
                             "positive", "fix the layer's shape")
        if self.KernelSize != math.prod(self.Kernel):
            raise ModelError(self.where, f"KernelSize={self.KernelSize} is not the product of Kernel={self.Kernel}",
                             f"set KernelSize={math.prod(self.Kernel)}")
        self.check_accumulator_attrs()

    def check_params(self, params) -> None:
        w = params[0]
        if w.shape != (self.Channels, self.KernelSize):
            raise self.param_error(f"weights have shape {w.shape}, expected (Channels, KH*KW) = "
                                   f"({self.Channels}, {self.KernelSize})", "reshape the weight initializer")
        self.check_weights_and_activation(params, self.Channels)

    def check_model(self, model) -> None:
        super().check_model(model)
        producer = model.find_producer(self.onnx_node.input[0])
        if producer is not None and producer.op_type == "ConvolutionInputGenerator":
            swg = get_layer(producer)
            if swg.depthwise != 1 or swg.SIMD != self.PE:
                raise ModelError(self.where, f"reads {producer.name} (depthwise={swg.depthwise}, SIMD={swg.SIMD}), "
                                 f"whose window order does not match PE={self.PE}",
                                 f"set {producer.name} depthwise=1 and SIMD={self.PE}")

    def random_params(self, rng: np.random.Generator, variant: str = "") -> list[np.ndarray]:
        """Weights of weightDataType and, with an activation, thresholds over the
        accumulator range; variant "shared_thresholds": one row for every channel."""
        return self.random_weights_and_thresholds((self.Channels, self.KernelSize), self.Channels, rng, variant)

    def execute(self, x, weights, thresholds=None):
        lead, c, kk = x.shape[:-1], self.Channels, self.KernelSize
        # depthwise order -> (..., C, KH*KW)
        xi = numerics.as_int64(x).reshape(*lead, c // self.PE, kk, self.PE)
        xi = np.moveaxis(xi, -2, -1).reshape(*lead, c, kk)
        acc = np.einsum("...ck,ck->...c", xi, numerics.as_int64(weights))
        if self.noActivation:
            return acc
        return numerics.threshold_activation(acc, thresholds, self.ActVal, self.outputDataType)

    def rtl(self, params):
        """rtl/vvau: weights as CF*SF memory words (word cf*SF + sf, field pe*SIMD + s =
        W[cf*PE + pe, sf*SIMD + s], the MVAU layout of W transposed), thresholds as in MVAU."""
        from qnn2fpga import packing  # noqa: PLC0415

        idt, wdt = self.inputDataType, self.weightDataType
        act, thres = self.activation_rtl(params, self.Channels, self.PE)
        p = dict(CHANNELS=self.Channels, K_H=self.Kernel[0], K_W=self.Kernel[1], PE=self.PE, SIMD=self.SIMD,
                 IN_BITS=packing.element_bits(idt), IN_SIGNED=int(idt.signed() and idt != numerics.BIPOLAR),
                 IN_BIPOLAR=int(idt == numerics.BIPOLAR),
                 W_BITS=packing.element_bits(wdt), W_SIGNED=int(wdt.signed() and wdt != numerics.BIPOLAR),
                 W_BIPOLAR=int(wdt == numerics.BIPOLAR), **act, MEM_MODE=self.mem_mode, RAM_STYLE=self.ram_style)
        weight_words = packing.mvau_weight_words(self.weight_matrix(params[0]), wdt, self.SIMD, self.PE)
        weight_width = self.PE * self.SIMD * packing.element_bits(wdt)
        mems = {"WEIGHT_FILE": (weight_words, weight_width), "THRES_FILE": thres}
        ports: dict = dict(unused_outputs={}, tied_inputs={})
        if self.mem_mode == "external":
            ports["weight_stream"] = (weight_words * math.prod(self.Dim), weight_width)
        else:
            ports["unused_outputs"]["s_axis_w_tready"] = 1
            ports["tied_inputs"].update(s_axis_w_tdata="'0", s_axis_w_tvalid="1'b0")
        return RtlInstance(module="vvau", library=self.rtl_library, params=p, memories=mems,
                           latency=4 if self.noActivation else 5, **ports)

    @classmethod
    def examples(cls, rng):
        def attrs(c, k, dim, pe, simd, idt, wdt, odt, acc, **kw):
            return dict(Channels=c, Kernel=list(k), KernelSize=k[0] * k[1], Dim=list(dim), PE=pe, SIMD=simd,
                        inputDataType=idt, weightDataType=wdt, outputDataType=odt, accDataType=acc, **kw)

        w4 = rng.integers(-8, 8, size=(4, 9)).astype(np.float32)
        wb = (2 * rng.integers(0, 2, size=(6, 3)) - 1).astype(np.float32)
        t = np.sort(rng.integers(-40, 40, size=(4, 3)), axis=1).astype(np.float32)
        return [
            Example(attrs(4, (3, 3), (2, 2), 2, 3, "INT4", "INT4", "INT16", "INT16", noActivation=1), (w4,),
                    "3x3 no activation"),
            Example(attrs(4, (3, 3), (2, 3), 4, 9, "UINT4", "INT4", "INT2", "INT16", ActVal=-2), (w4, t),
                    "3x3 thresholds, unfolded"),
            Example(attrs(6, (1, 3), (1, 5), 3, 1, "BIPOLAR", "BIPOLAR", "BIPOLAR", "INT8"),
                    (wb, np.zeros((6, 1), dtype=np.float32)), "1-D binarized"),
        ]

    # ---- the Verilog library of rtl() (read by qnn_accelerator and rtlsim) ----

    rtl_library = "//rtl/vvau"

    # ---- conversion from the front end (transforms/to_hw.py) ----

    @converts("MatMul", order=25)
    def from_depthwise_matmul(cls, model, mm):
        """ConvolutionInputGenerator(depthwise=1) -> MatMul(x int, W int), W the
        (KH*KW*C, C) matrix of a depthwise convolution (row k*C + c nonzero only in column
        c) [-> MultiThreshold] -> VVAU, thresholds fused as in MVAU."""
        swg = model.find_producer(mm.input[0])
        w = model.get_initializer(mm.input[1])
        xdt = int_datatype(model, mm.input[0])
        wdt = int_datatype(model, mm.input[1]) if w is not None else None
        if swg is None or swg.op_type != "ConvolutionInputGenerator" or xdt is None or wdt is None:
            return None
        gen = get_layer(swg)
        if not gen.depthwise:
            return None
        c, (kh, kw) = gen.IFMChannels, gen.ConvKernelDim
        if w.shape != (kh * kw * c, c):
            return None
        dense = w.reshape(kh * kw, c, c)
        kernels = np.einsum("kcc->ck", dense)  # W[c, k] from the diagonal of each position
        if not np.array_equal(dense, np.einsum("ck,cd->kcd", kernels, np.eye(c, dtype=w.dtype))):
            raise ModelError(mm.name, "a depthwise window generator feeds a MatMul whose weights mix channels",
                             "lower the convolution with group == channels and a (C, 1, KH, KW) weight")
        lo, hi = numerics.matmul_acc_range(xdt, kernels.T)
        accdt = numerics.smallest_int_datatype(lo, hi)
        attrs = dict(Channels=c, Kernel=[kh, kw], KernelSize=kh * kw, Dim=list(gen.OFMDim), PE=1, SIMD=1,
                     inputDataType=xdt.name, weightDataType=wdt.name, accDataType=accdt.name)
        return fuse_activation(cls, model, mm, [mm.input[0], new_const(model, kernels.astype(np.float32), wdt)],
                               attrs, accdt)
