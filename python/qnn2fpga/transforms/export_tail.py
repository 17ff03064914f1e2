"""The software tail as the export's own float operations.

Streamlining folds the ops after the last hardware layer (e.g. a final batch norm as
Sub, Div, Mul, Add) into fewer ones; exact in real arithmetic, but float32 rounds each
op, so the folded tail differs from qonnx execution of the export in the last bits.
This pass puts the export's own nodes back as the tail: it finds the export tensor
that the hardware's last output reproduces exactly up to a per-channel factor of
+-2^n (streamlining may flip a channel's sign into its weights; such factors multiply
exactly in float), or up to such a factor and an exact per-channel offset (the zero
point of the last layer's input: the hardware sums levels, the export levels minus
the zero point), on seeded probe inputs spread over the input quantizer's range (the
earliest such tensor); the tail becomes that factor [and offset] followed by the
export's nodes from that tensor to the graph output, kept only if the whole graph
then gives outputs bit-identical to the export on the probes and on a second, fresh
probe set (the first set grows while an output channel has only been 0 on it).
Probes on which an earlier quantizer's level differs (the export's float32 rounding
next to a rounding boundary, with scales that are not powers of two) are left out of
both checks; at least half of each set must remain. A BatchNormalization in the
export's tail is replayed as the multiply and add that onnxruntime's kernel computes
(its constants rounded as that kernel rounds them).
When no such tensor exists (a top-k in hardware, a scaled final layer, a quantizer in
the tail) the streamlined tail stays.
"""

from __future__ import annotations

import numpy as np
from onnx import helper, numpy_helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.fold_constants import FoldConstants
from qonnx.transformation.general import RemoveUnusedTensors
from qonnx.transformation.infer_shapes import InferShapes

from qnn2fpga.graph import real_inputs
from qnn2fpga.layers.registry import is_hw_layer
from qnn2fpga.report import TAIL_OPS
from qnn2fpga.transforms.base import Pass

PROBES = 8
MORE_PROBES = 7  # further sets of PROBES while an output channel has only been 0


def _contexts(model, xs: list[np.ndarray]) -> list[dict]:
    """Every tensor of qonnx execution of `model` (a ModelWrapper or a prepared
    qnn2fpga.execute.Runner) on each probe."""
    from qnn2fpga.execute import Runner  # noqa: PLC0415
    from qnn2fpga.verify import full_context  # noqa: PLC0415

    runner = model if isinstance(model, Runner) else Runner(model)
    return [full_context(runner, x) for x in xs]


def _channel_factor(ref: np.ndarray, hw: np.ndarray) -> np.ndarray | None:
    """The per-channel (last axis) factor k, each +-2^n, with ref == hw * k exactly on
    every probe, or None."""
    ref, hw = ref.astype(np.float64), hw.astype(np.float64)
    flat_r, flat_h = ref.reshape(-1, ref.shape[-1]), hw.reshape(-1, hw.shape[-1])
    nz = flat_h != 0
    if not nz.any(axis=0).all() or not np.array_equal(flat_r == 0, ~nz):
        return None  # a channel never seen non-zero leaves its factor open
    k = np.array([flat_r[nz[:, c], c][0] / flat_h[nz[:, c], c][0] for c in range(flat_h.shape[1])])
    mant, _ = np.frexp(np.abs(k))
    if not np.all(mant == 0.5) or not np.array_equal(flat_h * k, flat_r):
        return None
    return k


