"""The first quantizer in hardware: the accelerator takes raw pixels.

An export trained on images scaled to [0, 1] quantizes its float input with its first
activation quantizer, which the compile flow turns into the software head's
MultiThreshold (after shape-only ops: a Reshape or the NCHW -> NHWC Transpose). With
`input_datatype=UINT8` the graph input becomes the pixel values 0..255 and the input
scaling x / 255 moves into that MultiThreshold: each threshold t becomes the number of
pixel values v whose float32 value v / 255 is below t, so `v >= t'` holds exactly when
`v / 255 >= t` does for every pixel value, float32 rounding included. The head's
MultiThreshold then has an integer input and converts to a hardware Thresholding layer.

Running the compiled model on pixels x therefore gives what the export gives on
`(x / 255).astype(np.float32)` (qnn2fpga.transforms.input_quant.scaled_input).
"""

from __future__ import annotations

import numpy as np
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper

from qnn2fpga import errors
from qnn2fpga.graph import real_inputs, single_consumer
from qnn2fpga.transforms.base import Pass

# The input datatypes the option takes, and the scale that maps them to the export's input.
INPUT_SCALES = {"UINT8": 255}
SHAPE_OPS = ("Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze")


def scaled_input(x: np.ndarray, input_datatype: str) -> np.ndarray:
    """What the export takes for the pixels `x` of a model compiled with `input_datatype`."""
    return (np.asarray(x, dtype=np.float64) / INPUT_SCALES[input_datatype]).astype(np.float32)


def check_input_datatype(name: str) -> str:
    """`name` if the option supports it ('' = off), else a typed error naming the choices."""
    if name and name not in INPUT_SCALES:
        raise errors.DataTypeError(f"input_datatype {name!r}", "is not supported for the input in hardware",
                                   f"use one of {', '.join(INPUT_SCALES)} (pixels scaled by 1/255), or leave it unset")
    return name


def head_quantizer(model: ModelWrapper):
    """The graph input's first quantizer: the MultiThreshold after shape-only ops, and
    those ops; a typed error naming the node where the chain stops otherwise."""
    tensor = real_inputs(model)[0]
    chain = []
    while True:
        node = single_consumer(model, tensor)
        if node is None:
            raise errors.ModelError(f"graph input {real_inputs(model)[0]!r}", f"tensor {tensor!r} has no single "
                                    "consumer on the way to the first quantizer",
                                    "leave input_datatype unset for this model (its input is not quantized first)")
        if node.op_type == "MultiThreshold":
            return node, chain
        if node.op_type not in SHAPE_OPS:
            raise errors.ModelError(f"node {node.name!r} ({node.op_type})", "comes between the graph input and its "
                                    "first quantizer, so the input scaling cannot move into hardware",
                                    "leave input_datatype unset for this model, or quantize the input first in "
                                    "the Brevitas model (a QuantIdentity before any other layer)")
        chain.append(node)
        tensor = node.output[0]


class InputInHardware(Pass):
    """Moves the input scaling into the head's first MultiThreshold and declares the graph
    input `input_datatype` (module doc). Applied once, after the export's tail is restored."""

    def __init__(self, input_datatype: str):
        super().__init__()
        self.input_datatype = check_input_datatype(input_datatype)

    def apply(self, model: ModelWrapper):
        dt = DataType[self.input_datatype]
        x = real_inputs(model)[0]
        if model.get_tensor_datatype(x) == dt:
            return model, False
        node, chain = head_quantizer(model)
        pixels = np.arange(dt.min(), dt.max() + 1)
        values = scaled_input(pixels, self.input_datatype)  # non-decreasing: a sorted search applies
        t = model.get_initializer(node.input[1])
        counts = np.searchsorted(values, t.astype(np.float32), side="left")  # values below t
        model.set_initializer(node.input[1], (counts + dt.min()).astype(np.float32))
        model.set_tensor_datatype(x, dt)
        for n in chain:
            model.set_tensor_datatype(n.output[0], dt)
        return model, True
