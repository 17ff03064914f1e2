"""Each transformation on tiny hand-built graphs: the graph computes the same function
before and after, and the pattern it targets is gone."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.transformation.infer_datatypes import InferDataTypes
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.util.basic import qonnx_make_model

from qnn2fpga import errors
from qnn2fpga.graph import new_const
from qnn2fpga.testing import QONNX_DOMAIN as Q
from qnn2fpga.testing import make_model as make
from qnn2fpga.testing import quant
from qnn2fpga.transforms import cleanup, integer, lower, streamline, to_hw
from qnn2fpga.transforms.base import Pass, max_rounds


def run(model: ModelWrapper, x: np.ndarray) -> np.ndarray:
    import qnn2fpga.layers  # noqa: F401,PLC0415 (registers the layer ops with qonnx)

    return execute_onnx(model, {model.graph.input[0].name: x})[model.graph.output[0].name]


def ops(model: ModelWrapper) -> list[str]:
    return [n.op_type for n in model.graph.node]


@pytest.mark.parametrize("signed,narrow,mode,zp", [
    (1, 0, "ROUND", 0.0), (1, 1, "ROUND", 0.0), (0, 0, "ROUND", 3.0), (1, 0, "FLOOR", 0.0), (1, 0, "CEIL", 0.0),
    (0, 0, "HALF_UP", 0.0)])
def test_activation_quant_to_multithreshold_is_exact_even_on_ties(signed, narrow, mode, zp):
    s = 0.25
    m = make([quant("x", "y", "s", "z", "b", signed, narrow, mode)], ("x", [1, 64]), ("y", [1, 64]),
             {"s": s, "z": zp, "b": 4.0})
    # Every half step (the rounding ties) and points between, over and beyond the range.
    x = (np.arange(-32, 32, dtype=np.float32) * 0.5 * s + 0.5 * s * (np.arange(64) % 3 == 0)).reshape(1, 64)
    x = np.concatenate([x, x + s / 2, x * 4], axis=0)[:, :64].astype(np.float32)
    m2 = m.transform(integer.QuantActivationsToMultiThreshold())
    assert "Quant" not in ops(m2) and "MultiThreshold" in ops(m2)
    for row in x:
        np.testing.assert_array_equal(run(m2, row[None]), run(m, row[None]))


@pytest.mark.parametrize("signed,mode,in_bits,out_bits", [
    (0, "FLOOR", 8, 4), (0, "ROUND", 8, 4), (1, "FLOOR", 7, 3), (1, "ROUND", 7, 5), (0, "CEIL", 6, 6)])
def test_trunc_to_multithreshold_on_the_integer_grid(signed, mode, in_bits, out_bits):
    """Trunc (v2) as MultiThreshold + Mul, on inputs that are integers times its scale plus
    a float error (a mean of quantized values), over and beyond the input range."""
    s, lo = 0.0625, -(2 ** (in_bits - 1)) if signed else 0
    node = helper.make_node("Trunc", ["x", "s", "z", "bi", "so", "bo"], ["y"], domain=Q, rounding_mode=mode,
                            signed=signed, narrow=0)
    n = 2**in_bits + 8
    m = make([node], ("x", [1, n]), ("y", [1, n]),
             {"s": s, "z": 0.0, "bi": float(in_bits), "so": s * 2 ** (in_bits - out_bits), "bo": float(out_bits)})
    m.model.opset_import.append(helper.make_opsetid(Q, 2))
    k = np.arange(lo - 4, lo - 4 + n, dtype=np.float64)
    m2 = m.transform(integer.TruncToMultiThreshold())
    assert ops(m2) == ["MultiThreshold", "Mul"]
    for err in (0.0, 1e-6, -1e-6, 0.3, -0.3):
        x = ((k + err) * s).astype(np.float32)[None]
        np.testing.assert_array_equal(run(m2, x), run(m, x))


def test_bipolar_activation_to_multithreshold():
    m = make([helper.make_node("BipolarQuant", ["x", "s"], ["y"], domain=Q)], ("x", [1, 8]), ("y", [1, 8]), {"s": 1.0})
    m2 = m.transform(integer.QuantActivationsToMultiThreshold())
    x = np.array([[-2, -0.0, 0.0, 1e-9, -1e-9, 3, 0.5, -0.5]], np.float32)
    np.testing.assert_array_equal(run(m2, x), run(m, x))
    assert m2.get_tensor_datatype("y") == DataType["BIPOLAR"]


def test_activation_wider_than_limit_stays_unconverted():
    m = make([quant("x", "y", "s", "z", "b")], ("x", [1, 4]), ("y", [1, 4]), {"s": 0.1, "z": 0.0, "b": 12.0})
    assert ops(m.transform(integer.QuantActivationsToMultiThreshold())) == ["Quant"]


def test_weight_quant_becomes_integers_and_per_channel_scale():
    rng = np.random.default_rng(1)
    w = rng.normal(size=(6, 4)).astype(np.float32)
    s = np.array([[0.1, 0.2, 0.05, 0.3]], np.float32)
    m = make([quant("w", "wq", "s", "z", "b", 1, 1), helper.make_node("MatMul", ["x", "wq"], ["y"])],
             ("x", [2, 6]), ("y", [2, 4]), {"w": w, "s": s, "z": 0.0, "b": 4.0})
    m2 = m.transform(integer.QuantizedWeightsToIntegers())
    assert ops(m2) == ["MatMul", "Mul"]
    w_int = m2.get_initializer(m2.graph.node[0].input[1])
    assert m2.get_tensor_datatype(m2.graph.node[0].input[1]) == DataType["INT4"]
    assert np.array_equal(w_int, np.round(w_int)) and np.abs(w_int).max() <= 7
    x = rng.normal(size=(2, 6)).astype(np.float32)
    np.testing.assert_allclose(run(m2, x), run(m, x), rtol=1e-6)


def test_biasless_transposed_gemm_becomes_matmul():
    rng = np.random.default_rng(2)
    w = rng.normal(size=(3, 5)).astype(np.float32)
    m = make([quant("w", "wq", "s", "z", "b", 1, 1), helper.make_node("Gemm", ["x", "wq"], ["y"], transB=1)],
             ("x", [1, 5]), ("y", [1, 3]), {"w": w, "s": 0.5, "z": 0.0, "b": 3.0})
    m2 = m.transform(cleanup.GemmToMatMul())
    assert "Gemm" not in ops(m2) and "MatMul" in ops(m2)
    x = rng.normal(size=(1, 5)).astype(np.float32)
    np.testing.assert_allclose(run(m2, x), run(m, x), rtol=1e-6)


def _mt(x, t, y, out_dtype="UINT2", bias=0.0, layout="NC"):
    return helper.make_node("MultiThreshold", [x, t], [y], domain=Q, out_dtype=out_dtype, out_bias=bias,
                            data_layout=layout)


def test_streamline_absorbs_scales_signs_and_biases_into_integer_thresholds():
    """MT -> Mul -> Add -> MatMul(int W) -> Mul(per-channel, some negative) -> Add -> MT
    becomes MT -> MatMul -> MT with integer thresholds, same outputs."""
    rng = np.random.default_rng(3)
    w = rng.integers(-3, 4, size=(8, 5)).astype(np.float32)
    t0 = np.sort(rng.normal(size=(1, 3)), axis=1)
    t1 = np.sort(rng.normal(size=(5, 3)) * 4, axis=1)
    m = make([_mt("x", "t0", "a"), helper.make_node("Mul", ["a", "s0"], ["b"]),
              helper.make_node("Add", ["b", "c0"], ["c"]), helper.make_node("MatMul", ["c", "w"], ["d"]),
              helper.make_node("Mul", ["d", "s1"], ["e"]), helper.make_node("Add", ["e", "c1"], ["f"]),
              _mt("f", "t1", "y")],
             ("x", [1, 8]), ("y", [1, 5]),
             {"t0": t0, "s0": 0.5, "c0": -0.25, "w": w, "s1": [[0.3, -0.7, 1.1, -0.2, 0.9]],
              "c1": rng.normal(size=(1, 5)), "t1": t1}, {"w": "INT3"})
    m2 = m.transform(streamline.Streamline())
    assert ops(m2) == ["MultiThreshold", "MatMul", "MultiThreshold"]
    t = m2.get_initializer(m2.graph.node[2].input[1])
    assert np.array_equal(t, np.round(t))
    for _ in range(200):
        x = rng.normal(size=(1, 8)).astype(np.float32) * 2
        np.testing.assert_array_equal(run(m2, x), run(m, x))


def test_negative_scale_does_not_move_past_maxpool():
    m = make([_mt("x", "t", "a", layout="NCHW"), helper.make_node("Mul", ["a", "s"], ["b"]),
              helper.make_node("MaxPool", ["b"], ["y"], kernel_shape=[2, 2], strides=[2, 2])],
             ("x", [1, 2, 4, 4]), ("y", [1, 2, 2, 2]), {"t": [[0.0, 1.0, 2.0]], "s": -1.0})
    m2 = m.transform(streamline.MoveLinearPastMaxPool())
    assert ops(m2) == ops(m)
    m3 = make([_mt("x", "t", "a", layout="NCHW"), helper.make_node("Mul", ["a", "s"], ["b"]),
               helper.make_node("MaxPool", ["b"], ["y"], kernel_shape=[2, 2], strides=[2, 2])],
              ("x", [1, 2, 4, 4]), ("y", [1, 2, 2, 2]), {"t": [[0.0, 1.0, 2.0]], "s": 0.5})
    m4 = m3.transform(streamline.MoveLinearPastMaxPool())
    assert ops(m4) == ["MultiThreshold", "MaxPool", "Mul"]
    x = np.random.default_rng(4).normal(size=(1, 2, 4, 4)).astype(np.float32) * 2
    np.testing.assert_array_equal(run(m4, x), run(m3, x))


def test_lower_conv_flatten_linear_to_nhwc_keeps_the_function():
    """Conv (NCHW) -> MT -> MaxPool -> Flatten -> MatMul: after lowering the transposes
    cancel or leave the graph's edges and the flatten reads NHWC with permuted weights."""
    rng = np.random.default_rng(5)
    wc = rng.integers(-1, 2, size=(4, 3, 3, 3)).astype(np.float32)
    wl = rng.integers(-2, 3, size=(4 * 3 * 3, 6)).astype(np.float32)
    t = np.sort(rng.integers(-6, 6, size=(4, 3)), axis=1).astype(np.float32)
    m = make([helper.make_node("Conv", ["x", "wc"], ["a"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
              _mt("a", "t", "b", layout="NCHW"),
              helper.make_node("MaxPool", ["b"], ["c"], kernel_shape=[2, 2], strides=[2, 2]),
              helper.make_node("Flatten", ["c"], ["d"]), helper.make_node("MatMul", ["d", "wl"], ["y"])],
             ("x", [1, 3, 6, 6]), ("y", [1, 6]), {"wc": wc, "t": t, "wl": wl},
             {"wc": "INT2", "wl": "INT3", "x": "INT4"})
    m2 = m.transform(cleanup.FillConvDefaults()).transform(lower.Lower())
    assert "Conv" not in ops(m2) and "MaxPool" not in ops(m2)
    assert ops(m2).count("Transpose") == 1 and ops(m2)[0] == "Transpose"
    for _ in range(20):
        x = rng.integers(-8, 8, size=(1, 3, 6, 6)).astype(np.float32)
        np.testing.assert_array_equal(run(m2, x), run(m, x))
    hw = m2.transform(to_hw.ToHardwareLayers())
    # The Flatten between the pool and the last layer is a wire: gone, and the last layer
    # reads the pool's (1, 3, 3, 4) stream as its 36 inputs.
    assert [o for o in ops(hw) if o != "Transpose"] == [
        "FMPadding", "ConvolutionInputGenerator", "MVAU", "StreamingMaxPool", "MVAU"]
    pool, last = hw.graph.node[-2], hw.graph.node[-1]
    assert last.input[0] == pool.output[0] and hw.get_tensor_shape(pool.output[0]) == [1, 3, 3, 4]
    for _ in range(20):
        x = rng.integers(-8, 8, size=(1, 3, 6, 6)).astype(np.float32)
        np.testing.assert_array_equal(run(hw, x), run(m, x))


def test_only_a_reshape_between_hardware_layers_is_removed():
    """Reshapes into hardware from software, and out of hardware to the graph output,
    stay; the one between two layers goes (the consumer reads the producer's tensor in
    its own shape), and the function does not change."""
    rng = np.random.default_rng(8)
    w1 = rng.integers(-2, 3, size=(6, 4)).astype(np.float32)
    w2 = rng.integers(-2, 3, size=(8, 3)).astype(np.float32)
    t = np.sort(rng.integers(-10, 10, size=(8, 3)), axis=1).astype(np.float32)
    shapes = {"s0": [1, 2, 6], "s1": [1, 8], "s2": [1, 1, 3]}
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["x", "s0"], ["a"]), helper.make_node("MatMul", ["a", "w1"], ["b"]),
         helper.make_node("Reshape", ["b", "s1"], ["c"]), _mt("c", "t", "ct"),
         helper.make_node("MatMul", ["ct", "w2"], ["d"]),
         helper.make_node("Reshape", ["d", "s2"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 12])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 3])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2"), numpy_helper.from_array(t, "t")]
        + [numpy_helper.from_array(np.array(v, np.int64), k) for k, v in shapes.items()])
    m = ModelWrapper(qonnx_make_model(graph))
    for k, v in {"w1": "INT3", "w2": "INT3", "x": "INT4"}.items():
        m.set_tensor_datatype(k, DataType[v])
    m = m.transform(InferShapes()).transform(InferDataTypes())
    hw = m.transform(to_hw.ToHardwareLayers())
    # MVAU_0 writes (1, 2, 4); the thresholds read it as their (1, 8).
    assert ops(hw) == ["Reshape", "MVAU", "Thresholding", "MVAU", "Reshape"]
    assert hw.graph.node[2].input[0] == hw.graph.node[1].output[0]
    for _ in range(10):
        x = rng.integers(-8, 8, size=(1, 12)).astype(np.float32)
        np.testing.assert_array_equal(run(hw, x), run(m, x))