def _channel_affine(ref: np.ndarray, hw: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Per channel (last axis) a factor k, each +-2^n, and an offset o with ref == hw * k + o
    as float32 computes it on every probe, or None. The offset is a zero point's share of
    the last layer: the hardware sums the input levels, the export the levels minus their
    zero point (in the software tail, that difference is a bias)."""
    flat_r = ref.reshape(-1, ref.shape[-1]).astype(np.float64)
    flat_h = hw.reshape(-1, hw.shape[-1]).astype(np.float64)
    lo, hi = np.argmin(flat_h, axis=0), np.argmax(flat_h, axis=0)
    channels = np.arange(flat_h.shape[1])
    dh = flat_h[hi, channels] - flat_h[lo, channels]
    if np.any(dh == 0):
        return None  # a channel seen with one value only leaves factor and offset open
    k = (flat_r[hi, channels] - flat_r[lo, channels]) / dh
    o = flat_r[lo, channels] - k * flat_h[lo, channels]
    mant, _ = np.frexp(np.abs(k))
    k32, o32 = k.astype(np.float32), o.astype(np.float32)
    if not np.all(mant == 0.5) or not np.array_equal(o32, o):
        return None
    if not np.array_equal(flat_h.astype(np.float32) * k32 + o32, flat_r.astype(np.float32)):
        return None
    return k, o


def _tail_nodes(export: ModelWrapper, anchor: str) -> list | None:
    """The export's nodes that compute its output from `anchor` and constants, in graph
    order, or None when the output needs another computed tensor."""
    producer = {t: i for i, n in enumerate(export.graph.node) for t in n.output}
    needed, want = set(), [export.graph.output[0].name]
    while want:
        t = want.pop()
        if t == anchor or export.get_initializer(t) is not None:
            continue
        i = producer.get(t)
        if i is None or (export.graph.node[i].op_type not in TAIL_OPS
                         and not _replayable_batchnorm(export, export.graph.node[i])):
            return None  # quantizers or anything else a software tail does not run
        if i not in needed:
            needed.add(i)
            want.extend(x for x in export.graph.node[i].input if x)
    return [export.graph.node[i] for i in sorted(needed)]


def _replayable_batchnorm(export: ModelWrapper, node) -> bool:
    """A BatchNormalization with constant parameters (BatchNorm1d/2d after the last layer)."""
    return node.op_type == "BatchNormalization" and len(node.input) == 5 and len(node.output) == 1 and \
        all(export.get_initializer(t) is not None for t in node.input[1:])


def _batchnorm_as_mul_add(export: ModelWrapper, node) -> tuple[np.ndarray, np.ndarray]:
    """A BatchNormalization as the multiplier and offset onnxruntime's CPU kernel applies,
    computed as it computes them in float32: x * s + b with s = 1 / sqrt(var + eps) *
    gamma and b = beta - mean * s. (Streamlining divides by the standard deviation instead
    and merges the factors with the layer's scales, which rounds differently; whether this
    replay is bit-identical is checked on the probes like every restored tail.)"""
    gamma, beta, mean, var = (export.get_initializer(t).astype(np.float32) for t in node.input[1:])
    eps = np.float32(next((a.f for a in node.attribute if a.name == "epsilon"), 1e-5))
    s = (np.float32(1) / np.sqrt(var + eps)) * gamma
    b = beta - mean * s
    rank = len(export.get_tensor_shape(node.input[0]))
    shape = (1, -1) + (1,) * (rank - 2)
    return s.astype(np.float32).reshape(shape), b.astype(np.float32).reshape(shape)


def restore_export_tail(export: ModelWrapper, compiled: ModelWrapper) -> ModelWrapper:
    """`compiled` with its software tail replaced by the export's own nodes, when the
    hardware output is exactly one of the export's tensors (see the module text)."""
    hw = [i for i, n in enumerate(compiled.graph.node) if is_hw_layer(n)]
    if not hw or hw[-1] == len(compiled.graph.node) - 1 or len(compiled.graph.output) != 1:
        return compiled
    if any(n.op_type == "TopK" for n in compiled.graph.node[hw[-1] + 1:]):
        return compiled  # the graph computes indices, not the export's output
    from qnn2fpga.execute import Runner  # noqa: PLC0415

    hw_out = compiled.graph.node[hw[-1]].output[0]
    try:
        export = export.transform(InferShapes())
        run_export = Runner(export)
        shape = export.get_tensor_shape(real_inputs(export)[0])
        lo, hi = _probe_range(export)
        rng = np.random.default_rng(0)

        def draw() -> list[np.ndarray]:
            return [rng.uniform(lo, hi, size=shape).astype(np.float32) for _ in range(PROBES)]

        xs, check = draw(), draw()  # the check set: a second, fresh one
        ref, got = _contexts(run_export, xs), _contexts(compiled, xs)
        for _ in range(MORE_PROBES):
            # An output channel the probes left at 0 determines no factor: probe further.
            seen = np.stack([g[hw_out] for g in got]).reshape(-1, got[0][hw_out].shape[-1]) != 0
            if seen.any(axis=0).all():
                break
            more = draw()
            xs, ref, got = xs + more, ref + _contexts(run_export, more), got + _contexts(compiled, more)
    except Exception:  # an export qonnx cannot execute keeps the streamlined tail
        return compiled
    decided = _same_levels(export, compiled, ref, got)
    if len(decided) < len(xs) // 2:
        return compiled
    probes = _Probes(run_export, xs, ref, check)
    ref, got = [ref[i] for i in decided], [got[i] for i in decided]
    # Candidates in graph order: the earliest match replays the most of the export (an op
    # that happened to be the identity on the probes, e.g. a Relu, is kept, not dropped).
    hw_vals = np.stack([g[hw_out] for g in got])
    for node in export.graph.node:
        for t in node.output:
            if not all(t in r and r[t].shape == hw_vals.shape[1:] for r in ref):
                continue
            values = np.stack([r[t] for r in ref])
            factor, offset = _channel_factor(values, hw_vals), None
            if factor is None and (fit := _channel_affine(values, hw_vals)) is not None:
                factor, offset = fit
            nodes = _tail_nodes(export, t) if factor is not None else None
            if nodes:
                model = _with_tail(compiled, hw[-1], export, t, factor, nodes, offset)
                if model is not None and probes.equal_outputs(model):
                    return model
    return compiled


def _probe_range(export: ModelWrapper) -> tuple[float, float]:
    """Where probe inputs are drawn: over the input quantizer's levels (with a scale of 2,
    inputs in [-1, 1) all round to level 0 and leave the hardware output 0, which
    determines no factor), else [-1, 1)."""
    from qnn2fpga.transforms.integer import quant_params  # noqa: PLC0415
    from qonnx.custom_op.general.intquant import max_int, min_int  # noqa: PLC0415

    consumers = export.find_consumers(real_inputs(export)[0])
    q = consumers[0] if len(consumers) == 1 and consumers[0].op_type == "Quant" else None
    p = quant_params(export, q) if q is not None else None
    if p is None or p["bits"] == 1:
        return -1.0, 1.0
    scale = np.abs(np.asarray(p["scale"], np.float64)).reshape(-1)
    zeropt = np.asarray(p["zeropt"], np.float64).reshape(-1)
    lo = float(np.min((min_int(p["signed"], p["narrow"], p["bits"]) - zeropt - 0.5) * scale))
    hi = float(np.max((max_int(p["signed"], p["narrow"], p["bits"]) - zeropt + 0.5) * scale))
    return (lo, hi) if np.isfinite([lo, hi]).all() and lo < hi else (-1.0, 1.0)


def _same_levels(export: ModelWrapper, compiled: ModelWrapper, ref: list[dict], got: list[dict]) -> list[int]:
    """The probes on which every activation quantizer of the compiled graph gives the
    export's integer levels. On the others the export's float32 arithmetic rounded a value
    next to a rounding boundary to the other side than the exact integer arithmetic of the
    hardware (scales that are not powers of two); they say nothing about the tail and are
    left out. (When the quantizers do not pair up, every probe counts.)"""
    from qnn2fpga.verify import activation_levels  # noqa: PLC0415

    same = []
    for i, (r, g) in enumerate(zip(ref, got)):
        a, b = activation_levels(export, r), activation_levels(compiled, g)
        if len(a) != len(b) or all(_same_values(x, y) for x, y in zip(a, b)):
            same.append(i)
    return same


def _same_values(ref: np.ndarray, got: np.ndarray) -> bool:
    """`got` holds `ref`'s values, in its layout or channels-last (tried both ways: with
    as many channels as rows and columns the shapes do not tell). A 1-D export's (N, C, L)
    is compiled as (N, 1, L, C) (cleanup.Conv1dAs2d), the same elements channels-last."""
    if ref.size != got.size:
        return False
    if np.array_equal(ref.reshape(got.shape), got):
        return True
    return ref.ndim in (3, 4) and np.array_equal(np.moveaxis(ref, 1, -1).reshape(got.shape), got)


class _Probes:
    """The export's executions on both probe sets, each run once (the check set's when
    a candidate tail first needs it) for every candidate tail."""

    def __init__(self, run_export, xs: list[np.ndarray], ref: list[dict], check: list[np.ndarray]):
        self.run_export, self.sets = run_export, [(xs, ref), (check, None)]

    def equal_outputs(self, model: ModelWrapper) -> bool:
        """`model`'s outputs bit-identical to the export's on both probe sets (see _equal_outputs)."""
        from qnn2fpga.execute import Runner  # noqa: PLC0415

        try:
            run_model = Runner(model)
        except Exception:  # the copied ops do not run on this graph
            return False
        for k, (xs, ref) in enumerate(self.sets):
            if ref is None:
                try:
                    ref = _contexts(self.run_export, xs)
                except Exception:
                    return False
                self.sets[k] = (xs, ref)
            if not _equal_outputs(self.run_export.model, run_model, xs, ref):
                return False
        return True


def _equal_outputs(export: ModelWrapper, run_model, xs, ref: list[dict]) -> bool:
    """Outputs bit-identical to the export's (`ref`, its contexts on `xs`) on the probes
    whose levels agree (at least half)."""
    try:
        got = _contexts(run_model, xs)
    except Exception:  # the copied ops do not run on this graph
        return False
    model = run_model.model
    decided = _same_levels(export, model, ref, got)
    return len(decided) >= len(xs) // 2 and all(
        np.array_equal(got[i][model.graph.output[0].name], ref[i][export.graph.output[0].name]) for i in decided)


