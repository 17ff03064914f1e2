"""Whole-network execution of a compiled (and folded) model on a batch:

- mode "python": every node in qonnx execution (the hardware layers' numpy models);
- mode "rtlsim": the software head in qonnx execution, the hardware chain in the
  stitched design under Verilator (all frames in one run), the software tail in qonnx.

Inputs and outputs are in the original export's layout (e.g. NCHW float), batch first;
the compiled graph is built for batch 1, so the head and tail run per sample.
`qnn2fpga run` (compile, fold, then this) is qnn2fpga.steps.run_model.
"""

from __future__ import annotations

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper

from qnn2fpga import errors
from qnn2fpga.graph import real_inputs
from qnn2fpga.layers.base import HwLayer
from qnn2fpga.layers.registry import is_hw_layer

MODES = ("python", "rtlsim")


def check_batch(model: ModelWrapper, x, where: str) -> np.ndarray:
    """`x` as a float32 batch of the model's input: numeric, shape (N, *input shape[1:])."""
    x = np.asarray(x)
    if x.dtype.kind not in "fiu" or x.dtype == np.float16:
        raise errors.InputFileError(where, f"holds {x.dtype} values; the model takes real numbers",
                                    "save the batch as float32 (np.save(path, x.astype(np.float32)))")
    shape = tuple(model.get_tensor_shape(real_inputs(model)[0]))
    if x.ndim != len(shape) or tuple(x.shape[1:]) != shape[1:] or x.shape[0] < 1:
        raise errors.InputFileError(where, f"has shape {tuple(x.shape)}; the model takes a batch of shape "
                                    f"(N, {', '.join(map(str, shape[1:]))})", "reshape the batch to that layout")
    if not np.isfinite(x.astype(np.float64)).all():
        raise errors.InputFileError(where, "holds NaN or infinite values", "pass finite inputs")
    return x.astype(np.float32)


class Runner:
    """qonnx's `execute_onnx(model, feed, return_full_exec_context=True)`, prepared once
    for many executions of one model, with the same result: every node runs through the
    same implementation (qonnx's execute_node; a custom op's execute_node), and tensors
    with an integer datatype annotation are sanitized as qonnx does, around every node.
    Prepared once instead of per execution: the initializers as arrays (read-only, shared
    by the executions), the custom-op instances, the datatype annotations, and a hardware
    layer's node and parameter checks (its parameters are initializers, fixed). qonnx's
    sanitize_quant_values changes a tensor only where a value is not of its datatype
    (else it leaves the tensor as it is, after a Python-level max over every element,
    slow on conv feature maps); here that is checked vectorized, and a tensor that fails
    goes through qonnx's sanitize_quant_values itself. Not thread-safe."""

    def __init__(self, model: ModelWrapper):
        import qonnx.analysis.topology as ta  # noqa: PLC0415
        import qnn2fpga.layers  # noqa: F401,PLC0415 (hardware ops must be registered to execute)
        from qonnx.custom_op.registry import getCustomOp, is_custom_op  # noqa: PLC0415
        from qonnx.util.basic import get_preferred_qonnx_opset  # noqa: PLC0415

        if not model.check_all_tensor_shapes_specified():
            raise Exception("Found unspecified tensor shapes, try infer_shapes")
        if model.get_metadata_prop("exec_mode") not in (None, ""):
            raise Exception('Metadata property "exec_mode" is set to an unknown value.')
        self.model, graph = model, model.graph
        self._nodes = list(graph.node)
        self._index = {id(n): i for i, n in enumerate(self._nodes)}
        if model.analysis(ta.nodes_topologically_sorted)["nodes_topologically_sorted"] is not True:
            raise AssertionError("Nodes must be topologically sorted.")
        template = model.make_empty_exec_context()
        inits = {t.name for t in graph.initializer}
        for name in inits:
            template[name].setflags(write=False)
        self._template, self._inits = template, inits
        integer = {}
        for n in self._nodes:
            for t in list(n.input) + list(n.output):
                if t not in integer:
                    dt = model.get_tensor_datatype(t)
                    integer[t] = dt if dt.is_integer() else None
        # Initializers of their datatype stay so: they are not sanitized per execution.
        settled = {t for t in inits if integer.get(t) is not None and _of_datatype(template[t], integer[t])}
        opsets = model.get_opset_imports()
        self._steps = []
        for n in self._nodes:
            opset = opsets.get(n.domain, get_preferred_qonnx_opset())
            inst, checked = None, False
            if is_custom_op(n.domain, n.op_type):
                try:
                    inst = getCustomOp(n, onnx_opset_version=opset)
                except KeyError:
                    raise Exception("Custom op_type %s is currently not supported." % n.op_type) from None
                if isinstance(inst, HwLayer):
                    params = n.input[len(inst.normal_input_shapes()):]
                    if all(t in settled or (t in inits and integer.get(t) is None) for t in params):
                        inst.check_node()
                        inst.check_params([template[t] for t in params])
                        checked = True
            sanitize_in = [(t, integer[t]) for t in n.input if integer[t] is not None and t not in settled]
            sanitize_out = [(t, integer[t]) for t in n.output if integer[t] is not None]
            self._steps.append((n, opset, inst, checked, sanitize_in, sanitize_out))

    def context(self, feed: dict, start=None, end=None) -> dict:
        """Every tensor after executing the nodes from `start` to `end` (nodes of the
        model, default first and last) on `feed` (tensor name -> array)."""
        from qonnx.core.onnx_exec import execute_node  # noqa: PLC0415
        from qonnx.util.basic import get_sanitize_quant_tensors  # noqa: PLC0415

        ctx = {k: v if k in self._inits or v is None else np.zeros(v.shape, v.dtype) for k, v in self._template.items()}
        for name, value in feed.items():
            if name in ctx:
                if ctx[name].shape != value.shape:
                    raise Exception("Shape mismatch for provided input %s: found %s expected %s "
                                    % (name, str(ctx[name].shape), str(value.shape)))
                ctx[name] = value
        a = 0 if start is None else self._index[id(start)] if id(start) in self._index else \
            self.model.get_node_index(start)
        b = len(self._nodes) - 1 if end is None else self._index[id(end)] if id(end) in self._index else \
            self.model.get_node_index(end)
        sanitize = get_sanitize_quant_tensors() != 0
        graph = self.model.graph
        for node, opset, inst, checked, sanitize_in, sanitize_out in self._steps[a:b + 1]:
            if sanitize:
                self._sanitize(sanitize_in, ctx)
            if inst is None:
                execute_node(node, ctx, graph, opset, True)
            elif checked:
                inst.execute_node(ctx, graph, checked=True)
            else:
                inst.execute_node(ctx, graph)
            if sanitize:
                self._sanitize(sanitize_out, ctx)
        return ctx

    def _sanitize(self, tensors, ctx: dict) -> None:
        from qonnx.util.basic import sanitize_quant_values  # noqa: PLC0415

        for name, dt in tensors:
            if not _of_datatype(ctx[name], dt):
                sanitize_quant_values(self.model, [name], ctx)


