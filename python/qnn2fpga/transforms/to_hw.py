"""Stage 5: to abstract hardware layers (custom ops in the `qnn2fpga.layers` domain).

MatMul [+ MultiThreshold] -> MVAU, MultiThreshold -> Thresholding, Im2Col -> FMPadding +
ConvolutionInputGenerator, MaxPoolNHWC -> StreamingMaxPool, TopK -> LabelSelect. Only
nodes whose inputs are integer tensors convert; what is left is the software head and
tail, or is reported as not converted (see qnn2fpga.report).
"""

from __future__ import annotations

import numpy as np
from onnx import helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.general import RemoveUnusedTensors, SortGraph
from qonnx.transformation.infer_datatypes import InferDataTypes
from qonnx.transformation.infer_shapes import InferShapes

from qnn2fpga.graph import insert_after, new_const, new_tensor, node_attr, single_consumer
from qnn2fpga.layers.numerics import matmul_acc_range, smallest_int_datatype
from qnn2fpga.transforms.base import Pass

DOMAIN = "qnn2fpga.layers"


def _int_dt(model, tensor) -> DataType | None:
    dt = model.get_tensor_datatype(tensor)
    return dt if dt.is_integer() else None


def _mt_activation(model, mt) -> dict | None:
    """Output encoding of a MultiThreshold with integer thresholds, as MVAU/Thresholding attributes."""
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


class MatMulToMVAU(Pass):
    """MatMul(x int, W int) [-> MultiThreshold] -> MVAU (thresholds fused when the
    MultiThreshold is the MatMul's only consumer)."""

    def apply(self, model: ModelWrapper):
        for mm in model.graph.node:
            if mm.op_type != "MatMul":
                continue
            xdt, w = _int_dt(model, mm.input[0]), model.get_initializer(mm.input[1])
            wdt = _int_dt(model, mm.input[1]) if w is not None else None
            if xdt is None or wdt is None or w.ndim != 2:
                continue
            xshape = model.get_tensor_shape(mm.input[0])
            mw, mh = w.shape
            lo, hi = matmul_acc_range(xdt, w)
            accdt = smallest_int_datatype(lo, hi)
            attrs = dict(MW=mw, MH=mh, SIMD=1, PE=1, inputDataType=xdt.name, weightDataType=wdt.name,
                         accDataType=accdt.name, numInputVectors=list(xshape[:-1]))
            inputs = [mm.input[0], mm.input[1]]
            out = mm.output[0]
            consumed = [mm]
            mt = single_consumer(model, out)
            act = _mt_activation(model, mt) if mt is not None and mt.op_type == "MultiThreshold" else None
            if act is not None:
                attrs.update(noActivation=0, **act)
                inputs.append(mt.input[1])
                out = mt.output[0]
                consumed.append(mt)
            else:
                attrs.update(noActivation=1, ActVal=0, outputDataType=accdt.name)
            node = helper.make_node("MVAU", inputs, [out], domain=DOMAIN, name=mm.name, **attrs)
            insert_after(model, consumed[-1], [node])
            for n in consumed:
                model.graph.node.remove(n)
            model.set_tensor_datatype(out, DataType[attrs["outputDataType"]])
            return model, True
        return model, False


class MultiThresholdToThresholding(Pass):
    """A standalone MultiThreshold on an integer channels-last input -> Thresholding."""

    def apply(self, model: ModelWrapper):
        for mt in model.graph.node:
            if mt.op_type != "MultiThreshold":
                continue
            xdt = _int_dt(model, mt.input[0])
            act = _mt_activation(model, mt)
            shape = model.get_tensor_shape(mt.input[0])
            if xdt is None or act is None or (len(shape) == 4 and node_attr(mt, "data_layout", "") != "NHWC"):
                continue
            node = helper.make_node("Thresholding", [mt.input[0], mt.input[1]], [mt.output[0]], domain=DOMAIN,
                                    name=mt.name, NumChannels=shape[-1], PE=1, inputDataType=xdt.name,
                                    numInputVectors=list(shape[:-1]), **act)
            insert_after(model, mt, [node])
            model.graph.node.remove(mt)
            return model, True
        return model, False


