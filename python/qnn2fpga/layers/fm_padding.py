"""FMPadding: constant padding around NHWC images (feeds a sliding-window generator)."""

from __future__ import annotations

import numpy as np
from qonnx.core.datatype import DataType
from qonnx.transformation.infer_datatypes import InferDataTypes

from qnn2fpga.errors import DataTypeError, ModelError
from qnn2fpga.layers.attrs import DTypeAttr, FoldAttr, IntAttr, IntsAttr
from qnn2fpga.layers.base import Example, HwLayer
from qnn2fpga.layers.registry import register_layer
from qnn2fpga.layers.resources import counter_bits
from qnn2fpga.layers.rtl import RtlInstance
from qnn2fpga.graph import new_const, node_attr
from qnn2fpga.layers.conversion import converts, set_node_attr


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

    def rtl(self, params):
        """rtl/fm_padding: no memories. PAD_ELEM is padValue encoded as the stream carries
        it (packing.encode: two's complement at the element width, BIPOLAR -1 -> 0). The
        first output word leaves one cycle after the first input word (latency 1)."""
        from qnn2fpga import packing  # noqa: PLC0415

        idt = self.inputDataType
        (h, w), (top, left, bottom, right) = self.ImgDim, self.Padding
        p = dict(IMG_H=h, IMG_W=w, PAD_TOP=top, PAD_LEFT=left, PAD_BOTTOM=bottom, PAD_RIGHT=right,
                 NUM_CHANNELS=self.NumChannels, SIMD=self.SIMD, ELEM_BITS=packing.element_bits(idt),
                 PAD_ELEM=int(packing.encode(np.array([self.padValue]), idt)[0]))
        return RtlInstance(module="fm_padding", library=self.rtl_library, params=p, latency=1)

    def resource_features(self):
        """stream_bits: the input register and the word multiplexer (input or padding);
        count_bits: the fold, column and row counters of rtl/fm_padding with their
        compares."""
        from qnn2fpga import packing  # noqa: PLC0415

        _, oh, ow, _ = self.normal_output_shapes()[0]
        count_bits = counter_bits(self.NumChannels // self.SIMD) + counter_bits(ow + 1) + counter_bits(oh + 1)
        return {"one": 1, "stream_bits": 2 * self.SIMD * packing.element_bits(self.inputDataType),
                "count_bits": count_bits, "dsp": 0}

    def cycles(self) -> int:
        """(H+top+bottom)*(W+left+right)*C / SIMD: one output word per cycle
        (rtl/fm_padding adds 1 cycle of latency per stream, not per frame)."""
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

    # ---- the Verilog library of rtl() (read by qnn_accelerator and rtlsim) ----

    rtl_library = "//rtl/fm_padding"

    # ---- conversion from the front end (transforms/to_hw.py) ----

    # What may sit between the MultiThreshold and the padded Im2Col it feeds.
    WIDEN_THROUGH = ("MaxPoolNHWC", "Transpose", "Reshape", "Flatten")

    @converts("Im2Col", order=10)
    def widen_bipolar_before_zero_padding(cls, model, n):
        """A zero-padded convolution of a BIPOLAR (-1/+1) activation pads with 0, which a
        BIPOLAR stream cannot carry. The MultiThreshold producing the activation (through
        max-pooling or layout changes) then emits the same -1/+1 values as INT2:
        thresholds [always, t, t] from level -2 give -2 + 1 below t and -2 + 3 from t on.
        Padding, sliding window and the next MVAU then run on INT2, where 0 exists. Runs
        over the whole graph before any Im2Col becomes a sliding window."""
        bipolar = DataType["BIPOLAR"]
        if not any(node_attr(n, "pad_amount", [0])):
            return None
        if model.get_tensor_datatype(n.input[0]) != bipolar or bipolar.allowed(node_attr(n, "pad_value", 0)):
            return None
        mt = model.find_producer(n.input[0])
        while mt is not None and mt.op_type in cls.WIDEN_THROUGH:
            mt = model.find_producer(mt.input[0])
        if mt is None or mt.op_type != "MultiThreshold" or node_attr(mt, "out_dtype") != "BIPOLAR":
            return None
        t = model.get_initializer(mt.input[1])
        if t is None or t.ndim != 2 or t.shape[1] != 1:
            return None
        xdt = model.get_tensor_datatype(mt.input[0])
        always = xdt.min() if xdt.is_integer() else -np.inf
        mt.input[1] = new_const(model, np.concatenate([np.full_like(t, always), t, t], axis=1)
                                .astype(t.dtype if xdt.is_integer() else np.float64))
        for name, value in (("out_dtype", "INT2"), ("out_scale", 1.0), ("out_bias", -2.0)):
            set_node_attr(mt, name, value)
        model.set_tensor_datatype(mt.output[0], DataType["INT2"])
        return model.transform(InferDataTypes())
