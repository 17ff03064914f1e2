"""The typed hardware-layer base class.

A hardware layer is a qonnx custom op in the `qnn2fpga.layers` domain. Its module
declares typed node attributes as class-level `Attr` descriptors and defines the hooks
below; this base derives everything else, so central passes (folding, estimates, FIFO and
width-converter insertion, backends) call one interface and never test `op_type`:

    @register_layer("Thresholding")
    class Thresholding(HwLayer):
        NumChannels = IntAttr(doc="channels (innermost axis)")
        PE = FoldAttr(divides="NumChannels")
        ...
        def normal_input_shapes(self): ...      # streamed inputs, channels last
        def normal_output_shapes(self): ...
        def input_datatypes(self): ...          # qonnx DataType per streamed input
        def output_datatypes(self): ...
        def input_folds(self): ...              # elements per stream word (SIMD or PE)
        def output_folds(self): ...
        def cycles(self): ...                   # expected cycles per input frame
        def resource_features(self): ...        # sizes the LUT/FF models are linear in
        def execute(self, x, thresholds): ...   # numpy golden reference
        @classmethod
        def examples(cls, rng): ...             # small instances for the conformance test

Every hook is abstract; `register_layer` refuses (at import) a class that leaves one out,
so nothing is estimated as a silent 0. Optional hooks: `param_names()` (parameter inputs),
`check_layer()` (attribute consistency), `check_params(params)` (parameter values),
`memories()` (parameter memories for resource estimates), `weight_stream_width()` and
`fold_ties()` (constraints for automatic folding), `rtl(params)` (the RTL backend,
qnn2fpga.layers.rtl), `random_params(rng, variant)` (parameters for generated hardware
tests) and `emits_activation_levels()` (outputs compared with the source network's
activation quantizers by qnn2fpga.verify). Node inputs are the streamed inputs first, then
the parameter inputs named by `param_names()` (weights, thresholds, ...), which are
initializers (or, for external memory modes, streamed by the host at run time).

Layers whose streams are all (*numInputVectors, NumChannels) tensors, PE elements per
word, take their shape, fold and cycle hooks from the `ChannelStreams` mixin.

The attribute descriptors live in qnn2fpga.layers.attrs, the registry (`register_layer`,
`get_layer`, ...) in qnn2fpga.layers.registry, the RTL backend vocabulary
(`RtlInstance`, ...) in qnn2fpga.layers.rtl; all are importable from qnn2fpga.layers.

Shapes are channels last: (N, H, W, C) images, (N, C) vectors, (*numInputVectors, C) in
general. A stream's folded shape splits the innermost axis into (C / fold, fold), where
fold (SIMD or PE) is the number of elements per stream word.

Reading `layer.MW` gives the typed value (int, list[int], str, DataType) and raises a
`qnn2fpga.errors.ModelError`/`DataTypeError` naming the node when it is missing or
malformed; `layer.PE = 4` writes it. qonnx's `get_nodeattr`/`set_nodeattr` keep working
on the raw ONNX values (datatypes as names).
"""

from __future__ import annotations

import math
from abc import abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Sequence

import numpy as np
from onnx import AttributeProto, NodeProto, TensorProto, helper, numpy_helper
from qonnx.core.datatype import BaseDataType, DataType
from qonnx.custom_op.base import CustomOp

from qnn2fpga.errors import DataTypeError, FoldingError, ModelError
from qnn2fpga.layers import numerics
from qnn2fpga.layers.attrs import Attr, AttrProblem, FoldAttr, IntsAttr, StrAttr
from qnn2fpga.layers.registry import DOMAIN
from qnn2fpga.layers.resources import Memory

if TYPE_CHECKING:
    from qnn2fpga.layers.rtl import RtlInstance

Shape = tuple[int, ...]


