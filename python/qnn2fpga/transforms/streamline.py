"""Stage 3: streamline. Moves and merges every float scale and bias so that, between
the first and the last activation quantizer, only integer operations remain: batch
norm, scalar and per-channel Mul/Add are absorbed into MultiThreshold thresholds or
moved past linear layers, max-pooling and channel sums, and thresholds on integer inputs
are rounded. Global average pooling becomes a channel sum (ReduceSum over H and W) and a
scalar Mul by 1/(H*W), which is absorbed like any other scale.

Each pass rewrites one local pattern; `Streamline` runs them to a fixed point.
"""

from __future__ import annotations

import numpy as np
from onnx import helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.batchnorm_to_affine import BatchNormToAffine
from qonnx.transformation.general import ConvertDivToMul, ConvertSubToAdd, RemoveUnusedTensors, SortGraph
from qonnx.transformation.infer_datatypes import InferDataTypes
from qonnx.transformation.infer_shapes import InferShapes

from qnn2fpga.graph import (bypass, channel_axis_of, channel_vector, const_operand, fork_per_consumer, insert_after,
                            new_const, new_tensor, node_attr, single_consumer)
from qnn2fpga.transforms.base import Pass, loop_error, max_rounds, node_keys, touched_nodes
from qnn2fpga.transforms.cleanup import RemoveIdentityOps


def _linear_const(model: ModelWrapper, node):
    """For Mul/Add with one constant operand: (dynamic input, constant as float64)."""
    if node.op_type not in ("Mul", "Add"):
        return None
    pair = const_operand(model, node)
    if pair is None:
        return None
    return pair[0], pair[1].astype(np.float64)


def _set_const_operand(model: ModelWrapper, node, value: np.ndarray) -> None:
    """Replaces the constant operand; a constant never has more dimensions than the data
    (a scalar becomes shape ()), so broadcasting cannot change the data's shape."""
    idx = 1 if model.get_initializer(node.input[1]) is not None else 0
    value = np.asarray(value)
    rank = len(model.get_tensor_shape(node.input[1 - idx]))
    if value.size == 1:
        value = value.reshape(())
    while value.ndim > rank and value.shape[0] == 1:
        value = value[0]
    node.input[idx] = new_const(model, value.astype(np.float32))


def _swap(model: ModelWrapper, first, second) -> None:
    """first -> second  becomes  second -> first (both single-input data paths)."""
    x, mid, y = first.input[0] if model.get_initializer(first.input[0]) is None else first.input[1], \
        first.output[0], second.output[0]
    data_idx_first = list(first.input).index(x)
    data_idx_second = list(second.input).index(mid)
    second.input[data_idx_second] = x
    second.output[0] = mid
    first.input[data_idx_first] = mid
    first.output[0] = y
    nodes = model.graph.node
    i1 = list(nodes).index(first)
    nodes.remove(second)
    nodes.insert(i1, second)
    # `mid` now holds second's result: its shape is second's output shape.
    model.set_tensor_shape(mid, model.get_tensor_shape(y))
    model.set_tensor_datatype(mid, DataType["FLOAT32"])


class CollapseRepeatedOps(Pass):
    """Mul(a) -> Mul(b) becomes Mul(a*b); Add(a) -> Add(b) becomes Add(a+b)."""

    def apply(self, model):
        for n in model.graph.node:
            first = _linear_const(model, n)
            nxt = single_consumer(model, n.output[0])
            if first is None or nxt is None or nxt.op_type != n.op_type or _linear_const(model, nxt) is None:
                continue
            a, b = first[1], _linear_const(model, nxt)[1]
            merged = a * b if n.op_type == "Mul" else a + b
            _set_const_operand(model, nxt, merged)
            bypass(model, n)
            return model, True
        return model, False


class MoveAddPastMul(Pass):
    """Add(a) -> Mul(m) becomes Mul(m) -> Add(a*m), so chains end up as Mul then Add."""

    def apply(self, model):
        for n in model.graph.node:
            add = _linear_const(model, n) if n.op_type == "Add" else None
            mul = single_consumer(model, n.output[0])
            if add is None or mul is None or mul.op_type != "Mul" or _linear_const(model, mul) is None:
                continue
            m = _linear_const(model, mul)[1]
            _set_const_operand(model, n, add[1] * m)
            _swap(model, n, mul)
            return model, True
        return model, False


