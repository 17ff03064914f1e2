"""DuplicateStreams: one stream copied to two (the fork of a residual branch)."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper

from qnn2fpga.layers.attrs import DTypeAttr, FoldAttr, IntAttr, IntsAttr
from qnn2fpga.layers.base import ChannelStreams, Example, HwLayer, check_vectors_and_channels
from qnn2fpga.layers.registry import register_layer
from qnn2fpga.layers.rtl import RtlInstance


@register_layer("DuplicateStreams")
class DuplicateStreams(ChannelStreams, HwLayer):
    """x -> (x, x) for x of shape (*numInputVectors, NumChannels), PE channels per word on
    the input and both outputs. Each word leaves on both outputs before the next enters
    (rtl/streams/duplicate_streams.sv), so a branch that stops taking words stops both."""

    NumChannels = IntAttr(doc="channels (innermost axis)")
    PE = FoldAttr(divides="NumChannels", doc="channels per cycle; divides NumChannels")
    inputDataType = DTypeAttr(doc="datatype of the stream (and of both copies)")
    numInputVectors = IntsAttr([1], doc="leading dimensions, e.g. [1, H, W]")

    n_outputs = 2

    def input_datatypes(self):
        return [self.inputDataType]

    def output_datatypes(self):
        return [self.inputDataType, self.inputDataType]

    def make_shape_compatible_op(self, model):
        """Dropout (inference) has two outputs of the input's shape: the copy and a mask.
        The mask's boolean element type is not kept (see infer_node_datatype)."""
        self.check_node()
        self.check_model(model)
        node = self.onnx_node
        return helper.make_node("Dropout", [node.input[0]], list(node.output))

    def infer_node_datatype(self, model) -> None:
        """Both copies are float containers of the input datatype (shape inference
        through Dropout declared the second a boolean mask)."""
        super().infer_node_datatype(model)
        for vi in model.graph.value_info:
            if vi.name in self.onnx_node.output and vi.type.tensor_type.elem_type != TensorProto.FLOAT:
                vi.type.tensor_type.elem_type = TensorProto.FLOAT

    def rtl(self, params):
        """rtl/streams/duplicate_streams.sv: no memories, no latency."""
        return RtlInstance(module="duplicate_streams", library=self.rtl_library,
                           params=dict(WIDTH=self.get_instream_width()))

    def resource_features(self):
        return {"one": 1, "stream_bits": 3 * self.get_instream_width(), "dsp": 0}

    def check_layer(self) -> None:
        check_vectors_and_channels(self)

    def execute(self, x):
        x = np.asarray(x)
        return x.copy(), x.copy()

    @classmethod
    def examples(cls, rng):
        return [
            Example(dict(NumChannels=8, PE=4, inputDataType="INT4", numInputVectors=[1, 2, 2]), label="residual"),
            Example(dict(NumChannels=6, PE=1, inputDataType="BIPOLAR"), label="bipolar"),
        ]

    @classmethod
    def fork(cls, model):
        """The first tensor read by several hardware layers (and not a graph output; made
        by a layer, or by the software head when the fork is right after the input
        quantizer) gets a DuplicateStreams: a stream has one reader. Its first reader
        takes one copy, the others the second, so n readers need n - 1 calls (the to_hw
        step repeats it to a fixpoint). Returns the model, or None when nothing forks."""
        from qnn2fpga.graph import insert_after, new_tensor  # noqa: PLC0415
        from qnn2fpga.layers.registry import is_hw_layer  # noqa: PLC0415

        outputs = {o.name for o in model.graph.output}
        for n in model.graph.node:
            for t in n.output:
                readers = model.find_consumers(t) or []
                if len(readers) < 2 or t in outputs or not all(is_hw_layer(r) for r in readers):
                    continue
                dt, shape = model.get_tensor_datatype(t), model.get_tensor_shape(t)
                copies = [new_tensor(model, shape, dt), new_tensor(model, shape, dt)]
                for r in readers:
                    for i, name in enumerate(r.input):
                        if name == t:
                            r.input[i] = copies[0] if r is readers[0] else copies[1]
                insert_after(model, n, [cls.make_node([t], copies, name=f"{n.name}_fork", NumChannels=shape[-1],
                                                      PE=1, inputDataType=dt.name, numInputVectors=list(shape[:-1]))])
                return model
        return None

    # ---- the Verilog library of rtl() (read by qnn_accelerator and rtlsim) ----

    rtl_library = "//rtl/streams"
