"""Stage 1: import and clean up a Brevitas QONNX export; infer shapes and datatypes."""

from __future__ import annotations

import numpy as np
from onnx import helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.fold_constants import FoldConstants
from qonnx.transformation.general import (ConvertDivToMul, ConvertSubToAdd, GiveUniqueParameterTensors,
                                          RemoveStaticGraphInputs, RemoveUnusedTensors, SortGraph)
from qonnx.transformation.quant_constant_folding import FoldTransposeIntoQuantInit
from qonnx.transformation.infer_datatypes import InferDataTypes
from qonnx.transformation.infer_shapes import InferShapes

from qnn2fpga import errors
from qnn2fpga.graph import bypass, const_operand, insert_after, new_const, new_tensor, node_attrs, real_inputs
from qnn2fpga.transforms.base import Pass

QUANT_OPS = ("Quant", "BipolarQuant")


class GemmToMatMul(Pass):
    """Gemm(A, B[, C]) -> MatMul(A, B') [-> Mul(alpha)] [-> Add(beta*C)], with B' the
    (transposed if transB) weight. A quantized weight is transposed at its Quant node,
    whose scale and zero point are transposed with it. Handles bias-less Gemm (the form
    the dynamo exporter emits)."""

    def apply(self, model: ModelWrapper):
        for node in list(model.graph.node):
            if node.op_type != "Gemm":
                continue
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            where = f"node '{node.name}' (Gemm)"
            if attrs.get("transA", 0):
                raise errors.UnsupportedOpError(where, "transA=1 is not supported",
                                                "export linear layers without transposing the input")
            weight = node.input[1]
            if attrs.get("transB", 0):
                if not _transpose_weight(model, weight):
                    raise errors.UnsupportedOpError(where, "the weight is neither a constant nor a quantized constant",
                                                    "export with constant (quantized) weights")
            out = node.output[0]
            shape = model.get_tensor_shape(out)
            chain = [helper.make_node("MatMul", [node.input[0], weight], [out], name=node.name)]
            alpha, beta = attrs.get("alpha", 1.0), attrs.get("beta", 1.0)
            if alpha != 1.0:
                t = new_tensor(model, shape)
                chain[-1].output[0] = t
                chain.append(helper.make_node("Mul", [t, new_const(model, np.float32(alpha))], [out]))
            if len(node.input) > 2 and node.input[2]:
                bias = model.get_initializer(node.input[2])
                if bias is None:
                    raise errors.UnsupportedOpError(where, "the bias is not a constant", "export with a constant bias")
                t = new_tensor(model, shape)
                chain[-1].output[0] = t
                chain.append(helper.make_node("Add", [t, new_const(model, beta * bias)], [out]))
            insert_after(model, node, chain)
            model.graph.node.remove(node)
            return model, True
        return model, False


def _transpose_weight(model: ModelWrapper, tensor: str) -> bool:
    """Transposes a 2-D constant weight in place, looking through its Quant node."""
    w = model.get_initializer(tensor)
    if w is not None:
        if len(model.find_consumers(tensor)) > 1:
            return False
        model.set_initializer(tensor, w.T.copy())
        return True
    q = model.find_producer(tensor)
    if q is None or q.op_type not in QUANT_OPS or model.get_initializer(q.input[0]) is None:
        return False
    for i, t in enumerate(q.input):
        v = model.get_initializer(t)
        if v is None:
            return False
        if v.ndim == 2:
            name = new_const(model, v.T.copy())
            q.input[i] = name
    model.set_tensor_shape(tensor, model.get_tensor_shape(tensor)[::-1])
    return True


class FillConvDefaults(Pass):
    """Writes out Conv/MaxPool attributes left at their ONNX defaults (strides, dilations,
    pads, group), so later passes read them explicitly."""

    def apply(self, model: ModelWrapper):
        for n in model.graph.node:
            if n.op_type not in ("Conv", "MaxPool"):
                continue
            have = {a.name for a in n.attribute}
            kernel = [a.ints for a in n.attribute if a.name == "kernel_shape"]
            rank = len(kernel[0]) if kernel else len(model.get_tensor_shape(n.input[0])) - 2
            defaults = {"strides": list(kernel[0]) if n.op_type == "MaxPool" and kernel else [1] * rank,
                        "dilations": [1] * rank, "pads": [0] * (2 * rank)}
            if n.op_type == "Conv":
                defaults["group"] = 1
                if not kernel:
                    w = model.get_tensor_shape(n.input[1])
                    defaults["kernel_shape"] = list(w[2:])
            for k, v in defaults.items():
                if k not in have:
                    n.attribute.append(helper.make_attribute(k, v))
        return model, False