def _of_datatype(value, dt) -> bool:
    """Every element of the (non-empty) `value` is a value of `dt`: qonnx's sanitizing
    leaves such a tensor unchanged."""
    if not isinstance(value, np.ndarray) or value.size == 0:
        return False
    ok = dt.allowed(value)
    return bool(ok.all() if isinstance(ok, np.ndarray) else ok)


def _run(model: ModelWrapper | Runner, feed: dict, start=None, end=None, want: str | None = None) -> np.ndarray:
    runner = model if isinstance(model, Runner) else Runner(model)
    return runner.context(feed, start, end)[want or runner.model.graph.output[0].name]


def hw_span(model: ModelWrapper) -> tuple[int, int]:
    """Indices of the first and last hardware node; refuses hardware interleaved with software."""
    idx = [i for i, n in enumerate(model.graph.node) if is_hw_layer(n)]
    if not idx:
        raise errors.ModelError("the model", "has no hardware layers", "compile it first")
    if idx != list(range(idx[0], idx[-1] + 1)):
        odd = next(model.graph.node[i] for i in range(idx[0], idx[-1]) if not is_hw_layer(model.graph.node[i]))
        raise errors.UnsupportedOpError(f"{odd.op_type} node '{odd.name}'", "runs in software between hardware "
                                        "layers", "the hardware part must be one contiguous chain")
    return idx[0], idx[-1]


def execute(model: ModelWrapper, x: np.ndarray, mode: str = "python", design=None, binary=None) -> np.ndarray:
    """Runs the batch `x`; in rtlsim mode `design`/`binary` come from qnn2fpga.rtlsim
    (write_design, compile_design) for this model."""
    inp = real_inputs(model)[0]
    if mode == "python":
        runner = Runner(model)
        return np.concatenate([_run(runner, {inp: x[i:i + 1]}) for i in range(len(x))])
    if mode != "rtlsim":
        raise errors.InputFileError("--mode", f"'{mode}' is not a mode", f"use one of {', '.join(MODES)}")
    from qnn2fpga import rtlsim  # noqa: PLC0415

    a, b = hw_span(model)
    nodes, runner = model.graph.node, Runner(model)
    first, last = nodes[a], nodes[b]
    if a > 0:
        hw_in = np.concatenate([_run(runner, {inp: x[i:i + 1]}, end=nodes[a - 1], want=first.input[0])
                                for i in range(len(x))])
    else:
        hw_in = x
    result = rtlsim.simulate(binary, design, hw_in)
    if not result.ok:
        raise errors.QnnError("the stitched design", f"stopped: {result.report['diagnosis']}",
                              "report this with the model and folding")
    y = result.y.reshape(len(x), *model.get_tensor_shape(last.output[0])[1:])
    if b == len(nodes) - 1:
        return y
    return np.concatenate([_run(runner, {last.output[0]: y[i:i + 1]}, start=nodes[b + 1]) for i in range(len(x))])