def test_topk_absorbs_positive_scalar_tail_and_becomes_label_select():
    rng = np.random.default_rng(6)
    w = rng.integers(-3, 4, size=(8, 10)).astype(np.float32)
    m = make([helper.make_node("MatMul", ["x", "w"], ["a"]), helper.make_node("Mul", ["a", "s"], ["b"]),
              helper.make_node("Add", ["b", "c"], ["y"])], ("x", [1, 8]), ("y", [1, 10]),
             {"w": w, "s": 0.37, "c": -1.5}, {"x": "INT4", "w": "INT3"})
    m2 = m.transform(lower.Lower(topk=1)).transform(to_hw.ToHardwareLayers())
    assert ops(m2) == ["MVAU", "LabelSelect"]
    for _ in range(50):
        x = rng.integers(-8, 8, size=(1, 8)).astype(np.float32)
        ref = run(m, x)
        assert int(run(m2, x).reshape(-1)[0]) == int(np.argmax(ref))


def test_relu_before_thresholds_is_absorbed():
    """QuantReLU exports Relu -> Quant; the Relu folds into the thresholds exactly."""
    t = np.array([[-1.0, 0.0, 0.5, 2.0]], np.float32)
    m = make([helper.make_node("Relu", ["x"], ["r"]), _mt("r", "t", "y", out_dtype="UINT3")], ("x", [1, 6]),
             ("y", [1, 6]), {"t": t})
    m2 = m.transform(streamline.AbsorbReluIntoMultiThreshold())
    assert ops(m2) == ["MultiThreshold"]
    x = np.array([[-3, -0.0, 0.0, 0.25, 0.5, 7]], np.float32)
    np.testing.assert_array_equal(run(m2, x), run(m, x))


