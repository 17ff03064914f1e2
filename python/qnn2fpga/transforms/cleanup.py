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


# Ops that handle a (N, C, L) tensor as (N, C, 1, L) once their attributes and
# constants get the extra axis.
_SEQUENCE_OPS = ("Conv", "MaxPool", "BatchNormalization", "Relu", "Mul", "Add", "Sub", "Div", "MultiThreshold") + \
    QUANT_OPS
_SEQUENCE_EXITS = ("Reshape", "Flatten")


class Conv1dTo2d(Pass):
    """A 1-D network (QuantConv1d, MaxPool1d: tensors (N, C, L)) becomes a 2-D one of
    height 1: tensors (N, C, 1, L), kernels (1, k), pads (0, a, 0, b), rank-3 constants
    (a, b, c) -> (a, b, 1, c) (weights (Co, Ci, k), per-channel scales (1, C, 1)). A
    Reshape at the graph input keeps its (N, C, L) interface; the region must end in a
    Reshape/Flatten to rank 2 (the classifier). Anything else on a rank-3 tensor is
    refused, naming the node."""

    def apply(self, model: ModelWrapper):
        convs = [n for n in model.graph.node if n.op_type in ("Conv", "MaxPool")
                 and len(model.get_tensor_shape(n.input[0]) or []) == 3]
        if not convs:
            return model, False
        inits = {i.name for i in model.graph.initializer}

        def rank3(t):
            return t and t not in inits and len(model.get_tensor_shape(t) or []) == 3

        for n in model.graph.node:
            if not any(rank3(t) for t in list(n.input) + list(n.output)):
                continue
            ok = n.op_type in _SEQUENCE_OPS or (n.op_type in _SEQUENCE_EXITS and not rank3(n.output[0]))
            if n.op_type == "MultiThreshold" and node_attrs(n).get("data_layout", "NCW") not in ("NCW", "NCHW"):
                ok = False  # channels last: thresholds would follow the wrong axis once it is 4-D
            if not ok:
                raise errors.UnsupportedOpError(
                    f"{n.op_type} node '{n.name}'", "a 1-D (N, C, L) tensor reaches an op the 1-D lowering "
                    f"does not handle (only {', '.join(_SEQUENCE_OPS)}, and a Reshape/Flatten to rank 2)",
                    "remove the op from the 1-D part of the model")
        if any(rank3(o.name) for o in model.graph.output):
            raise errors.UnsupportedOpError(
                f"graph output '{model.graph.output[0].name}'", "the output is a 1-D (N, C, L) sequence",
                "end the model with a flatten and a linear layer (or a pooling to one value)")
        for n in model.graph.node:
            attrs = {a.name: a for a in n.attribute}
            if n.op_type == "MultiThreshold" and "data_layout" in attrs:
                attrs["data_layout"].s = b"NCHW"
            if n.op_type in ("Conv", "MaxPool") and len(attrs["kernel_shape"].ints) == 1:
                for name in ("kernel_shape", "strides", "dilations"):
                    if name in attrs:
                        attrs[name].ints.insert(0, 1)
                if "pads" in attrs:
                    a, b = attrs["pads"].ints
                    del attrs["pads"].ints[:]
                    attrs["pads"].ints.extend([0, a, 0, b])
        for init in list(model.graph.initializer):
            v = model.get_initializer(init.name)
            if v.ndim == 3:
                model.set_initializer(init.name, v.reshape(v.shape[0], v.shape[1], 1, v.shape[2]))
        for vi in list(model.graph.value_info) + list(model.graph.input):
            if vi.name in inits or not rank3(vi.name):
                continue
            n, c, length = model.get_tensor_shape(vi.name)
            if vi in model.graph.input:
                x4 = new_tensor(model, [n, c, 1, length])
                for consumer in model.find_consumers(vi.name) or []:
                    for i, t in enumerate(consumer.input):
                        if t == vi.name:
                            consumer.input[i] = x4
                reshape = helper.make_node("Reshape", [vi.name, new_const(model, np.array([n, c, 1, length],
                                                                                          np.int64))],
                                           [x4], name="Conv1dTo2d_input")
                model.graph.node.insert(0, reshape)
            else:
                model.set_tensor_shape(vi.name, [n, c, 1, length])
        return model, True


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
                  FillConvDefaults(), Conv1dTo2d(), GemmToMatMul(), ConvertSubToAdd(), ConvertDivToMul(),
                  RemoveIdentityOps(), SortGraph(),
                  NameNodes(), InferShapes(), InferDataTypes()):
            model = model.transform(t)
        return model, False