class Conv1dAs2d(Pass):
    """A 1-D convolution graph (input (N, C, L), Conv/MaxPool with one spatial axis, as
    Brevitas exports QuantConv1d/MaxPool1d) becomes the same graph on (N, C, 1, L): a
    Reshape after the input, kernels 1 x k, pads [0, b, 0, e], every rank-3 constant
    (weights (O, I, k), channel scales (1, C, 1)) with a unit axis at 2. Flatten and
    Reshape to 2-D read the same element order. Any other op on a rank-3 tensor is refused."""

    SPATIAL = ("Conv", "MaxPool")
    ELEMENTWISE = ("Quant", "BipolarQuant", "Trunc", "BatchNormalization", "Relu", "Add", "Sub", "Mul", "Div",
                   "Clip", "Identity", "MultiThreshold")

    def apply(self, model: ModelWrapper):
        x = model.graph.input[0].name
        shape = model.get_tensor_shape(x)
        if shape is None or len(shape) != 3 or not any(
                n.op_type in self.SPATIAL and len(model.get_tensor_shape(n.input[0]) or []) == 3
                for n in model.graph.node):
            return model, False
        for n in model.graph.node:
            data = [t for t in n.input if t and model.get_initializer(t) is None]
            if not any(len(model.get_tensor_shape(t) or []) == 3 for t in data):
                continue
            reshape_2d = n.op_type == "Reshape" and len(model.get_tensor_shape(n.output[0]) or []) == 2
            flatten = n.op_type == "Flatten" and node_attrs(n).get("axis", 1) == 1
            if n.op_type not in self.SPATIAL + self.ELEMENTWISE and not reshape_2d and not flatten:
                raise errors.UnsupportedOpError(
                    f"node '{n.name}' ({n.op_type})", "is applied to a 1-D (N, C, L) activation in a 1-D convolution "
                    "graph, which the compiler runs as (N, C, 1, L) with only convolution, pooling, quantizers, "
                    "batch norm, elementwise ops and a flatten",
                    "flatten the activation before this op, or export the network with 2-D layers")
        for n in model.graph.node:
            if n.op_type == "MultiThreshold" and len(model.get_tensor_shape(n.input[0]) or []) == 3:
                if node_attrs(n).get("data_layout", "NCHW") not in ("NCW", "NCHW"):
                    raise errors.UnsupportedOpError(
                        f"node '{n.name}' (MultiThreshold)", "thresholds a 1-D activation channels-last",
                        "threshold it channels-first (data_layout NCW)")
                for a in n.attribute:
                    if a.name == "data_layout":
                        a.s = b"NCHW"
            if n.op_type in self.SPATIAL and len(model.get_tensor_shape(n.input[0]) or []) == 3:
                a = node_attrs(n)
                for name, unit in (("kernel_shape", 1), ("strides", 1), ("dilations", 1)):
                    if name in a:
                        _set_ints(n, name, [unit, *a[name]])
                if "pads" in a:
                    _set_ints(n, "pads", [0, a["pads"][0], 0, a["pads"][1]])
        for init in list(model.graph.initializer):
            v = model.get_initializer(init.name)
            if v.ndim == 3:
                model.set_initializer(init.name, np.expand_dims(v, 2))
        outputs = {o.name for o in model.graph.output}
        for vi in list(model.graph.value_info):
            if len(model.get_tensor_shape(vi.name) or []) == 3:
                model.graph.value_info.remove(vi)
        x4 = new_tensor(model, [shape[0], shape[1], 1, shape[2]])
        for n in model.graph.node:
            n.input[:] = [x4 if t == x else t for t in n.input]
        model.graph.node.insert(0, helper.make_node(
            "Reshape", [x, new_const(model, np.array([shape[0], shape[1], 1, shape[2]], np.int64))], [x4]))
        for out in outputs:
            oshape = model.get_tensor_shape(out)
            if len(oshape) == 3:
                y4 = new_tensor(model, [oshape[0], oshape[1], 1, oshape[2]])
                model.find_producer(out).output[0] = y4
                model.graph.node.append(helper.make_node("Reshape", [y4, new_const(model, np.array(oshape, np.int64))],
                                                         [out]))
        return model.transform(InferShapes()), False


def _set_ints(node, name: str, values: list[int]) -> None:
    for a in node.attribute:
        if a.name == name:
            node.attribute.remove(a)
            break
    node.attribute.append(helper.make_attribute(name, values))