def test_replaced_constants_never_exceed_the_data_rank():
    """A scalar moved through 4-D tensors (shape (1,1,1,1)) and merged into a (1,C)
    constant must not make 2-D data 4-D."""
    m = make([helper.make_node("Mul", ["x", "c"], ["y"])], ("x", [1, 5]), ("y", [1, 5]), {"c": np.ones((1, 5))})
    streamline._set_const_operand(m, m.graph.node[0], np.full((1, 1, 1, 1), 2.0) * np.arange(5.0))
    assert m.get_initializer(m.graph.node[0].input[1]).shape == (1, 5)
    streamline._set_const_operand(m, m.graph.node[0], np.full((1, 1, 1, 1), 2.0))
    assert m.get_initializer(m.graph.node[0].input[1]).shape == ()


def _outputs(model: ModelWrapper, xs) -> np.ndarray:
    name = model.graph.input[0].name
    return np.concatenate([execute_onnx(model, {name: x})[model.graph.output[0].name] for x in xs])


@pytest.mark.parametrize("fixed_point_out", [True, False])
def test_software_tail_is_the_exports_own_ops_when_the_hardware_output_is_exact(fixed_point_out):
    from qnn2fpga import flow, testing  # noqa: PLC0415

    export = testing.tiny_mlp(bn_tail=True, fixed_point_out=fixed_point_out)
    compiled = flow.compile_model(export)
    tail = [n.op_type for n in compiled.graph.node if n.domain != "qnn2fpga.layers"][1:]
    xs = [np.random.default_rng(i).uniform(-1, 1, size=(1, 16)).astype(np.float32) for i in range(40)]
    ref, got = _outputs(export, xs), _outputs(compiled, xs)
    if fixed_point_out:
        # Power-of-two scales: the export's last MatMul is exact, its batch norm is replayed
        # op for op (after a per-channel sign/power-of-two factor) -> bit-identical.
        assert tail == ["Mul", "Sub", "Div", "Mul", "Add"]
        assert np.array_equal(got, ref)
    else:
        # Float scales round inside the export's MatMul; the streamlined tail stays.
        assert "Sub" not in tail and "Div" not in tail
        assert not np.array_equal(got, ref)
        assert np.max(np.abs(got - ref)) <= 1e-5 * np.max(np.abs(ref))


