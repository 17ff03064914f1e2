"""DuplicateStreams: one stream copied to two (the fork of a residual branch)."""

from __future__ import annotations

import math

import numpy as np
from onnx import TensorProto, helper

from qnn2fpga.layers.base import (
    DTypeAttr,
    Example,
    FoldAttr,
    HwLayer,
    IntAttr,
    IntsAttr,
    RtlInstance,
    check_vectors_and_channels,
    register_layer,
)


@register_layer("DuplicateStreams")
class DuplicateStreams(HwLayer):
    """x -> (x, x) for x of shape (*numInputVectors, NumChannels), PE channels per word on
    the input and both outputs. Each word leaves on both outputs before the next enters
    (rtl/streams/duplicate_streams.sv), so a branch that stops taking words stops both."""

    NumChannels = IntAttr(doc="channels (innermost axis)")
    PE = FoldAttr(divides="NumChannels", doc="channels per cycle; divides NumChannels")
    inputDataType = DTypeAttr(doc="datatype of the stream (and of both copies)")
    numInputVectors = IntsAttr([1], doc="leading dimensions, e.g. [1, H, W]")

    def normal_input_shapes(self):
        return [(*self.numInputVectors, self.NumChannels)]

    def normal_output_shapes(self):
        shape = (*self.numInputVectors, self.NumChannels)
        return [shape, shape]

    def input_datatypes(self):
        return [self.inputDataType]

    def output_datatypes(self):
        return [self.inputDataType, self.inputDataType]

    def input_folds(self):
        return [self.PE]

    def output_folds(self):
        return [self.PE, self.PE]

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

    def random_params(self, rng: np.random.Generator) -> list[np.ndarray]:
        return []

    def rtl(self, params):
        """rtl/streams/duplicate_streams.sv: no memories, no latency."""
        return RtlInstance(module="duplicate_streams", library=self.rtl_library,
                           params=dict(WIDTH=self.get_instream_width()))

    def resource_features(self):
        return {"one": 1, "stream_bits": 3 * self.get_instream_width(), "dsp": 0}

    def cycles(self) -> int:
        """prod(numInputVectors) * NumChannels / PE: one word per cycle in and on each output."""
        return math.prod(self.numInputVectors) * (self.NumChannels // self.PE)

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

    # ---- the Verilog library of rtl() (read by qnn_accelerator and rtlsim) ----

    rtl_library = "//rtl/streams"