def _with_tail(compiled: ModelWrapper, last_hw: int, export: ModelWrapper, anchor: str, factor, nodes,
               offset: np.ndarray | None = None):
    """`compiled` with the nodes after `last_hw` replaced by `factor` [and `offset`] and `nodes`."""
    model = ModelWrapper(compiled.model.__deepcopy__())
    g = model.graph
    hw_out = g.node[last_hw].output[0]
    for n in list(g.node[last_hw + 1:]):
        g.node.remove(n)
    names = {export.graph.output[0].name: g.output[0].name}
    names[anchor] = hw_out
    if not np.all(factor == 1):
        names[anchor] = "ExportTail_anchor" if offset is None else "ExportTail_scaled"
        model.set_initializer("ExportTail_factor", factor.astype(np.float32))
        g.node.append(helper.make_node("Mul", [hw_out, "ExportTail_factor"], [names[anchor]], name="ExportTail_factor"))
    if offset is not None:
        model.set_initializer("ExportTail_offset", offset.astype(np.float32))
        g.node.append(helper.make_node("Add", [names[anchor], "ExportTail_offset"], ["ExportTail_anchor"],
                                       name="ExportTail_offset"))
        names[anchor] = "ExportTail_anchor"

    def rename(t: str) -> str:
        if t not in names:
            names[t] = f"ExportTail_{len(names)}"
            init = export.get_initializer(t)
            if init is not None:
                model.set_initializer(names[t], init)
        return names[t]

    for n in nodes:
        if n.op_type == "Constant" and len(n.attribute) == 1 and n.attribute[0].name == "value":
            model.set_initializer(rename(n.output[0]), numpy_helper.to_array(n.attribute[0].t))
            continue
        if n.op_type == "BatchNormalization":
            s, b = _batchnorm_as_mul_add(export, n)
            tag = f"ExportTail_{n.name or 'BatchNormalization'}_{len(g.node)}"
            model.set_initializer(f"{tag}_mul", s)
            model.set_initializer(f"{tag}_add", b)
            g.node.append(helper.make_node("Mul", [rename(n.input[0]), f"{tag}_mul"], [f"{tag}_scaled"],
                                           name=f"{tag}_mul"))
            g.node.append(helper.make_node("Add", [f"{tag}_scaled", f"{tag}_add"], [rename(n.output[0])],
                                           name=f"{tag}_add"))
            continue
        copy = helper.make_node(n.op_type, [rename(i) if i else "" for i in n.input], [rename(o) for o in n.output],
                                name=f"ExportTail_{n.name or n.op_type}", domain=n.domain)
        copy.attribute.extend(n.attribute)
        g.node.append(copy)
    # Constant-only subexpressions (e.g. a batch norm's variance to the power -1/2) become
    # initializers, computed by the same op implementation the export's execution uses.
    try:
        return model.transform(InferShapes()).transform(FoldConstants()).transform(RemoveUnusedTensors())
    except Exception:  # ops the shape inference or folding cannot handle: no restored tail
        return None


class RestoreExportTail(Pass):
    """restore_export_tail as a qonnx transformation (the export given at construction)."""

    def __init__(self, export: ModelWrapper):
        super().__init__()
        self.export = export

    def apply(self, model: ModelWrapper):
        return restore_export_tail(self.export, model), False