class RemoveIdentityOps(Pass):
    """Removes ops that are exactly the identity: Identity, Add/Sub of 0, Mul/Div by 1
    (a constant that does not broadcast the data to another shape), Pad by nothing,
    Dropout without a ratio. Unlike qonnx's RemoveIdentityOps, which compares with a
    tolerance of 1e-5, a constant must be exactly 0 or 1: a bias of 1e-6 is no identity
    on outputs around 1e-6 (layers with small scales make such biases and batch norm
    means), nor a multiplier of 1.000001 on outputs around 1e6."""

    def apply(self, model: ModelWrapper):
        outputs = [o.name for o in model.graph.output]
        for node in model.graph.node:
            if not self._is_identity(model, node):
                continue
            data = next((t for t in node.input if t and model.get_initializer(t) is None), None)
            if data is None:
                continue  # a constant: FoldConstants' business
            if node.output[0] in outputs and (model.find_producer(data) is None or data in outputs
                                              or len(model.find_consumers(data)) > 1):
                continue  # the graph output needs a node to produce it (the input, or a fork)
            if node.input[0] != data:
                node.input[0], node.input[1] = node.input[1], node.input[0]
            bypass(model, node)
            return model.transform(InferShapes()), True
        return model, False

    @staticmethod
    def _is_identity(model: ModelWrapper, node) -> bool:
        op = node.op_type
        if op == "Identity":
            return True
        if op in ("Add", "Sub", "Mul", "Div"):
            pair = const_operand(model, node)
            if pair is None or (op in ("Sub", "Div") and pair[0] != node.input[0]):
                return False
            data, c = pair
            if model.get_tensor_shape(data) != model.get_tensor_shape(node.output[0]):
                return False
            return bool(np.all(c == (0 if op in ("Add", "Sub") else 1)))
        if op == "Pad":
            pads = node_attrs(node).get("pads")
            pads = model.get_initializer(node.input[1]) if pads is None and len(node.input) > 1 else pads
            return pads is not None and not np.any(np.asarray(pads))
        if op == "Dropout":
            if len(node.output) > 1 and node.output[1] and model.find_consumers(node.output[1]):
                return False
            opset = next((o.version for o in model.model.opset_import if o.domain in ("", "ai.onnx")), 1)
            if opset < 12:
                return node_attrs(node).get("ratio", 0.5) == 0
            ratio = model.get_initializer(node.input[1]) if len(node.input) > 1 and node.input[1] else None
            return len(node.input) == 1 or (ratio is not None and not np.any(ratio))
        return False


class NameNodes(Pass):
    """Keeps the exporter's node names (errors quote them) and names unnamed or
    duplicate nodes `<op>_<n>`."""

    def apply(self, model: ModelWrapper):
        seen, counters = set(), {}
        for n in model.graph.node:
            if not n.name or n.name in seen:
                while True:
                    counters[n.op_type] = counters.get(n.op_type, -1) + 1
                    name = f"{n.op_type}_{counters[n.op_type]}"
                    if name not in seen and all(m.name != name for m in model.graph.node):
                        break
                n.name = name
            seen.add(n.name)
        return model, False


class ImportAndClean(Pass):
    """Checks the graph interface, then folds constants, removes identities, names
    nodes and tensors readably, converts Gemm/Sub/Div to MatMul/Add/Mul and infers
    shapes and qonnx datatypes."""

    def apply(self, model: ModelWrapper):
        inputs = real_inputs(model)
        if len(inputs) != 1:
            raise errors.ModelError(
                f"graph inputs {inputs}", f"the model has {len(inputs)} inputs; accelerators take exactly one",
                "export a model with a single input tensor")
        if len(model.graph.output) != 1:
            raise errors.ModelError(
                f"graph outputs {[o.name for o in model.graph.output]}",
                f"the model has {len(model.graph.output)} outputs; accelerators produce exactly one",
                "export a model with a single output tensor")
        for n in model.graph.node:
            if n.op_type in QUANT_OPS + ("Trunc",):
                n.domain = "qonnx.custom_op.general"  # older exports used other domain names
        for t in (InferShapes(), GiveUniqueParameterTensors(), FoldConstants(exclude_op_types=list(QUANT_OPS)),
                  FoldTransposeIntoQuantInit(), RemoveUnusedTensors(), RemoveStaticGraphInputs(), NameNodes(),
                  FillConvDefaults(), Conv1dAs2d(), GemmToMatMul(), ConvertSubToAdd(), ConvertDivToMul(),
                  RemoveIdentityOps(), SortGraph(),
                  NameNodes(), InferShapes(), InferDataTypes()):
            model = model.transform(t)
        return model, False
