"""Stage 5: to abstract hardware layers (custom ops in the `qnn2fpga.layers` domain).

The conversions come from the layer modules (`@converts` in qnn2fpga.layers.conversion):
MatMul [+ MultiThreshold] -> MVAU (VVAU after a depthwise window), MultiThreshold ->
Thresholding, Im2Col -> FMPadding + ConvolutionInputGenerator, MaxPoolNHWC ->
StreamingMaxPool, TopK -> LabelSelect, and any other registered layer's. Only nodes
whose inputs are integer tensors convert; what is left is the software head and tail, or
is reported as not converted (see qnn2fpga.report). A Reshape/Flatten between hardware layers is removed
(RemoveStreamReshapes): it does not change the stream.
"""

from __future__ import annotations

import math

from onnx import helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.general import RemoveUnusedTensors, SortGraph
from qonnx.transformation.infer_datatypes import InferDataTypes
from qonnx.transformation.infer_shapes import InferShapes

from qnn2fpga.graph import bypass
from qnn2fpga.transforms.base import Pass

DOMAIN = "qnn2fpga.layers"


class ApplyConversion(Pass):
    """One layer's declared conversion (a qnn2fpga.layers.conversion.Conversion), applied
    to the first node of its op type that converts, until none does."""

    def __init__(self, conversion):
        super().__init__()
        self.conversion = conversion

    def apply(self, model: ModelWrapper):
        for n in model.graph.node:
            if n.op_type != self.conversion.op_type:
                continue
            converted = self.conversion.rewrite(model, n)
            if converted is not None:
                return converted, True
        return model, False


def conversions() -> list:
    """The registered layers' conversions in the order the step applies them."""
    from qnn2fpga.layers import LAYERS  # noqa: PLC0415  (also registers the layer ops with qonnx)
    from qnn2fpga.layers.conversion import conversions as declared  # noqa: PLC0415

    return declared(LAYERS)


STREAM_RESHAPES = ("Reshape", "Flatten")


class RemoveStreamReshapes(Pass):
    """A Reshape/Flatten from a hardware layer's output into hardware layers only (not a
    graph output, batch axis kept) is removed, and its consumers read the producer's
    tensor: streams carry a tensor's elements in row-major order, which a reshape keeps,
    so in hardware it is a wire. A layer reads any view of its input stream with the right
    number of elements per frame (HwLayer.as_input_shape); width converters and FIFOs on
    such a stream take a view that suits both folds (qnn2fpga.transforms.insert_streams)."""

    def apply(self, model: ModelWrapper):
        from qnn2fpga.layers.registry import is_hw_layer  # noqa: PLC0415

        outputs = {o.name for o in model.graph.output}
        for n in model.graph.node:
            if n.op_type not in STREAM_RESHAPES or n.domain or n.output[0] in outputs:
                continue
            if any(model.get_initializer(t) is None for t in n.input[1:] if t):
                continue  # a computed target shape: its nodes would be left without a consumer
            producer = model.find_producer(n.input[0])
            consumers = model.find_consumers(n.output[0]) or []
            if producer is None or not is_hw_layer(producer) or not consumers or \
                    not all(is_hw_layer(c) for c in consumers):
                continue
            src, dst = model.get_tensor_shape(n.input[0]), model.get_tensor_shape(n.output[0])
            if not src or not dst or src[0] != dst[0] or math.prod(src) != math.prod(dst):
                continue
            bypass(model, n)
            return model, True
        return model, False


class InsertDuplicateStreams(Pass):
    """A hardware layer's output read by several hardware layers (the fork of a residual
    block) goes through DuplicateStreams (DuplicateStreams.fork), one at a time."""

    def apply(self, model: ModelWrapper):
        from qnn2fpga.layers.duplicate_streams import DuplicateStreams  # noqa: PLC0415

        forked = DuplicateStreams.fork(model)
        return (model, False) if forked is None else (forked, True)


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
    """Stage 5 as one step: every layer's conversion (in their declared order), each to a
    fixpoint with datatypes inferred again after it, then sorting and naming."""

    def apply(self, model: ModelWrapper):
        from qnn2fpga.transforms.streamline import RoundAndClipThresholds  # noqa: PLC0415

        for c in conversions():
            model = model.transform(ApplyConversion(c)).transform(InferDataTypes())
            # A conversion may make a float tensor an integer one (a ChannelwiseOp's
            # integer multiply before a residual join): thresholds on it become integers.
            model = model.transform(RoundAndClipThresholds())
        model = model.transform(RemoveStreamReshapes()).transform(InsertDuplicateStreams())
        for t in (SortGraph(), RemoveUnusedTensors(), NameHardwareLayers(), InferShapes(), InferDataTypes()):
            model = model.transform(t)
        # Declare the layer domain, so the compiled model passes onnx.checker (and loads
        # again through flow.load_model).
        domains = {o.domain for o in model.model.opset_import}
        for domain in sorted({n.domain for n in model.graph.node if n.domain} - domains):
            model.model.opset_import.append(helper.make_opsetid(domain, 1))
        return model, False
