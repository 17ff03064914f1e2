"""Which nodes became hardware, which stay in software, and why the rest did not convert.

After `to_hw`, a graph is: a software head (input layout, input scaling and the first
quantizer, when the input is float), the hardware layers (domain `qnn2fpga.layers`),
and a software tail (output scaling, layout, label selection). Any other node is
"not converted", and `check_converted` names each with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper

from qnn2fpga import errors
from qnn2fpga.graph import node_attrs

HW_DOMAIN = "qnn2fpga.layers"
HEAD_OPS = {"Reshape", "Flatten", "Transpose", "Mul", "Add", "MultiThreshold", "Identity"}
# The tail may also be the export's own float ops (see qnn2fpga.transforms.export_tail).
TAIL_OPS = {"Reshape", "Flatten", "Transpose", "Mul", "Add", "Identity", "TopK", "Softmax",
            "Sub", "Div", "Pow", "Sqrt", "Neg", "Reciprocal", "Constant"}


@dataclass
class Partition:
    head: list = field(default_factory=list)
    hw: list = field(default_factory=list)
    tail: list = field(default_factory=list)
    not_converted: list = field(default_factory=list)  # (node, reason)


STREAM_WIRES = ("Reshape", "Flatten")


def is_hw(node) -> bool:
    return node.domain == HW_DOMAIN


def is_stream_wire(model: ModelWrapper, node) -> bool:
    """A Reshape/Flatten between hardware layers only relabels a stream (same elements,
    same order): it is a wire in hardware, not a layer."""
    if node.op_type not in STREAM_WIRES:
        return False
    producer = model.find_producer(node.input[0])
    consumers = model.find_consumers(node.output[0])
    return producer is not None and is_hw(producer) and bool(consumers) and all(is_hw(c) for c in consumers)


def _reachable(model: ModelWrapper, start, forward: bool) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        n = todo.pop()
        nxt = (model.find_direct_successors(n) if forward else model.find_direct_predecessors(n)) or []
        for m in nxt:
            if m.name not in seen:
                seen.add(m.name)
                todo.append(m)
    return seen


def partition(model: ModelWrapper) -> Partition:
    part = Partition()
    hw_names = {n.name for n in model.graph.node if is_hw(n) or is_stream_wire(model, n)}
    for n in model.graph.node:
        if is_hw(n) or is_stream_wire(model, n):
            part.hw.append(n)
            continue
        before_hw = bool(_reachable(model, n, True) & hw_names)
        after_hw = bool(_reachable(model, n, False) & hw_names)
        if before_hw and not after_hw and n.op_type in HEAD_OPS:
            part.head.append(n)
        elif after_hw and not before_hw and n.op_type in TAIL_OPS:
            part.tail.append(n)
        elif not hw_names and n.op_type in HEAD_OPS | TAIL_OPS:
            part.not_converted.append((n, "no hardware layer remains around it"))
        else:
            part.not_converted.append((n, why_not_converted(model, n)))
    return part


def why_not_converted(model: ModelWrapper, node) -> str:
    """One phrase saying why `node` has no hardware layer."""
    from qnn2fpga.transforms import integer  # noqa: PLC0415

    op = node.op_type
    if op in ("Quant", "BipolarQuant"):
        p = integer.quant_params(model, node)
        if p is None:
            return "unsupported attribute: quantizer scale, zero point or bit width is computed, not constant"
        is_weight = model.get_initializer(node.input[0]) is not None
        if is_weight:
            if p["bits"] > integer.MAX_WEIGHT_BITS:
                return f"bit width over the limit: {p['bits']}-bit weights (limit {integer.MAX_WEIGHT_BITS})"
            if np.any(p["zeropt"] != 0):
                return "unsupported attribute: weight zero point is not 0"
            users = [c.op_type for c in model.find_consumers(node.output[0])]
            if users and any(u not in integer.LINEAR_OPS for u in users):
                return f"unsupported op: quantized weights feed {', '.join(sorted(set(users)))}"
            return "unsupported attribute: weight scale is not per-tensor or per-output-channel"
        if p["bits"] > integer.MAX_ACTIVATION_BITS:
            return f"bit width over the limit: {p['bits']}-bit activation (limit {integer.MAX_ACTIVATION_BITS})"
        if p["mode"] not in integer.SUPPORTED_ROUNDING:
            return f"unsupported attribute: rounding_mode={p['mode']}"
        return "unsupported attribute: activation scale is not per-tensor or per-channel"
    in_dts = [model.get_tensor_datatype(t) for t in node.input if t and model.get_initializer(t) is None]
    if op in ("MatMul", "Conv", "MaxPool", "MaxPoolNHWC", "Im2Col", "MultiThreshold", "Mul", "Add", "Reshape",
              "Flatten", "Transpose", "AveragePool", "GlobalAveragePool", "ReduceMean", "ReduceSum"):
        if op == "Add" and len(in_dts) == 2 and any(not dt.is_integer() for dt in in_dts):
            return ("float datatype: a join of two computed tensors (a residual add) whose scales could not be "
                    "moved past it: give both operands the same quantizer (one Brevitas QuantIdentity called on "
                    "the branch and on the skip), or scales whose ratio is an integer per channel")
        if op == "AveragePool" and (any(node_attrs(node).get("pads", [0])) or node_attrs(node).get("ceil_mode", 0)):
            return (f"unsupported attribute: average pooling with {node_attrs(node)} (padding and ceil mode are "
                    "not supported)")
        if any(not dt.is_integer() for dt in in_dts):
            return ("float datatype: its input is not an integer tensor (a scale or bias before it could not be "
                    "absorbed, or the quantizer before it was not converted)")
        if op == "Conv" and node_attrs(node).get("group", 1) not in (1, model.get_tensor_shape(node.input[0])[1]):
            return f"unsupported attribute: group={node_attrs(node)['group']}"
        if op in ("MatMul", "Conv"):
            w = model.get_initializer(node.input[1])
            if w is None:
                return "unsupported op: both operands are computed (no constant weight)"
            if not model.get_tensor_datatype(node.input[1]).is_integer():
                return "float datatype: weights are not quantized"
        if op in ("Mul", "Add"):
            return "float datatype: a float scale or bias could not be absorbed (e.g. a negative scale after pooling)"
        if op in ("MaxPool", "MaxPoolNHWC"):
            return f"unsupported attribute: pooling with {node_attrs(node)}"
        if op in ("ReduceMean", "ReduceSum"):
            return "unsupported attribute: a reduction other than over H and W of an image, keeping dimensions"
        return "unsupported attribute: no hardware layer matches this configuration"
    return f"unsupported op: {op} has no hardware layer or lowering"


def check_converted(model: ModelWrapper) -> Partition:
    """Raises UnsupportedOpError naming every node not converted (one line), else returns the partition."""
    part = partition(model)
    if part.not_converted:
        items = [f"'{n.name}' ({n.op_type}): {why}" for n, why in part.not_converted]
        shown = "; ".join(items[:6]) + (f"; and {len(items) - 6} more" if len(items) > 6 else "")
        raise errors.UnsupportedOpError(
            f"{len(items)} node(s) not converted", shown,
            "change these layers in the model (see docs: supported ops, datatypes and bit widths)")
    if not part.hw:
        raise errors.UnsupportedOpError("the model", "contains no layer that maps to hardware",
                                        "quantize the model with Brevitas (weights and activations)")
    return part


def summary_rows(model: ModelWrapper) -> list[dict]:
    """One row per node: where it runs, op type, shapes and datatypes."""
    part = partition(model)
    where = {n.name: "sw-head" for n in part.head} | {n.name: "hw" for n in part.hw} | \
        {n.name: "sw-tail" for n in part.tail}
    rows = []
    for n in model.graph.node:
        x, y = n.input[0], n.output[0]
        row = {"node": n.name, "op": n.op_type, "runs_on": where.get(n.name, "NOT CONVERTED"),
               "in_shape": model.get_tensor_shape(x), "out_shape": model.get_tensor_shape(y),
               "in_dtype": model.get_tensor_datatype(x).name, "out_dtype": model.get_tensor_datatype(y).name}
        if is_hw(n):
            a = node_attrs(n)
            row["fold"] = {k: a[k] for k in ("PE", "SIMD", "MW", "MH") if k in a}
        rows.append(row)
    return rows
