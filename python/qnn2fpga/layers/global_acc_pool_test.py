"""GlobalAccPool against ONNX ReduceSum (onnxruntime through qonnx), its datatypes, RTL
binding and folding, and the front end: GlobalAveragePool and ReduceMean compile to it,
bit-exact against qonnx execution of the export."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.util.basic import qonnx_make_model

from qnn2fpga import boards, execute, folding, steps, testing
from qnn2fpga.errors import FoldingError, ModelError
from qnn2fpga.layers import numerics
from qnn2fpga.layers.testing import execute_single_node, single_node_model, the_layer


def reduce_sum_hw(x):
    """ONNX ReduceSum over axes 1, 2 (keepdims) executed by qonnx."""
    node = helper.make_node("ReduceSum", ["x"], ["y"], axes=[1, 2], keepdims=1)
    graph = helper.make_graph([node], "ref", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 1, x.shape[-1]])])
    model = ModelWrapper(qonnx_make_model(graph, opset_imports=[helper.make_opsetid("", 11)]))
    return execute_onnx(model, {"x": x.astype(np.float32)})["y"]


@pytest.mark.parametrize("img,c,pe,dt,out", [
    ((4, 4), 8, 1, "UINT4", "UINT8"),      # 16 * 15 = 240
    ((14, 14), 12, 4, "INT8", "INT16"),    # 196 * [-128, 127]
    ((1, 9), 4, 2, "BIPOLAR", "INT5"),     # [-9, 9]
    ((1, 1), 4, 4, "UINT2", "UINT2"),
    ((16, 16), 3, 3, "UINT8", "UINT16"),
])
def test_sums_equal_onnx_reduce_sum(img, c, pe, dt, out):
    rng = np.random.default_rng(c)
    model = single_node_model("GlobalAccPool", dict(ImgDim=list(img), NumChannels=c, PE=pe, inputDataType=dt))
    layer = the_layer(model)
    assert layer.output_datatypes()[0] == DataType[out]
    for extreme in (None, "min", "max"):
        x = numerics.random_values(DataType[dt], (1, *img, c), rng)
        if extreme:
            x[:] = getattr(DataType[dt], extreme)()
        (y,) = execute_single_node(model, [x])
        np.testing.assert_array_equal(y, reduce_sum_hw(x))
        assert DataType[out].allowed(y.min()) and DataType[out].allowed(y.max())


def test_shapes_cycles_and_rtl_parameters():
    layer = the_layer(single_node_model("GlobalAccPool", dict(ImgDim=[6, 5], NumChannels=8, PE=4,
                                                              inputDataType="INT4")))
    assert layer.get_normal_output_shape() == (1, 1, 1, 8)
    assert layer.get_folded_input_shape() == (1, 6, 5, 2, 4)
    assert layer.cycles() == 6 * 5 * 2
    inst = layer.rtl([])
    assert inst.module == "global_acc_pool" and inst.latency == 1
    assert inst.params == dict(CHANNELS=8, PE=4, PIXELS=30, BITS=4, ACC_BITS=9, SIGNED=1, BIPOLAR=0)
    assert [(m.depth, m.width) for m in layer.memories()] == [(2, 36)]


@pytest.mark.parametrize("change,error,match", [
    (dict(PE=3), FoldingError, "PE=3 does not divide NumChannels=8"),
    (dict(ImgDim=[0, 4]), ModelError, "ImgDim=\\[0, 4\\] has a non-positive entry"),
])
def test_bad_attributes_are_refused(change, error, match):
    attrs = dict(ImgDim=[4, 4], NumChannels=8, PE=2, inputDataType="UINT4") | change
    with pytest.raises(error, match=match) as e:
        the_layer(single_node_model("GlobalAccPool", attrs, name="gap1")).verify_node()
    assert "GlobalAccPool node 'gap1'" in str(e.value)


@pytest.mark.parametrize("pool_op,trunc", [("GlobalAveragePool", None), ("ReduceMean", None),
                                           ("GlobalAveragePool", "FLOOR"), ("GlobalAveragePool", "ROUND")])
def test_global_average_pooling_compiles_bit_exact(pool_op, trunc):
    """With a Trunc (Brevitas' TruncAdaptiveAvgPool2d), two thresholdings follow the sums."""
    export = testing.tiny_gap_cnn(pool_op=pool_op, trunc=trunc)
    x, y = testing.export_golden(export, 40)
    model = steps.run(export, steps.StepConfig(), last="to_hw")
    ops = [n.op_type for n in model.graph.node]
    assert ops[ops.index("MVAU"):] == ["MVAU", "GlobalAccPool"] + ["Thresholding"] * (1 + bool(trunc)) + ["MVAU", "Mul"]
    assert np.array_equal(execute.execute(model, x, "python"), y)
    # Not a trivial pass: the pooled activation takes several levels.
    thr = next(n for n in model.graph.node if n.op_type == "Thresholding")
    levels = {int(v) for xi in x[:20] for v in _tensor(model, thr.output[0], xi)}
    assert len(levels) >= 3, levels


def _tensor(model, name, x):
    from qonnx.core.onnx_exec import execute_onnx as run  # noqa: PLC0415

    inp = model.graph.input[0].name
    return run(model, {inp: x[np.newaxis]}, return_full_exec_context=True)[name].reshape(-1)


def test_folding_accepts_and_chooses_pe():
    model = steps.run(testing.tiny_gap_cnn(channels=16), steps.StepConfig(), last="to_hw")
    model, _ = folding.apply_config(model, {"GlobalAccPool_0": {"PE": 4}})
    node = next(n for n in model.graph.node if n.op_type == "GlobalAccPool")
    assert the_layer_of(node).PE == 4
    with pytest.raises(FoldingError):
        folding.apply_config(model, {"GlobalAccPool_0": {"PE": 3}})
    # 16 pixels x 16 channels: 256 cycles at PE 1; a 160-cycle target needs PE >= 2.
    model, _ = folding.auto_fold(model, boards.load_board("zcu104"), target_fps=100e6 / 160, fclk_mhz=100)
    layer = the_layer_of(next(n for n in model.graph.node if n.op_type == "GlobalAccPool"))
    assert layer.PE >= 2 and layer.cycles() <= 160


def the_layer_of(node):
    from qnn2fpga.layers.registry import get_layer  # noqa: PLC0415

    return get_layer(node)
