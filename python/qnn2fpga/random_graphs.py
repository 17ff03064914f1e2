"""Random small QONNX graphs in the forms Brevitas exports, for randomized testing of
the compiler front end (see random_graphs_test.py).

`random_graph(seed)` builds, from numpy's default_rng(seed) alone:

    input -> input Quant (signed/unsigned, 1-8 bits, sometimes with a zero point) or
             BipolarQuant
          -> layers: weight Quant or BipolarQuant (per-tensor or per-output-channel
             scales between 2^-20 and 2^20, 1-8 bits, sometimes narrow range)
             -> MatMul / Gemm(transB, sometimes a float bias) / Transpose+MatMul (fully
                connected), or Conv (kernel 1-3, optional padding, sometimes stride 2)
                [-> MaxPool 2x2]
             -> [BatchNormalization] -> Relu | (HardTanh: nothing) | (identity)
             -> activation Quant (1-8 bits; a QuantIdentity sometimes unsigned with a
                zero point) or BipolarQuant [-> MaxPool 2x2]
          -> last fully connected layer (after a Reshape/Flatten for conv stacks)
             [-> batch norm, as BatchNormalization or as Sub, Div, Mul, Add]

and returns the model with a one-line description. Activation scales are calibrated
on the graph's own numbers (a float64 simulation of the layers built so far), so the
quantizers use their whole range instead of saturating or rounding everything to 0.
Scales are powers of two about half the time, and every one of them in a fifth of the
graphs ("fixed-point", like Brevitas' *FixedPoint quantizers): the export then computes
exactly and the compiled graph must match it bit for bit.

A few graphs (about 1 in 25) step outside the compiler's documented limits on purpose
(an activation wider than 8 bits, a weight zero point, a Clip, a per-input-channel
activation scale before a linear layer, a negative batch-norm scale after max-pooling):
the compiler must refuse those with a typed error or compile them correctly.
`generate(seed)` also says whether the graph is within the limits and whether the
compiled output must equal the export's bit for bit (see `RandomGraph.exact`).

`generate_conv(seed, forms)` draws conv stacks with the sliding-window forms (kernels
1-5 and 7, non-square, strides 1-3, dilation, asymmetric padding, overlapping and
ceil-mode max-pools, Conv1d stacks on (1, C, L) or (1, C, 1, L)) before the same fully
connected tail; its description names every layer's shapes, kernel, stride, pads,
dilation and bits. The depthwise and residual forms (EXTRA_FORMS) are drawn only when
`forms` names them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from onnx import TensorProto, helper, numpy_helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.infer_datatypes import InferDataTypes
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.util.basic import qonnx_make_model

from qnn2fpga.testing import QONNX_DOMAIN, quant

MIN_SCALE_EXP, MAX_SCALE_EXP = -20, 20  # weight scales between 2^-20 and 2^20
MAX_PRODUCT_EXP = 30  # an activation scale times a weight scale stays within 2^+-30 (float32 batch norm variances)
CALIBRATION_INPUTS = 64
EXACT_UNITS = 2**24  # float32 sums of integer multiples of one power of two are exact below this


@dataclass
class RandomGraph:
    """A generated graph. `within_limits`: inside the compiler's documented limits (it must
    compile); otherwise `outside` says why. `exact`: the last layer's export arithmetic
    is exact (power-of-two scales, no float bias, every partial sum below 2^24 units), so
    the compiled output must equal qonnx execution of the export bit for bit; otherwise
    to 1e-5 of the output's magnitude."""

    seed: int
    model: ModelWrapper
    description: str
    exact: bool
    outside: list[str] = field(default_factory=list)

    @property
    def within_limits(self) -> bool:
        return not self.outside


def random_graph(seed: int) -> tuple[ModelWrapper, str]:
    """The model for `seed` and its one-line description."""
    g = generate(seed)
    return g.model, g.description


def generate(seed: int) -> RandomGraph:
    return _Builder(seed).build()


def is_fully_connected(graph: RandomGraph) -> bool:
    return not any(n.op_type in ("Conv", "MaxPool") for n in graph.model.graph.node)


def fc_seeds(count: int, start: int = 0) -> list[int]:
    """The first `count` seeds from `start` whose graph is fully connected and within the
    documented limits (the rtlsim and resource-estimate tests take these)."""
    seeds, seed = [], start
    while len(seeds) < count:
        g = generate(seed)
        if g.within_limits and is_fully_connected(g):
            seeds.append(seed)
        seed += 1
    return seeds


# --- a float64 simulation of the layers, for calibrating scales ----------------------


def _sim_quant(x, scale, zeropt, bits, signed, narrow):
    if bits == 1 and signed:
        return np.where(x / scale + zeropt >= 0, 1.0, -1.0) * scale
    lo = -(2 ** (bits - 1)) + int(narrow) if signed else 0
    hi = 2 ** (bits - 1) - 1 if signed else 2**bits - 1 - int(narrow)
    return (np.round(np.clip(x / scale + zeropt, lo, hi)) - zeropt) * scale


