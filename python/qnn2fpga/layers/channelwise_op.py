"""ChannelwiseOp: per-channel add, multiply or comparison with an integer parameter (e.g.
folded batch-norm offsets and scales that could not become thresholds)."""

from __future__ import annotations

import numpy as np

from qnn2fpga.errors import DataTypeError
from qnn2fpga.graph import channel_vector, const_operand, new_const
from qnn2fpga.layers import numerics
from qnn2fpga.layers.attrs import DTypeAttr, FoldAttr, IntAttr, IntsAttr, StrAttr
from qnn2fpga.layers.base import ChannelStreams, Example, HwLayer, check_vectors_and_channels
from qnn2fpga.layers.conversion import converts, int_datatype, replace, typed_node
from qnn2fpga.layers.registry import register_layer
from qnn2fpga.layers.resources import Memory, counter_bits, in_luts
from qnn2fpga.layers.rtl import RtlInstance

FUNCS = ("add", "mul", "cmp_le", "cmp_ge")  # FINN's names; their order is the RTL's FUNC
COMPARES = ("cmp_le", "cmp_ge")


@register_layer("ChannelwiseOp")
class ChannelwiseOp(ChannelStreams, HwLayer):
    """out[..., c] = x[..., c] (+ or *) p[c], or 1 where x[..., c] <= p[c] (cmp_le) /
    >= p[c] (cmp_ge) and 0 elsewhere; x (*numInputVectors, NumChannels); the parameter
    input p has shape (NumChannels,) or (1,) (shared). PE channels per cycle."""

    Func = StrAttr(allowed=FUNCS, doc="add, mul, cmp_le or cmp_ge")
    NumChannels = IntAttr(doc="channels (innermost axis)")
    PE = FoldAttr(divides="NumChannels", doc="channels per cycle; divides NumChannels")
    inputDataType = DTypeAttr(doc="datatype of x")
    paramDataType = DTypeAttr(doc="datatype of the parameters")
    outputDataType = DTypeAttr(doc="datatype of the output; must hold every result")
    numInputVectors = IntsAttr([1], doc="leading dimensions, e.g. [1, H, W]")
    ram_style = StrAttr("distributed", allowed=("auto", "block", "distributed"),
                        doc="memory primitive of the parameters (a ROM: URAM has no initial contents)")

    def input_datatypes(self):
        return [self.inputDataType]

    def output_datatypes(self):
        return [self.outputDataType]

    def param_names(self):
        return ["params"]

    def op_and_param_counts(self):
        return {f"param_{self.Func}_{self.paramDataType.name}": self.NumChannels}

    def memories(self):
        from qnn2fpga import packing  # noqa: PLC0415

        return [Memory(self.NumChannels // self.PE, self.PE * packing.element_bits(self.paramDataType),
                       self.ram_style)]

    def _operand_bits(self, dt) -> int:
        """Bits of an operand of the lane's OUT_BITS-wide add or multiply after Yosys drops
        constant high bits: an unsigned element keeps its own bits; a signed or bipolar one
        is extended to the output's width."""
        from qnn2fpga import packing  # noqa: PLC0415

        ob = packing.element_bits(self.outputDataType)
        return min(ob, packing.element_bits(dt)) if not dt.signed() and dt != numerics.BIPOLAR else ob

    def dsp_lanes(self) -> bool:
        """Whether Yosys maps each lane's multiply to a DSP: operands of at least 2 bits and
        a product of at least 9 (synth_xilinx's mul2dsp limits), one DSP per lane."""
        from qnn2fpga import packing  # noqa: PLC0415

        a, b = self._operand_bits(self.inputDataType), self._operand_bits(self.paramDataType)
        return self.Func == "mul" and min(a, b) >= 2 and min(packing.element_bits(self.outputDataType), a + b) >= 9

    def resource_features(self):
        """Sizes of rtl/channelwise_op: out_bits, the output skid buffer (two registers and
        a multiplexer per bit); add_bits, the adders; mul_bits, the partial-product bits of
        the multipliers kept in LUTs (those below the output's width: the product is
        truncated to it); cmp_bits, the comparators (the wider operand's bits and a sign);
        rom_add_bits, the adders again when the parameters are a table
        of 3 to 8 words in logic (Yosys's UltraScale+ mapping merges table, read address
        and adder into wide multiplexer trees, about three times the LUTs); count_bits,
        the channel-group counter and the parameter read address. Multiplies that Yosys
        maps to DSPs cost one DSP per lane."""
        from qnn2fpga import packing  # noqa: PLC0415

        ob = packing.element_bits(self.outputDataType)
        a, b = self._operand_bits(self.inputDataType), self._operand_bits(self.paramDataType)
        mul, dsp, nf = self.Func == "mul", self.dsp_lanes(), self.NumChannels // self.PE
        pp = sum(min(b, ob - i) for i in range(a))
        cmp = self.Func in COMPARES
        # a comparison is a subtraction's carry chain over the wider operand (plus a sign bit)
        cmp_bits = max(packing.element_bits(self.inputDataType), packing.element_bits(self.paramDataType)) + 1
        return {"one": 1, "out_bits": self.PE * ob, "add_bits": 0 if mul or cmp else self.PE * ob,
                "cmp_bits": self.PE * cmp_bits if cmp else 0,
                "mul_bits": self.PE * pp if mul and not dsp else 0,
                "rom_add_bits": (self.PE * ob if self.Func == "add" and 2 < nf <= 8 and in_luts(self.memories()[0])
                                 else 0),
                "count_bits": counter_bits(nf), "dsp": self.PE if dsp else 0}

    def check_layer(self) -> None:
        check_vectors_and_channels(self)

    def output_range(self, params: np.ndarray) -> tuple[int, int]:
        """Exact (min, max) of the output over all inputs of inputDataType."""
        p = numerics.as_int64(params)
        lo_x, hi_x = int(self.inputDataType.min()), int(self.inputDataType.max())
        if self.Func in COMPARES:
            return 0, 1
        if self.Func == "add":
            return lo_x + int(p.min()), hi_x + int(p.max())
        ends = np.concatenate([p * lo_x, p * hi_x])
        return int(ends.min()), int(ends.max())

    def check_params(self, params) -> None:
        p = params[0]
        if p.shape not in ((self.NumChannels,), (1,)):
            raise self.param_error(f"params have shape {p.shape}, expected ({self.NumChannels},) or (1,)",
                                   "give one parameter per channel (or one shared)")
        bad = numerics.not_allowed(p, self.paramDataType)
        if bad.size:
            raise self.param_error(f"params hold {bad[:5].tolist()}, outside {self.paramDataType.name}",
                                   "widen paramDataType", DataTypeError)
        lo, hi = self.output_range(p)
        odt = self.outputDataType
        if lo < odt.min() or hi > odt.max():
            raise self.param_error(f"results span [{lo}, {hi}], outside outputDataType={odt.name}",
                                   f"set outputDataType={numerics.smallest_int_datatype(lo, hi).name}",
                                   DataTypeError)

    @converts("Mul", order=44)
    def from_mul(cls, model, node):
        """Mul of an integer tensor by integer constants along its last axis (one per
        channel, or one) that feeds hardware -> ChannelwiseOp: what streamlining leaves
        when it cannot absorb a scale, e.g. the integer factor between the operands of a
        residual add (MoveLinearPastJoin). Before AddStreams (45), which then reads its
        datatype. A scale on the way to the output stays in software."""
        return cls._from_linear(model, node, "mul")

    @converts("Add", order=44)
    def from_add(cls, model, node):
        """Add of integer constants to an integer tensor -> ChannelwiseOp (see from_mul)."""
        return cls._from_linear(model, node, "add")

    @classmethod
    def _from_linear(cls, model, node, func: str):
        pair = const_operand(model, node)
        if pair is None:
            return None
        x, c = pair
        xdt, shape = int_datatype(model, x), model.get_tensor_shape(x)
        if xdt is None or not shape or list(model.get_tensor_shape(node.output[0])) != list(shape):
            return None
        if not cls._feeds_hardware(model, node.output[0]):
            return None  # e.g. the output's scale: the software tail keeps it
        p = channel_vector(c, len(shape), -1)
        if p is None or p.size not in (1, shape[-1]) or not np.array_equal(p, np.round(p)):
            return None
        p = p.astype(np.float64)
        pdt = numerics.smallest_int_datatype(int(p.min()), int(p.max()))
        new = typed_node(cls, [x, new_const(model, p.astype(np.float32), pdt)], [node.output[0]], node.name,
                         Func=func, NumChannels=shape[-1], PE=1, inputDataType=xdt.name, paramDataType=pdt.name,
                         outputDataType="INT32", numInputVectors=list(shape[:-1]))
        layer = cls(new)
        lo, hi = layer.output_range(p)
        if max(abs(lo), abs(hi)) > numerics.FLOAT32_EXACT_INT:
            return None  # beyond exact float32 integers (and 32-bit sums): left for the not-converted report
        layer.set_attr("outputDataType", numerics.smallest_int_datatype(lo, hi))
        return replace(model, [node], [new])

    @staticmethod
    def _feeds_hardware(model, tensor: str) -> bool:
        """Read only by hardware layers, thresholds or a join of two computed tensors (which
        later conversions make hardware), and not a graph output."""
        from qnn2fpga.layers.registry import is_hw_layer  # noqa: PLC0415

        readers = model.find_consumers(tensor) or []
        if not readers or tensor in {o.name for o in model.graph.output}:
            return False
        return all(is_hw_layer(r) or r.op_type == "MultiThreshold" or
                   (r.op_type == "Add" and const_operand(model, r) is None) for r in readers)

    def random_params(self, rng: np.random.Generator, variant: str = "") -> list[np.ndarray]:
        """Parameters drawn uniformly from the values of paramDataType whose results fit
        outputDataType for every input (for generated hardware tests); variant "shared":
        one parameter for every channel."""
        numerics.check_variant(self.where, variant, ("", "shared"))
        pdt, odt = self.paramDataType, self.outputDataType
        values = (np.array([-1, 1]) if pdt == numerics.BIPOLAR else
                  np.arange(int(pdt.min()), int(pdt.max()) + 1))
        lo_x, hi_x = (-1, 1) if self.inputDataType == numerics.BIPOLAR else \
            (int(self.inputDataType.min()), int(self.inputDataType.max()))
        if self.Func in COMPARES:
            lo, hi = np.zeros_like(values), np.ones_like(values)
        elif self.Func == "add":
            lo, hi = values + lo_x, values + hi_x
        else:
            lo, hi = np.minimum(values * lo_x, values * hi_x), np.maximum(values * lo_x, values * hi_x)
        fits = values[(lo >= odt.min()) & (hi <= odt.max())]
        if not fits.size:
            raise DataTypeError(self.where, f"no {pdt.name} parameter keeps every result in {odt.name}",
                                "widen outputDataType")
        return [rng.choice(fits, size=1 if variant == "shared" else self.NumChannels).astype(np.float32)]

    def rtl(self, params):
        """rtl/channelwise_op: the parameters as NumChannels / PE memory words of PE fields
        (a shared parameter repeated); one registered output word (latency 1)."""
        from qnn2fpga import packing  # noqa: PLC0415

        def kind(dt):
            return 2 if dt == numerics.BIPOLAR else int(dt.signed())

        idt, pdt, odt = self.inputDataType, self.paramDataType, self.outputDataType
        bits = [packing.element_bits(d) for d in (idt, pdt, odt)]
        if max(bits) > 63:
            raise DataTypeError(self.where, f"{idt.name}, {pdt.name} -> {odt.name}: the RTL takes up to 63 bits",
                                "narrow the datatypes")
        p = np.broadcast_to(np.asarray(params[0]).reshape(-1), (self.NumChannels,))
        words = packing.pack_words(p, pdt, self.PE)
        width = self.PE * bits[1]
        return RtlInstance(module="channelwise_op", library=self.rtl_library, latency=1, params=dict(
            NUM_CHANNELS=self.NumChannels, PE=self.PE, FUNC=FUNCS.index(self.Func), IN_BITS=bits[0],
            IN_KIND=kind(idt), P_BITS=bits[1], P_KIND=kind(pdt), OUT_BITS=bits[2], RAM_STYLE=self.ram_style),
            memories={"PARAM_FILE": (words, width)})

    def execute(self, x, params):
        x, p = numerics.as_int64(x), numerics.as_int64(params)
        ops = {"add": np.add, "mul": np.multiply, "cmp_le": np.less_equal, "cmp_ge": np.greater_equal}
        return ops[self.Func](x, p).astype(np.int64)

    @classmethod
    def examples(cls, rng):
        return [
            Example(dict(Func="add", NumChannels=6, PE=2, inputDataType="INT4", paramDataType="INT4",
                         outputDataType="INT5", numInputVectors=[1, 2, 2]),
                    (rng.integers(-8, 8, size=6).astype(np.float32),), "add"),
            Example(dict(Func="mul", NumChannels=4, PE=4, inputDataType="UINT4", paramDataType="INT3",
                         outputDataType="INT8"), (rng.integers(-4, 4, size=4).astype(np.float32),), "mul"),
            Example(dict(Func="mul", NumChannels=3, inputDataType="BIPOLAR", paramDataType="UINT2",
                         outputDataType="INT3"), (np.array([3.0], np.float32),), "shared"),
            Example(dict(Func="cmp_ge", NumChannels=4, PE=2, inputDataType="INT4", paramDataType="INT5",
                         outputDataType="BINARY"), (rng.integers(-16, 16, size=4).astype(np.float32),), "cmp_ge"),
        ]

    # ---- the Verilog library of rtl() (read by qnn_accelerator and rtlsim) ----

    rtl_library = "//rtl/channelwise_op"