# --- conformance examples ----------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    """A small, valid configuration of a layer: node attributes and the values of its
    parameter inputs (in `param_names()` order). The conformance test builds one-node
    models from these."""

    attrs: dict[str, Any]
    params: tuple[np.ndarray, ...] = field(default=())
    label: str = ""


# --- the base class ----------------------------------------------------------------------


class HwLayer(CustomOp):
    """Base of every hardware layer (see the module docstring for the hooks to define)."""

    op_type: ClassVar[str] = ""  # set by register_layer
    # True for layers whose folds follow from their neighbours (width converters, FIFOs):
    # automatic folding leaves them alone.
    folded_by_neighbours: ClassVar[bool] = False
    # The Bazel verilog_library holding the layer's RTL ("" when it has none): `rtl()`
    # instantiates modules from it, the generated layer lists of qnn_accelerator name it,
    # and rtlsim compiles the .sv files of its package.
    rtl_library: ClassVar[str] = ""

    # Attributes every layer has (FINN's names): FIFO depths on its streams, sized later
    # or given in a folding config, and the preferred implementation.
    inFIFODepths = IntsAttr([2], doc="FIFO depth before each streamed input")
    outFIFODepths = IntsAttr([2], doc="FIFO depth after each output")
    preferred_impl_style = StrAttr(
        "", allowed=("", "rtl", "hls"), doc="implementation to prefer: rtl or hls",
        not_implemented={"hls": "every layer is built from hand-written RTL (there is no HLS backend); 'hls' "
                                "would select an HLS implementation once one exists"})

    def __init__(self, onnx_node: NodeProto, onnx_opset_version: int = 1):
        super().__init__(onnx_node, onnx_opset_version=onnx_opset_version)

    # ---- hooks every layer defines ----

    @abstractmethod
    def normal_input_shapes(self) -> list[Shape]:
        """Unfolded shapes of the streamed inputs (node inputs 0..k-1), channels last."""

    @abstractmethod
    def normal_output_shapes(self) -> list[Shape]:
        """Unfolded shapes of the outputs, channels last."""

    @abstractmethod
    def input_datatypes(self) -> list[BaseDataType]:
        """Element datatype of each streamed input."""

    @abstractmethod
    def output_datatypes(self) -> list[BaseDataType]:
        """Element datatype of each output."""

    @abstractmethod
    def input_folds(self) -> list[int]:
        """Elements per stream word of each streamed input (its SIMD or PE)."""

    @abstractmethod
    def output_folds(self) -> list[int]:
        """Elements per stream word of each output (its PE or SIMD)."""

    @abstractmethod
    def cycles(self) -> int:
        """Expected clock cycles to process one input frame (the tensors of the normal
        input shapes) at full throughput, without stalls; document the formula."""

    @abstractmethod
    def execute(self, *arrays: np.ndarray) -> np.ndarray | tuple[np.ndarray, ...]:
        """The numpy golden reference: streamed inputs then parameters (node input order)
        -> output(s). Integer-valued arrays in; integer results out (any numeric dtype).
        The leading (batch) axis may differ from the normal shape's."""

    @abstractmethod
    def resource_features(self) -> dict[str, float]:
        """Named sizes the layer's LUT/FF counts are linear in (e.g. lane bits, comparator
        bits, stream bits); the per-family models in qnn2fpga/estimates hold the
        coefficients, fitted to Yosys runs. Include "dsp": multipliers mapped to DSPs."""

    @classmethod
    @abstractmethod
    def examples(cls, rng: np.random.Generator) -> list[Example]:
        """Small valid configurations, used by the registry-wide conformance test."""

    # ---- optional hooks ----

    def param_names(self) -> list[str]:
        """Names of the parameter inputs that follow the streamed inputs (default none)."""
        return []

    def check_layer(self) -> None:
        """Layer-specific consistency of the attributes (raise ModelError/DataTypeError)."""

    def check_params(self, params: Sequence[np.ndarray]) -> None:
        """Checks parameter values (shapes, datatypes, ranges) against the attributes."""

    def memories(self) -> list[Memory]:
        """The layer's parameter memories as the RTL builds them (default none); block
        RAM/UltraRAM counts and memory LUTs are derived from these."""
        return []

    def resource_class(self) -> str:
        """Which fitted resource model applies: the op type, or a finer class when one op
        builds very different hardware by configuration (e.g. "MVAU/xnor")."""
        return self.op_type

    def op_and_param_counts(self) -> dict[str, int]:
        """Operations and parameters per frame for op_and_param_counts.json, with FINN's
        keys: op_mac_<INPUT>_<WEIGHT>, param_weight_<DT>, param_threshold_<DT>."""
        return {}

    def fold_ties(self) -> list[str]:
        """Fold attributes that must equal the consumer's `producer_fold()` (a sliding window
        feeding a depthwise or pooling layer); automatic folding keeps them tied."""
        return []

    def producer_fold(self) -> int:
        """The fold a producer tied to this layer (its `fold_ties`) must take: by default
        this layer's input fold; a layer that reads several producer words per word says
        otherwise."""
        return self.input_folds()[0]

    def weight_stream_width(self) -> int:
        """Bits per word of a weight stream that leaves the layer's own memory (0: none)."""
        return 0

    def rtl(self, params: Sequence[np.ndarray]) -> "RtlInstance | None":
        """What to instantiate from rtl/ for this layer with these parameter values (None:
        no RTL implementation yet). The wrapper and memory files are generated from it."""
        return None

    def random_params(self, rng: np.random.Generator, variant: str = "") -> list[np.ndarray]:
        """Random valid parameter values, in `param_names()` order, for generated hardware
        tests (tools/layer_testbench.py, the `variant` attribute of hw_layer_test).
        `variant` names a kind of parameters the layer knows (e.g. "shared_thresholds");
        "" is the general case, and an unknown variant raises ModelError. The default
        serves layers without parameters: it returns []."""
        numerics.check_variant(self.where, variant, ("",))
        if self.param_names():
            raise ModelError(self.where, f"takes parameters {self.param_names()} but defines no random_params",
                             f"define {self.op_type}.random_params, or give the parameters (--params)")
        return []

    def emits_activation_levels(self) -> bool:
        """True when output 0 carries the integer levels of an activation quantizer of the
        source network (a multi-threshold activation); qnn2fpga.verify compares these,
        value for value, with the quantizers of the original graph. Default False."""
        return False

    # ---- declared attributes ----

    @classmethod
    def _attr_table(cls) -> dict[str, Attr]:
        cached = cls.__dict__.get("_attr_table_cache")
        if cached is None:
            cached = {}
            for klass in reversed(cls.__mro__):
                for name, value in vars(klass).items():
                    if isinstance(value, Attr):
                        cached[name] = value
            cls._attr_table_cache = cached
        return cached

    @classmethod
    def declared_attrs(cls) -> dict[str, Attr]:
        """All declared attributes, base classes first, in declaration order."""
        return dict(cls._attr_table())

    @classmethod
    def fold_attrs(cls) -> dict[str, FoldAttr]:
        """The folding factors (PE/SIMD) and, via `.divides`, the dimension each divides."""
        return {n: a for n, a in cls.declared_attrs().items() if isinstance(a, FoldAttr)}

    def get_nodeattr_types(self) -> dict[str, tuple]:
        return {name: a.qonnx_def() for name, a in self.declared_attrs().items()}

    @property
    def where(self) -> str:
        """How errors name this node."""
        node = self.onnx_node
        if node.name:
            return f"{node.op_type} node '{node.name}'"
        out = f" (output '{node.output[0]}')" if node.output else ""
        return f"unnamed {node.op_type} node{out}"

    def attr(self, name: str) -> Any:
        """The typed value of attribute `name` (its default when unset)."""
        try:
            a = self._attr_table()[name]
        except KeyError:
            raise AttributeError(f"{self.op_type} declares no attribute {name!r}") from None
        # qonnx's get_by_name in one pass (it lists every name first; this is the hot path
        # of automatic folding and the estimates)
        found = [p for p in self.onnx_node.attribute if p.name == name]
        if len(found) > 1:
            raise Exception("Found multiple get_by_name matches, undefined behavior")
        proto = found[0] if found else None
        try:
            if proto is None:
                if a.required:
                    raise AttrProblem(f"required attribute {name} is not set",
                                      f"set {name}" + (f" ({a.doc})" if a.doc else ""))
                return a.decode(a.encode(a.default))
            if proto.type != a.onnx_type:
                raise AttrProblem(
                    f"attribute {name} has ONNX type {AttributeProto.AttributeType.Name(proto.type)}, "
                    f"expected {AttributeProto.AttributeType.Name(a.onnx_type)}",
                    f"store {name} as {AttributeProto.AttributeType.Name(a.onnx_type)}")
            return a.decode(helper.get_attribute_value(proto))
        except AttrProblem as p:
            raise p.error(self.where, p.problem, p.fix) from None

    def set_attr(self, name: str, value: Any) -> None:
        """Writes attribute `name` from a typed value (DataTypes may be given as names).
        An undeclared name or a malformed value raises ModelError/DataTypeError."""
        declared = self._attr_table()
        if name not in declared:
            raise ModelError(self.where, f"unknown attribute {name!r}",
                             f"use an attribute {self.op_type} declares: {', '.join(sorted(declared))}")
        a = declared[name]
        try:
            raw = a.encode(value)
            a.decode(raw)  # validate before writing
        except AttrProblem as p:
            raise p.error(self.where, p.problem, p.fix) from None
        new = helper.make_attribute(name, raw, attr_type=a.onnx_type)
        attrs = self.onnx_node.attribute
        for i, proto in enumerate(attrs):
            if proto.name == name:
                attrs[i].CopyFrom(new)
                return
        attrs.append(new)

    @classmethod
    def make_node(cls, inputs: Sequence[str], outputs: Sequence[str], name: str = "", **attrs: Any) -> NodeProto:
        """A node of this layer in the qnn2fpga.layers domain. Attributes are typed values
        (DataTypes or their names); unknown names raise ModelError."""
        node = helper.make_node(cls.op_type, list(inputs), list(outputs), name=name, domain=DOMAIN)
        layer = cls(node)
        for key, value in attrs.items():
            layer.set_attr(key, value)
        return node

    # ---- checks ----

    def check_attributes(self) -> None:
        """Every attribute present and well-formed, no unknown attribute, and the layer's
        own consistency rules. Raises ModelError or DataTypeError naming the node."""
        declared = self.declared_attrs()
        unknown = sorted(a.name for a in self.onnx_node.attribute if a.name not in declared)
        if unknown:
            raise ModelError(self.where, f"unknown attribute(s) {unknown}",
                             f"remove them or fix their spelling; {self.op_type} declares {sorted(declared)}")
        for name in declared:
            self.attr(name)
        self.check_layer()

    def check_node(self) -> None:
        """check_attributes, then the right number of inputs and outputs."""
        self.check_attributes()  # first: the shape hooks rely on it
        n_in = len(self.normal_input_shapes()) + len(self.param_names())
        if len(self.onnx_node.input) != n_in:
            names = [f"stream{i}" for i in range(len(self.normal_input_shapes()))] + self.param_names()
            raise ModelError(self.where, f"has {len(self.onnx_node.input)} inputs, expected {n_in} "
                             f"({', '.join(names)})", "connect exactly these inputs in this order")
        n_out = len(self.normal_output_shapes())
        if len(self.onnx_node.output) != n_out:
            raise ModelError(self.where, f"has {len(self.onnx_node.output)} outputs, expected {n_out}",
                             "connect exactly that many outputs")

    def check_folding(self) -> None:
        """Each fold attribute is >= 1 and divides its dimension; raises FoldingError."""
        for name, fold in self.fold_attrs().items():
            value, dim = self.attr(name), self.attr(fold.divides)
            if value < 1 or dim % value != 0:
                raise FoldingError(self.where, f"{name}={value} does not divide {fold.divides}={dim}",
                                   f"set {name} to a divisor of {dim}: {_divisor_list(dim)}")

    def verify_node(self) -> list[str]:
        """qonnx's verification hook: raises on the first problem (attributes, then
        folding); returns qonnx-style info messages when the node is fine."""
        self.check_node()
        self.check_folding()
        return [f"{self.where}: attributes and folding are valid"]

    # ---- derived interface (FINN-compatible names) ----

    def get_normal_input_shape(self, ind: int = 0) -> Shape:
        return tuple(self.normal_input_shapes()[ind])

    def get_normal_output_shape(self, ind: int = 0) -> Shape:
        return tuple(self.normal_output_shapes()[ind])

    def _folded(self, shape: Shape, fold: int, what: str) -> Shape:
        self.check_folding()
        if fold < 1 or shape[-1] % fold != 0:
            raise FoldingError(self.where, f"{what} fold {fold} does not divide its innermost dimension {shape[-1]}",
                               f"use a fold that divides {shape[-1]}: {_divisor_list(shape[-1])}")
        return tuple(shape[:-1]) + (shape[-1] // fold, fold)

    def get_folded_input_shape(self, ind: int = 0) -> Shape:
        """Normal shape with the innermost axis split into (C / fold, fold)."""
        return self._folded(self.get_normal_input_shape(ind), self.input_folds()[ind], f"input {ind}")

    def get_folded_output_shape(self, ind: int = 0) -> Shape:
        return self._folded(self.get_normal_output_shape(ind), self.output_folds()[ind], f"output {ind}")

    def get_input_datatype(self, ind: int = 0) -> BaseDataType:
        return self.input_datatypes()[ind]

    def get_output_datatype(self, ind: int = 0) -> BaseDataType:
        return self.output_datatypes()[ind]

    def get_instream_width(self, ind: int = 0) -> int:
        """Bits per input stream word: fold * element bits."""
        return self.input_folds()[ind] * self.get_input_datatype(ind).bitwidth()

    def get_outstream_width(self, ind: int = 0) -> int:
        return self.output_folds()[ind] * self.get_output_datatype(ind).bitwidth()

    def get_instream_width_padded(self, ind: int = 0) -> int:
        """Input stream width rounded up to whole bytes (the AXI-stream TDATA width)."""
        return _roundup8(self.get_instream_width(ind))

    def get_outstream_width_padded(self, ind: int = 0) -> int:
        return _roundup8(self.get_outstream_width(ind))

    def get_number_input_values(self, ind: int = 0) -> int:
        """Stream words per frame on input `ind`."""
        return math.prod(self.get_folded_input_shape(ind)[:-1])

    def get_number_output_values(self, ind: int = 0) -> int:
        """Stream words per frame on output `ind`."""
        return math.prod(self.get_folded_output_shape(ind)[:-1])

    def stream_bound_cycles(self) -> int:
        """Words on the busiest stream per frame: the cycle count of a layer that moves
        one word per cycle on each stream and never re-reads its input."""
        words = [self.get_number_input_values(i) for i in range(len(self.normal_input_shapes()))]
        words += [self.get_number_output_values(i) for i in range(len(self.normal_output_shapes()))]
        return max(words)

    # ---- qonnx CustomOp interface ----

    def make_shape_compatible_op(self, model) -> NodeProto:
        self.check_node()
        self.check_model(model)
        node = self.onnx_node
        if len(node.output) != 1:
            raise NotImplementedError(f"{self.op_type}: a layer with several outputs must override "
                                      "make_shape_compatible_op")
        shape = self.get_normal_output_shape(0)
        elem = _declared_elem_type(model.graph, node.output[0])
        if elem in (None, TensorProto.FLOAT):
            return self.make_const_shape_op(shape)
        # An integer container (e.g. indices): a constant of that type carries the shape.
        zeros = np.zeros(shape, dtype=helper.tensor_dtype_to_np_dtype(elem))
        return helper.make_node("Constant", [], [node.output[0]], value=numpy_helper.from_array(zeros))

    def infer_node_datatype(self, model) -> None:
        """Sets the output annotations from the attributes. A streamed input annotated
        with another integer datatype than the layer expects is an error (stream packing
        would disagree); an unannotated (FLOAT32) input is accepted."""
        self.check_node()
        for i, name in enumerate(self.onnx_node.input[: len(self.normal_input_shapes())]):
            have, want = model.get_tensor_datatype(name), self.get_input_datatype(i)
            if have != want and have != DataType["FLOAT32"]:
                raise DataTypeError(self.where, f"input '{name}' is annotated {have.name} but the layer "
                                    f"expects {want.name}",
                                    f"set the layer's input datatype to {have.name}, or annotate '{name}' "
                                    f"with {want.name} if its producer really emits {want.name}")
        for i, name in enumerate(self.onnx_node.output):
            model.set_tensor_datatype(name, self.get_output_datatype(i))

    def execute_node(self, context: dict, graph, checked: bool = False) -> None:
        """Python execution: checks inputs against shapes and datatypes, runs `execute`,
        checks the results fit the output datatypes and stores them exactly. `checked`:
        the node and its parameter values were checked already (check_node, check_params;
        qnn2fpga.execute.Runner does so once for many executions)."""
        if not checked:
            self.check_node()
        node = self.onnx_node
        n_streams = len(self.normal_input_shapes())
        streams = [np.asarray(context[t]) for t in node.input[:n_streams]]
        params = [np.asarray(context[t]) for t in node.input[n_streams:]]
        if not checked:
            self.check_params(params)
        batch = streams[0].shape[0] if streams and streams[0].ndim else None
        for i, (name, x) in enumerate(zip(node.input, streams)):
            self._check_stream_shape(name, x.shape, self.get_normal_input_shape(i), batch)
            streams[i] = self.as_input_shape(i, x)
            dt = self.get_input_datatype(i)
            bad = numerics.not_allowed(x, dt)
            if bad.size:
                raise DataTypeError(self.where, f"input '{name}' holds {_few(bad)}, outside {dt.name}",
                                    f"feed values of {dt.name}, or set the layer's input datatype to match "
                                    f"the producer")
        results = self.execute(*streams, *params)
        results = (results,) if isinstance(results, np.ndarray) else tuple(results)
        for i, (name, y) in enumerate(zip(node.output, results)):
            expected = self.get_normal_output_shape(i)
            if batch is not None:
                expected = (batch,) + tuple(expected[1:])
            if tuple(y.shape) != tuple(expected):
                raise AssertionError(f"{self.where}: execute returned shape {y.shape}, expected {expected}")
            dt = self.get_output_datatype(i)
            bad = numerics.not_allowed(y, dt)
            if bad.size:
                raise DataTypeError(self.where, f"output '{name}' would hold {_few(bad)}, outside {dt.name}",
                                    "widen the layer's output (or accumulator) datatype, or narrow its "
                                    "inputs/parameters")
            context[name] = self._to_container(y, graph, name)

    # ---- helpers ----

    def check_model(self, model) -> None:
        """Checks what the model knows about this node's inputs: stream shapes (when
        annotated) and parameter values (when they are initializers)."""
        node = self.onnx_node
        n_streams = len(self.normal_input_shapes())
        for i, name in enumerate(node.input[:n_streams]):
            shape = model.get_tensor_shape(name)
            if shape is not None and all(isinstance(d, int) and d > 0 for d in shape):
                self._check_stream_shape(name, tuple(shape), self.get_normal_input_shape(i), None)
        params = [model.get_initializer(t) for t in node.input[n_streams:]]
        if all(p is not None for p in params):
            self.check_params(params)

    def as_input_shape(self, ind: int, x: np.ndarray) -> np.ndarray:
        """Streamed input `ind` in the layer's normal shape (keeping its batch axis): a
        tensor in another shape with the same elements per frame (a layer's output read
        through a removed Reshape/Flatten, see qnn2fpga.transforms.to_hw) is the same
        stream, since streams carry a tensor's elements in row-major order."""
        expected = self.get_normal_input_shape(ind)
        if x.ndim == len(expected) and tuple(x.shape[1:]) == tuple(expected[1:]):
            return x
        return x.reshape(x.shape[0], *expected[1:])

    def _check_stream_shape(self, name: str, shape: Shape, expected: Shape, batch: int | None) -> None:
        """The input is `expected` (any leading batch size), or another view of the same
        stream: a shape with the same leading batch axis and as many elements per frame
        (a row-major reshape leaves the element order, and so the stream, unchanged)."""
        ok = len(shape) >= 1 and math.prod(shape[1:]) == math.prod(expected[1:])
        if ok and batch is not None:
            ok = shape[0] == batch
        if not ok:
            raise ModelError(self.where, f"input '{name}' has shape {tuple(shape)}, expected {tuple(expected)} "
                             f"(any leading batch size; or any shape of {math.prod(expected[1:])} elements per "
                             "batch entry, the same stream)",
                             "make the layer's shape attributes match the tensor it consumes")

    def _to_container(self, y: np.ndarray, graph, name: str) -> np.ndarray:
        elem = _declared_elem_type(graph, name)
        if elem not in (None, TensorProto.FLOAT):
            return numerics.as_int64(y).astype(helper.tensor_dtype_to_np_dtype(elem))
        try:
            return numerics.to_float32_exact(y)
        except ValueError as e:
            raise DataTypeError(self.where, f"output '{name}': {e}",
                                "declare the output tensor with an integer type, or keep values within 2**24")

    def param_error(self, problem: str, fix: str, error: type = ModelError) -> Exception:
        """An error about a parameter input, naming this node."""
        return error(self.where, problem, fix)


def _roundup8(bits: int) -> int:
    return (bits + 7) // 8 * 8


def _few(values: np.ndarray, n: int = 5) -> str:
    vals = [int(v) if float(v).is_integer() else float(v) for v in values.reshape(-1)[:n]]
    more = ", ..." if values.size > n else ""
    return "[" + ", ".join(str(v) for v in vals) + more + "]"


def _divisor_list(n: int) -> str:
    ds = numerics.divisors(n) if n > 0 else []
    return ", ".join(map(str, ds)) if len(ds) <= 16 else ", ".join(map(str, ds[:16])) + ", ..."


def _declared_elem_type(graph, name: str) -> int | None:
    for vi in list(graph.value_info) + list(graph.output) + list(graph.input):
        if vi.name == name and vi.type.HasField("tensor_type"):
            return vi.type.tensor_type.elem_type or None
    return None


class ChannelStreams:
    """Mixin (listed before HwLayer) for layers whose streams are all (*numInputVectors,
    NumChannels) tensors with PE elements per word: `n_inputs` streamed inputs and
    `n_outputs` outputs. Defines the shape and fold hooks, and `cycles` as one word per
    cycle on every stream; the layer declares NumChannels, PE and numInputVectors (a layer
    with other folds, such as the width converter, overrides the fold hooks and cycles)."""

    n_inputs: ClassVar[int] = 1
    n_outputs: ClassVar[int] = 1

    def stream_shape(self) -> Shape:
        """(*numInputVectors, NumChannels): the shape of every stream."""
        return (*self.numInputVectors, self.NumChannels)

    def normal_input_shapes(self) -> list[Shape]:
        return [self.stream_shape()] * self.n_inputs

    def normal_output_shapes(self) -> list[Shape]:
        return [self.stream_shape()] * self.n_outputs

    def input_folds(self) -> list[int]:
        return [self.PE] * self.n_inputs

    def output_folds(self) -> list[int]:
        return [self.PE] * self.n_outputs

    def cycles(self) -> int:
        """prod(numInputVectors) * NumChannels / PE: one word per cycle on every stream."""
        return math.prod(self.numInputVectors) * (self.NumChannels // self.PE)


def check_vectors_and_channels(layer: "HwLayer") -> None:
    """For layers shaped (*numInputVectors, NumChannels): both are positive."""
    if not layer.numInputVectors or any(v < 1 for v in layer.numInputVectors) or layer.NumChannels < 1:
        raise ModelError(layer.where, f"shape {layer.numInputVectors} x {layer.NumChannels} is not positive",
                         "set numInputVectors (e.g. [1, H, W]) and NumChannels to positive sizes")
