"""FMPadding: constant padding around NHWC images (feeds a sliding-window generator)."""

from __future__ import annotations

import numpy as np

from qnn2fpga.errors import DataTypeError, ModelError
from qnn2fpga.layers.attrs import DTypeAttr, FoldAttr, IntAttr, IntsAttr
from qnn2fpga.layers.base import Example, HwLayer
from qnn2fpga.layers.registry import register_layer


@register_layer("FMPadding")
class FMPadding(HwLayer):
    """(N, H, W, C) -> (N, top+H+bottom, left+W+right, C), new pixels = padValue. SIMD
    channels per cycle."""

    Padding = IntsAttr(length=4, doc="[top, left, bottom, right]")
    ImgDim = IntsAttr(length=2, doc="[H, W] before padding")
    NumChannels = IntAttr(doc="channels C")
    SIMD = FoldAttr(divides="NumChannels", doc="channels per cycle; divides NumChannels")
    inputDataType = DTypeAttr(doc="datatype of input and output")
    padValue = IntAttr(0, doc="value of the padding pixels; must be of inputDataType")

    def normal_input_shapes(self):
        h, w = self.ImgDim
        return [(1, h, w, self.NumChannels)]

    def normal_output_shapes(self):
        (h, w), (top, left, bottom, right) = self.ImgDim, self.Padding
        return [(1, top + h + bottom, left + w + right, self.NumChannels)]

    def input_datatypes(self):
        return [self.inputDataType]

    def output_datatypes(self):
        return [self.inputDataType]

    def input_folds(self):
        return [self.SIMD]

    def output_folds(self):
        return [self.SIMD]

    def resource_features(self):
        from qnn2fpga import packing  # noqa: PLC0415

        return {"one": 1, "stream_bits": 2 * self.SIMD * packing.element_bits(self.inputDataType), "dsp": 0}

    def cycles(self) -> int:
        """(H+top+bottom)*(W+left+right)*C / SIMD: one output word per cycle."""
        return self.stream_bound_cycles()

    def check_layer(self) -> None:
        if any(p < 0 for p in self.Padding) or any(d < 1 for d in self.ImgDim) or self.NumChannels < 1:
            raise ModelError(self.where, f"Padding={self.Padding}, ImgDim={self.ImgDim}, NumChannels="
                             f"{self.NumChannels}: sizes must be positive and padding non-negative",
                             "fix the shape attributes")
        if not self.inputDataType.allowed(self.padValue):
            raise DataTypeError(self.where, f"padValue={self.padValue} is not a {self.inputDataType.name} value",
                                f"use a padValue in [{int(self.inputDataType.min())}, "
                                f"{int(self.inputDataType.max())}]" + (" (-1 or 1)" if self.inputDataType.name
                                                                      == "BIPOLAR" else ""))

    def execute(self, x):
        top, left, bottom, right = self.Padding
        return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=self.padValue)

    @classmethod
    def examples(cls, rng):
        return [
            Example(dict(Padding=[1, 1, 1, 1], ImgDim=[4, 4], NumChannels=4, SIMD=2, inputDataType="INT4"),
                    label="same, 3x3"),
            Example(dict(Padding=[0, 2, 1, 0], ImgDim=[3, 5], NumChannels=3, SIMD=3, inputDataType="UINT4",
                         padValue=7), label="asymmetric, non-zero"),
            Example(dict(Padding=[1, 0, 1, 0], ImgDim=[2, 3], NumChannels=2, inputDataType="BIPOLAR",
                         padValue=-1), label="bipolar"),
        ]
