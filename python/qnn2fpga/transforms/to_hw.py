"""Stage 5: to abstract hardware layers (custom ops in the `qnn2fpga.layers` domain).

The conversions come from the layer modules (`@converts` in qnn2fpga.layers.conversion):
MatMul [+ MultiThreshold] -> MVAU, MultiThreshold -> Thresholding, Im2Col -> FMPadding +
ConvolutionInputGenerator, MaxPoolNHWC -> StreamingMaxPool, TopK -> LabelSelect, and any
other registered layer's. Only nodes whose inputs are integer tensors convert; what is
left is the software head and tail, or is reported as not converted (see
qnn2fpga.report).
"""

from __future__ import annotations

from onnx import helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.general import RemoveUnusedTensors, SortGraph
from qonnx.transformation.infer_datatypes import InferDataTypes
from qonnx.transformation.infer_shapes import InferShapes

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
        for c in conversions():
            model = model.transform(ApplyConversion(c)).transform(InferDataTypes())
        for t in (SortGraph(), RemoveUnusedTensors(), NameHardwareLayers(), InferShapes(), InferDataTypes()):
            model = model.transform(t)
        # Declare the layer domain, so the compiled model passes onnx.checker (and loads
        # again through flow.load_model).
        domains = {o.domain for o in model.model.opset_import}
        for domain in sorted({n.domain for n in model.graph.node if n.domain} - domains):
            model.model.opset_import.append(helper.make_opsetid(domain, 1))
        return model, False
