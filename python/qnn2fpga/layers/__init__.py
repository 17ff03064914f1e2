"""The hardware layers: qonnx custom ops in the `qnn2fpga.layers` domain.

Importing this package registers every layer, so qonnx's `getCustomOp`, `execute_onnx`,
`InferShapes` and `InferDataTypes` handle nodes with `domain="qnn2fpga.layers"` (qonnx
imports the domain as a module and finds the op class in its `custom_op` dict).

Adding a layer = one module `layers/<snake_name>.py` whose class is decorated with
`@register_layer("Name")` (plus its tests); it is imported here automatically. Every
module of this package is a layer module except tests and the helpers in `_HELPERS`:
`attrs` (attribute descriptors), `registry`, `base` (HwLayer and the ChannelStreams
mixin), `rtl` (RTL backend vocabulary), `numerics`, `accumulate` (what MVAU and VVAU
share), `resources` and `testing`.
"""

from __future__ import annotations

import importlib
import pkgutil

from qnn2fpga.layers.attrs import (
    Attr,
    AttrProblem,
    DTypeAttr,
    DTypesAttr,
    FoldAttr,
    IntAttr,
    IntsAttr,
    StrAttr,
)
from qnn2fpga.layers.base import ChannelStreams, Example, HwLayer
from qnn2fpga.layers.numerics import smallest_int_datatype
from qnn2fpga.layers.registry import DOMAIN, LAYERS, get_layer, is_hw_layer, register_layer
from qnn2fpga.layers.rtl import MEM_MODES, RAM_STYLES, RtlInstance, axilite_tie_offs

_HELPERS = frozenset({"accumulate", "attrs", "base", "conversion", "numerics", "registry", "resources", "rtl",
                      "testing", "conftest"})


def layer_module_names() -> list[str]:
    """The layer modules of this package, sorted (helpers and tests excluded)."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__)
                  if m.name not in _HELPERS and not m.name.endswith("_test") and not m.name.startswith("_"))


# Always under the canonical name: a test runner may also import this package under
# another name (e.g. `python.qnn2fpga.layers` from a Bazel runfiles tree), and importing
# the layer modules a second time would register every layer twice.
for _name in layer_module_names():
    importlib.import_module(f"qnn2fpga.layers.{_name}")

# qonnx's registry looks for this dict in the domain module: op type -> CustomOp class.
custom_op = LAYERS

__all__ = [
    "DOMAIN", "LAYERS", "MEM_MODES", "RAM_STYLES", "Attr", "AttrProblem", "ChannelStreams", "DTypeAttr",
    "DTypesAttr", "Example", "FoldAttr", "HwLayer", "IntAttr", "IntsAttr", "RtlInstance", "StrAttr",
    "axilite_tie_offs", "custom_op", "get_layer", "is_hw_layer", "layer_module_names", "register_layer",
    "smallest_int_datatype", *sorted(LAYERS),
]
for _op, _cls in LAYERS.items():
    globals()[_op] = _cls
