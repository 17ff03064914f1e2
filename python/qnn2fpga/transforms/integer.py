"""Stage 2: to an integer dataflow graph.

Quantized weights become integer initializers (with a qonnx DataType annotation) and a
per-output-channel Mul by their scale after the layer; activation quantizers become
MultiThreshold nodes producing the integer level, followed by the Mul/Add that map
the level back to the quantizer's real value. The graph computes the same function.
"""

from __future__ import annotations

import numpy as np
from onnx import helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.general.intquant import max_int, min_int, resolve_rounding_mode
from qonnx.transformation.infer_datatypes import InferDataTypes
from qonnx.transformation.infer_shapes import InferShapes

from qnn2fpga.graph import channel_vector, insert_after, new_const, new_tensor, node_attrs
from qnn2fpga.transforms.base import Pass

# Activation quantizers wider than this are left unconverted (2**bits - 1 thresholds).
MAX_ACTIVATION_BITS = 8
MAX_WEIGHT_BITS = 16
LINEAR_OPS = {"MatMul": 1, "Conv": 0}  # op -> axis of the output channel in its weight


def integer_datatype(signed: bool, narrow: bool, bits: int) -> DataType:
    """qonnx DataType of a quantizer's integer levels."""
    if bits == 1 and signed:
        return DataType["BIPOLAR"]
    if bits == 1:
        return DataType["BINARY"]
    return DataType[f"{'INT' if signed else 'UINT'}{bits}"]


def quant_params(model: ModelWrapper, node) -> dict | None:
    """Constant parameters of a Quant/BipolarQuant node, or None if any is computed."""
    vals = [model.get_initializer(t) for t in node.input[1:]]
    if any(v is None for v in vals):
        return None
    if node.op_type == "BipolarQuant":
        return {"scale": vals[0], "zeropt": np.zeros(1, np.float32), "bits": 1, "signed": True, "narrow": False,
                "mode": "ROUND"}
    a = node_attrs(node)
    scale, zeropt, bits = vals
    return {"scale": scale, "zeropt": zeropt, "bits": int(bits.reshape(-1)[0]), "signed": bool(a.get("signed", 1)),
            "narrow": bool(a.get("narrow", 0)), "mode": a.get("rounding_mode", "ROUND").upper()}


def level_boundaries(p: dict) -> tuple[np.ndarray, np.ndarray, int]:
    """For the integer levels k = qmin+1..qmax: the value u of x/scale + zeropt at which
    the quantizer's output reaches k, and whether u itself already gives k."""
    if p["bits"] == 1 and p["signed"]:
        return np.array([0.0]), np.array([True]), -1  # bipolar: x >= 0 -> +1
    lo, hi = int(min_int(p["signed"], p["narrow"], p["bits"])), int(max_int(p["signed"], p["narrow"], p["bits"]))
    k = np.arange(lo + 1, hi + 1, dtype=np.float64)
    mode = p["mode"]
    if mode in ("ROUND", "HALF_EVEN"):
        return k - 0.5, (k % 2 == 0), lo  # ties go to the even level
    if mode == "FLOOR":
        return k, np.ones_like(k, bool), lo
    if mode == "CEIL":
        return k - 1, np.zeros_like(k, bool), lo
    if mode == "HALF_UP":  # ties away from zero
        return k - 0.5, (k - 0.5 > 0), lo
    if mode == "HALF_DOWN":  # ties towards zero
        return k - 0.5, (k - 0.5 < 0), lo
    raise ValueError(mode)


SUPPORTED_ROUNDING = ("ROUND", "HALF_EVEN", "FLOOR", "CEIL", "HALF_UP", "HALF_DOWN")


def activation_thresholds(p: dict, channels: int) -> np.ndarray:
    """MultiThreshold thresholds (C or 1, T), float64, reproducing the quantizer:
    level = qmin + #(x >= t). Exclusive boundaries are nudged up by one ulp."""
    u, inclusive, _ = level_boundaries(p)
    # Per-channel parameters of an image activation are (1, C, 1, 1): rank 4, channel axis 1.
    scale = channel_vector(p["scale"], max(2, np.ndim(p["scale"])), 1).astype(np.float64)
    zeropt = channel_vector(p["zeropt"], max(2, np.ndim(p["zeropt"])), 1).astype(np.float64)
    t = (u[None, :] - zeropt[:, None]) * scale[:, None]
    t = np.where(inclusive[None, :], t, np.nextafter(t, np.inf))
    if t.shape[0] not in (1, channels):
        raise ValueError("scale does not match channels")
    return _as_quant_computes(t, p)


