"""Typed node-attribute declarations of the hardware layers.

A layer declares each ONNX attribute as a class-level descriptor (`IntAttr`, `FoldAttr`,
`IntsAttr`, `StrAttr`, `DTypeAttr`, `DTypesAttr`); reading it on a layer instance gives
the typed value, assigning writes the ONNX attribute (see `qnn2fpga.layers.base.HwLayer`,
which turns an `AttrProblem` into a typed error naming the node).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Mapping

from onnx import AttributeProto
from qonnx.core.datatype import BaseDataType

from qnn2fpga.errors import DataTypeError, ModelError
from qnn2fpga.layers import numerics

if TYPE_CHECKING:
    from qnn2fpga.layers.base import HwLayer


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


class AttrProblem(ValueError):
    """A malformed attribute value; the layer turns it into a typed error naming the node."""

    def __init__(self, problem: str, fix: str, error: type = ModelError):
        super().__init__(problem)
        self.problem, self.fix, self.error = problem, fix, error


# --- typed attribute declarations -------------------------------------------------------


class Attr:
    """A declared node attribute: ONNX type, default (REQUIRED if none), allowed values and
    a doc string. Used as a class attribute of a layer; reading it on a layer instance
    gives the typed value, assigning it writes the ONNX attribute.

    `not_implemented`: allowed values (FINN's vocabulary) that no backend acts on yet,
    each with the reason; a folding config that sets one is refused with a warning
    (`qnn2fpga.folding`) instead of being applied without effect."""

    onnx_type: ClassVar[int]
    kind: ClassVar[str]  # the AttributeProto field qonnx reads: i, ints, s, strings
    placeholder: ClassVar[Any]  # qonnx's "default" for a required attribute

    def __init__(self, default: Any = REQUIRED, *, allowed: Iterable | None = None, doc: str = "",
                 not_implemented: Mapping[Any, str] | None = None):
        self.default = default
        self.allowed = frozenset(allowed) if allowed is not None else None
        self.doc = doc
        self.not_implemented = dict(not_implemented or {})
        self.name = ""
        unknown = set(self.not_implemented) - (self.allowed or set())
        if unknown:
            raise TypeError(f"not_implemented values {sorted(unknown)} are not among the allowed values")

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def unimplemented_reason(self, value: Any) -> str | None:
        """Why `value` would have no effect (a `not_implemented` value), else None."""
        try:
            return self.not_implemented.get(value)
        except TypeError:  # unhashable (a list): never one of them
            return None

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, layer: "HwLayer | None", owner: type | None = None) -> Any:
        return self if layer is None else layer.attr(self.name)

    def __set__(self, layer: "HwLayer", value: Any) -> None:
        layer.set_attr(self.name, value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name}, default={self.default!r})"

    # raw ONNX value <-> typed value
    def decode(self, raw: Any) -> Any:
        value = self._decode(raw)
        if self.allowed is not None and value not in self.allowed:
            raise AttrProblem(f"{self.name}={value!r} is not one of {sorted(self.allowed)}",
                              f"set {self.name} to one of {sorted(self.allowed)}")
        return value

    def _decode(self, raw: Any) -> Any:
        return raw

    def encode(self, value: Any) -> Any:
        return value

    def qonnx_def(self) -> tuple:
        """The (dtype, required, default[, allowed]) tuple of qonnx's get_nodeattr_types."""
        default = self.placeholder if self.required else self.encode(self.default)
        if self.allowed is not None:
            return (self.kind, self.required, default, set(self.allowed))
        return (self.kind, self.required, default)


def _is_int(value: Any) -> bool:
    """An int, or an integer-valued number (numpy scalars, 4.0); never a bool or string."""
    if isinstance(value, (bool, str, bytes)):
        return False
    try:
        return int(value) == value
    except (TypeError, ValueError, OverflowError):
        return False


class IntAttr(Attr):
    """An integer attribute."""

    onnx_type, kind, placeholder = AttributeProto.INT, "i", 0

    def _decode(self, raw: Any) -> int:
        return int(raw)

    def encode(self, value: Any) -> int:
        if not _is_int(value):
            raise AttrProblem(f"{self.name}={value!r} is not an integer", f"set {self.name} to an integer")
        return int(value)


class FoldAttr(IntAttr):
    """A folding factor (PE or SIMD): elements processed per cycle. Default 1; it must
    divide the integer attribute named by `divides` (checked by HwLayer.check_folding)."""

    def __init__(self, divides: str, *, doc: str = ""):
        super().__init__(1, doc=doc or f"folding factor; must divide {divides}")
        self.divides = divides


class _ListAttr(Attr):
    """A list attribute, of fixed length when `length` is given."""

    def __init__(self, default: Any = REQUIRED, *, length: int | None = None, doc: str = ""):
        super().__init__(default, doc=doc)
        self.length = length

    def _check_length(self, values: list, what: str, error: type = ModelError) -> None:
        if self.length is not None and len(values) != self.length:
            raise AttrProblem(f"{self.name}={values} has {len(values)} entries, expected {self.length}",
                              f"give {self.name} exactly {self.length} {what}", error)


class IntsAttr(_ListAttr):
    """A list-of-integers attribute, optionally of fixed length."""

    onnx_type, kind, placeholder = AttributeProto.INTS, "ints", []

    def _decode(self, raw: Any) -> list[int]:
        value = [int(v) for v in raw]
        self._check_length(value, f"integers ({self.doc})")
        return value

    def encode(self, value: Any) -> list[int]:
        if isinstance(value, (str, bytes)) or not all(_is_int(v) for v in value):
            raise AttrProblem(f"{self.name}={value!r} is not a list of integers",
                              f"set {self.name} to a list of integers ({self.doc})")
        return [int(v) for v in value]


class StrAttr(Attr):
    """A string attribute (usually with a set of allowed values)."""

    onnx_type, kind, placeholder = AttributeProto.STRING, "s", ""

    def _decode(self, raw: Any) -> str:
        return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)

    def encode(self, value: Any) -> str:
        return str(value)


