"""Pool behind a ConvolutionInputGenerator against ONNX's depthwise Conv with all-ones
weights (the window sums, through qonnx), its RTL binding, and the front end: AveragePool
compiles to a depthwise sliding window + Pool, bit-exact against qonnx execution of the
export, with the window's SIMD tied to the pool's PE by folding."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.util.basic import qonnx_make_model

from qnn2fpga import boards, execute, flow, folding, steps, testing
from qnn2fpga.errors import ModelError, UnsupportedOpError
from qnn2fpga.layers import numerics
from qnn2fpga.layers.numerics import sliding_window_dim
from qnn2fpga.layers.registry import get_layer
from qnn2fpga.layers.testing import execute_single_node, single_node_model, the_layer


def window_sums_onnx(x_nhwc, k, stride):
    """Depthwise Conv with ones, NCHW, executed by qonnx; returned NHWC."""
    x = x_nhwc.transpose(0, 3, 1, 2).astype(np.float32)
    c = x.shape[1]
    node = helper.make_node("Conv", ["x", "w"], ["y"], group=c, kernel_shape=list(k), strides=list(stride))
    oh, ow = (sliding_window_dim(i, kk, s) for i, kk, s in zip(x.shape[2:], k, stride))
    graph = helper.make_graph([node], "ref", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, c, oh, ow])],
                              [helper.make_tensor("w", TensorProto.FLOAT, [c, 1, *k], np.ones(c * k[0] * k[1]))])
    model = ModelWrapper(qonnx_make_model(graph, opset_imports=[helper.make_opsetid("", 11)]))
    return execute_onnx(model, {"x": x})["y"].transpose(0, 2, 3, 1)


@pytest.mark.parametrize("k,stride,img,c,pe,dt,out", [
    ((2, 2), (2, 2), (6, 6), 4, 2, "UINT4", "UINT6"),
    ((3, 3), (1, 1), (5, 7), 3, 3, "INT8", "INT12"),
    ((3, 3), (2, 2), (7, 7), 6, 1, "INT4", "INT8"),
    ((1, 4), (1, 3), (1, 11), 2, 2, "BIPOLAR", "INT4"),
])
def test_sums_of_the_sliding_window_equal_ones_depthwise_conv(k, stride, img, c, pe, dt, out):
    rng = np.random.default_rng(c)
    oh, ow = (sliding_window_dim(i, kk, s) for i, kk, s in zip(img, k, stride))
    swg = single_node_model("ConvolutionInputGenerator", dict(
        ConvKernelDim=list(k), IFMChannels=c, IFMDim=list(img), OFMDim=[oh, ow], Stride=list(stride), SIMD=pe,
        inputDataType=dt, outputDataType=dt, depthwise=0))  # Pool reads the standard order
    pool = single_node_model("Pool", dict(PoolDim=list(k), OutImgDim=[oh, ow], NumChannels=c, PE=pe,
                                          inputDataType=dt))
    assert the_layer(pool).output_datatypes()[0] == DataType[out]
    for _ in range(3):
        x = numerics.random_values(DataType[dt], (1, *img, c), rng)
        (windows,) = execute_single_node(swg, [x])
        (y,) = execute_single_node(pool, [windows])
        np.testing.assert_array_equal(y, window_sums_onnx(x, k, stride))


def test_shapes_cycles_and_rtl_parameters():
    layer = the_layer(single_node_model("Pool", dict(PoolDim=[3, 2], OutImgDim=[4, 5], NumChannels=8, PE=2,
                                                     inputDataType="UINT4")))
    assert layer.get_normal_input_shape() == (1, 4, 5, 48)
    assert layer.get_normal_output_shape() == (1, 4, 5, 8)
    assert layer.cycles() == 4 * 5 * 6 * 4  # every window pixel's channel words
    inst = layer.rtl([])
    assert (inst.module, inst.library, inst.latency) == ("global_acc_pool", "//rtl/global_acc_pool", 1)
    assert inst.params == dict(CHANNELS=8, PE=2, PIXELS=6, BITS=4, ACC_BITS=7, SIGNED=0, BIPOLAR=0)


def test_bad_attributes_are_refused():
    attrs = dict(PoolDim=[2, 0], OutImgDim=[2, 2], NumChannels=4, PE=1, inputDataType="INT4")
    with pytest.raises(ModelError, match="PoolDim=\\[2, 0\\] has a non-positive entry") as e:
        the_layer(single_node_model("Pool", attrs, name="pool1")).verify_node()
    assert "Pool node 'pool1'" in str(e.value)


def test_padded_average_pool_is_refused_by_name():
    export = testing.tiny_gap_cnn(img=10, pool_op="AveragePool")
    gap = next(n for n in export.graph.node if n.op_type == "AveragePool")
    gap.attribute.append(helper.make_attribute("pads", [1, 1, 1, 1]))
    export.set_initializer("w2", np.zeros((8 * 5 * 5, 5), dtype=np.float32))
    del export.graph.value_info[:]
    export = export.transform(InferShapes())
    with pytest.raises(UnsupportedOpError, match="'gap' \\(AveragePool\\): unsupported attribute: average pooling"):
        flow.compile_model(export)


def test_trunc_avg_pool_compiles_bit_exact():
    """Brevitas' TruncAvgPool2d: AveragePool, then Trunc to 6 bits (floor)."""
    export = testing.tiny_gap_cnn(channels=8, img=10, pool_op="AveragePool", trunc="FLOOR")
    x, y = testing.export_golden(export, 30)
    model = steps.run(export, steps.StepConfig(), last="to_hw")
    ops = [n.op_type for n in model.graph.node]
    assert ops[ops.index("Pool"):] == ["Pool", "Thresholding", "Thresholding", "MVAU", "Mul"]
    assert np.array_equal(execute.execute(model, x, "python"), y)


def test_average_pool_compiles_bit_exact_and_folds_tied():
    export = testing.tiny_gap_cnn(channels=32, img=10, pool_op="AveragePool")
    x, y = testing.export_golden(export, 30)
    model = steps.run(export, steps.StepConfig(), last="to_hw")
    ops = [n.op_type for n in model.graph.node]
    assert ops[ops.index("MVAU"):] == ["MVAU", "ConvolutionInputGenerator", "Pool", "Thresholding", "MVAU", "Mul"]
    assert np.array_equal(execute.execute(model, x, "python"), y)
    # 4x4 windows of 2x2 pixels, 32 channels: 2048 cycles at PE 1; a 600-cycle target
    # needs PE >= 4; the pool's sliding window (standard order, depthwise=0) folds on its own.
    model, _ = folding.auto_fold(model, boards.load_board("zcu104"), target_fps=100e6 / 600, fclk_mhz=100)
    pool = get_layer(next(n for n in model.graph.node if n.op_type == "Pool"))
    swg = get_layer(model.find_producer(pool.onnx_node.input[0]))
    assert pool.PE >= 4 and pool.cycles() <= 600
    assert swg.depthwise == 0 and swg.cycles() <= 600
