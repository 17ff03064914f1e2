"""execute.Runner computes what qonnx's execute_onnx computes (every tensor), and
blas.single_thread leaves the BLAS thread count as it found it."""

import warnings

import numpy as np
import pytest
from onnx import helper
from qonnx.core.datatype import DataType
from qonnx.core.onnx_exec import execute_onnx

from qnn2fpga import blas, flow
from qnn2fpga.execute import Runner
from qnn2fpga.graph import real_inputs
from qnn2fpga.layers import numerics
from qnn2fpga.testing import make_model, tiny_mlp


def _same_contexts(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        (a[k] is None and b[k] is None) or np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("compiled", [False, True], ids=["export", "hardware layers"])
def test_runner_gives_every_tensor_of_execute_onnx(compiled):
    model = tiny_mlp(act_bits=3, bn_tail=True)
    if compiled:
        model = flow.compile_model(model)
    runner, inp = Runner(model), real_inputs(model)[0]
    rng = np.random.default_rng(0)
    for _ in range(3):  # the shared initializers and prepared ops serve every execution
        x = rng.uniform(-1, 1, size=(1, 16)).astype(np.float32)
        ref = execute_onnx(model, {inp: x}, return_full_exec_context=True)
        assert _same_contexts(runner.context({inp: x}), ref)


def test_runner_sanitizes_like_qonnx():
    # y = x * 1.0001 annotated INT8: qonnx rounds it (with a warning) where it is within
    # its tolerance of an integer, and raises where it is not.
    model = make_model([helper.make_node("Mul", ["x", "k"], ["y"], name="mul")], ("x", [1, 4]), ("y", [1, 4]),
                       {"k": np.full((1, 4), 1.0001)})
    model.set_tensor_datatype("y", DataType["INT8"])
    runner = Runner(model)
    for x in (np.array([[1, 2, -3, 50]], np.float32), np.array([[0, 1, 2, 3]], np.float32)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = execute_onnx(model, {"x": x}, return_full_exec_context=True)
            assert _same_contexts(runner.context({"x": x}), ref)
    far = np.array([[1000, 2, 3, 4]], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception, match="Rounding error is too high"):
            execute_onnx(model, {"x": far})
        with pytest.raises(Exception, match="Rounding error is too high"):
            runner.context({"x": far})


def test_runner_refuses_a_wrong_input_shape_as_qonnx_does():
    model = tiny_mlp()
    with pytest.raises(Exception, match="Shape mismatch for provided input"):
        Runner(model).context({real_inputs(model)[0]: np.zeros((2, 16), np.float32)})


def test_runner_keeps_initializers_unchanged():
    model = tiny_mlp()
    runner = Runner(model)
    ctx = runner.context({real_inputs(model)[0]: np.zeros((1, 16), np.float32)})
    with pytest.raises(ValueError):
        ctx["w1"][...] = 0  # shared by every execution: read-only


def test_single_thread_restores_the_thread_count_and_products_stay_exact():
    def threads():
        return [p["num_threads"] for p in blas.controller().select(user_api="blas").info()]

    before = threads()
    assert before  # numpy's BLAS is found
    with blas.single_thread():
        assert threads() == [1] * len(before)
    assert threads() == before
    rng = np.random.default_rng(0)
    x, w = rng.integers(-128, 128, size=(50, 300)), rng.integers(-128, 128, size=(300, 20))
    assert np.array_equal(numerics.exact_matmul(x.astype(np.float32), w.astype(np.float32)), x @ w)
