"""Stage 4: lower to streaming-friendly operations in channels-last (NHWC) layout.

Conv becomes Im2Col (sliding window) + MatMul (a depthwise Conv, group == channels:
Im2Col(depthwise=1) + MatMul with one nonzero per row, which to_hw turns into a VVAU, or
into a Pool when those are all ones; other grouped Convs are refused), MaxPool becomes
MaxPoolNHWC, a channel sum over the image (ReduceSum over H and W, what streamline makes
of global average pooling) becomes the same ReduceSum over NHWC's H and W, and the
layout transposes this introduces are sunk through thresholds and elementwise ops
until they cancel or reach the graph's edge (where they stay in software). A flatten
of an NHWC tensor into a linear layer is absorbed by permuting the weight rows.
Optionally, a TopK (label select) is added to a classifier's output.
"""

from __future__ import annotations

import numpy as np
from onnx import helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.general import RemoveUnusedTensors, SortGraph
from qonnx.transformation.infer_datatypes import InferDataTypes
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.transformation.insert_topk import InsertTopK
from qonnx.transformation.lower_convs_to_matmul import LowerConvsToMatMul

from qnn2fpga.errors import UnsupportedOpError
from qnn2fpga.graph import (bypass, const_operand, fork_per_consumer, insert_after, new_const, new_tensor, node_attr,
                            single_consumer)
from qnn2fpga.transforms.base import Pass

TO_NHWC = [0, 2, 3, 1]
TO_NCHW = [0, 3, 1, 2]


def _perm(node) -> list[int] | None:
    if node.op_type != "Transpose":
        return None
    return list([a.ints for a in node.attribute if a.name == "perm"][0])


class MaxPoolToNHWC(Pass):
    """MaxPool (NCHW) -> Transpose(NHWC) -> MaxPoolNHWC -> Transpose(NCHW)."""

    def apply(self, model: ModelWrapper):
        for n in model.graph.node:
            if n.op_type != "MaxPool" or len(model.get_tensor_shape(n.input[0])) != 4:
                continue
            x, y = n.input[0], n.output[0]
            xs, ys = model.get_tensor_shape(x), model.get_tensor_shape(y)
            dt = model.get_tensor_datatype(x)
            a = new_tensor(model, [xs[i] for i in TO_NHWC], dt)
            b = new_tensor(model, [ys[i] for i in TO_NHWC], dt)
            pool = helper.make_node(
                "MaxPoolNHWC", [a], [b], domain="qonnx.custom_op.general", name=n.name,
                kernel_shape=list(node_attr(n, "kernel_shape")),
                strides=list(node_attr(n, "strides", node_attr(n, "kernel_shape"))),
                pads=list(node_attr(n, "pads", [0, 0, 0, 0])), ceil_mode=int(node_attr(n, "ceil_mode", 0)))
            insert_after(model, n, [helper.make_node("Transpose", [x], [a], perm=TO_NHWC), pool,
                                    helper.make_node("Transpose", [b], [y], perm=TO_NCHW)])
            model.graph.node.remove(n)
            return model, True
        return model, False


def onnx_opset(model: ModelWrapper) -> int:
    """The model's default-domain opset version."""
    return next((o.version for o in model.model.opset_import if o.domain in ("", "ai.onnx")), 13)


def reduce_axes(model: ModelWrapper, node) -> list[int] | None:
    """The axes a ReduceSum/ReduceMean reduces, non-negative and sorted (an attribute
    before opset 13, a constant input from it on), or None when computed or absent
    (ONNX: absent axes reduce all, unless noop_with_empty_axes)."""
    axes = node_attr(node, "axes")
    if axes is None and len(node.input) > 1 and node.input[1]:
        c = model.get_initializer(node.input[1])
        axes = None if c is None else c.reshape(-1).tolist()
    if axes is None:
        return None
    rank = len(model.get_tensor_shape(node.input[0]))
    return sorted(int(a) % rank for a in axes)