def _float32_key(x: np.ndarray) -> np.ndarray:
    """float32 values as int64 keys in the same order (consecutive floats, consecutive keys)."""
    i = np.asarray(x, np.float32).view(np.int32).astype(np.int64)
    return np.where(i >= 0, i, -(i & 0x7FFFFFFF))


def _float32_of_key(k: np.ndarray) -> np.ndarray:
    i = np.where(k >= 0, k, (-k) | 0x80000000).astype(np.uint32)
    return i.view(np.float32)


def _as_quant_computes(t: np.ndarray, p: dict) -> np.ndarray:
    """Each threshold moved to the smallest float32 input at which qonnx's Quant reaches
    the level. Quant computes x / scale + zeropt in the precision of its operands
    (float32 for a float32 input and scale), so near a boundary the result can round
    onto or off a rounding tie (e.g. x = (k + 0.5) * scale with a scale that is not a
    power of two; with a zero point, the sum's coarser float32 steps widen that band to
    many float32 inputs): the exact boundaries would then disagree with Quant on such
    inputs. The level is monotone in x, so a bisection over the float32 values around
    each exact boundary (a few float32 steps of the sum, times the scale) finds the one
    Quant uses; where the level does not change within that interval, the exact
    boundary stays."""
    rounding = resolve_rounding_mode(p["mode"])
    dtype = np.result_type(np.float32, np.asarray(p["scale"]).dtype, np.asarray(p["zeropt"]).dtype)
    scale = channel_vector(p["scale"], max(2, np.ndim(p["scale"])), 1).astype(dtype)[:, None]
    zeropt = channel_vector(p["zeropt"], max(2, np.ndim(p["zeropt"])), 1).astype(dtype)[:, None]
    bipolar = p["bits"] == 1 and p["signed"]
    lo, hi = min_int(p["signed"], p["narrow"], p["bits"]), max_int(p["signed"], p["narrow"], p["bits"])
    target = np.array([1.0]) if bipolar else np.arange(lo + 1, hi + 1, dtype=np.float64)

    def reached(x: np.ndarray) -> np.ndarray:
        u = x / scale + zeropt  # x is float32: the operations run in `dtype`, as in Quant
        level = np.where(u >= 0, 1.0, -1.0) if bipolar else rounding(np.clip(u, lo, hi))
        return level >= target[None, :]

    with np.errstate(over="ignore", invalid="ignore"):
        magnitude = np.abs(t / scale.astype(np.float64)) + np.abs(zeropt.astype(np.float64)) + 1
        margin = 8 * (np.spacing(magnitude.astype(np.float32)).astype(np.float64) * np.abs(scale.astype(np.float64))
                      + np.spacing(np.abs(t).astype(np.float32)).astype(np.float64))
        low, high = _float32_key((t - margin).astype(np.float32)), _float32_key((t + margin).astype(np.float32))
        found = np.isfinite(t) & np.isfinite(margin) & ~reached(_float32_of_key(low)) & reached(_float32_of_key(high))
        for _ in range(64):  # invariant: not reached at `low`, reached at `high`
            mid = (low + high) // 2
            r = reached(_float32_of_key(mid))
            low, high = np.where(r, low, mid), np.where(r, mid, high)
    return np.where(found, _float32_of_key(high).astype(np.float64), t)


def quantized_integers(w: np.ndarray, p: dict) -> np.ndarray:
    """The integer levels a weight quantizer assigns to `w` (same math as qonnx's Quant)."""
    if p["bits"] == 1 and p["signed"]:
        return np.where(w >= 0, 1.0, -1.0)
    u = w.astype(np.float32) / p["scale"].astype(np.float32) + p["zeropt"].astype(np.float32)
    lo, hi = min_int(p["signed"], p["narrow"], p["bits"]), max_int(p["signed"], p["narrow"], p["bits"])
    u = np.clip(u, lo, hi)
    rounding = {"ROUND": np.round, "HALF_EVEN": np.round, "FLOOR": np.floor, "CEIL": np.ceil}.get(p["mode"])
    if rounding is None:
        raise ValueError(p["mode"])
    return rounding(u).astype(np.float64) - p["zeropt"].astype(np.float64)