def _weight_matrix_effect(layer, w: np.ndarray, c: np.ndarray, x_shape) -> np.ndarray | None:
    """What Add(c) on a linear layer's input adds to its output, or None if not constant."""
    if layer.op_type == "MatMul":
        cv = channel_vector(c, len(x_shape), -1)
        return None if cv is None else np.broadcast_to(cv, (w.shape[0],)) @ w
    # Conv without padding: each output channel sums c[ci] * W[co, ci, :, :].
    attrs = {a.name: helper.get_attribute_value(a) for a in layer.attribute}
    if any(attrs.get("pads", [0])) or attrs.get("group", 1) != 1:
        return None
    cv = channel_vector(c, len(x_shape), 1)
    if cv is None:
        return None
    cv = np.broadcast_to(cv, (w.shape[1],))
    return np.einsum("oikl,i->o", w.astype(np.float64), cv).reshape(1, -1, 1, 1)


class MoveLinearPastLinearLayer(Pass):
    """Mul(scalar) -> MatMul/Conv becomes MatMul/Conv -> Mul(scalar); Add(c) -> MatMul or
    unpadded Conv becomes MatMul/Conv -> Add(c @ W), a per-output-channel bias."""

    def apply(self, model):
        for n in model.graph.node:
            lc = _linear_const(model, n)
            layer = single_consumer(model, n.output[0])
            if lc is None or layer is None or layer.op_type not in ("MatMul", "Conv") or layer.input[0] != n.output[0]:
                continue
            w = model.get_initializer(layer.input[1])
            if w is None:
                continue
            c = lc[1]
            if n.op_type == "Mul":
                if c.size != 1:
                    continue
                _swap(model, n, layer)
                return model, True
            effect = _weight_matrix_effect(layer, w.astype(np.float64), c, model.get_tensor_shape(lc[0]))
            if effect is None:
                continue
            _set_const_operand(model, n, effect)
            _swap(model, n, layer)
            return model, True
        return model, False


class MoveLinearPastShapeOps(Pass):
    """Scalar Mul/Add commute with Reshape, Flatten and Transpose; per-channel ones with
    Transpose (the constant is permuted)."""

    def apply(self, model):
        for n in model.graph.node:
            lc = _linear_const(model, n)
            nxt = single_consumer(model, n.output[0])
            if lc is None or nxt is None or nxt.op_type not in ("Reshape", "Flatten", "Transpose"):
                continue
            c = lc[1]
            if c.size != 1:
                if nxt.op_type != "Transpose":
                    continue
                perm = [a.ints for a in nxt.attribute if a.name == "perm"][0]
                rank = len(perm)
                c = c.reshape((1,) * (rank - c.ndim) + c.shape).transpose(perm)
            _set_const_operand(model, n, c)
            _swap(model, n, nxt)
            return model, True
        return model, False


class MoveLinearPastMaxPool(Pass):
    """Mul(m > 0) and Add(c), scalar or per-channel, commute with max-pooling."""

    POOLS = ("MaxPool", "MaxPoolNHWC")

    def apply(self, model):
        for n in model.graph.node:
            lc = _linear_const(model, n)
            pool = single_consumer(model, n.output[0])
            if lc is None or pool is None or pool.op_type not in self.POOLS:
                continue
            shape = model.get_tensor_shape(lc[0])
            axis = -1 if pool.op_type == "MaxPoolNHWC" else 1
            if channel_vector(lc[1], len(shape), axis) is None:
                continue
            if n.op_type == "Mul" and np.any(lc[1] <= 0):
                continue
            _swap(model, n, pool)
            return model, True
        return model, False


def _image_axes(model: ModelWrapper, node) -> bool:
    """A 4-D reduction over H and W (NCHW), keeping the dimensions."""
    from qnn2fpga.transforms.lower import reduce_axes  # noqa: PLC0415

    return len(model.get_tensor_shape(node.input[0])) == 4 and reduce_axes(model, node) == [2, 3] \
        and bool(node_attr(node, "keepdims", 1))


