"""Conversions from the front end's ops to hardware layers, declared by the layers.

A layer module marks a classmethod of its layer class with `@converts(op_type, order)`:

    @converts("MatMul", order=30)
    def from_matmul(cls, model, node):
        ...                       # None: this node stays as it is
        return replace(model, [node], [cls.make_node(...)])

The `to_hw` step (qnn2fpga.transforms.to_hw) collects every registered layer's
conversions with `conversions()` and applies them in `order` (ties: op type, then method
name), each to a fixpoint over the graph, with datatypes inferred again after each. A
conversion gets one node of `op_type` at a time and returns the model with that node
rewritten (the same object edited in place, or a new one), or None to leave it alone; it
must only return a model when it changed something. A layer may declare several
conversions (e.g. a preparatory rewrite that must run over the whole graph before
another layer's conversion), and a conversion may emit nodes of other layers.

Orders in use: 10 FMPadding (widen BIPOLAR before zero padding), 20
ConvolutionInputGenerator (Im2Col), 24 Pool (a MatMul summing a depthwise window), 25
VVAU (the MatMul after a depthwise window generator), 30 MVAU (MatMul), 40
StreamingMaxPool (MaxPoolNHWC), 44 ChannelwiseOp (Mul/Add by integer constants), 45
AddStreams (Add of two integer streams) and GlobalAccPool (ReduceSum over H and W), 50
Thresholding (MultiThreshold), 60 LabelSelect (TopK); outside this list the to_hw step
inserts DuplicateStreams where a stream has two readers. MVAU comes before
the layers that may consume its output (a max-pool or thresholds right after a
convolution's accumulator): each conversion reads its input datatype from the
annotation, which is the accumulator's narrowed datatype only once the MVAU exists and
datatypes are inferred again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
from onnx import NodeProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper

from qnn2fpga.graph import insert_after, node_attr

_MARK = "_qnn2fpga_converts"


@dataclass(frozen=True)
class Conversion:
    """One declared conversion: `layer` (op type of the declaring layer) rewrites nodes
    of front-end op `op_type` with `rewrite(model, node)`, at position `order`."""

    order: int
    op_type: str
    layer: str
    name: str
    rewrite: Callable[[ModelWrapper, NodeProto], "ModelWrapper | None"]

    @property
    def key(self) -> tuple:
        return (self.order, self.op_type, self.layer, self.name)


def converts(op_type: str, order: int):
    """Decorator for a function `(cls, model, node) -> ModelWrapper | None` in a layer
    class: makes it a classmethod and declares it as the conversion of front-end op
    `op_type` at position `order` of the to_hw step."""

    def decorate(fn):
        setattr(fn, _MARK, (op_type, int(order)))
        return classmethod(fn)

    return decorate


def conversions(registry: Mapping[str, type]) -> list[Conversion]:
    """Every conversion the layers of `registry` (op type -> class) declare, in the order
    the to_hw step applies them."""
    found = []
    for op in sorted(registry):
        cls = registry[op]
        for name, value in vars(cls).items():
            fn = getattr(value, "__func__", None)
            mark = getattr(fn, _MARK, None)
            if mark is not None:
                found.append(Conversion(mark[1], mark[0], op, name, getattr(cls, name)))
    return sorted(found, key=lambda c: c.key)


# --- helpers for conversions -------------------------------------------------------------


def int_datatype(model: ModelWrapper, tensor: str):
    """The tensor's annotated datatype when it is an integer one, else None."""
    dt = model.get_tensor_datatype(tensor)
    return dt if dt.is_integer() else None


def threshold_activation(model: ModelWrapper, mt: NodeProto) -> dict | None:
    """The output encoding of a MultiThreshold with integer thresholds as MVAU/Thresholding
    attributes (outputDataType, ActVal), or None when the layers cannot express it."""
    odt = DataType[node_attr(mt, "out_dtype")]
    scale, bias = node_attr(mt, "out_scale", 1.0), node_attr(mt, "out_bias", 0.0)
    t = model.get_initializer(mt.input[1])
    if t is None or not np.array_equal(t, np.round(t)):
        return None
    if odt == DataType["BIPOLAR"]:
        if (scale, bias) != (2.0, -1.0) or t.shape[1] != 1:
            return None
        return {"outputDataType": "BIPOLAR", "ActVal": 0}
    if scale != 1.0 or bias != int(bias):
        return None
    layout = node_attr(mt, "data_layout", "")
    if layout and layout[-1] != "C":
        return None
    return {"outputDataType": odt.name, "ActVal": int(bias)}


def typed_node(cls, inputs: Sequence[str], outputs: Sequence[str], name: str, **attrs) -> NodeProto:
    """`cls.make_node` with the attributes in name order (the order onnx.helper.make_node
    writes them), so the compiled graph's bytes do not depend on keyword order."""
    return cls.make_node(inputs, outputs, name=name, **dict(sorted(attrs.items())))


def set_node_attr(node: NodeProto, name: str, value) -> None:
    """Sets (replaces) an attribute of a front-end node, appended after the others."""
    for a in node.attribute:
        if a.name == name:
            node.attribute.remove(a)
            break
    node.attribute.append(helper.make_attribute(name, value))


def replace(model: ModelWrapper, old: Sequence[NodeProto], new: Sequence[NodeProto]) -> ModelWrapper:
    """Puts `new` where the last of `old` is and removes `old`; returns `model`."""
    insert_after(model, old[-1], list(new))
    for n in old:
        model.graph.node.remove(n)
    return model
