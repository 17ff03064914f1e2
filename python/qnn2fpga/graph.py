"""Small graph-editing helpers over qonnx's ModelWrapper, shared by the transformations."""

from __future__ import annotations

import numpy as np
from onnx import NodeProto, TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper

# The attribute-free elementwise ops whose second operand may be a constant.
ELEMENTWISE = ("Mul", "Add")


def node_attrs(node: NodeProto) -> dict:
    """A node's attributes as Python values (strings decoded)."""
    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        out[a.name] = v.decode() if isinstance(v, bytes) else v
    return out


def node_attr(node: NodeProto, name: str, default=None):
    """One attribute of a node as a Python value (strings decoded), or `default`."""
    return node_attrs(node).get(name, default)


def const(model: ModelWrapper, tensor: str) -> np.ndarray | None:
    """The initializer value of `tensor`, or None if it is computed."""
    return model.get_initializer(tensor)


def const_operand(model: ModelWrapper, node: NodeProto) -> tuple[str, np.ndarray] | None:
    """For a binary op with one dynamic and one constant input: (dynamic input, constant)."""
    if len(node.input) != 2:
        return None
    a, b = (const(model, t) for t in node.input)
    if a is None and b is not None:
        return node.input[0], b
    if b is None and a is not None:
        return node.input[1], a
    return None


def single_consumer(model: ModelWrapper, tensor: str) -> NodeProto | None:
    """The only consumer of `tensor`, or None when it has none, several, or is a graph output."""
    if tensor in [o.name for o in model.graph.output]:
        return None
    consumers = model.find_consumers(tensor)
    return consumers[0] if len(consumers) == 1 else None


def new_tensor(model: ModelWrapper, shape, dtype: DataType | None = None, prefix: str = "t") -> str:
    """Declares a new float tensor with `shape` (and a qonnx datatype annotation)."""
    name = model.make_new_valueinfo_name()
    model.graph.value_info.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape)))
    if dtype is not None:
        model.set_tensor_datatype(name, dtype)
    return name


def new_const(model: ModelWrapper, value: np.ndarray, dtype: DataType | None = None) -> str:
    """Adds an initializer (float32 unless `value` is float64 or int64) and returns its name."""
    value = np.asarray(value)
    if value.dtype not in (np.float64, np.int64):
        value = value.astype(np.float32)
    name = model.make_new_valueinfo_name()
    model.set_initializer(name, value)
    if dtype is not None:
        model.set_tensor_datatype(name, dtype)
    return name


def insert_after(model: ModelWrapper, anchor: NodeProto, nodes: list[NodeProto]) -> None:
    """Inserts `nodes` right after `anchor` in topological order."""
    idx = list(model.graph.node).index(anchor)
    for i, n in enumerate(nodes):
        model.graph.node.insert(idx + 1 + i, n)


def fork_per_consumer(model: ModelWrapper, node: NodeProto, keep_datatype: bool = False) -> bool:
    """Gives every consumer of `node`'s output but the first its own copy of `node`
    (`<name>_fork<k>`, inserted right after it; `keep_datatype`: the copies' outputs keep
    the datatype annotation). False when the output has fewer than two consumers."""
    out = node.output[0]
    consumers = model.find_consumers(out) or []
    if len(consumers) < 2:
        return False
    shape = model.get_tensor_shape(out)
    dtype = model.get_tensor_datatype(out) if keep_datatype else None
    copies = []
    for k, c in enumerate(consumers[1:], start=1):
        copy = NodeProto()
        copy.CopyFrom(node)
        copy.name = f"{node.name}_fork{k}"
        copy.output[0] = new_tensor(model, shape, dtype)
        for i, name in enumerate(c.input):
            if name == out:
                c.input[i] = copy.output[0]
        copies.append(copy)
    insert_after(model, node, copies)
    return True


def bypass(model: ModelWrapper, node: NodeProto) -> None:
    """Removes a single-input/single-output node, connecting its producer to its consumers.
    When the node's output is a graph output, its input takes the output's name instead."""
    src, dst = node.input[0], node.output[0]
    outputs = [o.name for o in model.graph.output]
    model.graph.node.remove(node)
    if dst in outputs:
        producer = model.find_producer(src)
        if producer is None or src in outputs or len(model.find_consumers(src)) > 0:
            model.graph.node.append(helper.make_node("Identity", [src], [dst]))
            return
        producer.output[list(producer.output).index(src)] = dst
        return
    for c in model.find_consumers(dst):
        for i, t in enumerate(c.input):
            if t == dst:
                c.input[i] = src


def channel_vector(value: np.ndarray, rank: int, channel_axis: int) -> np.ndarray | None:
    """`value` as a 1-D per-channel vector if it broadcasts along every axis but
    `channel_axis` of a rank-`rank` tensor (scalars give a length-1 vector); else None."""
    v = np.asarray(value)
    if v.ndim > rank:
        return None
    shape = (1,) * (rank - v.ndim) + v.shape
    ca = channel_axis % rank
    if any(d != 1 for i, d in enumerate(shape) if i != ca):
        return None
    return v.reshape(-1)


def channel_axis_of(model: ModelWrapper, tensor: str) -> int:
    """The channel axis of an activation tensor: 1 for NCHW/NC, -1 for NHWC (layout annotation)."""
    layout = model.get_tensor_layout(tensor)
    if layout is not None and layout[-1] == "C" and len(layout) > 2:
        return -1
    return 1


def real_inputs(model: ModelWrapper) -> list[str]:
    """Graph inputs that are not initializers (exports may list weights as inputs too)."""
    inits = {i.name for i in model.graph.initializer}
    return [i.name for i in model.graph.input if i.name not in inits]