def test_export_tail_leaves_a_graph_ending_in_top_k_alone():
    from qnn2fpga import flow, testing  # noqa: PLC0415

    compiled = flow.compile_model(testing.tiny_mlp(bn_tail=True, fixed_point_out=True), flow.CompileOptions(topk=1))
    assert compiled.graph.node[-1].op_type == "TopK"  # a per-channel tail keeps the top-k in software
    assert not any(n.name.startswith("ExportTail") for n in compiled.graph.node)


def test_thresholds_beyond_float32_precision_reach_a_fixed_point():
    """Thresholds on a 32-bit input that float32 cannot hold exactly stay float64; the
    rounding pass then reports no change (it used to report one forever, hanging
    compile on an FC net with 3-bit per-channel weights and an 8-bit input)."""
    t = np.array([[-23_752_271.5, 3.2, 2.0**24 + 1.0]], np.float64)
    m = make([_mt("x", "t", "y", out_dtype="UINT2")], ("x", [1, 1]), ("y", [1, 1]), {"t": t},
             dtypes={"x": "INT32"})
    m.set_initializer("t", t)  # make() stores float32
    p = streamline.RoundAndClipThresholds()
    m, changed = p.apply(m)
    assert changed
    rounded = m.get_initializer(m.graph.node[0].input[1])
    assert rounded.dtype == np.float64
    np.testing.assert_array_equal(rounded, [[-23_752_271.0, 4.0, 2.0**24 + 1.0]])
    assert p.apply(m)[1] is False
    m2 = m.transform(streamline.RoundAndClipThresholds())  # terminates
    np.testing.assert_array_equal(m2.get_initializer(m2.graph.node[0].input[1]), rounded)