def make_reduce_sum(model: ModelWrapper, x: str, y: str, axes: list[int], name: str = ""):
    """ReduceSum(x, axes, keepdims=1) -> y, axes as the model's opset wants them."""
    if onnx_opset(model) >= 13:
        return helper.make_node("ReduceSum", [x, new_const(model, np.array(axes, dtype=np.int64))], [y],
                                keepdims=1, name=name)
    return helper.make_node("ReduceSum", [x], [y], axes=list(axes), keepdims=1, name=name)


class ImageSumToNHWC(Pass):
    """ReduceSum over H and W of an NCHW image (keepdims) -> Transpose(NHWC) ->
    ReduceSum over NHWC's H and W -> Transpose(NCHW) (GlobalAccPool's conversion takes it)."""

    def apply(self, model: ModelWrapper):
        for n in model.graph.node:
            shape = model.get_tensor_shape(n.input[0])
            if n.op_type != "ReduceSum" or len(shape) != 4 or not node_attr(n, "keepdims", 1) \
                    or reduce_axes(model, n) != [2, 3]:
                continue
            x, y = n.input[0], n.output[0]
            ys = model.get_tensor_shape(y)
            a = new_tensor(model, [shape[i] for i in TO_NHWC], model.get_tensor_datatype(x))
            b = new_tensor(model, [ys[i] for i in TO_NHWC], model.get_tensor_datatype(y))
            insert_after(model, n, [helper.make_node("Transpose", [x], [a], perm=TO_NHWC),
                                    make_reduce_sum(model, a, b, [1, 2], name=n.name),
                                    helper.make_node("Transpose", [b], [y], perm=TO_NCHW)])
            model.graph.node.remove(n)
            return model, True
        return model, False


class SinkTranspose(Pass):
    """Transpose(NHWC->NCHW) moves below MultiThreshold (which then reads NHWC) and below
    Mul/Add with a scalar or per-channel constant (permuted to NHWC)."""

    def apply(self, model: ModelWrapper):
        for t in model.graph.node:
            if _perm(t) != TO_NCHW:
                continue
            nxt = single_consumer(model, t.output[0])
            if nxt is None:
                continue
            x, mid = t.input[0], t.output[0]
            if nxt.op_type == "MultiThreshold":
                for a in nxt.attribute:
                    if a.name == "data_layout":
                        nxt.attribute.remove(a)
                        break
                nxt.attribute.append(helper.make_attribute("data_layout", "NHWC"))
            elif nxt.op_type in ("Mul", "Add") and const_operand(model, nxt) is not None:
                c = const_operand(model, nxt)[1]
                if c.size > 1:
                    c = c.reshape((1,) * (4 - c.ndim) + c.shape).transpose(TO_NHWC)
                idx = 1 if model.get_initializer(nxt.input[1]) is not None else 0
                nxt.input[idx] = new_const(model, c)
            else:
                continue
            y = nxt.output[0]
            data_idx = list(nxt.input).index(mid)
            nxt.input[data_idx] = x
            nxt.output[0] = mid
            t.input[0] = mid
            t.output[0] = y
            model.set_tensor_shape(mid, model.get_tensor_shape(x))
            nodes = model.graph.node
            nodes.remove(t)
            nodes.insert(list(nodes).index(nxt) + 1, t)
            return model, True
        return model, False


class FanOutTranspose(Pass):
    """Transpose(NHWC->NCHW) read by several nodes (the fork of a residual block) is
    copied, one copy per consumer, so that each can sink along its own branch."""

    def apply(self, model: ModelWrapper):
        outputs = {o.name for o in model.graph.output}
        for t in model.graph.node:
            if _perm(t) != TO_NCHW or t.output[0] in outputs:
                continue
            if fork_per_consumer(model, t, keep_datatype=True):
                return model, True
        return model, False


