"""MVAU: matrix-vector-activation unit, the layer behind every fully-connected and
(after im2col) convolutional layer."""

from __future__ import annotations

import math

import numpy as np

from qnn2fpga.errors import ModelError
from qnn2fpga.layers import numerics
from qnn2fpga.layers.accumulate import AccumulatorLayer, fuse_activation
from qnn2fpga.layers.attrs import DTypeAttr, FoldAttr, IntAttr, IntsAttr, StrAttr
from qnn2fpga.layers.base import Example, HwLayer
from qnn2fpga.layers.registry import register_layer
from qnn2fpga.layers.conversion import converts, int_datatype
from qnn2fpga.layers.resources import Memory
from qnn2fpga.layers.rtl import MEM_MODES, RAM_STYLES, RtlInstance, axilite_tie_offs


# rtl/mvau has no choice of multiplier: resType's "lut"/"dsp" would have no effect.
_RES_TYPE_FIXED = ("rtl/mvau picks each product's implementation from the operand types (XNOR or negation for "
                   "bipolar operands, Booth LUT multipliers up to 4-bit operands, DSPs for wider ones), so the "
                   "layer keeps resType='auto'; 'lut' and 'dsp' would force one kind once the RTL offers the choice")


@register_layer("MVAU")
class MVAU(AccumulatorLayer, HwLayer):
    """out = act(x @ W): x (*numInputVectors, MW), W (MW, MH), out (*numInputVectors, MH).

    The accumulator is exact. With noActivation=0 a thresholds input (MH, T) or (1, T)
    maps each accumulator to ActVal + (number of thresholds reached), or for a BIPOLAR
    output to -1/+1 (one threshold, ActVal 0). Folding: each of NF = MH/PE output groups
    reads the input vector as SF = MW/SIMD words of SIMD elements.
    """

    MW = IntAttr(doc="matrix width: input features")
    MH = IntAttr(doc="matrix height: output features")
    SIMD = FoldAttr(divides="MW", doc="input elements per cycle; divides MW")
    PE = FoldAttr(divides="MH", doc="output channels per cycle; divides MH")
    inputDataType = DTypeAttr(doc="datatype of x")
    weightDataType = DTypeAttr(doc="datatype of W")
    outputDataType = DTypeAttr(doc="datatype of the output")
    accDataType = DTypeAttr("INT32", doc="accumulator datatype; must hold every x @ W")
    numInputVectors = IntsAttr([1], doc="leading dimensions of x, e.g. [1] or [1, OH, OW]")
    noActivation = IntAttr(0, allowed=(0, 1), doc="1: output the accumulator, no thresholds")
    ActVal = IntAttr(0, doc="added to the threshold count")
    mem_mode = StrAttr("internal_decoupled", allowed=MEM_MODES, doc="where the weights live")
    ram_style = StrAttr("auto", allowed=RAM_STYLES, doc="weight memory style")
    resType = StrAttr("auto", allowed=("auto", "lut", "dsp"), doc="multiplier implementation",
                      not_implemented=dict.fromkeys(("lut", "dsp"), _RES_TYPE_FIXED))
    runtime_writeable_weights = IntAttr(0, allowed=(0, 1), doc="1: weights writable over AXI-lite")

    def normal_input_shapes(self):
        return [(*self.numInputVectors, self.MW)]

    def normal_output_shapes(self):
        return [(*self.numInputVectors, self.MH)]

    def input_datatypes(self):
        return [self.inputDataType]

    def output_datatypes(self):
        return [self.outputDataType]

    def input_folds(self):
        return [self.SIMD]

    def output_folds(self):
        return [self.PE]

    def cycles(self) -> int:
        """prod(numInputVectors) * SF * NF: every weight tile of SIMD x PE once per vector."""
        return math.prod(self.numInputVectors) * (self.MW // self.SIMD) * (self.MH // self.PE)

    def calc_wmem(self) -> int:
        """Weight memory depth per PE: SF * NF words of SIMD weights."""
        return (self.MW // self.SIMD) * (self.MH // self.PE)

    def calc_tmem(self) -> int:
        """Threshold memory depth per PE (0 without activation)."""
        return 0 if self.noActivation else self.MH // self.PE

    def get_weightstream_width(self) -> int:
        """Bits per weight word (PE * SIMD weights), streamed in the decoupled/external modes."""
        return self.PE * self.SIMD * self.weightDataType.bitwidth()

    def op_and_param_counts(self):
        n = self.MW * self.MH
        counts = {f"op_mac_{self.inputDataType.name}_{self.weightDataType.name}": n * math.prod(self.numInputVectors),
                  f"param_weight_{self.weightDataType.name}": n}
        if not self.noActivation:
            counts[f"param_threshold_{self.accDataType.name}"] = self.MH * self.n_thresholds()
        return counts

    def weight_stream_width(self) -> int:
        return 0 if self.mem_mode == "internal_embedded" else self.get_weightstream_width()

    def weight_matrix(self, w: np.ndarray) -> np.ndarray:
        """W itself: (MW, MH)."""
        return w

    def memories(self):
        from qnn2fpga import packing  # noqa: PLC0415

        mems = []
        if self.mem_mode != "external":
            mems.append(Memory(self.calc_wmem(), self.PE * self.SIMD * packing.element_bits(self.weightDataType),
                               self.ram_style, rom=not self.runtime_writeable_weights))
        if not self.noActivation:
            mems.append(Memory(self.calc_tmem(), self.PE * self.n_thresholds() * (self.acc_bits() + 1), "auto"))
        return mems

    def resource_class(self):
        """MVAU/xnor, MVAU/bipolar (one bipolar operand), MVAU/lut (Booth), MVAU/dsp."""
        ibip, wbip = self.inputDataType == numerics.BIPOLAR, self.weightDataType == numerics.BIPOLAR
        if ibip and wbip:
            return "MVAU/xnor"
        if ibip or wbip:
            return "MVAU/bipolar"
        return "MVAU/dsp" if self.resource_features()["dsp"] else "MVAU/lut"

    def resource_features(self):
        """Lanes (PE*SIMD products) by kind, as rtl/mvau/mvau_dot.sv builds them: XNOR-popcount;
        one bipolar operand (negate or pass, P bits); Booth LUT multipliers up to 4-bit
        operands (digits x P bits); wider products on DSPs. Plus accumulators, threshold
        comparators, stream registers and the AXI-lite write path."""
        from qnn2fpga import packing  # noqa: PLC0415

        product, p_bits, digits = self.product_kind()
        ib = packing.element_bits(self.inputDataType)
        lanes = self.PE * self.SIMD
        xnor, sign, booth, dsp = (product == k for k in ("xnor", "sign", "booth", "dsp"))
        acc_bits = self.acc_bits()
        # The lane sums are adder chains (Yosys builds `sum += term` as such): each lane adds
        # a term into a sum as wide as its result, log2(SIMD) bits over the term.
        tree = math.ceil(math.log2(self.SIMD + 1))
        # Only the product kind this layer builds has features (a feature of another kind
        # would be zero in every calibration sample of this class, which calibration refuses).
        if xnor:
            kind = {"xnor_lanes": lanes, "xnor_sum_bits": lanes * tree}
        else:
            kind = {"sign_bits": lanes * p_bits} if sign else {"booth_bits": lanes * digits * p_bits} if booth else {}
            kind["sum_bits"] = lanes * (p_bits + tree)
        if self.mem_mode != "external" and not self.runtime_writeable_weights and self.calc_wmem() == 1:
            # one weight word: the weights are constants and Yosys folds them into the products
            kind = {"const_" + k: v for k, v in kind.items()}
        return {
            "one": 1,
            "lanes": lanes,
            **kind,
            # accumulators (they reduce to the dot product when one word makes the vector)
            "acc_bits": self.PE * acc_bits if self.MW > self.SIMD else 0,
            "cmp_bits": self.PE * self.n_thresholds() * (acc_bits + 1),
            "stream_bits": self.SIMD * ib + self.PE * packing.element_bits(self.outputDataType),
            "wstream_bits": self.weight_stream_width(),
            # the streamer's output FIFO (shift registers), unless its memory is one constant word
            "wfifo_bits": self.weight_stream_width() if self.mem_mode == "internal_decoupled" and
            self.calc_wmem() > 1 else 0,
            "axilite_bits": self.weight_stream_width() if self.runtime_writeable_weights else 0,
            "dsp": lanes if dsp else 0,
        }

    def check_layer(self) -> None:
        if not self.numInputVectors or any(v < 1 for v in self.numInputVectors):
            raise ModelError(self.where, f"numInputVectors={self.numInputVectors} is not a non-empty list of "
                             "positive sizes", "set numInputVectors to e.g. [1] or [1, OH, OW]")
        if self.MW < 1 or self.MH < 1:
            raise ModelError(self.where, f"MW={self.MW}, MH={self.MH} must be positive", "fix the matrix shape")
        self.check_accumulator_attrs()
        if self.runtime_writeable_weights and self.mem_mode != "internal_decoupled":
            raise ModelError(self.where, f"runtime_writeable_weights=1 needs the weight streamer, but "
                             f"mem_mode={self.mem_mode!r}",
                             "set mem_mode='internal_decoupled' or runtime_writeable_weights=0")
        if self.ram_style == "ultra" and not self.runtime_writeable_weights:
            raise ModelError(self.where, "ram_style='ultra': UltraRAM has no initial contents, so the weights "
                             "must be written at run time", "set runtime_writeable_weights=1 or another ram_style")

    def check_params(self, params) -> None:
        w = params[0]
        if w.shape != (self.MW, self.MH):
            raise self.param_error(f"weights have shape {w.shape}, expected (MW, MH) = ({self.MW}, {self.MH})",
                                   "transpose or fix the weight initializer, or MW/MH")
        self.check_weights_and_activation(params, self.MH)

    def random_params(self, rng: np.random.Generator, variant: str = "") -> list[np.ndarray]:
        """Weights of weightDataType and, with an activation, sorted thresholds spread over
        the accumulator range (for generated hardware tests); variant "shared_thresholds":
        one threshold row for every output channel."""
        return self.random_weights_and_thresholds((self.MW, self.MH), self.MH, rng, variant)

    def rtl(self, params):
        """rtl/mvau: weights (and thresholds) as memory words; see rtl/mvau/mvau.sv for the
        memory layouts, which packing.mvau_weight_words/threshold_words produce."""
        from qnn2fpga import packing  # noqa: PLC0415

        w = params[0]
        idt, wdt = self.inputDataType, self.weightDataType
        act, thres = self.activation_rtl(params, self.MH, self.PE)
        p = dict(MW=self.MW, MH=self.MH, SIMD=self.SIMD, PE=self.PE,
                 NUM_VECTORS=math.prod(self.numInputVectors),
                 IN_BITS=packing.element_bits(idt), IN_SIGNED=int(idt.signed() and idt != numerics.BIPOLAR),
                 IN_BIPOLAR=int(idt == numerics.BIPOLAR),
                 W_BITS=packing.element_bits(wdt), W_SIGNED=int(wdt.signed() and wdt != numerics.BIPOLAR),
                 W_BIPOLAR=int(wdt == numerics.BIPOLAR), **act, MEM_MODE=self.mem_mode, RAM_STYLE=self.ram_style)
        weight_words = packing.mvau_weight_words(w, wdt, self.SIMD, self.PE)
        weight_width = self.PE * self.SIMD * packing.element_bits(wdt)
        mems = {"WEIGHT_FILE": (weight_words, weight_width), "THRES_FILE": thres}
        p["RUNTIME_WRITEABLE"] = self.runtime_writeable_weights
        ports = dict(unused_outputs={}, tied_inputs={})
        if self.runtime_writeable_weights:
            ports["axilite"] = ("WEIGHT_FILE", packing.axilite_addr_bits(len(weight_words), weight_width))
        else:
            for k, v in axilite_tie_offs().items():
                ports[k].update(v)
        if self.mem_mode == "external":
            # The whole weight memory once per input vector.
            ports["weight_stream"] = (weight_words * math.prod(self.numInputVectors), weight_width)
        else:
            ports["unused_outputs"]["s_axis_w_tready"] = 1
            ports["tied_inputs"].update(s_axis_w_tdata="'0", s_axis_w_tvalid="1'b0")
        return RtlInstance(module="mvau", library=self.rtl_library, params=p, memories=mems,
                           latency=4 if self.noActivation else 5, **ports)

    def execute(self, x, weights, thresholds=None):
        acc = numerics.exact_matmul(x, weights)
        if self.noActivation:
            return acc
        return numerics.threshold_activation(acc, thresholds, self.ActVal, self.outputDataType)

    @classmethod
    def examples(cls, rng):
        def thresholds(mh, t, lo, hi):
            return np.sort(rng.integers(lo, hi, size=(mh, t)), axis=1).astype(np.float32)

        w44 = rng.integers(-8, 8, size=(16, 8)).astype(np.float32)
        wb = (2 * rng.integers(0, 2, size=(12, 6)) - 1).astype(np.float32)
        w_conv = rng.integers(-2, 2, size=(18, 4)).astype(np.float32)
        return [
            Example(dict(MW=16, MH=8, SIMD=4, PE=2, inputDataType="INT4", weightDataType="INT4",
                         outputDataType="INT32", accDataType="INT32", noActivation=1), (w44,), "no activation"),
            Example(dict(MW=16, MH=8, SIMD=16, PE=8, inputDataType="UINT4", weightDataType="INT4",
                         outputDataType="UINT4", accDataType="INT16", ActVal=0),
                    (w44, thresholds(8, 15, -200, 200)), "UINT4 thresholds, fully unfolded"),
            Example(dict(MW=12, MH=6, SIMD=3, PE=3, inputDataType="BIPOLAR", weightDataType="BIPOLAR",
                         outputDataType="BIPOLAR", accDataType="INT8"),
                    (wb, thresholds(6, 1, -4, 4)), "binarized"),
            Example(dict(MW=18, MH=4, SIMD=2, PE=4, inputDataType="INT3", weightDataType="INT2",
                         outputDataType="INT2", accDataType="INT16", ActVal=-2, numInputVectors=[1, 3, 3]),
                    (w_conv, thresholds(1, 3, -10, 10)), "conv-shaped, shared thresholds"),
        ]

    # ---- the Verilog library of rtl() (read by qnn_accelerator and rtlsim) ----

    rtl_library = "//rtl/mvau"

    # ---- conversion from the front end (transforms/to_hw.py) ----

    @converts("MatMul", order=30)
    def from_matmul(cls, model, mm):
        """MatMul(x int, W int) [-> MultiThreshold] -> MVAU, the thresholds fused when the
        MultiThreshold is the MatMul's only consumer."""
        xdt, w = int_datatype(model, mm.input[0]), model.get_initializer(mm.input[1])
        wdt = int_datatype(model, mm.input[1]) if w is not None else None
        if xdt is None or wdt is None or w.ndim != 2:
            return None
        xshape = model.get_tensor_shape(mm.input[0])
        mw, mh = w.shape
        lo, hi = numerics.matmul_acc_range(xdt, w)
        accdt = numerics.smallest_int_datatype(lo, hi)
        attrs = dict(MW=mw, MH=mh, SIMD=1, PE=1, inputDataType=xdt.name, weightDataType=wdt.name,
                     accDataType=accdt.name, numInputVectors=list(xshape[:-1]))
        return fuse_activation(cls, model, mm, [mm.input[0], mm.input[1]], attrs, accdt)