def _decode_dtype(attr: Attr, name: str) -> BaseDataType:
    try:
        dt = numerics.datatype(name)
    except ValueError:
        raise AttrProblem(f"{attr.name}={name!r} is not a qonnx datatype",
                          f"set {attr.name} to a datatype name such as INT4, UINT8 or BIPOLAR",
                          DataTypeError) from None
    if not numerics.is_integer_datatype(dt):
        raise AttrProblem(f"{attr.name}={name} is not an integer datatype; hardware layers stream integers",
                          "quantize this tensor to INTn, UINTn or BIPOLAR before converting to hardware",
                          DataTypeError)
    return dt


def _encode_dtype(value: Any) -> str:
    return value.name if isinstance(value, BaseDataType) else str(value)


class DTypeAttr(Attr):
    """A qonnx integer DataType, stored as its name. `optional=True` allows "" (unset),
    read as None, for layers that derive the datatype when it is not given."""

    onnx_type, kind, placeholder = AttributeProto.STRING, "s", ""

    def __init__(self, default: Any = REQUIRED, *, optional: bool = False, doc: str = ""):
        super().__init__("" if optional and default is REQUIRED else default, doc=doc)
        self.optional = optional

    def _decode(self, raw: Any) -> BaseDataType | None:
        name = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        if name == "" and self.optional:
            return None
        return _decode_dtype(self, name)

    def encode(self, value: Any) -> str:
        return "" if value is None else _encode_dtype(value)


class DTypesAttr(_ListAttr):
    """A list of qonnx integer DataTypes, stored as names, optionally of fixed length."""

    onnx_type, kind, placeholder = AttributeProto.STRINGS, "strings", []

    def _decode(self, raw: Any) -> list[BaseDataType]:
        names = [r.decode("utf-8") if isinstance(r, bytes) else str(r) for r in raw]
        self._check_length(names, "datatype names", DataTypeError)
        return [_decode_dtype(self, n) for n in names]

    def encode(self, value: Any) -> list[str]:
        return [_encode_dtype(v) for v in value]
