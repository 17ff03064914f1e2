"""The software tail as the export's own float operations.

Streamlining folds the ops after the last hardware layer (e.g. a final batch norm as
Sub, Div, Mul, Add) into fewer ones; exact in real arithmetic, but float32 rounds each
op, so the folded tail differs from qonnx execution of the export in the last bits.
This pass puts the export's own nodes back as the tail: it finds the export tensor
that the hardware's last output reproduces exactly up to a per-channel factor of
+-2^n (streamlining may flip a channel's sign into its weights; such factors multiply
exactly in float), on seeded probe inputs (the earliest such tensor); the tail becomes
that factor followed by the export's nodes from that tensor to the graph output, kept
only if the whole graph then gives outputs bit-identical to the export on the probes
and on a second, fresh probe set.
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
from qnn2fpga.layers.base import is_hw_layer
from qnn2fpga.report import TAIL_OPS
from qnn2fpga.transforms.base import Pass

PROBES = 8


def _contexts(model: ModelWrapper, xs: list[np.ndarray]) -> list[dict]:
    from qnn2fpga.verify import full_context  # noqa: PLC0415

    return [full_context(model, x) for x in xs]


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
        if i is None or export.graph.node[i].op_type not in TAIL_OPS:
            return None  # quantizers or anything else a software tail does not run
        if i not in needed:
            needed.add(i)
            want.extend(x for x in export.graph.node[i].input if x)
    return [export.graph.node[i] for i in sorted(needed)]


def restore_export_tail(export: ModelWrapper, compiled: ModelWrapper) -> ModelWrapper:
    """`compiled` with its software tail replaced by the export's own nodes, when the
    hardware output is exactly one of the export's tensors (see the module text)."""
    hw = [i for i, n in enumerate(compiled.graph.node) if is_hw_layer(n)]
    if not hw or hw[-1] == len(compiled.graph.node) - 1 or len(compiled.graph.output) != 1:
        return compiled
    if any(n.op_type == "TopK" for n in compiled.graph.node[hw[-1] + 1:]):
        return compiled  # the graph computes indices, not the export's output
    hw_out = compiled.graph.node[hw[-1]].output[0]
    try:
        export = export.transform(InferShapes())
        shape = export.get_tensor_shape(real_inputs(export)[0])
        rng = np.random.default_rng(0)
        xs = [rng.uniform(-1, 1, size=shape).astype(np.float32) for _ in range(PROBES)]
        check = [rng.uniform(-1, 1, size=shape).astype(np.float32) for _ in range(PROBES)]  # a second, fresh set
        ref, got = _contexts(export, xs), _contexts(compiled, xs)
    except Exception:  # an export qonnx cannot execute keeps the streamlined tail
        return compiled
    # Candidates in graph order: the earliest match replays the most of the export (an op
    # that happened to be the identity on the probes, e.g. a Relu, is kept, not dropped).
    hw_vals = np.stack([g[hw_out] for g in got])
    for node in export.graph.node:
        for t in node.output:
            if not all(t in r and r[t].shape == hw_vals.shape[1:] for r in ref):
                continue
            factor = _channel_factor(np.stack([r[t] for r in ref]), hw_vals)
            nodes = _tail_nodes(export, t) if factor is not None else None
            if nodes:
                model = _with_tail(compiled, hw[-1], export, t, factor, nodes)
                if model is not None and _equal_outputs(export, model, xs) and _equal_outputs(export, model, check):
                    return model
    return compiled


def _equal_outputs(export: ModelWrapper, model: ModelWrapper, xs) -> bool:
    try:
        ref, got = _contexts(export, xs), _contexts(model, xs)
    except Exception:  # the copied ops do not run on this graph
        return False
    return all(np.array_equal(g[model.graph.output[0].name], r[export.graph.output[0].name]) for g, r in zip(got, ref))


def _with_tail(compiled: ModelWrapper, last_hw: int, export: ModelWrapper, anchor: str, factor, nodes):
    """`compiled` with the nodes after `last_hw` replaced by `factor` and `nodes`."""
    model = ModelWrapper(compiled.model.__deepcopy__())
    g = model.graph
    hw_out = g.node[last_hw].output[0]
    for n in list(g.node[last_hw + 1:]):
        g.node.remove(n)
    names = {export.graph.output[0].name: g.output[0].name}
    if np.all(factor == 1):
        names[anchor] = hw_out
    else:
        names[anchor] = "ExportTail_anchor"
        model.set_initializer("ExportTail_factor", factor.astype(np.float32))
        g.node.append(helper.make_node("Mul", [hw_out, "ExportTail_factor"], [names[anchor]], name="ExportTail_factor"))

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
