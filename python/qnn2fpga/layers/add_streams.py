"""AddStreams: elementwise sum of two streams (residual connections)."""

from __future__ import annotations

from qnn2fpga.errors import DataTypeError
from qnn2fpga.layers import numerics
from qnn2fpga.layers.attrs import DTypesAttr, FoldAttr, IntAttr, IntsAttr
from qnn2fpga.layers.base import ChannelStreams, Example, HwLayer, check_vectors_and_channels
from qnn2fpga.layers.conversion import converts, int_datatype, replace, typed_node
from qnn2fpga.layers.registry import get_layer, is_hw_layer, register_layer
from qnn2fpga.layers.rtl import RtlInstance


@register_layer("AddStreams")
class AddStreams(ChannelStreams, HwLayer):
    """a + b for two inputs of shape (*numInputVectors, NumChannels). The output datatype
    is the smallest integer type holding every sum (not an attribute). PE channels per
    cycle on both inputs and the output."""

    NumChannels = IntAttr(doc="channels (innermost axis)")
    PE = FoldAttr(divides="NumChannels", doc="channels per cycle; divides NumChannels")
    inputDataTypes = DTypesAttr(length=2, doc="[datatype of a, datatype of b]")
    numInputVectors = IntsAttr([1], doc="leading dimensions, e.g. [1, H, W]")

    n_inputs = 2

    def input_datatypes(self):
        return list(self.inputDataTypes)

    def output_datatypes(self):
        a, b = self.inputDataTypes
        return [numerics.smallest_int_datatype(a.min() + b.min(), a.max() + b.max())]

    def rtl(self, params):
        """rtl/streams/add_streams.sv: one registered output word (latency 1)."""
        from qnn2fpga import packing  # noqa: PLC0415

        def kind(dt):
            return 2 if dt == numerics.BIPOLAR else int(dt.signed())

        a, b = self.inputDataTypes
        if max(packing.element_bits(a), packing.element_bits(b)) > 31:
            raise DataTypeError(self.where, f"inputs {a.name} and {b.name}: the RTL adds elements of up to 31 bits",
                                "narrow the inputs to 31 bits or fewer")
        return RtlInstance(module="add_streams", library=self.rtl_library, latency=1, params=dict(
            PE=self.PE, A_BITS=packing.element_bits(a), A_KIND=kind(a), B_BITS=packing.element_bits(b),
            B_KIND=kind(b), OUT_BITS=packing.element_bits(self.output_datatypes()[0])))

    def resource_features(self):
        from qnn2fpga import packing  # noqa: PLC0415

        out = self.PE * packing.element_bits(self.output_datatypes()[0])
        ins = sum(self.PE * packing.element_bits(d) for d in self.inputDataTypes)
        return {"one": 1, "stream_bits": ins + out, "add_bits": out, "dsp": 0}

    def check_layer(self) -> None:
        check_vectors_and_channels(self)

    def execute(self, a, b):
        return numerics.as_int64(a) + numerics.as_int64(b)

    @classmethod
    def examples(cls, rng):
        return [
            Example(dict(NumChannels=8, PE=4, inputDataTypes=["INT4", "INT4"], numInputVectors=[1, 2, 2]),
                    label="residual"),
            Example(dict(NumChannels=6, PE=3, inputDataTypes=["UINT3", "INT5"]), label="mixed"),
            Example(dict(NumChannels=4, inputDataTypes=["BIPOLAR", "BIPOLAR"]), label="bipolar"),
        ]

    @converts("Add", order=45)
    def from_add(cls, model, node):
        """Add of two computed integer tensors of one shape (a residual join, once
        streamlining moved the common scale past it) -> AddStreams. Elementwise, so any
        layout works as long as both streams share it. Before Thresholding (50), which
        then reads the sum's narrow datatype."""
        if len(node.input) != 2 or any(model.get_initializer(t) is not None for t in node.input):
            return None
        # A producer converted in this same pass (a join feeding a join) has not had its
        # output annotation narrowed yet: its layer says what it emits.
        dts = [get_layer(p).output_datatypes()[list(p.output).index(t)] if p is not None and is_hw_layer(p)
               else int_datatype(model, t) for t, p in ((t, model.find_producer(t)) for t in node.input)]
        shapes = [model.get_tensor_shape(t) for t in node.input]
        if None in dts or shapes[0] != shapes[1] or list(shapes[0]) != list(model.get_tensor_shape(node.output[0])):
            return None
        shape = shapes[0]
        new = typed_node(cls, list(node.input), [node.output[0]], node.name, NumChannels=shape[-1], PE=1,
                         inputDataTypes=[d.name for d in dts], numInputVectors=list(shape[:-1]))
        return replace(model, [node], [new])

    # ---- the Verilog library of rtl() (read by qnn_accelerator and rtlsim) ----

    rtl_library = "//rtl/streams"
