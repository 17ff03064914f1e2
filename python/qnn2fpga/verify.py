"""Equivalence checks between the original export and the graph after any step.

The integer levels of every activation quantizer in the original graph must equal,
value for value, the integer outputs of the corresponding thresholding node (the k-th
activation quantizer corresponds to the k-th MultiThreshold, or hardware layer whose
`emits_activation_levels()` is true (Thresholding, MVAU with fused thresholds), in
topological order); the final outputs must agree to 1e-5 relative and give the same
argmax.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.infer_shapes import InferShapes

from qnn2fpga.graph import real_inputs
from qnn2fpga.layers.registry import get_layer, is_hw_layer


def full_context(model, x: np.ndarray) -> dict:
    """Every tensor of qonnx execution of `model` (a ModelWrapper, or a
    qnn2fpga.execute.Runner prepared for many inputs) on its input `x` (hardware layers
    included)."""
    from qnn2fpga.execute import Runner  # noqa: PLC0415

    runner = model if isinstance(model, Runner) else Runner(model)
    return runner.context({real_inputs(runner.model)[0]: x})


def activation_levels(model: ModelWrapper, ctx: dict) -> list[np.ndarray]:
    """Integer levels of every activation quantizer, in topological order: computed from
    the output of a Quant/BipolarQuant node, or read from a MultiThreshold node or a
    hardware layer that emits activation levels."""
    levels = []
    for n in model.graph.node:
        if n.op_type in ("Quant", "BipolarQuant") and model.get_initializer(n.input[0]) is None:
            out = ctx[n.output[0]].astype(np.float64)
            if n.op_type == "BipolarQuant":
                levels.append(np.sign(out))
            else:
                scale, zeropt = (ctx[t].astype(np.float64) for t in n.input[1:3])
                levels.append(np.round(out / scale + zeropt))
        elif n.op_type == "MultiThreshold" or (is_hw_layer(n) and get_layer(n).emits_activation_levels()):
            levels.append(ctx[n.output[0]].astype(np.float64))
    return levels


@dataclass
class Comparison:
    max_rel_error: float
    argmax_equal: bool
    level_mismatches: list  # (index, number of differing values)
    level_count: tuple  # (original, transformed)

    @property
    def ok(self) -> bool:
        return (self.max_rel_error <= 1e-5 and self.argmax_equal and not self.level_mismatches
                and self.level_count[0] == self.level_count[1])


def _align(ref: np.ndarray, got: np.ndarray) -> np.ndarray:
    """The reference in the transformed graph's layout (NCHW -> NHWC when that is what differs)."""
    if ref.shape == got.shape:
        return ref
    if ref.ndim == 4 and ref.transpose(0, 2, 3, 1).shape == got.shape:
        return ref.transpose(0, 2, 3, 1)
    return ref.reshape(got.shape)


def compare(original: ModelWrapper, transformed: ModelWrapper, inputs: list[np.ndarray],
            output_fn=None) -> Comparison:
    """Runs both graphs on every input. `output_fn(ref_output, got_output) -> (rel_err, argmax_equal)`
    overrides the output comparison (e.g. when the transformed graph returns top-k indices)."""
    from qnn2fpga.execute import Runner  # noqa: PLC0415

    original = original.transform(InferShapes())
    worst, argmax_ok, mismatches, counts = 0.0, True, [], (0, 0)
    run_original, run_transformed = Runner(original), Runner(transformed)
    for x in inputs:
        rc, gc = full_context(run_original, x), full_context(run_transformed, x)
        ref = rc[original.graph.output[0].name].astype(np.float64)
        got = gc[transformed.graph.output[0].name].astype(np.float64)
        if output_fn is not None:
            err, same = output_fn(ref, got)
        else:
            # Relative to the output's magnitude (a logit near zero has no meaningful relative error).
            err = float(np.max(np.abs(got - ref)) / max(float(np.max(np.abs(ref))), 1e-30)) \
                if got.shape == ref.shape else np.inf
            same = got.shape == ref.shape and bool((got.argmax(-1) == ref.argmax(-1)).all())
        worst, argmax_ok = max(worst, err), argmax_ok and same
        lr, lg = activation_levels(original, rc), activation_levels(transformed, gc)
        counts = (len(lr), len(lg))
        for i, (a, b) in enumerate(zip(lr, lg)):
            diff = int(np.count_nonzero(_align(a, b) != b))
            if diff:
                mismatches.append((i, diff))
    return Comparison(worst, argmax_ok, mismatches, counts)
