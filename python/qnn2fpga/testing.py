"""Builders of tiny QONNX graphs for tests, and running the CLI as a user would."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys

import numpy as np
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.infer_datatypes import InferDataTypes
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.util.basic import qonnx_make_model

QONNX_DOMAIN = "qonnx.custom_op.general"


def golden_inputs(model: ModelWrapper, n: int, seed: int = 0, input_datatype: str = "") -> np.ndarray:
    """The `n` seeded inputs of `export_golden` (float32, `model`'s input shape): values in
    [-1, 1), or with `input_datatype` random pixels 0..255 ('UINT8'), without running it."""
    from qnn2fpga.transforms.input_quant import INPUT_SCALES  # noqa: PLC0415

    shape, rng = (n, *model.get_tensor_shape(model.graph.input[0].name)[1:]), np.random.default_rng(seed)
    if input_datatype:
        return rng.integers(0, INPUT_SCALES[input_datatype] + 1, size=shape).astype(np.float32)
    return rng.uniform(-1, 1, size=shape).astype(np.float32)


def export_golden(model: ModelWrapper, n: int, seed: int = 0,
                  input_datatype: str = "") -> tuple[np.ndarray, np.ndarray]:
    """`n` seeded random inputs in [-1, 1) of `model`'s input shape, and qonnx execution
    of `model` on each: the reference a compiled network must reproduce bit for bit.
    With `input_datatype` (a model compiled to take raw pixels, 'UINT8'): random pixels,
    and the export run on x / 255 (qnn2fpga.transforms.input_quant.scaled_input)."""
    from qonnx.core.onnx_exec import execute_onnx  # noqa: PLC0415

    from qnn2fpga.transforms.input_quant import scaled_input  # noqa: PLC0415

    ref = model.transform(InferShapes())
    name = ref.graph.input[0].name
    x = golden_inputs(ref, n, seed, input_datatype)
    fed = scaled_input(x, input_datatype) if input_datatype else x
    y = np.concatenate([execute_onnx(ref, {name: fed[i:i + 1]})[ref.graph.output[0].name] for i in range(n)])
    return x, y


def tiny_mlp_design(config: dict, tmp_path_factory):
    """tiny_mlp() compiled, folded by `config`, width converters and FIFOs inserted and
    sized by simulation, and written as a stitched design (an rtlsim.Design)."""
    from qnn2fpga import fifo_sizing, flow, folding, rtlsim  # noqa: PLC0415
    from qnn2fpga.transforms.insert_streams import InsertDWC, InsertFIFO  # noqa: PLC0415

    model = flow.compile_model(tiny_mlp())
    model, _ = folding.apply_config(model, config, "test config")
    model = model.transform(InsertDWC()).transform(InsertFIFO())
    model, _ = fifo_sizing.size_fifos(model, tmp_path_factory.mktemp("sizing"))
    return model, rtlsim.write_design(model, tmp_path_factory.mktemp("design"))


def runfile(var: str, suffix: str = "") -> pathlib.Path:
    """The one runfiles path ending in `suffix` among those environment variable `var`
    lists (a Bazel test's `$(rootpaths ...)`)."""
    root = pathlib.Path(os.environ["TEST_SRCDIR"]) / os.environ["TEST_WORKSPACE"]
    hits = [p for p in os.environ[var].split() if p.endswith(suffix)]
    assert len(hits) == 1, f"{var} names no single *{suffix}: {os.environ[var]}"
    return root / hits[0]


def make_model(nodes, inp, out, inits, dtypes=None, extra_inputs=()) -> ModelWrapper:
    """A model from (name, shape) input/output pairs and {name: array} initializers."""
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in (inp, *extra_inputs)]
    graph = helper.make_graph(nodes, "g", inputs, [helper.make_tensor_value_info(out[0], TensorProto.FLOAT, out[1])])
    model = ModelWrapper(qonnx_make_model(graph, producer_name="qnn2fpga-test"))
    for k, v in inits.items():
        model.set_initializer(k, np.asarray(v, dtype=np.float32))
    for k, v in (dtypes or {}).items():
        model.set_tensor_datatype(k, DataType[v])
    return model.transform(InferShapes()).transform(InferDataTypes())


def quant(x, out, scale, zeropt, bits, signed=1, narrow=0, mode="ROUND", name=""):
    """A qonnx Quant node."""
    return helper.make_node("Quant", [x, scale, zeropt, bits], [out], domain=QONNX_DOMAIN, name=name or out,
                            signed=signed, narrow=narrow, rounding_mode=mode)


def tiny_mlp(act_bits: int = 4, middle_op: str | None = None, seed: int = 0, fixed_point_out: bool = False,
             bn_tail: bool = False) -> ModelWrapper:
    """input -> 8-bit quant -> linear (4-bit per-channel weights) -> `act_bits` quant ->
    [middle_op] -> linear -> [batch norm as Sub, Div, Mul, Add] -> output: the smallest
    model that compiles to hardware layers. `fixed_point_out`: the second linear layer's
    activation and weight scales are powers of two (Brevitas' fixed-point quantizers),
    so the export's float arithmetic there is exact."""
    rng = np.random.default_rng(seed)
    nodes = [
        quant("x", "xq", "s_in", "zero", "b8", signed=0),
        quant("w1", "w1q", "s_w1", "zero", "b4", narrow=1),
        helper.make_node("MatMul", ["xq", "w1q"], ["h"], name="fc1"),
        quant("h", "hq", "s_h", "zero", "b_act"),
    ]
    last = "hq"
    if middle_op:
        nodes.append(helper.make_node(middle_op, [last], ["m"], name="middle"))
        last = "m"
    out = "z" if bn_tail else "y"
    nodes += [quant("w2", "w2q", "s_w2", "zero", "b4", narrow=1),
              helper.make_node("MatMul", [last, "w2q"], [out], name="fc2")]
    inits = {"s_in": 1 / 255, "zero": 0.0, "b8": 8.0, "b4": 4.0, "b_act": float(act_bits),
             "w1": rng.normal(size=(16, 12)), "s_w1": rng.uniform(0.05, 0.2, size=(1, 12)),
             "s_h": 0.125 if fixed_point_out else 0.1, "w2": rng.normal(size=(12, 5)),
             "s_w2": 0.25 if fixed_point_out else 0.1}
    if bn_tail:  # gamma with mixed signs: streamlining flips some channels' weights
        nodes += [helper.make_node("Sub", ["z", "bn_mean"], ["z1"], name="bn_sub"),
                  helper.make_node("Div", ["z1", "bn_std"], ["z2"], name="bn_div"),
                  helper.make_node("Mul", ["z2", "bn_gamma"], ["z3"], name="bn_mul"),
                  helper.make_node("Add", ["z3", "bn_beta"], ["y"], name="bn_add")]
        inits |= {"bn_mean": rng.normal(size=5), "bn_std": rng.uniform(0.5, 2, size=5),
                  "bn_gamma": rng.normal(size=5), "bn_beta": rng.normal(size=5)}
    return make_model(nodes, ("x", [1, 16]), ("y", [1, 5]), inits)


def tiny_gap_cnn(seed: int = 0, channels: int = 8, img: int = 6, pool_op: str = "GlobalAveragePool",
                 trunc: str | None = None) -> ModelWrapper:
    """input (1, 3, img, img) -> 8-bit quant -> 3x3 conv (4-bit per-channel weights) ->
    relu -> 4-bit unsigned quant -> average pooling (`pool_op`: GlobalAveragePool or
    ReduceMean over H and W, or AveragePool 2x2 stride 2) -> 4-bit unsigned quant ->
    flatten -> linear (4-bit weights) -> output (1, 5): the smallest model whose pooling
    compiles to GlobalAccPool (Pool for AveragePool). `trunc` (a rounding mode): the
    pooled mean goes through qonnx's Trunc (v2) to 6 bits first, as Brevitas'
    TruncAvgPool2d/TruncAdaptiveAvgPool2d export it.
    The quantizers around the pooling and the last weights have power-of-two scales, so the
    export's float arithmetic from the pooling on is exact: with another scale, a mean lying
    exactly between two levels (sum = level + 1/2) is rounded by float32 error in the export,
    while the compiled thresholds compare the exact integer sum."""
    rng = np.random.default_rng(seed)
    features = channels
    if pool_op == "ReduceMean":
        pool = helper.make_node("ReduceMean", ["rq"], ["p"], name="gap", axes=[2, 3], keepdims=1)  # opset 11
    elif pool_op == "AveragePool":
        pool = helper.make_node("AveragePool", ["rq"], ["p"], name="gap", kernel_shape=[2, 2], strides=[2, 2])
        features = channels * ((img - 2) // 2) ** 2
    else:
        pool = helper.make_node(pool_op, ["rq"], ["p"], name="gap")
    window = 4 if pool_op == "AveragePool" else (img - 2) ** 2  # pixels averaged
    pool_nodes = [pool]
    if trunc:
        pool.output[0] = "pm"
        pool_nodes.append(helper.make_node("Trunc", ["pm", "s_t", "zero", "b_tin", "s_tout", "b_tout"], ["p"],
                                           domain=QONNX_DOMAIN, name="trunc", rounding_mode=trunc, signed=0,
                                           narrow=0))
    nodes = [
        quant("x", "xq", "s_in", "zero", "b8"),
        quant("w1", "w1q", "s_w1", "zero", "b4", narrow=1),
        helper.make_node("Conv", ["xq", "w1q"], ["c"], name="conv", kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        quant("r", "rq", "s_r", "zero", "b4", signed=0),
        *pool_nodes,
        quant("p", "pq", "s_p", "zero", "b4", signed=0),
        helper.make_node("Flatten", ["pq"], ["f"], name="flatten"),
        quant("w2", "w2q", "s_w2", "zero", "b4", narrow=1),
        helper.make_node("MatMul", ["f", "w2q"], ["y"], name="fc"),
    ]
    inits = {"s_in": 1 / 128, "zero": 0.0, "b8": 8.0, "b4": 4.0,
             "w1": rng.normal(size=(channels, 3, 3, 3)), "s_w1": rng.uniform(0.05, 0.2, size=(channels, 1, 1, 1)),
             "s_r": 1 / 16, "s_p": 1 / 32, "w2": rng.normal(size=(features, 5)), "s_w2": 0.125}
    if trunc:  # the mean's scale: the activation's over the pixels pooled; 4 + log2 bits in, 6 out
        in_bits = 4 + int(np.ceil(np.log2(window)))
        inits |= {"s_t": inits["s_r"] / window, "b_tin": float(in_bits), "b_tout": 6.0}
        inits["s_tout"] = inits["s_t"] * 2 ** (in_bits - 6)
    model = make_model(nodes, ("x", [1, 3, img, img]), ("y", [1, 5]), inits)
    if trunc:  # Trunc with an output scale is version 2 of the qonnx domain
        del model.model.opset_import[:]
        model.model.opset_import.extend([helper.make_opsetid("", 11), helper.make_opsetid(QONNX_DOMAIN, 2)])
    return model


def _cli_env(cwd: str) -> dict:
    return {"PYTHONPATH": os.pathsep.join(sys.path), "BUILD_WORKING_DIRECTORY": cwd, "PATH": os.environ["PATH"],
            "HOME": cwd}


def qnn2fpga(*args: str, cwd: str) -> subprocess.CompletedProcess:
    """Runs the CLI as `bazel run` would: BUILD_WORKING_DIRECTORY is where the user is."""
    return subprocess.run([sys.executable, "-m", "qnn2fpga.cli", *args], capture_output=True, text=True,
                          env=_cli_env(cwd), cwd="/")


def qnn2fpga_started(*args: str, cwd: str) -> subprocess.Popen:
    """The CLI as qnn2fpga() runs it, started in a process group of its own (a terminal's
    Ctrl-C reaches the group: os.killpg(p.pid, signal.SIGINT)); stdout and stderr are pipes.
    It takes SIGINT even when this process ignores it (as under a shell without job
    control): a signal caught here is reset to the default in the child."""
    ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return subprocess.Popen([sys.executable, "-m", "qnn2fpga.cli", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=_cli_env(cwd), cwd="/", start_new_session=True)
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def one_error_line(p: subprocess.CompletedProcess) -> str:
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("qnn2fpga: ") and "; fix: " in lines[0]
    assert "Traceback" not in p.stderr
    return lines[0]


def tiny_depthwise(channels: int = 4, image: int = 6, kernel: int = 3, seed: int = 0) -> ModelWrapper:
    """input (1, C, H, W) -> 4-bit unsigned quant -> depthwise Conv (group = C, 4-bit
    weights, k x k, no padding) -> 4-bit quant -> output: the smallest model that compiles
    to a ConvolutionInputGenerator(depthwise=1) and a VVAU with fused thresholds."""
    rng = np.random.default_rng(seed)
    c, k = channels, kernel
    o = image - k + 1
    nodes = [
        quant("x", "xq", "s_in", "zero", "b4", signed=0),
        quant("w", "wq", "s_w", "zero", "b4", narrow=1),
        helper.make_node("Conv", ["xq", "wq"], ["h"], name="dwconv", kernel_shape=[k, k], group=c,
                         pads=[0, 0, 0, 0], strides=[1, 1], dilations=[1, 1]),
        quant("h", "y", "s_h", "zero", "b4"),
    ]
    # Power-of-two scales: the export's float arithmetic is exact, so compiled integer
    # execution matches qonnx bit for bit.
    inits = {"s_in": 1 / 16, "zero": 0.0, "b4": 4.0, "w": rng.normal(size=(c, 1, k, k)),
             "s_w": 0.25, "s_h": 0.125}
    return make_model(nodes, ("x", [1, c, image, image]), ("y", [1, c, o, o]), inits)