def test_a_pass_that_never_converges_is_stopped_with_its_name_and_node():
    """No pass may loop: past max_rounds a Pass that keeps reporting a change raises a
    PassLoopError naming the pass and the node its last application changed."""

    class Flapping(Pass):
        def apply(self, model):
            node = model.graph.node[0]
            node.input[1] = new_const(model, model.get_initializer(node.input[1]))
            return model, True

    m = make([helper.make_node("Mul", ["x", "c"], ["y"], name="scale")], ("x", [1, 2]), ("y", [1, 2]),
             {"c": np.ones((1, 2))})
    with pytest.raises(errors.PassLoopError) as e:
        m.transform(Flapping())
    line = e.value.one_line()
    assert "Flapping" in line and "'scale'" in line and f"after {max_rounds(m) + 1} rounds" in line


def test_streamline_is_bounded_too(monkeypatch):
    """Streamline's own fixed-point loop raises the same error instead of stopping
    silently with a half-streamlined graph."""

    class Flapping(Pass):
        def apply(self, model):
            node = model.graph.node[0]
            node.input[1] = new_const(model, model.get_initializer(node.input[1]))
            return model, True

    monkeypatch.setattr(streamline.Streamline, "PASSES", (Flapping,))
    monkeypatch.setattr(streamline, "max_rounds", lambda model: 3)
    m = make([helper.make_node("Mul", ["x", "c"], ["y"], name="scale")], ("x", [1, 2]), ("y", [1, 2]),
             {"c": np.ones((1, 2))})
    with pytest.raises(errors.PassLoopError, match=r"Streamline \(Flapping\) on node\(s\) 'scale'"):
        streamline.Streamline().apply(m)


# Regressions found by randomized testing (random_graphs_test.py).


def test_max_pool_on_a_convolution_accumulator_converts_to_hardware():
    """Conv -> MaxPool -> thresholds: the pool reads the MVAU's accumulator, whose
    datatype is narrowed when the MVAU is made; the pool used to be converted first with
    the INT32 of the MatMul and then failed the datatype check."""
    rng = np.random.default_rng(7)
    wc = rng.integers(-3, 4, size=(3, 2, 2, 2)).astype(np.float32)
    t = np.sort(rng.integers(-20, 20, size=(3, 3)), axis=1).astype(np.float32)
    m = make([helper.make_node("Conv", ["x", "wc"], ["a"], kernel_shape=[2, 2]),
              helper.make_node("MaxPool", ["a"], ["b"], kernel_shape=[2, 2], strides=[2, 2]),
              _mt("b", "t", "y", layout="NCHW")],
             ("x", [1, 2, 5, 5]), ("y", [1, 3, 2, 2]), {"wc": wc, "t": t}, {"wc": "INT3", "x": "INT4"})
    hw = m.transform(cleanup.FillConvDefaults()).transform(lower.Lower()).transform(to_hw.ToHardwareLayers())
    assert [o for o in ops(hw) if o != "Transpose"] == [
        "ConvolutionInputGenerator", "MVAU", "StreamingMaxPool", "Thresholding"]
    for _ in range(20):
        x = rng.integers(-8, 8, size=(1, 2, 5, 5)).astype(np.float32)
        np.testing.assert_array_equal(run(hw, x), run(m, x))


@pytest.mark.parametrize("scale,zeropt,bits", [(0.0187, 0.0, 6), (0.01467968, 68.0, 7), (0.3, 5.0, 4)])
def test_input_quantizer_matches_quant_on_inputs_its_float32_division_rounds_onto_a_tie(scale, zeropt, bits):
    """x = (k + 0.5) * scale in float32 with a scale that is not a power of two: Quant's
    float32 x / scale + zeropt can land exactly on the tie (round half to even) or off
    it, while the exact boundary lies on the other side; with a zero point, the sum's
    float32 steps are coarser than x's, so many inputs around the tie land on it. The
    thresholds follow Quant's arithmetic."""
    s = np.float32(scale)
    m = make([quant("x", "y", "s", "z", "b", 0)], ("x", [1, 64]), ("y", [1, 64]),
             {"s": s, "z": zeropt, "b": float(bits)})
    m2 = m.transform(integer.QuantActivationsToMultiThreshold())
    mt = m2.graph.node[0]
    assert mt.op_type == "MultiThreshold"
    ties = ((np.arange(64) - zeropt + 0.5) * s).astype(np.float32).reshape(1, 64)
    for steps in range(-12, 13):
        x = ties
        for _ in range(abs(steps)):
            x = np.nextafter(x, np.float32(np.sign(steps)))
        level = execute_onnx(m2, {"x": x}, return_full_exec_context=True)[mt.output[0]].astype(np.float32)
        # The same level: Quant's output is (level - zeropt) * scale, computed in float32.
        np.testing.assert_array_equal((level - np.float32(zeropt)) * s, run(m, x))