class GlobalAverageToSum(Pass):
    """GlobalAveragePool, or ReduceMean over H and W (keepdims), of an NCHW image ->
    ReduceSum over H and W -> Mul(1/(H*W)): the sum is a hardware layer (GlobalAccPool),
    the scale is absorbed into the next thresholds or left to the software tail."""

    def apply(self, model):
        from qnn2fpga.transforms.lower import make_reduce_sum  # noqa: PLC0415

        for n in model.graph.node:
            if n.op_type == "ReduceMean":
                if not _image_axes(model, n):
                    continue
            elif n.op_type != "GlobalAveragePool" or len(model.get_tensor_shape(n.input[0])) != 4:
                continue
            _, _, h, w = model.get_tensor_shape(n.input[0])
            mid = model.make_new_valueinfo_name()
            model.set_tensor_shape(mid, model.get_tensor_shape(n.output[0]))
            insert_after(model, n, [make_reduce_sum(model, n.input[0], mid, [2, 3], name=n.name),
                                    helper.make_node("Mul", [mid, new_const(model, np.float32(1.0 / (h * w)))],
                                                     [n.output[0]], name=f"{n.name}_scale")])
            model.graph.node.remove(n)
            return model, True
        return model, False


class AveragePoolToWindowSum(Pass):
    """AveragePool (k, stride s, no padding, floor mode) of an NCHW image -> the depthwise
    Conv with all-ones k weights and stride s (the window sums) -> Mul(1/(kh*kw)). Lowered,
    the Conv is a depthwise sliding window and a MatMul with ones on each channel's taps,
    which becomes the Pool layer; the scale is absorbed like any other."""

    def apply(self, model):
        for n in model.graph.node:
            shape = model.get_tensor_shape(n.input[0])
            if n.op_type != "AveragePool" or len(shape) != 4 or any(node_attr(n, "pads", [0])) \
                    or node_attr(n, "ceil_mode", 0) or node_attr(n, "auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
                continue
            kh, kw = node_attr(n, "kernel_shape")
            c = shape[1]
            mid = model.make_new_valueinfo_name()
            model.set_tensor_shape(mid, model.get_tensor_shape(n.output[0]))
            ones = new_const(model, np.ones((c, 1, kh, kw), dtype=np.float32), DataType["UINT2"])
            conv = helper.make_node("Conv", [n.input[0], ones], [mid], name=n.name, group=c, kernel_shape=[kh, kw],
                                    strides=list(node_attr(n, "strides", [kh, kw])), pads=[0, 0, 0, 0],
                                    dilations=[1, 1])
            insert_after(model, n, [conv, helper.make_node("Mul", [mid, new_const(model, np.float32(1.0 / (kh * kw)))],
                                                           [n.output[0]], name=f"{n.name}_scale")])
            model.graph.node.remove(n)
            return model, True
        return model, False


def _summed_pixels(model: ModelWrapper, node) -> int | None:
    """Pixels a channel sum adds up: H*W for a ReduceSum over H and W, kh*kw for an
    unpadded depthwise Conv with all-ones weights (window sums); else None."""
    if node.op_type == "ReduceSum" and _image_axes(model, node):
        _, _, h, w = model.get_tensor_shape(node.input[0])
        return h * w
    if node.op_type != "Conv" or any(node_attr(node, "pads", [0])):
        return None
    w = model.get_initializer(node.input[1])
    c = model.get_tensor_shape(node.input[0])[1]
    if w is None or node_attr(node, "group", 1) != c or w.shape[:2] != (c, 1) or np.any(w != 1):
        return None
    return int(w.shape[2] * w.shape[3])


class MoveLinearPastImageSum(Pass):
    """Mul(m) -> a channel sum (ReduceSum over H and W, or window sums) becomes the sum ->
    Mul(m); Add(c) becomes the sum -> Add(c * pixels summed) (scalar or per-channel)."""

    def apply(self, model):
        for n in model.graph.node:
            lc = _linear_const(model, n)
            red = single_consumer(model, n.output[0])
            if lc is None or red is None or red.input[0] != n.output[0]:
                continue
            pixels = _summed_pixels(model, red)
            shape = model.get_tensor_shape(lc[0])
            if pixels is None or channel_vector(lc[1], len(shape), 1) is None:
                continue
            if n.op_type == "Add":
                _set_const_operand(model, n, lc[1] * pixels)
            _swap(model, n, red)
            return model, True
        return model, False


class AnnotateImageSums(Pass):
    """A ReduceSum over H and W of an integer image is annotated with the datatype of its
    sums (qonnx infers FLOAT32 for it), so the thresholds after it are rounded like those
    after a max-pool."""

    def apply(self, model):
        from qnn2fpga.layers.numerics import sum_datatype  # noqa: PLC0415

        for n in model.graph.node:
            dt = model.get_tensor_datatype(n.input[0])
            if n.op_type == "ReduceSum" and _image_axes(model, n) and dt.is_integer():
                _, _, h, w = model.get_tensor_shape(n.input[0])
                model.set_tensor_datatype(n.output[0], sum_datatype(dt, h * w))
        return model, False


class AbsorbSignIntoLinearLayer(Pass):
    """MatMul/Conv(W) -> Mul(m) with some m < 0: the sign moves into W's output channels,
    so the Mul is positive and can be absorbed into thresholds."""

    def apply(self, model):
        for layer in model.graph.node:
            if layer.op_type not in ("MatMul", "Conv"):
                continue
            mul = single_consumer(model, layer.output[0])
            w = model.get_initializer(layer.input[1])
            if mul is None or mul.op_type != "Mul" or w is None or _linear_const(model, mul) is None:
                continue
            shape = model.get_tensor_shape(layer.output[0])
            axis = -1 if layer.op_type == "MatMul" else 1
            m = channel_vector(_linear_const(model, mul)[1], len(shape), axis)
            if m is None or not np.any(m < 0) or (len(model.find_consumers(layer.input[1])) != 1):
                continue
            sign = np.where(m < 0, -1.0, 1.0)
            if m.size == 1:
                sign = np.broadcast_to(sign, (shape[axis],))
            wshape = [1] * w.ndim
            wshape[1 if layer.op_type == "MatMul" else 0] = -1
            w_new = w * sign.reshape(wshape)
            dt = model.get_tensor_datatype(layer.input[1])
            if not all(dt.allowed(v) for v in np.unique(w_new)):
                from qnn2fpga.layers.numerics import smallest_int_datatype  # noqa: PLC0415

                dt = smallest_int_datatype(int(w_new.min()), int(w_new.max()))
            layer.input[1] = new_const(model, w_new.astype(np.float32), dt)
            oshape = [1] * len(shape)
            oshape[axis] = -1
            _set_const_operand(model, mul, np.abs(m) if m.size == 1 else np.abs(m).reshape(oshape))
            return model, True
        return model, False


class FanOutLinear(Pass):
    """A Mul/Add by a constant whose result feeds several nodes (the fork of a residual
    block) is copied, one copy per consumer, so that each branch can move or absorb its
    own copy."""

    def apply(self, model):
        outputs = {o.name for o in model.graph.output}
        for n in model.graph.node:
            if _linear_const(model, n) is None or n.output[0] in outputs:
                continue
            if fork_per_consumer(model, n):
                return model, True
        return model, False


def _join_operands(model, join):
    """For Add(x, y) of two computed tensors: [(index, producer)] of its operands."""
    if join.op_type != "Add" or len(join.input) != 2 or \
            any(model.get_initializer(t) is not None for t in join.input):
        return None
    return [(i, model.find_producer(t)) for i, t in enumerate(join.input)]


def _move_after_join(model, join, op, idx: int) -> None:
    """op (Mul/Add by a constant, read only by `join` at input idx) moves past join:
    join reads op's data input, op reads join's result and writes join's output."""
    data = _linear_const(model, op)[0]
    join.input[idx] = data
    mid = new_tensor(model, model.get_tensor_shape(join.output[0]))
    op.input[list(op.input).index(data)] = mid
    op.output[0], join.output[0] = join.output[0], mid
    model.graph.node.remove(op)
    insert_after(model, join, [op])


MAX_JOIN_UNITS = 2**24  # an operand scaled by an integer factor stays below this (numerics.FLOAT32_EXACT_INT)


class MoveLinearPastJoin(Pass):
    """Add(x, y) of two computed tensors (a residual join). A bias moves past it:
    Add(x + c, y) = Add(x, y) + c. A scale common to both operands moves past it:
    Add(a*m, b*m) = Add(a, b) * m; with different scales, Add(a*m, b*k*m) = Add(a, b*k) * m
    when every k = m2/m1 (or m1/m2) is a positive integer, leaving Mul(k) on that
    operand (an integer multiply; an integer operand without a Mul has scale 1), as long
    as that operand's levels times k stay below MAX_JOIN_UNITS. Other scale ratios stay:
    the join is then not an integer add and is reported as not converted."""

    @staticmethod
    def _scale(model, join, idx, producer):
        """(index, the Mul read only by the join or None, its constant) of one operand; an
        integer operand without a Mul has scale 1; None when the operand is neither."""
        if producer is not None and producer.op_type == "Mul" and _linear_const(model, producer) is not None and \
                single_consumer(model, producer.output[0]) is join:
            return idx, producer, _linear_const(model, producer)[1]
        if model.get_tensor_datatype(join.input[idx]).is_integer():
            return idx, None, np.ones(())
        return None

    def apply(self, model):
        for join in model.graph.node:
            ops = _join_operands(model, join)
            if ops is None:
                continue
            for idx, p in ops:
                if p is not None and p.op_type == "Add" and _linear_const(model, p) is not None and \
                        single_consumer(model, p.output[0]) is join:
                    _move_after_join(model, join, p, idx)
                    return model, True
            scaled = [self._scale(model, join, i, p) for i, p in ops]
            if None in scaled or all(mul is None for _, mul, _ in scaled):
                continue
            (i0, p0, m0), (i1, p1, m1) = scaled
            shape = np.broadcast_shapes(m0.shape, m1.shape)
            if np.array_equal(np.broadcast_to(m0, shape), np.broadcast_to(m1, shape)):
                bypass(model, p1)
                _move_after_join(model, join, p0, i0)
                return model, True
            for (ia, pa, ma), (ib, pb, mb) in (((i0, p0, m0), (i1, p1, m1)), ((i1, p1, m1), (i0, p0, m0))):
                with np.errstate(divide="ignore", invalid="ignore"):
                    k = mb / ma
                if not (np.all(np.isfinite(k)) and np.all(k >= 1) and
                        np.allclose(k, np.round(k), rtol=0, atol=1e-6)):
                    continue
                k = np.round(k)
                levels = join.input[ib] if pb is None else \
                    (pb.input[0] if model.get_initializer(pb.input[1]) is not None else pb.input[1])
                dt = model.get_tensor_datatype(levels)
                span = max(abs(int(dt.min())), abs(int(dt.max()))) if dt.is_integer() else MAX_JOIN_UNITS
                if span * int(np.max(k)) >= MAX_JOIN_UNITS:
                    continue  # b*k would leave exact integer arithmetic: the join stays (not converted)
                if pa is None:
                    continue  # Add(a, b*k) with integer a and k: the final form
                if pb is None:  # an integer operand (scale 1): it gets the factor
                    pb = helper.make_node("Mul", [join.input[ib], new_const(model, k)],
                                          [new_tensor(model, model.get_tensor_shape(join.input[ib]))])
                    join.input[ib] = pb.output[0]
                    model.graph.node.insert(list(model.graph.node).index(join), pb)
                else:
                    _set_const_operand(model, pb, k)
                # An integer factor: the product of integer levels stays an integer.
                const = pb.input[1] if model.get_initializer(pb.input[1]) is not None else pb.input[0]
                model.set_tensor_datatype(const, DataType[f"UINT{max(2, int(np.max(k)).bit_length())}"])
                if pa is not None:
                    _move_after_join(model, join, pa, ia)
                return model, True
        return model, False


def _thresholds_per_channel(model, mt, channels: int) -> np.ndarray:
    t = model.get_initializer(mt.input[1]).astype(np.float64)
    return np.broadcast_to(t, (channels, t.shape[1])).copy() if t.shape[0] == 1 else t.copy()


class AbsorbLinearIntoMultiThreshold(Pass):
    """Add(c) -> MultiThreshold: thresholds - c. Mul(m >= 0) -> MultiThreshold:
    thresholds / m (m == 0 makes the channel constant). Thresholds are kept in float64."""

    def apply(self, model):
        for n in model.graph.node:
            lc = _linear_const(model, n)
            mt = single_consumer(model, n.output[0])
            if lc is None or mt is None or mt.op_type != "MultiThreshold":
                continue
            shape = model.get_tensor_shape(lc[0])
            axis = channel_axis_of(model, lc[0]) if len(shape) > 2 else -1
            layout = [a.s.decode() for a in mt.attribute if a.name == "data_layout"]
            if layout and layout[0]:
                axis = layout[0].index("C") - len(layout[0])
            c = channel_vector(lc[1], len(shape), axis)
            if c is None:
                continue
            channels = shape[axis]
            t = _thresholds_per_channel(model, mt, channels) if c.size > 1 else \
                model.get_initializer(mt.input[1]).astype(np.float64)
            cc = c.reshape(-1, 1)
            if n.op_type == "Add":
                t = t - cc
            else:
                if np.any(cc < 0):
                    continue
                with np.errstate(divide="ignore", invalid="ignore"):
                    scaled = t / cc
                # A zero multiplier makes x*0 >= t constant: always (t <= 0) or never.
                t = np.where(cc == 0, np.where(t <= 0, -np.inf, np.inf), scaled)
            mt.input[1] = new_const(model, t.astype(np.float64))
            bypass(model, n)
            return model, True
        return model, False


class AbsorbReluIntoMultiThreshold(Pass):
    """Relu -> MultiThreshold: relu(x) >= t equals x >= t for t > 0 and always holds for
    t <= 0, so such thresholds become -inf and the Relu goes (QuantReLU exports this)."""

    def apply(self, model):
        for n in model.graph.node:
            mt = single_consumer(model, n.output[0]) if n.op_type == "Relu" else None
            if mt is None or mt.op_type != "MultiThreshold" or mt.input[0] != n.output[0]:
                continue
            t = model.get_initializer(mt.input[1]).astype(np.float64)
            mt.input[1] = new_const(model, np.where(t > 0, t, -np.inf))
            bypass(model, n)
            return model, True
        return model, False


class RoundAndClipThresholds(Pass):
    """On an integer input, x >= t equals x >= ceil(t): thresholds become integers,
    clipped to [min, max + 1] of the input datatype (infinities included)."""

    def apply(self, model):
        changed = False
        for mt in model.graph.node:
            if mt.op_type != "MultiThreshold":
                continue
            dt = model.get_tensor_datatype(mt.input[0])
            t = model.get_initializer(mt.input[1])
            if not dt.is_integer() or t is None:
                continue
            r = np.clip(np.ceil(t.astype(np.float64)), dt.min(), dt.max() + 1)
            # float32 holds every integer below 2^24 exactly; larger ones stay float64.
            # A threshold already in its final form is left alone, whatever its width,
            # so the pass reaches a fixed point.
            if np.abs(r).max(initial=0) < 2**24:
                r = r.astype(np.float32)
            if np.array_equal(r, t) and t.dtype == r.dtype:
                continue
            mt.input[1] = new_const(model, r)
            changed = True
        return model, changed


class Streamline(Pass):
    """Stage 3 as one step: all streamlining passes to a fixed point."""

    PASSES = (
        ConvertSubToAdd, ConvertDivToMul, BatchNormToAffine, RemoveIdentityOps, CollapseRepeatedOps, MoveAddPastMul,
        MoveLinearPastShapeOps, MoveLinearPastMaxPool, GlobalAverageToSum, AveragePoolToWindowSum,
        MoveLinearPastImageSum,
        MoveLinearPastLinearLayer, AbsorbSignIntoLinearLayer,
        AbsorbLinearIntoMultiThreshold, AbsorbReluIntoMultiThreshold, FanOutLinear, MoveLinearPastJoin,
    )

    def apply(self, model: ModelWrapper):
        limit = max_rounds(model)
        for rounds in range(limit + 1):
            changed = []
            before = node_keys(model) if rounds == limit else None
            for p in self.PASSES:
                model, c = p().apply(model)
                if c:
                    changed.append(p.__name__)
                    model = model.transform(InferShapes())
            if not changed:
                break
            if before is not None:
                raise loop_error("Streamline (" + ", ".join(changed) + ")", rounds + 1, touched_nodes(before, model))
        model = model.transform(InferDataTypes())
        model = model.transform(AnnotateImageSums())
        model = model.transform(RoundAndClipThresholds())
        for t in (SortGraph(), RemoveUnusedTensors(), InferShapes(), InferDataTypes()):
            model = model.transform(t)
        return model, False
