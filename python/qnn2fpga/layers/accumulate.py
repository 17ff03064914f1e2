"""What the weighted layers (MVAU, VVAU) share: exact integer products accumulated per
output channel, then either streamed as the accumulator (noActivation=1) or mapped by a
fused thresholding activation. One mixin (`AccumulatorLayer`) holds the hooks and checks,
and `fuse_activation` the front-end conversion of a following MultiThreshold; the
numerics themselves are in `numerics`."""

from __future__ import annotations

import numpy as np
from onnx import NodeProto
from qonnx.core.modelwrapper import ModelWrapper

from qnn2fpga.errors import DataTypeError, ModelError
from qnn2fpga.graph import single_consumer
from qnn2fpga.layers import numerics
from qnn2fpga.layers.conversion import replace, threshold_activation, typed_node


class AccumulatorLayer:
    """Mixin (before HwLayer) for a layer with attributes weightDataType, inputDataType,
    accDataType, outputDataType, noActivation and ActVal, parameters [weights] or
    [weights, thresholds], and a weight matrix view `weight_matrix(w)` of shape (inputs
    per output, outputs) that bounds the accumulators."""

    def param_names(self):
        return ["weights"] if self.noActivation else ["weights", "thresholds"]

    def emits_activation_levels(self) -> bool:
        """With thresholds (noActivation=0) the output is a fused activation's levels."""
        return not self.noActivation

    def acc_bits(self) -> int:
        """Accumulator width as the RTL builds it (two's complement; unsigned types get a sign bit)."""
        return numerics.accumulator_bits(self.accDataType)

    def product_kind(self) -> tuple[str, int, int]:
        """How rtl/mvau/mvau_dot.sv builds one product lane of these datatypes: "xnor"
        (both bipolar), "sign" (one bipolar operand: negate or pass), "booth" (LUT
        multipliers, the narrower operand up to 4 bits) or "dsp"; the product's bits P; the
        Booth digits of the narrower operand."""
        from qnn2fpga import packing  # noqa: PLC0415

        idt, wdt = self.inputDataType, self.weightDataType
        ib, wb = packing.element_bits(idt), packing.element_bits(wdt)
        ibip, wbip = idt == numerics.BIPOLAR, wdt == numerics.BIPOLAR
        p_bits = ib + 1 if wbip else wb + 1 if ibip else ib + wb + 1
        a_bits, a_signed = (wb, wdt.signed()) if wb <= ib else (ib, idt.signed())
        digits = (a_bits + (0 if a_signed else 1) + 1) // 2
        kind = "xnor" if ibip and wbip else "sign" if ibip or wbip else "booth" if a_bits <= 4 else "dsp"
        return kind, p_bits, digits

    def n_thresholds(self) -> int:
        """Thresholds per channel the activation needs (0 without one)."""
        return 0 if self.noActivation else numerics.thresholds_needed(self.outputDataType)

    def check_accumulator_attrs(self) -> None:
        """The accumulator and activation attributes agree (part of check_layer)."""
        if self.accDataType == numerics.BIPOLAR:
            raise DataTypeError(self.where, "accDataType is BIPOLAR", "use an INTn/UINTn accumulator")
        if self.noActivation and self.outputDataType != self.accDataType:
            raise DataTypeError(self.where, f"noActivation=1 streams the accumulator, but outputDataType="
                                f"{self.outputDataType.name} differs from accDataType={self.accDataType.name}",
                                f"set outputDataType={self.accDataType.name}")
        if not self.noActivation and self.outputDataType == numerics.BIPOLAR and self.ActVal != 0:
            raise ModelError(self.where, f"a BIPOLAR output maps to -1/+1 by itself, but ActVal={self.ActVal}",
                             "set ActVal=0")

    def check_weights_and_activation(self, params, channels: int) -> None:
        """Weights in weightDataType, every accumulator inside accDataType, thresholds
        well-formed for `channels` outputs (part of check_params, after the shape check)."""
        w = params[0]
        bad = numerics.not_allowed(w, self.weightDataType)
        if bad.size:
            raise self.param_error(f"weights hold {bad[:5].tolist()}, outside {self.weightDataType.name}",
                                   "widen weightDataType or requantize the weights", DataTypeError)
        lo, hi = numerics.matmul_acc_range(self.inputDataType, self.weight_matrix(w))
        acc = self.accDataType
        if lo < acc.min() or hi > acc.max():
            need = numerics.smallest_int_datatype(lo, hi).name
            raise self.param_error(f"accumulator range [{lo}, {hi}] exceeds accDataType={acc.name}",
                                   f"set accDataType={need} (or wider)", DataTypeError)
        if not self.noActivation:
            numerics.check_activation(self.where, params[1], channels, self.ActVal, self.outputDataType)

    def random_weights_and_thresholds(self, shape, channels: int, rng: np.random.Generator,
                                      variant: str) -> list[np.ndarray]:
        """Weights of weightDataType and, with an activation, sorted thresholds over the
        accumulator range (for generated hardware tests); variant "shared_thresholds": one
        threshold row for every output channel."""
        numerics.check_variant(self.where, variant, ("", "shared_thresholds"))
        w = numerics.random_values(self.weightDataType, shape, rng)
        if self.noActivation:
            return [w]
        lo, hi = numerics.matmul_acc_range(self.inputDataType, self.weight_matrix(w))
        rows = 1 if variant == "shared_thresholds" else channels
        return [w, numerics.random_thresholds(lo, hi, rows, self.n_thresholds(), rng)]

    def activation_rtl(self, params, channels: int, pe: int) -> tuple[dict, tuple]:
        """RTL parameters of the accumulator and activation (ACC_BITS, NO_ACT, OUT_BITS,
        OUT_BIPOLAR, ACT_VAL, N_THRES, THR_BITS) and the THRES_FILE memory: channels/PE
        words, word cf holding T[cf*PE + pe][t] in field pe*N + t (all zero, one
        threshold, without an activation)."""
        from qnn2fpga import packing  # noqa: PLC0415

        odt, adt, acc_bits = self.outputDataType, self.accDataType, self.acc_bits()
        thr_bits = acc_bits + 1
        p = dict(ACC_BITS=acc_bits, NO_ACT=self.noActivation, OUT_BITS=packing.element_bits(odt),
                 OUT_BIPOLAR=int(odt == numerics.BIPOLAR), ACT_VAL=self.ActVal, THR_BITS=thr_bits)
        if self.noActivation:
            p["N_THRES"] = 1
            return p, ([0] * (channels // pe), pe * thr_bits)
        t = numerics.comparator_thresholds(params[1], int(adt.min()), int(adt.max()))
        t = np.broadcast_to(t, (channels, t.shape[1]))
        p["N_THRES"] = t.shape[1]
        return p, (packing.threshold_words(t, pe, thr_bits), pe * t.shape[1] * thr_bits)


def fuse_activation(cls, model: ModelWrapper, node: NodeProto, inputs: list[str], attrs: dict,
                    accdt) -> ModelWrapper:
    """Replaces `node` by one `cls` node on `inputs` with `attrs`; a MultiThreshold that is
    the node's only consumer, with integer thresholds, is fused into it (noActivation=0,
    its thresholds as the last input), else the layer streams the accumulator of `accdt`."""
    out, consumed = node.output[0], [node]
    mt = single_consumer(model, out)
    act = threshold_activation(model, mt) if mt is not None and mt.op_type == "MultiThreshold" else None
    attrs = dict(attrs)
    if act is not None:
        attrs.update(noActivation=0, **act)
        inputs = [*inputs, mt.input[1]]
        out = mt.output[0]
        consumed.append(mt)
    else:
        attrs.update(noActivation=1, ActVal=0, outputDataType=accdt.name)
    replace(model, consumed, [typed_node(cls, inputs, [out], node.name, **attrs)])
    model.set_tensor_datatype(out, numerics.datatype(attrs["outputDataType"]))
    return model