class QuantizedWeightsToIntegers(Pass):
    """Quant(W) -> MatMul/Conv becomes MatMul/Conv(W_int) -> Mul(scale per output channel).
    Weights that do not fit (zero point, scale along the input axis, too wide) are left
    as they are; the conversion report names them."""

    def apply(self, model: ModelWrapper):
        changed = False
        for q in list(model.graph.node):
            if q.op_type not in ("Quant", "BipolarQuant") or model.get_initializer(q.input[0]) is None:
                continue
            consumers = model.find_consumers(q.output[0])
            if len(consumers) != 1 or consumers[0].op_type not in LINEAR_OPS or consumers[0].input[1] != q.output[0]:
                continue
            layer = consumers[0]
            p = quant_params(model, q)
            if (p is None or np.any(p["zeropt"] != 0) or p["bits"] > MAX_WEIGHT_BITS
                    or p["mode"] not in ("ROUND", "HALF_EVEN", "FLOOR", "CEIL")):
                continue
            w = model.get_initializer(q.input[0])
            axis = LINEAR_OPS[layer.op_type]
            scale = channel_vector(p["scale"], w.ndim, axis)
            if scale is None or np.any(scale <= 0):
                continue
            w_int = quantized_integers(w, p)
            dt = integer_datatype(p["signed"], p["narrow"], p["bits"])
            w_name = new_const(model, w_int.astype(np.float32), dt)
            layer.input[1] = w_name
            model.graph.node.remove(q)
            if np.any(scale != 1):
                out = layer.output[0]
                shape = model.get_tensor_shape(out)
                mid = new_tensor(model, shape)
                layer.output[0] = mid
                oshape = [1] * len(shape)
                oshape[-1 if layer.op_type == "MatMul" else 1] = -1
                s_name = new_const(model, scale.reshape(oshape).astype(np.float32) if scale.size > 1
                                   else np.float32(scale[0]))
                insert_after(model, layer, [helper.make_node("Mul", [mid, s_name], [out])])
            changed = True
        if changed:
            model = model.transform(InferShapes()).transform(InferDataTypes())
        return model, changed


class QuantActivationsToMultiThreshold(Pass):
    """Quant(x) on an activation becomes MultiThreshold(x) -> integer level, then
    Mul(scale) [-> Add(-scale*zeropt)] back to the real value. BipolarQuant becomes a
    one-threshold MultiThreshold with outputs -1/+1. Quantizers wider than
    MAX_ACTIVATION_BITS or with an unsupported rounding mode are left unconverted."""

    def apply(self, model: ModelWrapper):
        changed = False
        for q in list(model.graph.node):
            if q.op_type not in ("Quant", "BipolarQuant") or model.get_initializer(q.input[0]) is not None:
                continue
            p = quant_params(model, q)
            if p is None or p["bits"] > MAX_ACTIVATION_BITS or p["mode"] not in SUPPORTED_ROUNDING:
                continue
            x, out = q.input[0], q.output[0]
            shape = model.get_tensor_shape(x)
            channels = shape[1] if len(shape) > 1 else 1
            if channel_vector(p["scale"], len(shape), 1) is None or channel_vector(p["zeropt"], len(shape), 1) is None:
                continue
            thr = activation_thresholds(p, channels)
            _, _, qmin = level_boundaries(p)
            bipolar = p["bits"] == 1 and p["signed"]
            dt = integer_datatype(p["signed"], p["narrow"], p["bits"])
            level = new_tensor(model, shape, dt)
            layout = {2: "NC", 3: "NWC", 4: "NCHW"}.get(len(shape), "")
            mt = helper.make_node(
                "MultiThreshold", [x, new_const(model, thr)], [level], domain="qonnx.custom_op.general",
                name=q.name, out_dtype=dt.name, out_scale=2.0 if bipolar else 1.0,
                out_bias=-1.0 if bipolar else float(qmin), data_layout=layout)
            chain = [mt]
            scale = channel_vector(p["scale"], len(shape), 1)
            zeropt = channel_vector(p["zeropt"], len(shape), 1)
            cshape = [1] * len(shape)
            if len(shape) > 1:
                cshape[1] = -1
            cur = level
            if np.any(scale != 1):
                nxt = new_tensor(model, shape)
                chain.append(helper.make_node("Mul", [cur, new_const(model, scale.reshape(cshape))], [nxt]))
                cur = nxt
            if np.any(zeropt != 0):
                nxt = new_tensor(model, shape)
                chain.append(helper.make_node("Add", [cur, new_const(model, (-scale * zeropt).reshape(cshape))], [nxt]))
                cur = nxt
            # The last node of the chain takes over the quantizer's output tensor.
            if chain[-1] is mt:
                mt.output[0] = out
                model.set_tensor_datatype(out, dt)
            else:
                chain[-1].output[0] = out
            insert_after(model, q, chain)
            model.graph.node.remove(q)
            changed = True
        if changed:
            model = model.transform(InferShapes()).transform(InferDataTypes())
        return model, changed