def _set_attr(node, name: str, value) -> None:
    for a in node.attribute:
        if a.name == name:
            node.attribute.remove(a)
            break
    node.attribute.append(helper.make_attribute(name, value))


class WidenBipolarBeforeZeroPadding(Pass):
    """A zero-padded convolution of a BIPOLAR (-1/+1) activation pads with 0, which a
    BIPOLAR stream cannot carry. The MultiThreshold producing the activation (through
    max-pooling or layout changes) then emits the same -1/+1 values as INT2: thresholds
    [always, t, t] from level -2 give -2 + 1 below t and -2 + 3 from t on. Padding, sliding
    window and the next MVAU then run on INT2, where 0 exists."""

    PASS_THROUGH = ("MaxPoolNHWC", "Transpose", "Reshape", "Flatten")

    def apply(self, model: ModelWrapper):
        bipolar = DataType["BIPOLAR"]
        for n in model.graph.node:
            if n.op_type != "Im2Col" or not any(node_attr(n, "pad_amount", [0])):
                continue
            if model.get_tensor_datatype(n.input[0]) != bipolar or bipolar.allowed(node_attr(n, "pad_value", 0)):
                continue
            mt = model.find_producer(n.input[0])
            while mt is not None and mt.op_type in self.PASS_THROUGH:
                mt = model.find_producer(mt.input[0])
            if mt is None or mt.op_type != "MultiThreshold" or node_attr(mt, "out_dtype") != "BIPOLAR":
                continue
            t = model.get_initializer(mt.input[1])
            if t is None or t.ndim != 2 or t.shape[1] != 1:
                continue
            xdt = model.get_tensor_datatype(mt.input[0])
            always = xdt.min() if xdt.is_integer() else -np.inf
            mt.input[1] = new_const(model, np.concatenate([np.full_like(t, always), t, t], axis=1)
                                    .astype(t.dtype if xdt.is_integer() else np.float64))
            _set_attr(mt, "out_dtype", "INT2")
            _set_attr(mt, "out_scale", 1.0)
            _set_attr(mt, "out_bias", -2.0)
            model.set_tensor_datatype(mt.output[0], DataType["INT2"])
            return model.transform(InferDataTypes()), True
        return model, False


class Im2ColToSlidingWindow(Pass):
    """Im2Col (NHWC) on an integer input -> [FMPadding ->] ConvolutionInputGenerator."""

    def apply(self, model: ModelWrapper):
        for n in model.graph.node:
            if n.op_type != "Im2Col":
                continue
            xdt = _int_dt(model, n.input[0])
            if xdt is None:
                continue
            _, ih, iw, c = model.get_tensor_shape(n.input[0])
            _, oh, ow, _ = model.get_tensor_shape(n.output[0])
            kh, kw = node_attr(n, "kernel_size")
            pads = list(node_attr(n, "pad_amount", [0, 0, 0, 0]))
            src, nodes = n.input[0], []
            if any(pads):
                ph, pw = ih + pads[0] + pads[2], iw + pads[1] + pads[3]
                padded = new_tensor(model, [1, ph, pw, c], xdt)
                nodes.append(helper.make_node(
                    "FMPadding", [src], [padded], domain=DOMAIN, name=f"{n.name}_pad", Padding=pads, ImgDim=[ih, iw],
                    NumChannels=c, SIMD=1, inputDataType=xdt.name, padValue=int(node_attr(n, "pad_value", 0))))
                src, ih, iw = padded, ph, pw
            nodes.append(helper.make_node(
                "ConvolutionInputGenerator", [src], [n.output[0]], domain=DOMAIN, name=n.name,
                ConvKernelDim=[kh, kw], IFMChannels=c, IFMDim=[ih, iw], OFMDim=[oh, ow],
                Stride=list(node_attr(n, "stride")), Dilation=list(node_attr(n, "dilations", [1, 1])), SIMD=1,
                inputDataType=xdt.name, outputDataType=xdt.name, depthwise=int(node_attr(n, "depthwise", 0))))
            insert_after(model, n, nodes)
            model.graph.node.remove(n)
            return model, True
        return model, False


