"""Residual blocks and 1-D convolutions through the front end, on tiny hand-built
graphs: streamlining moves the operands' scales past the join Add, lowering sinks the
layout transposes through the fork and the join, to_hw emits DuplicateStreams,
AddStreams and ChannelwiseOp, and the compiled graph computes what the original does
(bit-exact: every scale is a power of two, so float32 rounds nothing). What cannot be
mapped exactly is reported, naming the add."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.transformation.general import SortGraph
from qonnx.transformation.infer_shapes import InferShapes

from qnn2fpga import errors, execute, report, steps
from qnn2fpga.testing import QONNX_DOMAIN as Q
from qnn2fpga.testing import make_model as make
from qnn2fpga.transforms import cleanup, streamline

C, H = 4, 5


def run(model, x: np.ndarray) -> np.ndarray:
    """qonnx execution of a one-input model."""
    import qnn2fpga.layers  # noqa: F401,PLC0415 (registers the layer ops with qonnx)

    return execute_onnx(model, {model.graph.input[0].name: x})[model.graph.output[0].name]


def ops(model) -> list[str]:
    return [n.op_type for n in model.graph.node]


def _mt(x, t, y, out_dtype, bias=0.0):
    return helper.make_node("MultiThreshold", [x, t], [y], domain=Q, out_dtype=out_dtype, out_bias=bias,
                            data_layout="NCHW")


def _residual_block(skip_scale: float, seed: int = 0):
    """x -> levels (UINT4) * 1/4 = a; branch: 3x3 conv (INT3 weights, padding 1) -> BN-like
    per-channel scale -> INT4 levels * 1/2; skip: a requantized to INT4 levels *
    skip_scale; add; UINT4 levels * 1/8; flatten; a linear classifier (INT3 weights)."""
    rng = np.random.default_rng(seed)
    w = rng.integers(-3, 4, size=(C, C, 3, 3)).astype(np.float32)
    nodes = [
        _mt("x", "t0", "a_l", "UINT4"), helper.make_node("Mul", ["a_l", "s0"], ["a"]),
        helper.make_node("Conv", ["a", "w"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Mul", ["c", "sc"], ["cs"]),
        _mt("cs", "t1", "b_l", "INT4", -8.0), helper.make_node("Mul", ["b_l", "s1"], ["b"]),
        _mt("a", "t2", "k_l", "INT4", -8.0), helper.make_node("Mul", ["k_l", "sk"], ["k"]),
        helper.make_node("Add", ["b", "k"], ["j"], name="join"),
        _mt("j", "t3", "y_l", "UINT4"), helper.make_node("Mul", ["y_l", "s3"], ["ys"]),
        helper.make_node("Reshape", ["ys", "flat"], ["f"]), helper.make_node("MatMul", ["f", "wf"], ["y"]),
    ]
    inits = {
        "t0": np.arange(15, dtype=np.float32).reshape(1, 15) / 4 + 0.125, "s0": 0.25, "w": w,
        "sc": (2.0 ** rng.integers(-3, 0, size=C)).reshape(1, C, 1, 1),
        "t1": np.sort(rng.normal(size=(C, 15)) * 4, axis=1), "s1": 0.5,
        "t2": np.sort(rng.normal(size=(1, 15)) * 2, axis=1), "sk": skip_scale,
        "t3": np.sort(rng.normal(size=(1, 15)) * 4, axis=1), "s3": 0.125, "flat": [1, -1],
        "wf": rng.integers(-2, 3, size=(C * H * H, 3)),
    }
    m = make(nodes, ("x", [1, C, H, H]), ("y", [1, 3]), inits, {"w": "INT3", "wf": "INT3"})
    m.set_initializer("flat", np.array([1, -1], np.int64))
    return m.transform(InferShapes())


def _inputs(n=20, seed=1):
    return np.random.default_rng(seed).uniform(-0.5, 4.5, size=(n, 1, C, H, H)).astype(np.float32)


def test_streamlining_moves_a_common_scale_past_the_join():
    m = _residual_block(skip_scale=0.5)
    s = m.transform(cleanup.ImportAndClean()).transform(streamline.Streamline())
    join = [n for n in s.graph.node if n.op_type == "Add"]
    assert len(join) == 1 and all(s.find_producer(t).op_type == "MultiThreshold" for t in join[0].input)
    assert ops(s).count("Mul") == 1  # only the classifier's input scale is left, after the last quantizer
    for x in _inputs():
        np.testing.assert_array_equal(run(s, x), run(m, x))


@pytest.mark.parametrize("skip_scale,layers", [
    (0.5, {"DuplicateStreams", "AddStreams", "MVAU", "Thresholding"}),
    # The skip's scale is twice the branch's: its levels are doubled in hardware.
    (1.0, {"DuplicateStreams", "AddStreams", "ChannelwiseOp", "MVAU", "Thresholding"}),
])
def test_a_residual_block_compiles_to_fork_and_join_layers(skip_scale, layers):
    m = _residual_block(skip_scale)
    hw = steps.run(m, steps.StepConfig(), last="to_hw")
    part = report.check_converted(hw)
    assert layers <= {n.op_type for n in part.hw}
    assert "Transpose" not in {n.op_type for n in part.hw}
    xs = _inputs()
    expected = np.concatenate([run(m, x) for x in xs])
    np.testing.assert_array_equal(execute.execute(hw, xs.reshape(-1, C, H, H), "python"), expected)


def test_a_join_of_unrelated_scales_is_reported_naming_the_add():
    m = _residual_block(skip_scale=0.3)
    with pytest.raises(errors.UnsupportedOpError, match=r"'join' \(Add\).*same quantizer"):
        steps.run(m, steps.StepConfig(), last="to_hw")


def test_a_fork_with_three_readers_gets_two_duplicates():
    """a feeds the branch conv, the skip requantizer and (third) a second requantizer
    added to the output: n readers, n - 1 DuplicateStreams."""
    m = _residual_block(skip_scale=0.5)
    m.graph.node.append(_mt("a", "t2", "k2_l", "INT4", -8.0))
    m.graph.node.append(helper.make_node("Mul", ["k2_l", "s1"], ["k2"]))
    add = [n for n in m.graph.node if n.op_type == "Add"][0]
    add.output[0] = "j0"
    m.graph.node.append(helper.make_node("Add", ["j0", "k2"], ["j"], name="join2"))
    m = m.transform(SortGraph()).transform(InferShapes())
    hw = steps.run(m, steps.StepConfig(), last="to_hw")
    assert ops(hw).count("DuplicateStreams") == 2 and ops(hw).count("AddStreams") == 2
    xs = _inputs(8)
    expected = np.concatenate([run(m, x) for x in xs])
    np.testing.assert_array_equal(execute.execute(hw, xs.reshape(-1, C, H, H), "python"), expected)


def _conv1d_net():
    """(1, 2, 16) -> levels -> Conv1d k3 stride 2 pad 1 -> scale -> levels -> MaxPool1d(2)
    -> flatten -> MatMul -> output; scales powers of two."""
    rng = np.random.default_rng(5)
    nodes = [
        helper.make_node("MultiThreshold", ["x", "t0"], ["a_l"], domain=Q, out_dtype="INT4", out_bias=-8.0,
                         data_layout="NCW"),
        helper.make_node("Mul", ["a_l", "s0"], ["a"]),
        helper.make_node("Conv", ["a", "w"], ["c"], kernel_shape=[3], strides=[2], pads=[1, 1]),
        helper.make_node("Mul", ["c", "sc"], ["cs"]),
        helper.make_node("MultiThreshold", ["cs", "t1"], ["b_l"], domain=Q, out_dtype="UINT2", data_layout="NCW"),
        helper.make_node("MaxPool", ["b_l"], ["p"], kernel_shape=[2], strides=[2]),
        helper.make_node("Reshape", ["p", "shape"], ["f"]),
        helper.make_node("MatMul", ["f", "wf"], ["y"]),
    ]
    inits = {"t0": np.arange(15, dtype=np.float32).reshape(1, 15) / 2 - 3.5, "s0": 0.5,
             "w": rng.integers(-3, 4, size=(6, 2, 3)), "sc": (2.0 ** rng.integers(-3, 0, size=6)).reshape(1, 6, 1),
             "t1": np.sort(rng.normal(size=(1, 3)) * 2, axis=1), "shape": np.array([1, -1]),
             "wf": rng.integers(-2, 3, size=(24, 3))}
    m = make(nodes, ("x", [1, 2, 16]), ("y", [1, 3]), inits, {"w": "INT3", "wf": "INT3"})
    m.set_initializer("shape", np.array([1, -1], np.int64))
    return m.transform(InferShapes())


def test_a_1d_network_runs_as_a_2d_one_of_height_1():
    m = _conv1d_net()
    hw = steps.run(m, steps.StepConfig(), last="to_hw")
    part = report.check_converted(hw)
    assert {"ConvolutionInputGenerator", "MVAU", "StreamingMaxPool"} <= {n.op_type for n in part.hw}
    assert hw.get_tensor_shape(hw.graph.input[0].name) == [1, 2, 16]
    xs = np.random.default_rng(2).uniform(-4, 4, size=(20, 1, 2, 16)).astype(np.float32)
    expected = np.concatenate([run(m, x) for x in xs])
    np.testing.assert_array_equal(execute.execute(hw, xs.reshape(-1, 2, 16), "python"), expected)


def test_a_1d_tensor_into_an_unhandled_op_is_refused_naming_it():
    m = _conv1d_net()
    pool = [n for n in m.graph.node if n.op_type == "MaxPool"][0]
    pool.op_type, pool.name = "LpPool", "odd_pool"
    with pytest.raises(errors.UnsupportedOpError, match="'odd_pool'"):
        m.transform(cleanup.ImportAndClean())