class ShareTransposeAtFork(Pass):
    """x read by Transpose(NCHW->NHWC) and by other nodes (a fork right after a
    quantizer): the others read Transpose(NHWC->NCHW) of that transpose's output instead
    (the same tensor), so x has one reader and its transpose can move up (HoistTranspose)
    while the new one sinks along its branch."""

    def apply(self, model: ModelWrapper):
        outputs = {o.name for o in model.graph.output}
        for t in model.graph.node:
            if _perm(t) != TO_NHWC or t.input[0] in outputs:
                continue
            x = t.input[0]
            others = [c for c in model.find_consumers(x) or [] if c is not t]
            if not others:
                continue
            back = new_tensor(model, model.get_tensor_shape(x), model.get_tensor_datatype(x))
            for c in others:
                for i, name in enumerate(c.input):
                    if name == x:
                        c.input[i] = back
            insert_after(model, t, [helper.make_node("Transpose", [t.output[0]], [back], perm=TO_NCHW,
                                                     name=f"{t.name}_back")])
            return model, True
        return model, False


class SinkTransposeThroughJoin(Pass):
    """Add(Transpose(x), Transpose(y)), both NHWC->NCHW and read only by the Add (a
    residual join), becomes Transpose(Add(x, y))."""

    def apply(self, model: ModelWrapper):
        for add in model.graph.node:
            if add.op_type != "Add" or len(add.input) != 2 or \
                    any(model.get_initializer(i) is not None for i in add.input):
                continue
            ts = [model.find_producer(i) for i in add.input]
            if any(t is None or _perm(t) != TO_NCHW or single_consumer(model, t.output[0]) is not add for t in ts):
                continue
            y = add.output[0]
            shape = model.get_tensor_shape(ts[0].input[0])
            if shape != model.get_tensor_shape(ts[1].input[0]):
                continue
            for i, t in enumerate(ts):
                add.input[i] = t.input[0]
            mid = new_tensor(model, shape, model.get_tensor_datatype(y))
            add.output[0] = mid
            keep, drop = ts
            keep.input[0], keep.output[0] = mid, y
            model.graph.node.remove(drop)
            nodes = model.graph.node
            nodes.remove(keep)
            nodes.insert(list(nodes).index(add) + 1, keep)
            return model, True
        return model, False


class HoistTranspose(Pass):
    """MultiThreshold -> Transpose(NCHW->NHWC) becomes Transpose -> MultiThreshold(NHWC), so
    the layout change of a network's input happens before its first quantizer, in software."""

    def apply(self, model: ModelWrapper):
        for t in model.graph.node:
            if _perm(t) != TO_NHWC:
                continue
            mt = model.find_producer(t.input[0])
            if mt is None or mt.op_type != "MultiThreshold" or single_consumer(model, mt.output[0]) is not t:
                continue
            x, mid, y = mt.input[0], mt.output[0], t.output[0]
            for a in mt.attribute:
                if a.name == "data_layout":
                    mt.attribute.remove(a)
                    break
            mt.attribute.append(helper.make_attribute("data_layout", "NHWC"))
            dt = model.get_tensor_datatype(mid)
            t.input[0], t.output[0] = x, mid
            mt.input[0], mt.output[0] = mid, y
            model.set_tensor_shape(mid, model.get_tensor_shape(y))
            model.set_tensor_datatype(mid, model.get_tensor_datatype(x))
            model.set_tensor_datatype(y, dt)
            nodes = model.graph.node
            nodes.remove(t)
            nodes.insert(list(nodes).index(mt), t)
            return model, True
        return model, False


class CancelTransposes(Pass):
    """Transpose(p) -> Transpose(q) with q(p) the identity disappears."""

    def apply(self, model: ModelWrapper):
        for t in model.graph.node:
            p = _perm(t)
            nxt = single_consumer(model, t.output[0]) if p else None
            q = _perm(nxt) if nxt is not None else None
            if not q or [p[i] for i in q] != list(range(len(p))):
                continue
            bypass(model, nxt)
            bypass(model, t)
            return model, True
        return model, False