class MaxPoolToStreaming(Pass):
    """MaxPoolNHWC (no padding, floor mode) on an integer input -> StreamingMaxPool."""

    def apply(self, model: ModelWrapper):
        for n in model.graph.node:
            if n.op_type != "MaxPoolNHWC":
                continue
            xdt = _int_dt(model, n.input[0])
            if xdt is None or any(node_attr(n, "pads", [0])) or node_attr(n, "ceil_mode", 0):
                continue
            _, ih, iw, c = model.get_tensor_shape(n.input[0])
            node = helper.make_node("StreamingMaxPool", [n.input[0]], [n.output[0]], domain=DOMAIN, name=n.name,
                                    PoolDim=list(node_attr(n, "kernel_shape")), ImgDim=[ih, iw], NumChannels=c,
                                    Stride=list(node_attr(n, "strides")), PE=1, dataType=xdt.name)
            insert_after(model, n, [node])
            model.graph.node.remove(n)
            return model, True
        return model, False


class TopKToLabelSelect(Pass):
    """TopK (largest, last axis) on an integer vector -> LabelSelect returning the indices."""

    def apply(self, model: ModelWrapper):
        for n in model.graph.node:
            if n.op_type != "TopK":
                continue
            xdt, k = _int_dt(model, n.input[0]), model.get_initializer(n.input[1])
            shape = model.get_tensor_shape(n.input[0])
            if xdt is None or k is None or len(shape) != 2 or node_attr(n, "largest", 1) != 1 or \
                    node_attr(n, "axis", -1) not in (-1, 1) or model.find_consumers(n.output[0]):
                continue
            labels = shape[-1]
            odt = smallest_int_datatype(0, max(labels - 1, 1))
            node = helper.make_node("LabelSelect", [n.input[0]], [n.output[1]], domain=DOMAIN, name=n.name,
                                    Labels=labels, PE=1, K=int(k.reshape(-1)[0]), inputDataType=xdt.name,
                                    outputDataType=odt.name)
            insert_after(model, n, [node])
            model.graph.node.remove(n)
            model.set_tensor_datatype(n.output[1], odt)
            return model, True
        return model, False


class NameHardwareLayers(Pass):
    """Hardware layers are named `<op>_<n>` in stream order (the keys of folding
    configurations); other nodes keep their names."""

    def apply(self, model: ModelWrapper):
        counters: dict[str, int] = {}
        for n in model.graph.node:
            if n.domain == DOMAIN:
                n.name = f"{n.op_type}_{counters.setdefault(n.op_type, 0)}"
                counters[n.op_type] += 1
        return model, False


class ToHardwareLayers(Pass):
    """Stage 5 as one step."""

    # MVAU before the layers that may consume its output (a max-pool or thresholds right
    # after a convolution's accumulator): each conversion reads its input datatype from
    # the annotation, which is the accumulator's narrowed datatype only once the MVAU
    # exists and datatypes are inferred again.
    PASSES = (WidenBipolarBeforeZeroPadding, Im2ColToSlidingWindow, MatMulToMVAU, MaxPoolToStreaming,
              MultiThresholdToThresholding, TopKToLabelSelect)

    def apply(self, model: ModelWrapper):
        import qnn2fpga.layers  # noqa: F401,PLC0415  (registers the layer ops with qonnx)

        for p in self.PASSES:
            model = model.transform(p()).transform(InferDataTypes())
        for t in (SortGraph(), RemoveUnusedTensors(), NameHardwareLayers(), InferShapes(), InferDataTypes()):
            model = model.transform(t)
        # Declare the layer domain, so the compiled model passes onnx.checker (and loads
        # again through flow.load_model).
        domains = {o.domain for o in model.model.opset_import}
        for domain in sorted({n.domain for n in model.graph.node if n.domain} - domains):
            model.model.opset_import.append(helper.make_opsetid(domain, 1))
        return model, False
