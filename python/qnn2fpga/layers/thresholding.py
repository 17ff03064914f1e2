"""Thresholding: a standalone multi-threshold activation, per channel."""

from __future__ import annotations

import math

import numpy as np

from qnn2fpga.errors import ModelError
from qnn2fpga.graph import node_attr
from qnn2fpga.layers import numerics
from qnn2fpga.layers.attrs import DTypeAttr, FoldAttr, IntAttr, IntsAttr, StrAttr
from qnn2fpga.layers.base import ChannelStreams, Example, HwLayer, check_vectors_and_channels
from qnn2fpga.layers.registry import register_layer
from qnn2fpga.layers.conversion import converts, int_datatype, replace, threshold_activation, typed_node
from qnn2fpga.layers.resources import Memory
from qnn2fpga.layers.rtl import RAM_STYLES, RtlInstance, axilite_tie_offs


@register_layer("Thresholding")
class Thresholding(ChannelStreams, HwLayer):
    """out = ActVal + count(x >= thresholds[c]) per channel c of the innermost axis, or
    -1/+1 for a BIPOLAR output (one threshold, ActVal 0). x (*numInputVectors,
    NumChannels); thresholds (NumChannels, T), or (1, T) with shared_thresholds = 1,
    ascending per row. PE channels per cycle.

    Implementation (what rtl() instantiates and the estimate models): comparators against
    a threshold memory, against constants when the memory has one word (shared row or
    NumChannels == PE, not runtime-writable), or, for a shared constant row on a narrow
    input, a table indexed by the input code (`threshold_table`)."""

    # Largest input width of the table implementation: 2^8 words per lane.
    TABLE_MAX_IN_BITS = 8

    NumChannels = IntAttr(doc="channels (innermost axis)")
    PE = FoldAttr(divides="NumChannels", doc="channels per cycle; divides NumChannels")
    inputDataType = DTypeAttr(doc="datatype of x")
    outputDataType = DTypeAttr(doc="datatype of the output")
    numInputVectors = IntsAttr([1], doc="leading dimensions of x, e.g. [1] or [1, H, W]")
    ActVal = IntAttr(0, doc="added to the threshold count")
    ram_style = StrAttr("auto", allowed=RAM_STYLES, doc="threshold memory style")
    runtime_writeable_weights = IntAttr(0, allowed=(0, 1), doc="1: thresholds writable over AXI-lite")
    depth_trigger_bram = IntAttr(64, doc="threshold memory depth (words) from which block RAM is used")
    depth_trigger_uram = IntAttr(0, doc="threshold memory depth from which UltraRAM is used (0: never)")
    shared_thresholds = IntAttr(0, allowed=(0, 1), doc="1: one threshold row (parameter shape (1, T)) for every "
                                "channel, the RTL's SHARED; set by the conversion from a per-tensor MultiThreshold")

    def input_datatypes(self):
        return [self.inputDataType]

    def output_datatypes(self):
        return [self.outputDataType]

    def param_names(self):
        return ["thresholds"]

    def emits_activation_levels(self) -> bool:
        return True

    def check_layer(self) -> None:
        check_vectors_and_channels(self)
        if self.memory_style() == "ultra" and not self.runtime_writeable_weights:
            raise ModelError(self.where, f"the threshold memory would be UltraRAM (ram_style={self.ram_style!r}, "
                             f"depth {self.memory_depth()} >= depth_trigger_uram="
                             f"{self.depth_trigger_uram}), which has no initial contents",
                             "set runtime_writeable_weights=1, or another ram_style / depth_trigger_uram=0")
        if self.outputDataType == numerics.BIPOLAR and self.ActVal != 0:
            raise ModelError(self.where, f"a BIPOLAR output maps to -1/+1 by itself, but ActVal={self.ActVal}",
                             "set ActVal=0")

    def check_sharing(self, thresholds: np.ndarray) -> None:
        """Raises (naming the layer) unless the threshold rows match shared_thresholds: one
        row when it is 1, NumChannels rows when it is 0 (one channel: either)."""
        rows = np.asarray(thresholds).shape[0]
        if self.shared_thresholds and rows != 1:
            raise ModelError(self.where, f"shared_thresholds=1 but the thresholds have {rows} rows",
                             "give one row (shape (1, T)), or set shared_thresholds=0")
        if not self.shared_thresholds and rows == 1 and self.NumChannels > 1:
            raise ModelError(self.where, f"one threshold row for {self.NumChannels} channels, but shared_thresholds=0 "
                             "(the estimate would assume a memory of per-channel rows)",
                             "set shared_thresholds=1, or give one row per channel")

    def threshold_table(self) -> bool:
        """Whether the layer is a table indexed by the input code instead of comparators
        (rtl/thresholding TABLE = 1). Cost rule: the thresholds must be one shared row of
        constants (shared_thresholds, not runtime-writable) and the input at most
        TABLE_MAX_IN_BITS wide; then the table is used when, per lane, its LUTs as a
        constant table in logic (resources.rom_logic_luts: OUT_BITS LUTs per 64 words) are
        at most those of the comparators against constants: half a LUT per input bit per
        threshold (Yosys: 0.49 per bit, the fitted cmp_const_bits coefficient), plus one
        per threshold for counting them. E.g. 8-bit pixels with 255 thresholds: 32 against
        1,275 LUTs; a 4-bit input with 15 thresholds: 4 against 45; 8 bits with one
        threshold (TFC's input): 4 against 5. Yosys then makes the table smaller still
        (a monotone step function: the table_luts coefficient is about 0.8)."""
        from qnn2fpga import packing  # noqa: PLC0415
        from qnn2fpga.layers.resources import rom_logic_luts  # noqa: PLC0415

        in_bits = packing.element_bits(self.inputDataType)
        if not self.shared_thresholds or self.runtime_writeable_weights or in_bits > self.TABLE_MAX_IN_BITS:
            return False
        table = rom_logic_luts(2 ** in_bits, packing.element_bits(self.outputDataType))
        return table <= self.n_thresholds() * (math.ceil(in_bits / 2) + 1)

    def table_bit_luts(self) -> int:
        """LUTs of one lane's table, by output bit: the table is a monotone step function,
        so output bit i (most significant first) changes value at most min(2^i, T) times
        along the input range; about two LUTs per change (a comparison with a constant),
        at most what the bit costs as a general table in logic (resources.rom_logic_luts:
        one LUT per 64 input values). E.g. 8-bit pixels into 8 bits: 2 + 7 x 4 = 30."""
        from qnn2fpga import packing  # noqa: PLC0415
        from qnn2fpga.layers.resources import rom_logic_luts  # noqa: PLC0415

        full = rom_logic_luts(2 ** packing.element_bits(self.inputDataType), 1)
        n = self.n_thresholds()
        return sum(min(2 * min(2 ** i, n), full) for i in range(packing.element_bits(self.outputDataType)))

    def memory_depth(self) -> int:
        """Words of the threshold memory: NumChannels / PE, one for a shared row."""
        return 1 if self.shared_thresholds else self.NumChannels // max(1, self.PE)

    def memory_style(self) -> str:
        """The threshold memory primitive: ram_style, or for "auto" the depth triggers on
        the memory depth (as rtl/thresholding/thresholding.sv picks it)."""
        if self.ram_style != "auto":
            return self.ram_style
        depth = self.memory_depth()
        if 0 < self.depth_trigger_uram <= depth:
            return "ultra"
        return "block" if depth >= self.depth_trigger_bram else "distributed"

    def op_and_param_counts(self):
        return {f"param_threshold_{self.inputDataType.name}": self.NumChannels * self.n_thresholds()}

    def n_thresholds(self) -> int:
        odt = self.outputDataType
        return 1 if odt == numerics.BIPOLAR else int(odt.max() - odt.min())

    def threshold_bits(self) -> int:
        """Bits of one threshold as the RTL stores it, signed: bipolar inputs compare codes
        against [0, 2]; other inputs against [min, max + 1]."""
        from qnn2fpga import packing  # noqa: PLC0415

        idt = self.inputDataType
        return 3 if idt == numerics.BIPOLAR else packing.element_bits(idt) + (1 if idt.signed() else 2)

    def memories(self):
        """The threshold memory; none when it is one constant word (the RTL makes it
        constants) or the layer is a table (its LUTs are the table_luts feature: a
        monotone table in logic costs less than a general one)."""
        depth = self.memory_depth()
        if self.threshold_table() or (depth == 1 and not self.runtime_writeable_weights):
            return []
        return [Memory(depth, self.PE * self.n_thresholds() * self.threshold_bits(), self.memory_style(),
                       rom=not self.runtime_writeable_weights)]

    def resource_features(self):
        """Comparators (PE x thresholds x threshold bits; against constants when the memory
        has one constant word), the count of thresholds reached, stream registers, AXI-lite
        writes; a table (threshold_table) instead of comparators and counts: table_luts
        (table_bit_luts per lane)."""
        from qnn2fpga import packing  # noqa: PLC0415

        width = self.PE * self.n_thresholds() * self.threshold_bits()
        in_bits = packing.element_bits(self.inputDataType)
        table = self.threshold_table()
        cmp = 0 if table else self.PE * self.n_thresholds() * in_bits
        const = self.memory_depth() == 1 and not self.runtime_writeable_weights
        return {
            "one": 1,
            "cmp_bits": 0 if const else cmp,
            "cmp_const_bits": cmp if const else 0,
            "count_bits": 0 if table else self.PE * self.n_thresholds() * max(1, self.n_thresholds().bit_length()),
            "table_luts": self.PE * self.table_bit_luts() if table else 0,
            "stream_bits": self.PE * (packing.element_bits(self.inputDataType)
                                      + packing.element_bits(self.outputDataType)),
            "axilite_bits": width if self.runtime_writeable_weights else 0,
            "dsp": 0,
        }

    def check_params(self, params) -> None:
        numerics.check_activation(self.where, params[0], self.NumChannels, self.ActVal, self.outputDataType)
        self.check_sharing(params[0])

    def random_params(self, rng: np.random.Generator, variant: str = "") -> list[np.ndarray]:
        """Per-channel sorted thresholds over the input range (for generated hardware
        tests); one row for every channel with shared_thresholds (variant
        "shared_thresholds" asks for it too; check_sharing refuses it without the attribute)."""
        numerics.check_variant(self.where, variant, ("", "shared_thresholds"))
        n = self.n_thresholds()
        idt = self.inputDataType
        lo, hi = (-1, 1) if idt == numerics.BIPOLAR else (int(idt.min()), int(idt.max()) + 1)
        rows = 1 if variant == "shared_thresholds" or self.shared_thresholds else self.NumChannels
        t = np.sort(rng.integers(lo, hi + 1, size=(rows, n)), axis=1)
        return [t.astype(np.float32)]

    def table_words(self, thresholds: np.ndarray) -> list[int]:
        """The table of TABLE mode: word i = the output code for the input code i, from
        execute (the numerics of the python model, ActVal and BIPOLAR included)."""
        from qnn2fpga import packing  # noqa: PLC0415

        codes = np.arange(2 ** packing.element_bits(self.inputDataType))
        x = packing.decode(codes, self.inputDataType).reshape(-1, 1)
        y = self.execute(x, np.asarray(thresholds)[:1])
        return [int(v) for v in packing.encode(y.reshape(-1), self.outputDataType)]

    def rtl(self, params):
        """rtl/thresholding: thresholds as memory words (packing.threshold_words), or in
        TABLE mode the output code of every input code (table_words)."""
        from qnn2fpga import packing  # noqa: PLC0415

        self.check_sharing(params[0])
        idt, odt = self.inputDataType, self.outputDataType
        if idt == numerics.BIPOLAR:
            # The RTL compares the 1-bit code c of x = 2c - 1: x >= t iff c >= (t + 1) / 2.
            t = numerics.comparator_thresholds((params[0] + 1) / 2, 0, 1)
        else:
            t = numerics.comparator_thresholds(params[0], int(idt.min()), int(idt.max()))
        thr_bits = self.threshold_bits()
        shared = self.shared_thresholds
        rows = t if shared else np.broadcast_to(t, (self.NumChannels, t.shape[1]))
        words = packing.threshold_words(np.repeat(rows, self.PE, axis=0) if shared else rows, self.PE, thr_bits)
        width = self.PE * t.shape[1] * thr_bits
        table = self.threshold_table()
        if table:
            words, width = self.table_words(params[0]), packing.element_bits(odt)
        p = dict(NUM_CHANNELS=self.NumChannels, PE=self.PE, NUM_VECTORS=math.prod(self.numInputVectors),
                 IN_BITS=packing.element_bits(idt), IN_SIGNED=int(idt.signed() and idt != numerics.BIPOLAR),
                 N_THRES=t.shape[1], THR_BITS=thr_bits, OUT_BITS=packing.element_bits(odt),
                 ACT_VAL=self.ActVal, OUT_BIPOLAR=int(odt == numerics.BIPOLAR), SHARED=shared, TABLE=int(table),
                 RAM_STYLE=self.ram_style, DEPTH_TRIGGER_BRAM=self.depth_trigger_bram,
                 DEPTH_TRIGGER_URAM=self.depth_trigger_uram)
        p["RUNTIME_WRITEABLE"] = self.runtime_writeable_weights
        ports = dict(axilite=("THRES_FILE", packing.axilite_addr_bits(len(words), width))) \
            if self.runtime_writeable_weights else axilite_tie_offs()
        return RtlInstance(module="thresholding", library=self.rtl_library, params=p,
                           memories={"THRES_FILE": (words, width)}, latency=3, **ports)

    def execute(self, x, thresholds):
        return numerics.threshold_activation(x, thresholds, self.ActVal, self.outputDataType)

    @classmethod
    def examples(cls, rng):
        t8 = np.sort(rng.integers(-100, 100, size=(8, 7)), axis=1).astype(np.float32)
        t1 = np.sort(rng.integers(-8, 8, size=(1, 3)), axis=1).astype(np.float32)
        tb = rng.integers(-3, 3, size=(6, 1)).astype(np.float32)
        return [
            Example(dict(NumChannels=8, PE=2, inputDataType="INT8", outputDataType="INT4", ActVal=-4,
                         numInputVectors=[1, 2, 3]), (t8,), "per-channel, image"),
            Example(dict(NumChannels=4, PE=4, inputDataType="INT5", outputDataType="UINT2", shared_thresholds=1), (t1,),
                    "shared"),
            Example(dict(NumChannels=6, PE=3, inputDataType="INT4", outputDataType="BIPOLAR"), (tb,), "bipolar"),
        ]

    # ---- the Verilog library of rtl() (read by qnn_accelerator and rtlsim) ----

    rtl_library = "//rtl/thresholding"

    # ---- conversion from the front end (transforms/to_hw.py) ----

    @converts("MultiThreshold", order=50)
    def from_multithreshold(cls, model, mt):
        """A standalone MultiThreshold on an integer channels-last input -> Thresholding
        (one after a MatMul was fused into its MVAU already)."""
        xdt = int_datatype(model, mt.input[0])
        act = threshold_activation(model, mt)
        shape = model.get_tensor_shape(mt.input[0])
        if xdt is None or act is None or (len(shape) == 4 and node_attr(mt, "data_layout", "") != "NHWC"):
            return None
        rows = model.get_tensor_shape(mt.input[1])[0]
        node = typed_node(cls, [mt.input[0], mt.input[1]], [mt.output[0]], mt.name, NumChannels=shape[-1], PE=1,
                          inputDataType=xdt.name, numInputVectors=list(shape[:-1]),
                          shared_thresholds=int(rows == 1 and shape[-1] > 1), **act)
        return replace(model, [mt], [node])