def _sim_conv(x, w, pad, stride=1):
    """NCHW convolution, symmetric zero padding `pad`."""
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    k = w.shape[2]
    win = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]
    return np.einsum("nchwij,ocij->nohw", win, w)


def _sim_pool(x):
    n, c, h, w = x.shape
    x = x[:, :, : h // 2 * 2, : w // 2 * 2]
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def _channel_shape(rank: int) -> tuple:
    return (1, -1) + (1,) * (rank - 2)


class _Builder:
    def __init__(self, seed: int):
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.nodes: list = []
        self.inits: dict[str, np.ndarray] = {}
        self.parts: list[str] = []
        self.outside: list[str] = []
        self.count = 0
        # The current activation: tensor name, shape and calibration samples (float64).
        self.cur = "x"
        self.sim: np.ndarray | None = None
        # The last activation quantizer: its (first) scale's log2, rounded; that exponent
        # if the scale is one power of two for all channels (else None); its largest
        # integer level magnitude.
        self.last_act_exp = 0
        self.act_pow2_exp: int | None = 0
        self.act_level_max = 1
        self.last_shifted = False  # the last activation quantizer has a zero point

    # --- helpers ---

    def name(self, stem: str) -> str:
        self.count += 1
        return f"{stem}{self.count}"

    def const(self, stem: str, value, dtype=np.float32) -> str:
        n = self.name(stem)
        self.inits[n] = np.asarray(value, dtype=dtype)
        return n

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    # --- quantizers ---

    def pow2(self, p: float) -> bool:
        """Whether the next scale is a power of two: always in a fixed-point graph."""
        return self.fixed_point or self.chance(p)

    def act_quant(self, x: str, sim: np.ndarray, signed: bool, bits: int, bipolar: bool, per_channel: bool,
                  narrow: bool = False, first: bool = False, p_pow2: float = 0.5,
                  shifted: bool = False) -> tuple[str, np.ndarray, str]:
        """An activation quantizer on `x` with a scale calibrated on `sim`; returns
        (output tensor, simulated output, description). `shifted`: unsigned with a zero
        point (Brevitas' ShiftedUint8 quantizers), spanning the values' range."""
        out = self.name("act" if not first else "inq")
        rank = sim.ndim
        if bipolar:
            scale_v = float(np.float32(2.0 ** self.rng.integers(-3, 4))) if self.pow2(p_pow2) else \
                float(np.float32(self.rng.uniform(0.05, 3)))
            s = self.const("s", scale_v)
            self.nodes.append(helper.make_node("BipolarQuant", [x, s], [out], domain=QONNX_DOMAIN, name=out))
            self.last_act_exp, self.act_pow2_exp = int(np.round(np.log2(scale_v))), _exp_of(scale_v)
            self.last_shifted = False
            self.act_level_max = 1
            return out, np.where(sim >= 0, 1.0, -1.0) * scale_v, f"bipolar s={scale_v:.3g}"
        qmax = (2 ** (bits - 1) - 1 if signed else 2**bits - 1 - int(narrow)) if bits > 1 else 1
        axes = tuple(i for i in range(rank) if i != 1)
        if first:
            mag = np.full(1, 1.0)
        elif per_channel:
            mag = np.percentile(np.abs(sim) if signed else np.maximum(sim, 0), 95, axis=axes)
        else:
            mag = np.array([np.percentile(np.abs(sim) if signed else np.maximum(sim, 0), 95)])
        fallback = float(np.max(np.abs(sim))) if sim.size else 1.0
        mag = np.where(mag > 0, mag, fallback if fallback > 0 else 1.0)
        raw = mag / max(qmax, 1) * self.rng.uniform(0.6, 1.6, size=mag.shape)
        if bits == 1 and signed:
            raw = mag  # 1-bit signed Quant is bipolar: the scale only sets the magnitude
        shifted = shifted and not signed and bits > 1 and not per_channel
        if shifted:
            lo, hi = (-1.0, 1.0) if first else (float(np.percentile(sim, 1)), float(np.percentile(sim, 99)))
            raw = np.array([(hi - lo) / qmax if hi > lo else 1.0]) * self.rng.uniform(0.8, 1.25)
        if self.pow2(p_pow2):
            exps = np.floor(np.log2(raw)).astype(int)  # not coarser: a scale of 2 leaves inputs in [-1, 1) at 0
            scale = 2.0**exps
            pow2 = True
        else:
            scale = raw.astype(np.float32).astype(np.float64)
            pow2 = False
        if per_channel:
            scale_init = scale.reshape(_channel_shape(rank))
        else:
            scale_init = np.float32(scale[0])
        zeropt = float(np.clip(np.round(-lo / scale[0]), 1, qmax)) if shifted else 0.0
        self.last_shifted = shifted
        s = self.const("s", scale_init)
        z, b = self.const("z", zeropt), self.const("b", float(bits))
        self.nodes.append(quant(x, out, s, z, b, signed=int(signed), narrow=int(narrow)))
        self.last_act_exp = int(np.round(np.log2(scale[0])))
        self.act_pow2_exp = int(np.log2(scale[0])) if pow2 and not per_channel else None
        self.act_level_max = max(qmax, 2 ** (bits - 1) if signed and not narrow and bits > 1 else 0, 1)
        sim_out = _sim_quant(sim, np.asarray(scale_init, np.float64), zeropt, bits, signed, narrow)
        dt = ("INT" if signed else "UINT") + str(bits) if bits > 1 else ("BIPOLAR" if signed else "BINARY")
        desc = f"{dt}{' narrow' if narrow else ''}{' per-channel' if per_channel else ''} " \
               f"s={'2^%d' % int(np.log2(scale[0])) if pow2 else '%.3g' % scale[0]}" + \
            (f" zp={zeropt:g}" if shifted else "")
        return out, sim_out, desc

    def weight(self, shape: tuple, out_axis: int, p_pow2: float = 0.5) -> tuple[str, np.ndarray, np.ndarray, str, bool]:
        """A quantized weight of `shape` whose output channels run along `out_axis`;
        returns (Quant output, float64 quantized weight, integer weight, description,
        whether every scale is a power of two)."""
        rng = self.rng
        channels = shape[out_axis]
        bits = int(rng.integers(1, 9))
        bipolar_node = bits == 1 and self.chance(0.5)
        signed = True if bits == 1 else not self.chance(0.05)
        narrow = signed and bits > 1 and self.chance(0.3)
        per_channel = self.chance(0.5)
        # The scale exponent, kept so that activation scale * weight scale stays within 2^+-30.
        a_exp = self.last_act_exp
        lo, hi = max(MIN_SCALE_EXP, -MAX_PRODUCT_EXP - a_exp), min(MAX_SCALE_EXP, MAX_PRODUCT_EXP - a_exp)
        base = rng.uniform(lo, hi) if lo < hi else float(lo)
        pow2 = self.pow2(p_pow2)
        n = channels if per_channel else 1
        exps = np.atleast_1d(np.clip(base + (rng.uniform(-3, 3, size=n) if per_channel else 0.0), lo, hi))
        if pow2:
            exps = np.round(exps)
        scale = (2.0**exps).astype(np.float32)
        sshape = [1] * len(shape)
        sshape[out_axis] = -1
        scale_b = scale.reshape(sshape) if per_channel else scale.reshape(())
        qmin = -(2 ** (bits - 1)) + int(narrow) if signed else 0
        qmax = 2 ** (bits - 1) - 1 if signed else 2**bits - 1
        if bits == 1:
            levels = rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.1, 2, size=shape)
        else:
            levels = rng.uniform(qmin - 0.7, qmax + 0.7, size=shape)
        w = (levels * scale_b).astype(np.float32)
        wname = self.name("w")
        self.inits[wname] = w
        out = self.name("wq")
        s = self.const("ws", scale_b)
        if bipolar_node:
            self.nodes.append(helper.make_node("BipolarQuant", [wname, s], [out], domain=QONNX_DOMAIN, name=out))
        else:
            zero = 0.0
            if self.chance(0.004):
                zero = float(rng.integers(1, 3))
                self.outside.append("weight zero point not 0")
            z, b = self.const("z", np.float32(zero)), self.const("b", float(bits))
            self.nodes.append(quant(wname, out, s, z, b, signed=int(signed), narrow=int(narrow)))
        # Integer levels as qonnx computes them (float32 division, round half to even).
        if bits == 1 and signed:
            w_int = np.where(w >= 0, 1.0, -1.0)
        else:
            zp = np.float32(0 if bipolar_node else zero)
            u = np.clip(w / np.asarray(scale_b, np.float32) + zp, qmin, qmax)
            w_int = np.round(u).astype(np.float64) - zp
        wq = w_int * np.asarray(scale_b, np.float64)
        kind = "bipolar" if bipolar_node else f"{'' if signed else 'u'}w{bits}{'n' if narrow else ''}"
        sdesc = (f"2^{int(exps[0])}" if pow2 else f"{float(scale[0]):.3g}") + ("pc" if per_channel else "")
        return out, wq, w_int, f"{kind} s={sdesc}", pow2

    # --- layers ---

    def fc(self, n_out: int, last: bool) -> str:
        rng = self.rng
        n_in = self.sim.shape[1]
        form = rng.choice(["matmul", "gemm", "transpose"], p=[0.5, 0.3, 0.2])
        out = self.name("fc")
        bias = None
        if form == "matmul":
            wq_name, wq, w_int, wdesc, pow2 = self.weight((n_in, n_out), 1, 0.7 if last else 0.5)
            self.nodes.append(helper.make_node("MatMul", [self.cur, wq_name], [out], name=out))
            y = self.sim @ wq
            w_io = w_int
        else:
            wq_name, wq, w_int, wdesc, pow2 = self.weight((n_out, n_in), 0, 0.7 if last else 0.5)
            if form == "gemm":
                inputs = [self.cur, wq_name]
                if self.chance(0.25):
                    bias = rng.normal(size=n_out) * float(np.std(self.sim @ wq.T) + 1e-30)
                    inputs.append(self.const("bias", bias))
                self.nodes.append(helper.make_node("Gemm", inputs, [out], name=out, transB=1))
            else:
                t = self.name("wt")
                self.nodes.append(helper.make_node("Transpose", [wq_name], [t], name=t, perm=[1, 0]))
                self.nodes.append(helper.make_node("MatMul", [self.cur, t], [out], name=out))
            y = self.sim @ wq.T
            w_io = w_int.T
            if bias is not None:
                y = y + bias
        if last:
            # Exact: power-of-two scales on both sides, no bias, partial sums below 2^24 units.
            sums = self.act_level_max * np.abs(w_io).sum(axis=0).max()
            self.exact = bool(pow2 and self.act_pow2_exp is not None and bias is None and sums < EXACT_UNITS)
        self.cur, self.sim = out, y
        self.parts.append(f"fc {n_in}->{n_out} {wdesc}{' +bias' if bias is not None else ''}"
                          f"{'' if form == 'matmul' else ' (' + form + ')'}")
        return out

    def conv(self, c_out: int, k: int, pad: int, stride: int) -> None:
        c_in = self.sim.shape[1]
        wq_name, wq, _, wdesc, _ = self.weight((c_out, c_in, k, k), 0)
        out = self.name("conv")
        self.nodes.append(helper.make_node("Conv", [self.cur, wq_name], [out], name=out, kernel_shape=[k, k],
                                           pads=[pad] * 4, strides=[stride] * 2, dilations=[1, 1], group=1))
        self.cur, self.sim = out, _sim_conv(self.sim, wq, pad, stride)
        self.parts.append(f"conv {c_in}->{c_out} k{k}{' p%d' % pad if pad else ''}"
                          f"{' s%d' % stride if stride > 1 else ''} {wdesc}")

    def flatten(self) -> None:
        """Flatten or Reshape to (1, -1), e.g. before the classifier of a conv stack."""
        flat = self.name("flat")
        if self.chance(0.5):
            self.nodes.append(helper.make_node("Flatten", [self.cur], [flat], name=flat, axis=1))
        else:
            shape = self.const("shape", [1, -1], np.int64)
            self.nodes.append(helper.make_node("Reshape", [self.cur, shape], [flat], name=flat))
        self.cur, self.sim = flat, self.sim.reshape(self.sim.shape[0], -1)
        self.parts.append(f"flatten {self.sim.shape[1]}")

    def maxpool(self) -> None:
        out = self.name("pool")
        self.nodes.append(helper.make_node("MaxPool", [self.cur], [out], name=out, kernel_shape=[2, 2],
                                           strides=[2, 2], pads=[0, 0, 0, 0]))
        self.cur, self.sim = out, _sim_pool(self.sim)
        self.parts.append("pool")

    def batchnorm(self, positive: bool = False, tail: bool = False) -> None:
        rng = self.rng
        rank = self.sim.ndim
        axes = tuple(i for i in range(rank) if i != 1)
        c = self.sim.shape[1]
        # A spread of at least a fifth of the channel's magnitude: a batch norm that
        # magnifies a channel's last float32 bits far beyond its values (a channel constant
        # on the calibration inputs) is not something training produces.
        level = np.abs(self.sim).mean(axis=axes)
        spread = np.maximum(self.sim.std(axis=axes), 0.2 * level)
        spread = np.where(spread > 0, spread, 1.0)
        mean = self.sim.mean(axis=axes) + rng.normal(size=c) * spread * 0.3
        var = spread**2 * rng.uniform(0.5, 2, size=c)
        gamma = rng.uniform(0.3, 2, size=c) * (1 if positive else rng.choice([-1, 1], size=c, p=[0.3, 0.7]))
        beta = rng.normal(size=c) * 0.5
        eps = float(rng.choice([1e-5, 1e-4, 1e-3]))
        out = self.name("bn")
        if tail and self.chance(0.5):
            # TensorNorm-style: (x - mean) / sqrt(var + eps) * gamma + beta as elementwise ops.
            cs = _channel_shape(rank)
            std = np.sqrt(var + eps)
            a, b_, d = self.name("bn_sub"), self.name("bn_div"), self.name("bn_mul")
            self.nodes += [
                helper.make_node("Sub", [self.cur, self.const("mean", mean.reshape(cs))], [a], name=a),
                helper.make_node("Div", [a, self.const("std", std.reshape(cs))], [b_], name=b_),
                helper.make_node("Mul", [b_, self.const("gamma", gamma.reshape(cs))], [d], name=d),
                helper.make_node("Add", [d, self.const("beta", beta.reshape(cs))], [out], name=out)]
            self.parts.append("tensornorm")
        else:
            inputs = [self.cur] + [self.const(n, v) for n, v in
                                   (("gamma", gamma), ("beta", beta), ("mean", mean), ("var", var))]
            self.nodes.append(helper.make_node("BatchNormalization", inputs, [out], name=out, epsilon=eps))
            self.parts.append("bn" + ("" if np.all(gamma > 0) else "-"))
        g, bt, m = (v.reshape(_channel_shape(rank)) for v in (gamma, beta, mean))
        self.sim = (self.sim - m) / np.sqrt(var.reshape(_channel_shape(rank)) + eps) * g + bt
        self.cur = out

    def activation(self, allow_per_channel: bool, last: bool) -> None:
        """Relu -> unsigned Quant, HardTanh (a signed Quant alone), identity (signed
        QuantIdentity), BipolarQuant; rarely an explicit Clip first. `last`: the one
        before the last layer (a power-of-two scale more often, for bit-exact outputs)."""
        rng = self.rng
        kind = rng.choice(["relu", "hardtanh", "identity", "bipolar"], p=[0.45, 0.2, 0.2, 0.15])
        if kind == "relu" and np.mean(self.sim > 0) < 0.05:
            kind = "hardtanh"  # a Relu that is 0 on (nearly) every input leaves a dead network
        bits = int(rng.integers(1, 9))
        if self.chance(0.004):
            bits = int(rng.integers(9, 13))
            self.outside.append(f"{bits}-bit activation (limit 8)")
        per_channel = False
        if allow_per_channel and self.chance(0.006):
            per_channel = True
            self.outside.append("per-channel activation scale before a linear layer")
        desc = "" if kind == "bipolar" else f"{kind} "
        if self.chance(0.004):
            lim = float(np.percentile(np.abs(self.sim), 90) or 1.0)
            c = self.name("clip")
            self.nodes.append(helper.make_node("Clip", [self.cur, self.const("lo", -lim), self.const("hi", lim)],
                                               [c], name=c))
            self.cur, self.sim = c, np.clip(self.sim, -lim, lim)
            self.outside.append("Clip (nn.Hardtanh) has no lowering")
            desc = "clip "
        shifted = False
        if kind == "relu":
            r = self.name("relu")
            self.nodes.append(helper.make_node("Relu", [self.cur], [r], name=r))
            self.cur, self.sim = r, np.maximum(self.sim, 0)
            signed = False
        elif kind == "identity" and bits > 1 and self.chance(0.25):
            signed, shifted = False, True  # ShiftedUint: unsigned levels with a zero point
        else:
            signed = True
        narrow = signed and bits > 1 and self.chance(0.15)
        out, sim, qdesc = self.act_quant(self.cur, self.sim, signed, bits, kind == "bipolar", per_channel, narrow,
                                         p_pow2=0.7 if last else 0.5, shifted=shifted)
        self.cur, self.sim = out, sim
        self.parts[-1] += f" {desc}{qdesc}"

    # --- the whole graph ---

    def build(self) -> RandomGraph:
        rng = self.rng
        self.exact = False
        # Fixed-point graphs (Brevitas' *FixedPoint quantizers): every scale a power of two,
        # so the export computes exactly and every rounding tie is checked bit for bit.
        self.fixed_point = self.chance(0.2)
        conv_net = self.chance(0.4)
        convs = int(rng.integers(1, 3)) if conv_net else 0
        hidden = int(rng.integers(0, 2)) if conv_net else int(rng.integers(0, 4))
        if conv_net:
            c, h = int(rng.integers(1, 4)), int(rng.integers(4, 11))
            w = h if self.chance(0.7) else int(rng.integers(4, 11))
            in_shape = [1, c, h, w]
        else:
            in_shape = [1, int(rng.integers(3, 41))]
        x = rng.uniform(-1, 1, size=(CALIBRATION_INPUTS, *in_shape[1:]))
        # The input quantizer: unsigned 8-bit images 1/255, or anything 1-8 bits, or bipolar.
        r = rng.random()
        if r < 0.12:
            out, sim, desc = self.act_quant("x", x, True, 1, True, False, first=True)
        else:
            bits = 8 if r < 0.25 else int(rng.integers(1, 9))
            signed = self.chance(0.5)
            out, sim, desc = self.act_quant("x", x, signed, bits, False, False, first=True,
                                            shifted=not signed and self.chance(0.15))
        self.cur, self.sim = out, sim
        self.parts.append(f"in {desc}")

        if conv_net:
            for i in range(convs):
                h, w = self.sim.shape[2:]
                k = int(rng.integers(1, 4))
                pad = 0 if k == 1 or self.chance(0.5) else int(rng.integers(1, k))
                if min(h, w) + 2 * pad - k + 1 < 1:
                    k, pad = 1, 0
                stride = 2 if min(h, w) + 2 * pad - k + 1 >= 3 and self.chance(0.1) else 1
                self.conv(int(rng.integers(2, 9)), k, pad, stride)
                oh, ow = self.sim.shape[2:]
                pool = min(oh, ow) >= 2 and self.chance(0.45)
                pool_first = pool and self.chance(0.4)
                if pool_first:
                    self.maxpool()
                if self.chance(0.45):
                    self.batchnorm(positive=not (pool_first and self.chance(0.1)))
                    if self.parts[-1] == "bn-" and pool_first:
                        self.outside.append("negative batch-norm scale after max-pooling")
                self.activation(allow_per_channel=False, last=i == convs - 1 and hidden == 0)
                if pool and not pool_first:
                    self.maxpool()
            self.flatten()
        for j in range(hidden):
            self.fc(int(rng.integers(3, 41)), last=False)
            if self.chance(0.4):
                self.batchnorm()
            self.activation(allow_per_channel=True, last=j == hidden - 1)
        self.fc(int(rng.integers(2, 13)), last=True)
        if self.chance(0.35):
            self.batchnorm(tail=True)
        out_shape = list(self.sim.shape[1:])
        model = self._model(in_shape, [1, *out_shape])
        text = f"seed {self.seed}: " + ", ".join(self.parts) + (" [fixed-point]" if self.fixed_point else "")
        if self.outside:
            text += " [outside limits: " + "; ".join(self.outside) + "]"
        return RandomGraph(self.seed, model, text, self.exact, list(self.outside))

    def _model(self, in_shape, out_shape) -> ModelWrapper:
        # Name the last tensor "y".
        last = self.cur
        for n in self.nodes:
            for i, t in enumerate(n.output):
                if t == last:
                    n.output[i] = "y"
        graph = helper.make_graph(
            self.nodes, f"random_{self.seed}", [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
            initializer=[numpy_helper.from_array(v, k) for k, v in self.inits.items()])
        model = ModelWrapper(qonnx_make_model(graph, producer_name="qnn2fpga-random-graphs"))
        return model.transform(InferShapes()).transform(InferDataTypes())


def _exp_of(v: float) -> int | None:
    m, e = np.frexp(v)
    return int(e - 1) if m == 0.5 else None


# --- conv-focused graphs: the sliding-window forms --------------------------------------

CONV_FORMS = frozenset({"conv2d", "conv1d"})
# Forms drawn only when a `forms` set names them (so the default forms' seeds keep their
# graphs): depthwise Conv (group = channels, a VVAU) and residual blocks (a fork, and an Add
# of two streams through one quantizer: DuplicateStreams, AddStreams).
EXTRA_FORMS = frozenset({"depthwise", "residual"})


ZERO_POINT_INTO_PADDING = "a zero-point activation into a zero-padded Conv (recorded defect, random_graphs_test)"


def generate_conv(seed: int, forms=CONV_FORMS) -> RandomGraph:
    """A conv stack for `seed` (numpy's default_rng(seed) alone), then the fully connected
    tail of `generate`: 1-3 Conv layers with kernels 1-5 (7 rarely, sometimes not square),
    strides 1-3, dilation 1-3, asymmetric padding up to the dilated kernel's span less one,
    max-pools with kernel 2-3 and stride <= kernel, sometimes ceil_mode, on images of
    4-12 pixels a side, or 1-D stacks: input (1, C, L) with Conv1d/MaxPool1d-style nodes
    (as Brevitas exports QuantConv1d) or (1, C, 1, L) with 1 x k kernels. `forms`: which of
    "conv2d", "conv1d" (CONV_FORMS) and "depthwise", "residual" (EXTRA_FORMS) to draw from."""
    forms = frozenset(forms)
    unknown = forms - CONV_FORMS - EXTRA_FORMS
    if unknown or not forms & CONV_FORMS:
        raise ValueError(f"forms {sorted(forms)}: need conv2d and/or conv1d, known extra {sorted(EXTRA_FORMS)}")
    return _ConvBuilder(seed, forms).build()


def sim_conv(x: np.ndarray, w: np.ndarray, pads, strides, dilations, group: int = 1) -> np.ndarray:
    """ONNX Conv (no bias) on (N, C, *spatial) in float64: `pads` as ONNX orders them (all
    begins, then all ends), any number of spatial axes, grouped."""
    nd = x.ndim - 2
    x = np.pad(np.asarray(x, np.float64), [(0, 0), (0, 0)] + [(pads[i], pads[i + nd]) for i in range(nd)])
    spans = [d * (k - 1) + 1 for d, k in zip(dilations, w.shape[2:])]
    win = np.lib.stride_tricks.sliding_window_view(x, spans, axis=tuple(range(2, 2 + nd)))
    win = win[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in strides)
              + tuple(slice(None, None, d) for d in dilations)]  # (N, C, *out, *kernel)
    n, c = win.shape[:2]
    o = w.shape[0]
    win = win.reshape(n, group, c // group, *win.shape[2:])
    wg = np.asarray(w, np.float64).reshape(group, o // group, *w.shape[1:])
    sp, kk = "hw"[:nd] if nd <= 2 else None, "ij"[:nd]
    y = np.einsum(f"ngc{sp}{kk},goc{kk}->ngo{sp}", win, wg)
    return y.reshape(n, o, *y.shape[3:])


def pool_dim(size: int, kernel: int, stride: int, ceil_mode: bool) -> int:
    """ONNX MaxPool's output size on one unpadded axis; in ceil mode a last window must
    start inside the input."""
    q, r = divmod(size - kernel, stride)
    out = q + 1 + int(bool(ceil_mode) and r > 0)
    return out - 1 if (out - 1) * stride >= size else out


def sim_maxpool(x: np.ndarray, kernel, strides, ceil_mode: bool = False) -> np.ndarray:
    """ONNX MaxPool without padding on (N, C, *spatial); partial ceil-mode windows see
    only the input's values."""
    nd = x.ndim - 2
    outs = [pool_dim(n, k, s, ceil_mode) for n, k, s in zip(x.shape[2:], kernel, strides)]
    ends = [max(0, (o - 1) * s + k - n) for o, s, k, n in zip(outs, strides, kernel, x.shape[2:])]
    x = np.pad(np.asarray(x, np.float64), [(0, 0), (0, 0)] + [(0, e) for e in ends], constant_values=-np.inf)
    win = np.lib.stride_tricks.sliding_window_view(x, list(kernel), axis=tuple(range(2, 2 + nd)))
    win = win[(slice(None), slice(None)) + tuple(slice(0, o * s, s) for o, s in zip(outs, strides))]
    return win.max(axis=tuple(range(-nd, 0)))


def _axes_text(values, default) -> str:
    """'3' for one value or equal ones, '3x2' otherwise; '' when every value is `default`."""
    values = [int(v) for v in values]
    if all(v == default for v in values):
        return ""
    return str(values[0]) if len(set(values)) == 1 else "x".join(map(str, values))


class _ConvBuilder(_Builder):
    """`generate_conv`'s graphs: the conv stack is drawn here, the rest as in _Builder."""

    def __init__(self, seed: int, forms: frozenset):
        super().__init__(seed)
        self.forms = forms
        self.rank3 = False  # (1, C, L) rather than (1, C, H, W)
        self.flat_h = False  # (1, C, 1, L): 1-D in a 2-D graph

    def kernel_size(self) -> int:
        return int(self.rng.choice([1, 2, 3, 4, 5, 7], p=[0.15, 0.15, 0.3, 0.12, 0.23, 0.05]))

    def axis_params(self, size: int, k: int) -> tuple[int, int, int, int, int]:
        """(kernel, stride, dilation, pad begin, pad end) for one spatial axis of `size`."""
        rng = self.rng
        d = 1
        if k > 1 and self.chance(0.2):
            d = 3 if self.chance(0.2) else 2
        span = d * (k - 1) + 1
        pads = [0 if span == 1 or self.chance(0.45) else int(rng.integers(1, span)) for _ in range(2)]
        s = int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1]))
        if size + sum(pads) < span:
            k, d, pads = 1, 1, [0, 0]
        return k, s, d, pads[0], pads[1]

    def conv_nd(self, c_out: int, depthwise: bool) -> None:
        spatial = self.sim.shape[2:]
        c_in = self.sim.shape[1]
        kh = self.kernel_size()
        params = []
        for i, size in enumerate(spatial):
            if self.flat_h and i == 0:
                params.append((1, 1, 1, 0, 0))
                continue
            k = kh if i == 0 or self.flat_h or self.chance(0.7) else self.kernel_size()
            params.append(self.axis_params(size, k))
        ks, ss, ds, pb, pe = (list(t) for t in zip(*params))
        if self.last_shifted and any(pb + pe):
            self.outside.append(ZERO_POINT_INTO_PADDING)
        group = c_in if depthwise else 1
        if depthwise:
            c_out = c_in
        wq_name, wq, _, wdesc, _ = self.weight((c_out, c_in // group, *ks), 0)
        out = self.name("conv")
        self.nodes.append(helper.make_node("Conv", [self.cur, wq_name], [out], name=out, kernel_shape=ks,
                                           pads=pb + pe, strides=ss, dilations=ds, group=group))
        self.cur, self.sim = out, sim_conv(self.sim, wq, pb + pe, ss, ds, group)
        pads = "" if not any(pb + pe) else " p" + ",".join(map(str, pb + pe))
        kind = "dwconv" if depthwise else "conv"
        self.parts.append(f"{kind}{'1d' if self.rank3 else ''} {c_in}->{c_out} k{'x'.join(map(str, ks))}"
                          f"{' s' + _axes_text(ss, 1) if _axes_text(ss, 1) else ''}{pads}"
                          f"{' d' + _axes_text(ds, 1) if _axes_text(ds, 1) else ''} {wdesc}")

    def maxpool_nd(self) -> None:
        rng = self.rng
        spatial = self.sim.shape[2:]
        ks, ss = [], []
        for i, size in enumerate(spatial):
            if self.flat_h and i == 0:
                ks.append(1)
                ss.append(1)
                continue
            k = ks[0] if i == 1 and not self.flat_h and self.chance(0.7) else int(rng.choice([2, 3], p=[0.6, 0.4]))
            k = min(k, size)
            ks.append(k)
            ss.append(k if self.chance(0.6) else int(rng.integers(1, k + 1)))
        ceil = any(pool_dim(n, k, s, True) != pool_dim(n, k, s, False) for n, k, s in zip(spatial, ks, ss)) \
            and self.chance(0.5)
        out = self.name("pool")
        attrs = dict(kernel_shape=ks, strides=ss, pads=[0] * (2 * len(ks)))
        if ceil:
            attrs["ceil_mode"] = 1
        self.nodes.append(helper.make_node("MaxPool", [self.cur], [out], name=out, **attrs))
        self.cur, self.sim = out, sim_maxpool(self.sim, ks, ss, ceil)
        st = _axes_text(ss, None) if ss != ks else ""
        self.parts.append(f"pool k{'x'.join(map(str, ks))}{' s' + st if st else ''}{' ceil' if ceil else ''}")

    def residual(self) -> None:
        """a + act(conv3x3_same(a)) with both operands through one quantizer (as Brevitas
        users keep a residual add integer: one QuantIdentity called on the branch and on
        the skip), then an activation; `a` the current quantized activation."""
        a, a_sim = self.cur, self.sim
        if self.last_shifted:
            self.outside.append(ZERO_POINT_INTO_PADDING)
        c = a_sim.shape[1]
        ks = [1 if (self.flat_h and i == 0) else 3 for i in range(a_sim.ndim - 2)]
        pads = [k // 2 for k in ks] * 2
        wq_name, wq, _, wdesc, _ = self.weight((c, c, *ks), 0)
        out = self.name("conv")
        self.nodes.append(helper.make_node("Conv", [a, wq_name], [out], name=out, kernel_shape=ks, pads=pads,
                                           strides=[1] * len(ks), dilations=[1] * len(ks), group=1))
        self.cur, self.sim = out, sim_conv(a_sim, wq, pads, [1] * len(ks), [1] * len(ks))
        self.parts.append(f"residual conv {c}->{c} k{'x'.join(map(str, ks))} same {wdesc}")
        self.activation(allow_per_channel=False, last=False)
        b, b_sim = self.cur, self.sim
        # One signed quantizer calibrated on both operands (stacked along the batch axis),
        # its scale, zero point and bits shared by the two Quant nodes.
        qa, both, qdesc = self.act_quant(a, np.concatenate([a_sim, b_sim]), True, int(self.rng.integers(2, 9)),
                                         False, False)
        qb = self.name("act")
        self.nodes.append(quant(b, qb, *self.nodes[-1].input[1:], signed=1, narrow=0))
        s = self.name("add")
        self.nodes.append(helper.make_node("Add", [qa, qb], [s], name=s))
        self.cur, self.sim = s, both[:len(a_sim)] + both[len(a_sim):]
        self.parts.append(f"add (both {qdesc})")
        self.activation(allow_per_channel=False, last=False)

    def build(self) -> RandomGraph:
        rng = self.rng
        self.exact = False
        self.fixed_point = self.chance(0.25)
        one_d = "conv1d" in self.forms and ("conv2d" not in self.forms or self.chance(0.3))
        c = int(rng.integers(1, 5))
        if one_d:
            self.rank3 = self.chance(0.6)
            self.flat_h = not self.rank3
            length = int(rng.integers(6, 33))
            in_shape = [1, c, length] if self.rank3 else [1, c, 1, length]
        else:
            h = int(rng.integers(4, 13))
            w = h if self.chance(0.6) else int(rng.integers(4, 13))
            in_shape = [1, c, h, w]
        x = rng.uniform(-1, 1, size=(CALIBRATION_INPUTS, *in_shape[1:]))
        r = rng.random()
        if r < 0.1:
            out, sim, desc = self.act_quant("x", x, True, 1, True, False, first=True)
        else:
            bits = 8 if r < 0.25 else int(rng.integers(1, 9))
            signed = self.chance(0.5)
            out, sim, desc = self.act_quant("x", x, signed, bits, False, False, first=True)
        self.cur, self.sim = out, sim
        self.parts.append(f"in {'x'.join(map(str, in_shape[1:]))} {desc}")
        convs = int(rng.integers(1, 4))
        hidden = int(rng.integers(0, 2))
        for i in range(convs):
            depthwise = "depthwise" in self.forms and self.sim.shape[1] > 1 and self.chance(0.35)
            self.conv_nd(int(rng.integers(1, 9)), depthwise)
            pool = min(self.sim.shape[2:][1 if self.flat_h else 0:]) >= 2 and self.chance(0.45)
            pool_first = pool and self.chance(0.4)
            if pool_first:
                self.maxpool_nd()
            if self.chance(0.4):
                self.batchnorm(positive=True if pool_first else False)
            self.activation(allow_per_channel=False, last=i == convs - 1 and hidden == 0)
            if pool and not pool_first and min(self.sim.shape[2:][1 if self.flat_h else 0:]) >= 2:
                self.maxpool_nd()
            if "residual" in self.forms and self.chance(0.3):
                self.residual()
        self.flatten()
        for j in range(hidden):
            self.fc(int(rng.integers(3, 25)), last=False)
            if self.chance(0.4):
                self.batchnorm()
            self.activation(allow_per_channel=False, last=j == hidden - 1)
        self.fc(int(rng.integers(2, 11)), last=True)
        if self.chance(0.3):
            self.batchnorm(tail=True)
        model = self._model(in_shape, [1, *self.sim.shape[1:]])
        text = f"seed {self.seed}: " + ", ".join(self.parts) + (" [fixed-point]" if self.fixed_point else "")
        if self.outside:
            text += " [outside limits: " + "; ".join(self.outside) + "]"
        return RandomGraph(self.seed, model, text, self.exact, list(self.outside))
