"""LabelSelect: top-K classification head (indices of the K largest scores)."""

from __future__ import annotations

import math

import numpy as np

from qnn2fpga.errors import DataTypeError, ModelError
from qnn2fpga.graph import node_attr
from qnn2fpga.layers import numerics
from qnn2fpga.layers.attrs import DTypeAttr, FoldAttr, IntAttr, IntsAttr
from qnn2fpga.layers.base import Example, HwLayer
from qnn2fpga.layers.registry import register_layer
from qnn2fpga.layers.rtl import RtlInstance
from qnn2fpga.layers.conversion import converts, int_datatype, replace, typed_node
from qnn2fpga.layers.numerics import smallest_int_datatype


@register_layer("LabelSelect")
class LabelSelect(HwLayer):
    """(*numInputVectors, Labels) -> (*numInputVectors, K): indices of the K largest
    values, largest first, ties broken by the lower index (ONNX TopK, largest=1,
    sorted=1). Reads PE scores per cycle and emits one index per word."""

    Labels = IntAttr(doc="number of scores (classes)")
    PE = FoldAttr(divides="Labels", doc="scores per cycle; divides Labels")
    K = IntAttr(doc="indices returned, 1 <= K <= Labels")
    inputDataType = DTypeAttr(doc="datatype of the scores")
    outputDataType = DTypeAttr(optional=True, doc="index datatype; default: smallest UINT holding Labels-1")
    numInputVectors = IntsAttr([1], doc="leading dimensions, e.g. [1]")

    def index_datatype(self):
        """The smallest unsigned type holding every index (the default outputDataType)."""
        return smallest_int_datatype(0, self.Labels - 1)

    def normal_input_shapes(self):
        return [(*self.numInputVectors, self.Labels)]

    def normal_output_shapes(self):
        return [(*self.numInputVectors, self.K)]

    def input_datatypes(self):
        return [self.inputDataType]

    def output_datatypes(self):
        return [self.outputDataType or self.index_datatype()]

    def input_folds(self):
        return [self.PE]

    def output_folds(self):
        return [1]

    def rtl(self, params):
        """rtl/label_select: no memories."""
        from qnn2fpga import packing  # noqa: PLC0415

        idt = self.inputDataType
        p = dict(LABELS=self.Labels, PE=self.PE, K=self.K, IN_BITS=packing.element_bits(idt),
                 IN_SIGNED=int(idt.signed() and idt != numerics.BIPOLAR),
                 OUT_BITS=packing.element_bits(self.get_output_datatype(0)),
                 NUM_VECTORS=math.prod(self.numInputVectors))
        return RtlInstance(module="label_select", library=self.rtl_library, params=p, latency=0)

    def resource_features(self):
        """rtl/label_select: K*PE + PE*(PE-1)/2 comparators rank the K list entries and PE
        new values; each of the K slots selects one of the K+PE candidates (value, index)."""
        from qnn2fpga import packing  # noqa: PLC0415

        ib = packing.element_bits(self.inputDataType) + 1
        ob = packing.element_bits(self.get_output_datatype(0))
        pe, k = self.PE, self.K
        return {"one": 1, "in_bits": pe * ib, "list_bits": k * (ib + ob),
                "cmp_bits": (k * pe + pe * (pe - 1) // 2) * ib, "sel_bits": k * (k + pe) * (ib + ob),
                "rank_bits": (k + pe) ** 2 * (k + pe).bit_length(), "dsp": 0}

    def cycles(self) -> int:
        """V*max(W, K) + min(W, K) for V vectors of W = Labels/PE words: reading a vector
        overlaps emitting the K indices of the previous one (rtl/label_select)."""
        w, v = self.Labels // self.PE, math.prod(self.numInputVectors)
        return v * max(w, self.K) + min(w, self.K)

    def check_layer(self) -> None:
        if self.Labels < 1 or not 1 <= self.K <= self.Labels:
            raise ModelError(self.where, f"K={self.K} with Labels={self.Labels}", "use 1 <= K <= Labels")
        odt = self.output_datatypes()[0]
        if odt.signed() or odt.max() < self.Labels - 1:
            raise DataTypeError(self.where, f"outputDataType={odt.name} cannot hold indices 0..{self.Labels - 1} "
                                "as an unsigned integer",
                                f"set outputDataType={self.index_datatype().name} (or leave it unset)")

    def execute(self, x):
        # A stable sort of the negated scores keeps equal scores in index order.
        order = np.argsort(-np.asarray(x, dtype=np.float64), axis=-1, kind="stable")
        return order[..., : self.K]

    @classmethod
    def examples(cls, rng):
        return [
            Example(dict(Labels=10, PE=2, K=3, inputDataType="INT8"), label="top-3 of 10"),
            Example(dict(Labels=12, PE=12, K=1, inputDataType="UINT4", outputDataType="UINT8"), label="argmax"),
            Example(dict(Labels=6, PE=3, K=6, inputDataType="BIPOLAR", numInputVectors=[1, 2]),
                    label="full sort, ties"),
        ]

    # ---- the Verilog library of rtl() (read by qnn_accelerator and rtlsim) ----

    rtl_library = "//rtl/label_select"

    # ---- conversion from the front end (transforms/to_hw.py) ----

    @converts("TopK", order=60)
    def from_topk(cls, model, n):
        """TopK (largest, last axis) on an integer vector, its values unused -> LabelSelect
        returning the indices."""
        xdt, k = int_datatype(model, n.input[0]), model.get_initializer(n.input[1])
        shape = model.get_tensor_shape(n.input[0])
        if xdt is None or k is None or len(shape) != 2 or node_attr(n, "largest", 1) != 1 or \
                node_attr(n, "axis", -1) not in (-1, 1) or model.find_consumers(n.output[0]):
            return None
        labels = shape[-1]
        odt = smallest_int_datatype(0, max(labels - 1, 1))
        node = typed_node(cls, [n.input[0]], [n.output[1]], n.name, Labels=labels, PE=1, K=int(k.reshape(-1)[0]),
                          inputDataType=xdt.name, outputDataType=odt.name)
        replace(model, [n], [node])
        model.set_tensor_datatype(n.output[1], odt)
        return model
