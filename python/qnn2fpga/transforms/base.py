"""The base class of every qnn2fpga graph pass: a qonnx `Transformation` that cannot loop.

qonnx's `ModelWrapper.transform` applies a pass again for as long as it reports a
change, so a pass that reports a change it did not make (or undoes its own work) hangs
the compiler silently. A `Pass` counts its consecutive changed applications; past
`max_rounds(model)` it makes one more, compares the graph before and after it, and
raises `PassLoopError` naming the pass and the nodes that application touched.
"""

from __future__ import annotations

import functools

from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation

from qnn2fpga import errors


def max_rounds(model: ModelWrapper) -> int:
    """How many changed applications in a row a pass may make on `model`: each one must
    rewrite something, and no pass here rewrites a node more than a few dozen times."""
    return 1000 + 50 * len(model.graph.node)


def node_keys(model: ModelWrapper) -> dict[tuple, str]:
    return {(n.name, n.op_type, tuple(n.input), tuple(n.output)): n.name or n.op_type for n in model.graph.node}


def touched_nodes(before: dict[tuple, str], after: ModelWrapper) -> list[str]:
    """Names of the nodes whose inputs/outputs differ between `before` (from node_keys)
    and `after`, in graph order; initializer-only changes show as the consumers' inputs."""
    now = node_keys(after)
    changed = [name for key, name in now.items() if key not in before]
    changed += [name for key, name in before.items() if key not in now and name not in changed]
    return changed


def loop_error(pass_name: str, rounds: int, nodes: list[str]) -> errors.PassLoopError:
    shown = ", ".join(f"'{n}'" for n in nodes[:5]) + (f" and {len(nodes) - 5} more" if len(nodes) > 5 else "")
    return errors.PassLoopError(
        f"pass {pass_name} on node(s) {shown or '(no node changed: it reports a change it did not make)'}",
        f"still changes the graph after {rounds} rounds; it does not converge",
        "this is a qnn2fpga bug: report it with the model file; nothing was written")


def _bounded(apply):
    @functools.wraps(apply)
    def wrapper(self, model):
        rounds = self.__dict__.get("_qnn_rounds", 0)
        limit = max_rounds(model)
        if rounds < limit:
            model, changed = apply(self, model)
            self._qnn_rounds = rounds + 1 if changed else 0
            return model, changed
        before = node_keys(model)
        model, changed = apply(self, model)
        if not changed:
            self._qnn_rounds = 0
            return model, changed
        raise loop_error(type(self).__name__, rounds + 1, touched_nodes(before, model))

    wrapper._qnn_bounded = True
    return wrapper


class Pass(Transformation):
    """A qonnx Transformation whose `apply` is bounded (see the module doc). Subclasses
    implement `apply(model) -> (model, changed)` as usual."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        apply = cls.__dict__.get("apply")
        if apply is not None and not getattr(apply, "_qnn_bounded", False):
            cls.apply = _bounded(apply)
