"""Whole-network execution of a compiled (and folded) model on a batch:

- mode "python": every node in qonnx execution (the hardware layers' numpy models);
- mode "rtlsim": the software head in qonnx execution, the hardware chain in the
  stitched design under Verilator (all frames in one run), the software tail in qonnx.

Inputs and outputs are in the original export's layout (e.g. NCHW float), batch first;
the compiled graph is built for batch 1, so the head and tail run per sample.
"""

from __future__ import annotations

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx

from qnn2fpga import errors
from qnn2fpga.graph import real_inputs
from qnn2fpga.layers.base import is_hw_layer

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


def _run(model: ModelWrapper, feed: dict, start=None, end=None, want: str | None = None) -> np.ndarray:
    import qnn2fpga.layers  # noqa: F401,PLC0415 (hardware ops must be registered to execute)

    ctx = execute_onnx(model, feed, return_full_exec_context=True, start_node=start, end_node=end)
    return ctx[want or model.graph.output[0].name]


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
        return np.concatenate([_run(model, {inp: x[i:i + 1]}) for i in range(len(x))])
    if mode != "rtlsim":
        raise errors.InputFileError("--mode", f"'{mode}' is not a mode", f"use one of {', '.join(MODES)}")
    from qnn2fpga import rtlsim  # noqa: PLC0415

    a, b = hw_span(model)
    nodes = model.graph.node
    first, last = nodes[a], nodes[b]
    if a > 0:
        hw_in = np.concatenate([_run(model, {inp: x[i:i + 1]}, end=nodes[a - 1], want=first.input[0])
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
    return np.concatenate([_run(model, {last.output[0]: y[i:i + 1]}, start=nodes[b + 1]) for i in range(len(x))])


def run_model(original: ModelWrapper, x: np.ndarray, mode: str = "python", folding_config: str | None = None,
              target_fps: float | None = None, board: str | None = None, fclk_mhz: float | None = None,
              topk: int = 0, log=None) -> np.ndarray:
    """Compiles `original`, folds it (a FINN-format config, automatic folding for
    `target_fps` on `board`, or every layer's default folding), and runs the batch `x`.
    In rtlsim mode the folded graph gets width converters and FIFOs, the FIFOs are sized
    by simulation (qnn2fpga.fifo_sizing), and the stitched design is built (cached)."""
    import tempfile  # noqa: PLC0415

    from qnn2fpga import boards, build, flow, folding  # noqa: PLC0415

    model = flow.compile_model(original, flow.CompileOptions(topk=topk))
    if folding_config:
        model, warnings = build.apply_folding_file(model, folding_config)
        for w in warnings:
            if log:
                log(f"warning: {w}")
    elif target_fps is not None:
        b = boards.load_board(board)
        model, _ = folding.auto_fold(model, b, target_fps, fclk_mhz or b.default_clock_mhz)
    if mode == "python":
        return execute(model, x, "python")
    if mode != "rtlsim":
        raise errors.InputFileError("--mode", f"'{mode}' is not a mode", f"use one of {', '.join(MODES)}")
    from qnn2fpga import fifo_sizing, rtlsim  # noqa: PLC0415

    model = build.insert_streams(model, folding_config)
    with tempfile.TemporaryDirectory(prefix="qnn2fpga-run-") as tmp:
        model, _ = fifo_sizing.size_fifos(model, tmp, log=log)
        design = rtlsim.write_design(model, f"{tmp}/design")
        return execute(model, x, "rtlsim", design, rtlsim.compile_design(design, log=log))