def trunc_thresholds(scale: float, in_bits: int, out_scale: float, out_bits: int, signed: bool, narrow: bool,
                     mode: str) -> tuple[np.ndarray, int]:
    """qonnx's Trunc (v2, zero point 0) as thresholds on its input x: level L is reached
    when round(x/scale) >= k_L, the first integer k of the input range (in_bits) whose
    R(clamp(k / 2^t)) >= L (t = round(log2(out_scale/scale)), clamp to the out_bits range,
    R the rounding mode), i.e. when x >= (k_L - 1/2) * scale. Returns the (1, levels - 1)
    thresholds (-inf/+inf for levels every/no input reaches) and the lowest level."""
    ts = 2.0 ** np.round(np.log2(out_scale / scale))
    lo, hi = (-(2 ** (in_bits - 1)), 2 ** (in_bits - 1) - 1) if signed else (0, 2**in_bits - 1)
    k = np.arange(lo, hi + 1, dtype=np.float64)
    qmin, qmax = int(min_int(signed, narrow, out_bits)), int(max_int(signed, narrow, out_bits))
    levels = resolve_rounding_mode(mode)(np.clip(k / ts, qmin, qmax))  # non-decreasing in k
    thr = []
    for level in range(qmin + 1, qmax + 1):
        reach = np.nonzero(levels >= level)[0]
        if not reach.size:
            thr.append(np.inf)
        elif reach[0] == 0 and levels[0] >= level:
            thr.append(-np.inf)
        else:
            thr.append((k[reach[0]] - 0.5) * scale)
    return np.array([thr], dtype=np.float64), qmin


class TruncToMultiThreshold(Pass):
    """Trunc (qonnx v2, as Brevitas exports TruncAvgPool2d/TruncAdaptiveAvgPool2d: scalar
    scales, zero point 0, output of at most MAX_ACTIVATION_BITS) becomes MultiThreshold ->
    integer level -> Mul(output scale). After an average pool whose input scale is
    `scale` times the pixel count, the thresholds fall between integer sums: exact."""

    def apply(self, model: ModelWrapper):
        from qnn2fpga.graph import const  # noqa: PLC0415

        for t in model.graph.node:
            if t.op_type != "Trunc" or len(t.input) != 6:
                continue
            vals = [const(model, name) for name in t.input[1:]]
            if any(v is None or v.size != 1 for v in vals):
                continue
            scale, zeropt, in_bits, out_scale, out_bits = (float(v.reshape(-1)[0]) for v in vals)
            attrs = node_attrs(t)
            mode = attrs.get("rounding_mode", "FLOOR")
            mode = (mode.decode() if isinstance(mode, bytes) else str(mode)).upper()
            signed, narrow = bool(attrs.get("signed", 1)), bool(attrs.get("narrow", 0))
            if zeropt != 0 or out_bits > MAX_ACTIVATION_BITS or in_bits != int(in_bits) or in_bits > 24 \
                    or mode not in SUPPORTED_ROUNDING + ("ROUND_TO_ZERO",) or scale <= 0 or out_scale <= 0:
                continue
            thr, qmin = trunc_thresholds(scale, int(in_bits), out_scale, int(out_bits), signed, narrow, mode)
            shape = model.get_tensor_shape(t.input[0])
            dt = integer_datatype(signed, narrow, int(out_bits))
            level = new_tensor(model, shape, dt)
            layout = {2: "NC", 3: "NWC", 4: "NCHW"}.get(len(shape), "")
            mt = helper.make_node("MultiThreshold", [t.input[0], new_const(model, thr)], [level],
                                  domain="qonnx.custom_op.general", name=t.name, out_dtype=dt.name, out_scale=1.0,
                                  out_bias=float(qmin), data_layout=layout)
            mul = helper.make_node("Mul", [level, new_const(model, np.float32(out_scale))], [t.output[0]])
            insert_after(model, t, [mt, mul])
            model.graph.node.remove(t)
            return model.transform(InferShapes()).transform(InferDataTypes()), True
        return model, False


class ToIntegerDataflow(Pass):
    """Stage 2 as one step."""

    def apply(self, model: ModelWrapper):
        model = model.transform(QuantizedWeightsToIntegers())
        model = model.transform(QuantActivationsToMultiThreshold())
        model = model.transform(TruncToMultiThreshold())
        return model, False