class AbsorbTransposeIntoFlatten(Pass):
    """Transpose(NHWC->NCHW) -> Flatten/Reshape(N, -1) -> MatMul(W): flatten the NHWC
    tensor directly and permute W's rows to match (nothing moves when H = W = 1)."""

    def apply(self, model: ModelWrapper):
        for t in model.graph.node:
            if _perm(t) != TO_NCHW:
                continue
            flat = single_consumer(model, t.output[0])
            if flat is None or flat.op_type not in ("Flatten", "Reshape"):
                continue
            out_shape = model.get_tensor_shape(flat.output[0])
            if len(out_shape) != 2:
                continue
            n, h, w, c = model.get_tensor_shape(t.input[0])
            if h * w != 1:
                mm = single_consumer(model, flat.output[0])
                weights = model.get_initializer(mm.input[1]) if mm is not None and mm.op_type == "MatMul" else None
                if weights is None or len(model.find_consumers(mm.input[1])) != 1:
                    continue
                # Row r of the NHWC flatten is element (h, w, c), row (c, h, w) of the NCHW one.
                order = np.arange(c * h * w).reshape(c, h, w).transpose(1, 2, 0).reshape(-1)
                dt = model.get_tensor_datatype(mm.input[1])
                mm.input[1] = new_const(model, weights[order], dt)
            bypass(model, t)
            return model, True
        return model, False


class AbsorbOrderPreservingTailIntoTopK(Pass):
    """Mul(m > 0) or Add(c), the same for every class, right before TopK does not change the indices:
    it is removed, so TopK reads the integer accumulator."""

    def apply(self, model: ModelWrapper):
        for n in model.graph.node:
            nxt = single_consumer(model, n.output[0])
            pair = const_operand(model, n) if n.op_type in ("Mul", "Add") else None
            c = pair[1].reshape(-1) if pair is not None else None
            if c is None or nxt is None or nxt.op_type != "TopK" or np.any(c != c[0]):
                continue
            if n.op_type == "Mul" and c[0] <= 0:
                continue
            bypass(model, n)
            return model, True
        return model, False


def check_conv_groups(model: ModelWrapper) -> None:
    """Refuses a grouped Conv other than a depthwise one: 1 < group < channels has no
    lowering (group == channels == output channels lowers to a depthwise window and a
    VVAU; group = 1 to a window and an MVAU)."""
    for n in model.graph.node:
        if n.op_type != "Conv":
            continue
        group = int(node_attr(n, "group", 1))
        c_in, c_out = model.get_tensor_shape(n.input[0])[1], model.get_tensor_shape(n.output[0])[1]
        if group != 1 and not group == c_in == c_out:
            raise UnsupportedOpError(f"Conv node '{n.name}'", f"group={group} with {c_in} input and {c_out} output "
                                     "channels: only group=1 and depthwise (group == input == output channels) "
                                     "convolutions lower to hardware",
                                     "split the convolution into group=1 convolutions on channel slices, or make "
                                     "it depthwise")


class Lower(Pass):
    """Stage 4 as one step. `topk`: add a TopK with this k at the output (0: none)."""

    def __init__(self, topk: int = 0):
        super().__init__()
        self.topk = topk

    def apply(self, model: ModelWrapper):
        check_conv_groups(model)
        model = model.transform(LowerConvsToMatMul())
        model = model.transform(MaxPoolToNHWC())
        model = model.transform(ImageSumToNHWC())
        for _ in range(10000):
            changed = False
            for p in (SinkTranspose, FanOutTranspose, ShareTransposeAtFork, SinkTransposeThroughJoin, HoistTranspose,
                      CancelTransposes, AbsorbTransposeIntoFlatten):
                model, c = p().apply(model)
                changed |= c
            if not changed:
                break
        # The lowered model must execute: qonnx's Im2Col cannot pad a BIPOLAR tensor with 0,
        # so the producing quantizer is widened to INT2 here already (FMPadding's
        # preparatory conversion, which to_hw would apply anyway).
        from qnn2fpga.transforms.to_hw import ApplyConversion, conversions  # noqa: PLC0415

        for c in conversions():
            if (c.layer, c.name) == ("FMPadding", "widen_bipolar_before_zero_padding"):
                model = model.transform(InferDataTypes()).transform(ApplyConversion(c)).transform(InferDataTypes())
        if self.topk:
            model = model.transform(InsertTopK(k=self.topk))
            model = model.transform(AbsorbOrderPreservingTailIntoTopK())
        for t in (SortGraph(), RemoveUnusedTensors(), InferShapes(), InferDataTypes()):
            model = model.transform(t)
        return model, False