def test_bipolar_activation_into_a_zero_padded_convolution():
    """Zero padding of a -1/+1 activation: the padded stream is INT2 (0 exists there),
    made by the thresholds that produce the activation, with the same -1/+1 values."""
    rng = np.random.default_rng(8)
    w1 = rng.integers(-1, 2, size=(3, 2, 1, 1)).astype(np.float32)
    w2 = rng.choice([-1.0, 1.0], size=(4, 3, 3, 3)).astype(np.float32)
    t2 = np.sort(rng.integers(-6, 6, size=(4, 3)), axis=1).astype(np.float32)
    m = make([helper.make_node("Conv", ["x", "w1"], ["a"], kernel_shape=[1, 1]),
              helper.make_node("MultiThreshold", ["a", "t1"], ["b"], domain=Q, out_dtype="BIPOLAR", out_scale=2.0,
                               out_bias=-1.0, data_layout="NCHW"),
              helper.make_node("Conv", ["b", "w2"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
              _mt("c", "t2", "y", layout="NCHW")],
             ("x", [1, 2, 4, 4]), ("y", [1, 4, 4, 4]), {"w1": w1, "t1": [[0.0]], "w2": w2, "t2": t2},
             {"w1": "INT2", "w2": "BIPOLAR", "x": "INT3"})
    lowered = m.transform(cleanup.FillConvDefaults()).transform(lower.Lower())
    hw = lowered.transform(to_hw.ToHardwareLayers())
    assert "MultiThreshold" not in ops(hw) and "FMPadding" in ops(hw)
    # The lowered model executes too (qonnx's Im2Col cannot pad BIPOLAR with 0): the
    # widening happens in lower already (random_graphs.generate_conv seeds 0 and 4).
    im2col = next(n for n in lowered.graph.node if n.op_type == "Im2Col")
    assert lowered.get_tensor_datatype(im2col.input[0]) == DataType["INT2"]
    np.testing.assert_array_equal(run(lowered, x := rng.integers(-4, 4, size=(1, 2, 4, 4)).astype(np.float32)),
                                  run(m, x))
    pad = next(n for n in hw.graph.node if n.op_type == "FMPadding")
    assert hw.get_tensor_datatype(pad.input[0]) == DataType["INT2"]
    for _ in range(20):
        x = rng.integers(-4, 4, size=(1, 2, 4, 4)).astype(np.float32)
        np.testing.assert_array_equal(run(hw, x), run(m, x))


@pytest.mark.parametrize("op,value,kept", [("Add", 1e-6, True), ("Mul", 1.000001, True), ("Sub", -3e-7, True),
                                           ("Add", 0.0, False), ("Mul", 1.0, False), ("Div", 1.0, False)])
def test_only_exact_identities_are_removed(op, value, kept):
    """qonnx's RemoveIdentityOps compares with a tolerance of 1e-5: a batch norm mean or
    bias of 1e-6 on outputs of that size (a layer with small scales) disappeared."""
    m = make([helper.make_node("Mul", ["x", "s"], ["a"]), helper.make_node(op, ["a", "c"], ["y"])],
             ("x", [1, 4]), ("y", [1, 4]), {"s": 1e-6, "c": [[value] * 4]})
    m2 = m.transform(cleanup.RemoveIdentityOps())
    assert ops(m2) == (["Mul", op] if kept else ["Mul"])
    x = np.array([[0.5, -1.0, 2.0, 3.0]], np.float32)
    np.testing.assert_array_equal(run(m2, x), run(m, x))


def _tiny_mlp_with_batchnorm_tail():
    """tiny_mlp with power-of-two last-layer scales, ending in a BatchNormalization node."""
    from qnn2fpga import testing  # noqa: PLC0415

    m = testing.tiny_mlp(fixed_point_out=True)
    rng = np.random.default_rng(9)
    out = m.graph.output[0].name
    last = m.find_producer(out)
    last.output[0] = "z"
    m.graph.node.append(helper.make_node("BatchNormalization", ["z", "g", "b", "mu", "var"], [out], epsilon=1e-5))
    for name, v in (("g", rng.normal(size=5)), ("b", rng.normal(size=5)), ("mu", rng.normal(size=5)),
                    ("var", rng.uniform(0.5, 2, size=5))):
        m.set_initializer(name, v.astype(np.float32))
    from qonnx.transformation.infer_shapes import InferShapes  # noqa: PLC0415

    return m.transform(InferShapes())


def test_batchnorm_node_after_the_last_layer_is_replayed_bit_exactly():
    """The export's BatchNormalization is replayed as the multiply-add onnxruntime computes;
    the streamlined tail (divided by the standard deviation, merged with the layer's
    scale) differed in the last bit."""
    from qnn2fpga import flow  # noqa: PLC0415

    export = _tiny_mlp_with_batchnorm_tail()
    compiled = flow.compile_model(export)
    assert any(n.name.startswith("ExportTail") for n in compiled.graph.node)
    xs = [np.random.default_rng(i).uniform(-1, 1, size=(1, 16)).astype(np.float32) for i in range(40)]
    np.testing.assert_array_equal(_outputs(compiled, xs), _outputs(export, xs))


def test_export_tail_ignores_probes_on_which_an_earlier_quantizer_rounded_the_other_way():
    """With scales that are not powers of two the export's float32 arithmetic can round a
    hidden value next to a rounding boundary the other way than the exact hardware, on
    some probe: that probe says nothing about the tail and no longer keeps it out. Here
    one hidden threshold is moved, so that a few probes get another hidden level."""
    from qnn2fpga import flow, testing  # noqa: PLC0415
    from qnn2fpga.transforms import export_tail  # noqa: PLC0415

    export = testing.tiny_mlp(bn_tail=True, fixed_point_out=True)
    for name, model in flow.run_steps(export):
        if name == "lower":
            break
    hw = model.transform(to_hw.ToHardwareLayers())
    rng, (lo, hi) = np.random.default_rng(0), export_tail._probe_range(export)  # the probes restore_export_tail draws
    probes = [rng.uniform(lo, hi, size=(1, 16)).astype(np.float32) for _ in range(2 * export_tail.PROBES)]
    mvau = next(n for n in hw.graph.node if n.op_type == "MVAU")
    t0 = hw.get_initializer(mvau.input[2])
    before = _outputs(hw, probes)
    for c, j in np.ndindex(t0.shape[0], t0.shape[1] - 1):  # the first threshold whose move changes 1-4 of 8 probes
        t = t0.copy()
        t[c, j] = t[c, j + 1]
        hw.set_initializer(mvau.input[2], t)
        changed = np.any(_outputs(hw, probes) != before, axis=-1)
        n = export_tail.PROBES
        if 1 <= changed[:n].sum() <= n // 2 and 1 <= changed[n:].sum() <= n // 2:
            break
    else:
        pytest.fail("no threshold changes a few probes")
    restored = export_tail.restore_export_tail(export, hw)
    assert any(n.name.startswith("ExportTail") for n in restored.graph.node)


def test_export_tail_pairs_levels_in_either_layout_when_the_shapes_do_not_tell():
    """(1, C, H, W) against channels-last with C == H == W: the shapes are equal, so the
    levels are compared as they are and channels-last."""
    from qnn2fpga.transforms import export_tail  # noqa: PLC0415

    ref = np.arange(125.0).reshape(1, 5, 5, 5)
    assert export_tail._same_values(ref, ref.transpose(0, 2, 3, 1))
    assert export_tail._same_values(ref, ref.copy())
    # A 1-D export's (N, C, L) against its compiled (N, 1, L, C) (random_graphs.generate_conv
    # seeds 79 and 195: the batch-norm tail was not restored, so the output was not bit-exact).
    ref1 = np.arange(12.0).reshape(1, 3, 4)
    assert export_tail._same_values(ref1, ref1.transpose(0, 2, 1).reshape(1, 1, 4, 3))
    assert not export_tail._same_values(ref1, ref1.reshape(1, 1, 4, 3) + 1)
    assert not export_tail._same_values(ref, ref.transpose(0, 2, 1, 3))
    assert export_tail._same_values(ref[:, :, :1, :1], ref[:, :, 0, 0])  # a flatten


def test_export_tail_probes_cover_the_input_quantizers_range():
    """An input quantizer with scale 2 rounds every input in [-1, 1) to 0: probes drawn
    there left the hardware output 0, which determines no factor, and the export's tail
    (here its batch norm) was not restored. Probes now span the quantizer's levels."""
    from qnn2fpga import flow, testing  # noqa: PLC0415

    export = testing.tiny_mlp(bn_tail=True, fixed_point_out=True)
    export.set_initializer("s_in", np.float32(2.0))
    compiled = flow.compile_model(export)
    assert any(n.name.startswith("ExportTail") for n in compiled.graph.node)
    xs = [np.random.default_rng(i).uniform(0, 511, size=(1, 16)).astype(np.float32) for i in range(20)]
    np.testing.assert_array_equal(_outputs(compiled, xs), _outputs(export, xs))


def test_export_tail_after_a_zero_point_activation_is_replayed_bit_exactly():
    """The last layer's input has a zero point (ShiftedUint quantizer): the hardware sums
    the levels, the export the levels minus the zero point, so its MatMul output is the
    hardware's times a power of two plus a per-channel offset; with that offset the
    export's batch norm is replayed and the output is bit-identical."""
    from qnn2fpga import flow, testing  # noqa: PLC0415

    export = testing.tiny_mlp(bn_tail=True, fixed_point_out=True)
    q = next(n for n in export.graph.node if n.output[0] == "hq")
    q.input[2] = "zp_h"
    next(a for a in q.attribute if a.name == "signed").i = 0
    export.set_initializer("zp_h", np.float32(8.0))
    compiled = flow.compile_model(export)
    assert "ExportTail_offset" in [n.name for n in compiled.graph.node]
    xs = [np.random.default_rng(i).uniform(-1, 1, size=(1, 16)).astype(np.float32) for i in range(40)]
    np.testing.assert_array_equal(_outputs(compiled, xs), _outputs(export, xs))


def test_export_tail_probes_further_while_an_output_channel_has_only_been_zero():
    """Hidden levels that are mostly 0 (a coarse hidden scale) leave some output channel
    at 0 on all of the first probes, which determines no factor for it: more probes are
    drawn instead of keeping the streamlined tail."""
    from qnn2fpga import flow, testing, verify  # noqa: PLC0415
    from qnn2fpga.transforms import export_tail  # noqa: PLC0415

    export = testing.tiny_mlp(seed=3, bn_tail=True, fixed_point_out=True)
    export.set_initializer("s_h", np.float32(8.0))
    compiled = flow.compile_model(export)
    rng, (lo, hi) = np.random.default_rng(0), export_tail._probe_range(export)  # the first probes it draws
    first = [rng.uniform(lo, hi, size=(1, 16)).astype(np.float32) for _ in range(export_tail.PROBES)]
    last_hw = [n for n in compiled.graph.node if n.domain == "qnn2fpga.layers"][-1].output[0]
    seen = np.concatenate([verify.full_context(compiled, x)[last_hw] for x in first]) != 0
    assert not seen.any(axis=0).all()
    assert any(n.name.startswith("ExportTail") for n in compiled.graph.node)
    xs = [np.random.default_rng(i).uniform(-1, 1, size=(1, 16)).astype(np.float32) for i in range(40)]
    np.testing.assert_array_equal(_outputs(compiled, xs), _outputs(export, xs))


def test_conversions_come_from_the_layers_in_their_declared_order():
    """to_hw applies the conversions the layer modules declare (`@converts`), ordered by
    their declared position; the MVAU's comes before those of the layers that may consume
    its output."""
    seen = [(c.order, c.op_type, c.layer) for c in to_hw.conversions()]
    assert seen[:12] == [(10, "Im2Col", "FMPadding"), (20, "Im2Col", "ConvolutionInputGenerator"),
                        (24, "MatMul", "Pool"), (25, "MatMul", "VVAU"), (30, "MatMul", "MVAU"),
                        (40, "MaxPoolNHWC", "StreamingMaxPool"),
                        (44, "Add", "ChannelwiseOp"), (44, "Mul", "ChannelwiseOp"), (45, "Add", "AddStreams"),
                        (45, "ReduceSum", "GlobalAccPool"),
                        (50, "MultiThreshold", "Thresholding"), (60, "TopK", "LabelSelect")]
    assert seen == sorted(seen)
    # Every conversion makes nodes through the typed make_node: no raw helper.make_node
    # with the layer domain in the step itself.
    import inspect  # noqa: PLC0415

    assert "make_node(" not in inspect.getsource(to_hw).replace("make_opsetid(", "")


def test_conv1d_graph_runs_as_a_2d_graph_of_height_1():
    """A Conv1d/MaxPool1d export on (N, C, L) (random_graphs.generate_conv seeds 0, 3, 10
    crashed in qonnx's conv lowering) compiles on (N, C, 1, L) to the same function; an
    op the promotion does not cover on a rank-3 activation is refused with a typed error."""
    from qnn2fpga import flow  # noqa: PLC0415

    rng = np.random.default_rng(3)
    w = rng.integers(-3, 4, size=(4, 2, 3)).astype(np.float32)
    nodes = [quant("x", "xq", "s", "z", "b8", signed=1),
             helper.make_node("Conv", ["xq", "w"], ["c"], kernel_shape=[3], pads=[2, 1], strides=[2], dilations=[2]),
             quant("c", "cq", "sc", "z", "b4", signed=0),
             helper.make_node("MaxPool", ["cq"], ["p"], kernel_shape=[2], strides=[1]),
             helper.make_node("Flatten", ["p"], ["y"], axis=1)]
    inits = {"s": 2.0 ** -4, "z": 0.0, "b8": 8.0, "b4": 4.0, "sc": np.full((1, 4, 1), 2.0 ** -2), "w": w}
    m = make(nodes, ("x", [1, 2, 11]), ("y", [1, 16]), inits, {"w": "INT3"})
    compiled = flow.compile_model(m)
    assert {"ConvolutionInputGenerator", "StreamingMaxPool", "MVAU"} <= set(ops(compiled))
    for _ in range(5):
        x = rng.uniform(-4, 4, size=(1, 2, 11)).astype(np.float32)
        np.testing.assert_array_equal(run(compiled, x), run(m, x))
    bad = make(nodes[:2] + [helper.make_node("Softmax", ["c"], ["y"], axis=1)], ("x", [1, 2, 11]), ("y", [1, 4, 5]),
               inits)
    with pytest.raises(errors.UnsupportedOpError, match="Softmax"):
        bad.transform(cleanup.ImportAndClean())
