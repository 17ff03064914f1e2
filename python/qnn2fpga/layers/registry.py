"""The layer registry: op type -> HwLayer subclass, in the `qnn2fpga.layers` domain.

`@register_layer("Name")` on a layer class fills `LAYERS`; qonnx finds it as the domain
module's `custom_op` dict (see qnn2fpga/layers/__init__.py). `is_hw_layer` and
`get_layer` are how the compiler recognizes and wraps hardware nodes.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING

from onnx import NodeProto

from qnn2fpga.errors import UnsupportedOpError
from qnn2fpga.layers.attrs import FoldAttr, IntAttr

if TYPE_CHECKING:
    from qnn2fpga.layers.base import HwLayer

DOMAIN = "qnn2fpga.layers"

# op type -> layer class; filled by @register_layer.
LAYERS: dict[str, type["HwLayer"]] = {}


def register_layer(name: str):
    """Class decorator: registers a HwLayer subclass as op type `name` in DOMAIN.

    Refuses, when the module is imported, a class that is not a HwLayer, is not named
    `name` (qonnx resolves op types by class name), leaves a hook abstract, declares a fold
    factor dividing an undeclared attribute, or reuses a registered name.
    """
    # base imports this module (DOMAIN); the class check needs base, loaded by then.
    from qnn2fpga.layers.base import HwLayer  # noqa: PLC0415

    def decorate(cls: type) -> type:
        if not (inspect.isclass(cls) and issubclass(cls, HwLayer)):
            raise TypeError(f"register_layer({name!r}): {cls!r} is not a HwLayer subclass")
        if cls.__name__ != name:
            raise TypeError(f"register_layer({name!r}): the class must be named {name!r} "
                            f"(qonnx resolves op types by class name), not {cls.__name__!r}")
        missing = sorted(getattr(cls, "__abstractmethods__", ()))
        if missing:
            raise TypeError(f"layer {name} does not define the hook(s) {missing}")
        declared = cls.declared_attrs()
        for fname, fold in cls.fold_attrs().items():
            if not isinstance(declared.get(fold.divides), IntAttr) or isinstance(declared[fold.divides], FoldAttr):
                raise TypeError(f"layer {name}: fold attribute {fname} divides {fold.divides!r}, which is not a "
                                "declared integer attribute")
        if name in LAYERS and LAYERS[name] is not cls:
            raise TypeError(f"layer {name} is already registered by {LAYERS[name].__module__}")
        cls.op_type = name
        LAYERS[name] = cls
        return cls

    return decorate


def is_hw_layer(node: NodeProto) -> bool:
    """True for a node of a registered hardware layer."""
    return node.domain == DOMAIN and node.op_type in LAYERS


def get_layer(node: NodeProto) -> "HwLayer":
    """The layer instance wrapping `node` (like qonnx's getCustomOp, with a typed error)."""
    if node.domain != DOMAIN or node.op_type not in LAYERS:
        where = f"{node.op_type} node '{node.name}'" if node.name else f"unnamed {node.op_type} node"
        raise UnsupportedOpError(where, f"not a registered hardware layer (domain '{node.domain}')",
                                 f"use domain '{DOMAIN}' and one of {sorted(LAYERS)}")
    return LAYERS[node.op_type](node)
