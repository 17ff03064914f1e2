"""Identity: passes a stream through unchanged (the layer the "adding a layer" test adds)."""

from __future__ import annotations

from qnn2fpga.graph import node_attr
from qnn2fpga.layers import numerics
from qnn2fpga.layers.attrs import DTypeAttr, FoldAttr, IntAttr, IntsAttr
from qnn2fpga.layers.base import ChannelStreams, Example, HwLayer
from qnn2fpga.layers.registry import register_layer
from qnn2fpga.layers.rtl import RtlInstance
from qnn2fpga.layers.conversion import converts, int_datatype, replace, typed_node


@register_layer("Identity")
class Identity(ChannelStreams, HwLayer):
    """(*numInputVectors, NumChannels) -> the same values, PE elements per stream word."""

    NumChannels = IntAttr(doc="channels (innermost axis)")
    PE = FoldAttr(divides="NumChannels", doc="elements per stream word; divides NumChannels")
    dataType = DTypeAttr(doc="element datatype")
    numInputVectors = IntsAttr([1], doc="leading dimensions, e.g. [1, H, W]")

    def input_datatypes(self):
        return [self.dataType]

    def output_datatypes(self):
        return [self.dataType]

    def resource_features(self):
        """Two registers (output and skid) per stream bit."""
        from qnn2fpga import packing  # noqa: PLC0415

        return {"one": 1, "width": self.PE * packing.element_bits(self.dataType), "dsp": 0}

    def execute(self, x):
        return numerics.as_int64(x)

    def rtl(self, params):
        """identity: WIDTH = PE element bits, one skid buffer."""
        from qnn2fpga import packing  # noqa: PLC0415

        return RtlInstance(module="identity", library=self.rtl_library, latency=1,
                           params=dict(WIDTH=self.PE * packing.element_bits(self.dataType)))

    @classmethod
    def examples(cls, rng):
        return [
            Example(dict(NumChannels=8, PE=4, dataType="INT4", numInputVectors=[1, 2]), label="int4"),
            Example(dict(NumChannels=6, PE=3, dataType="BIPOLAR"), label="bipolar"),
        ]

    rtl_library = "//rtl/identity"

    @converts("Flatten", order=70)
    def from_flatten(cls, model, n):
        """A Flatten that keeps the shape ((N, C) -> (N, C)) of an integer stream."""
        xdt = int_datatype(model, n.input[0])
        shape = model.get_tensor_shape(n.input[0])
        if xdt is None or shape != model.get_tensor_shape(n.output[0]) or node_attr(n, "axis", 1) != len(shape) - 1:
            return None
        node = typed_node(cls, [n.input[0]], [n.output[0]], n.name, NumChannels=shape[-1], PE=1,
                          dataType=xdt.name, numInputVectors=list(shape[:-1]))
        return replace(model, [n], [node])
