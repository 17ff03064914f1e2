"""StreamingMaxPool against qonnx's MaxPoolNHWC (ONNX MaxPool through onnxruntime)."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.util.basic import qonnx_make_model

from qnn2fpga.errors import FoldingError, ModelError
from qnn2fpga.layers import numerics
from qnn2fpga.layers.testing import execute_single_node, single_node_model, the_layer


def maxpool_nhwc(x, k, stride, ceil_mode):
    node = helper.make_node("MaxPoolNHWC", ["x"], ["y"], domain="qonnx.custom_op.general", kernel_shape=list(k),
                            pads=[0, 0, 0, 0], strides=list(stride), ceil_mode=ceil_mode)
    graph = helper.make_graph([node], "ref", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = ModelWrapper(qonnx_make_model(graph, opset_imports=[helper.make_opsetid("", 13)])).transform(InferShapes())
    return execute_onnx(model, {"x": x})["y"]


@pytest.mark.parametrize("k,stride,img,c,pe,dt,ceil", [
    ((2, 2), None, (4, 4), 3, 1, "INT4", 0),
    ((2, 2), (2, 2), (8, 6), 4, 2, "UINT8", 0),
    ((3, 3), (2, 2), (7, 7), 2, 2, "INT3", 0),
    ((3, 3), (1, 1), (5, 6), 6, 3, "BIPOLAR", 0),
    ((2, 3), (2, 3), (5, 8), 2, 1, "INT8", 0),
    ((2, 2), (2, 2), (5, 5), 2, 1, "INT4", 1),
    ((3, 3), (2, 2), (6, 8), 3, 3, "INT6", 1),
    ((1, 2), (1, 2), (1, 9), 4, 4, "UINT4", 1),
])
def test_equals_qonnx_maxpool_nhwc(k, stride, img, c, pe, dt, ceil):
    rng = np.random.default_rng(c + img[0])
    attrs = dict(PoolDim=list(k), ImgDim=list(img), NumChannels=c, PE=pe, dataType=dt, ceil_mode=ceil)
    if stride is not None:
        attrs["Stride"] = list(stride)
    model = single_node_model("StreamingMaxPool", attrs)
    for _ in range(3):
        x = numerics.random_values(DataType[dt], (1, *img, c), rng)
        (y,) = execute_single_node(model, [x])
        np.testing.assert_array_equal(y, maxpool_nhwc(x, k, stride or k, ceil))


def test_stride_defaults_to_pool_dim_and_cycles_are_input_bound():
    layer = the_layer(single_node_model("StreamingMaxPool", dict(PoolDim=[2, 2], ImgDim=[6, 4], NumChannels=8, PE=4,
                                                                 dataType="INT4")))
    assert layer.stride() == [2, 2]
    assert layer.get_normal_output_shape() == (1, 3, 2, 8)
    assert layer.get_folded_output_shape() == (1, 3, 2, 2, 4)
    assert layer.cycles() == 6 * 4 * 2


@pytest.mark.parametrize("change,error,match", [
    (dict(PE=3), FoldingError, "PE=3 does not divide NumChannels=4"),
    (dict(PoolDim=[5, 5]), ModelError, "does not fit"),
    (dict(Stride=[2]), ModelError, "2 entries"),
    (dict(ceil_mode=2), ModelError, "ceil_mode"),
])
def test_bad_configurations(change, error, match):
    attrs = {**dict(PoolDim=[2, 2], ImgDim=[4, 4], NumChannels=4, dataType="INT4"), **change}
    with pytest.raises(error, match=match) as e:
        the_layer(single_node_model("StreamingMaxPool", attrs, name="pool1")).verify_node()
    assert "StreamingMaxPool node 'pool1'" in str(e.value)


@pytest.mark.parametrize("attrs,params", [
    (dict(PoolDim=[2, 2], ImgDim=[28, 28], NumChannels=64, PE=4, dataType="UINT2"),
     dict(POOL_H=2, POOL_W=2, STRIDE_H=2, STRIDE_W=2, IMG_H=28, IMG_W=28, CHANNELS=64, PE=4, BITS=2, SIGNED=0,
          CEIL_MODE=0)),
    (dict(PoolDim=[3, 3], Stride=[2, 1], ImgDim=[7, 6], NumChannels=3, PE=3, dataType="INT5", ceil_mode=1),
     dict(POOL_H=3, POOL_W=3, STRIDE_H=2, STRIDE_W=1, IMG_H=7, IMG_W=6, CHANNELS=3, PE=3, BITS=5, SIGNED=1,
          CEIL_MODE=1)),
    (dict(PoolDim=[1, 2], ImgDim=[1, 8], NumChannels=2, PE=1, dataType="BIPOLAR"),
     dict(POOL_H=1, POOL_W=2, STRIDE_H=1, STRIDE_W=2, IMG_H=1, IMG_W=8, CHANNELS=2, PE=1, BITS=1, SIGNED=0,
          CEIL_MODE=0)),
])
def test_rtl_parameters(attrs, params):
    """BIPOLAR (-1 coded 0, +1 coded 1) compares as an unsigned bit; Stride [] is PoolDim."""
    inst = the_layer(single_node_model("StreamingMaxPool", attrs)).rtl([])
    assert (inst.module, inst.library, inst.latency) == ("streaming_max_pool", "//rtl/streaming_max_pool", 2)
    assert inst.params == {**params, "RAM_STYLE": "auto"}
    assert inst.memories == {}


@pytest.mark.parametrize("pool,stride,img,open_rows", [
    ([2, 2], [], [8, 8], 1),  # CNV: one row window open at a time
    ([3, 3], [2, 2], [9, 9], 2),  # overlapping rows: two open windows share a memory word
    ([3, 3], [1, 1], [6, 6], 3),
    ([3, 1], [1, 1], [3, 4], 1),  # no more open windows than there are windows (OH = 1)
    ([2, 2], [3, 3], [8, 8], 1),
])
def test_memory_holds_one_row_of_maxima_per_open_row_window(pool, stride, img, open_rows):
    layer = the_layer(single_node_model("StreamingMaxPool", dict(PoolDim=pool, Stride=stride, ImgDim=img,
                                                                 NumChannels=6, PE=2, dataType="INT4")))
    (mem,) = layer.memories()
    assert layer.open_row_windows() == open_rows
    assert (mem.depth, mem.width, mem.rom) == (layer.out_dim()[1] * 3, open_rows * 2 * 4, False)


def test_ceil_mode_maxpool_converts():
    """A ceil-mode MaxPoolNHWC converts (random_graphs.generate_conv seeds 1, 5, 8 and 11
    were refused as not converted), keeping ceil_mode and the function."""
    from qnn2fpga.transforms.to_hw import ToHardwareLayers  # noqa: PLC0415

    node = helper.make_node("MaxPoolNHWC", ["x"], ["y"], domain="qonnx.custom_op.general", kernel_shape=[2, 2],
                            pads=[0, 0, 0, 0], strides=[1, 2], ceil_mode=1)
    graph = helper.make_graph([node], "pool", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 5, 6, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = ModelWrapper(qonnx_make_model(graph, opset_imports=[helper.make_opsetid("", 13)])).transform(InferShapes())
    model.set_tensor_datatype("x", DataType["INT4"])
    hw = model.transform(ToHardwareLayers())
    assert [n.op_type for n in hw.graph.node] == ["StreamingMaxPool"]
    assert the_layer(hw).ceil_mode == 1 and hw.get_tensor_shape(hw.graph.output[0].name) == [1, 4, 3, 3]
    x = numerics.random_values(DataType["INT4"], (1, 5, 6, 3), np.random.default_rng(0))
    np.testing.assert_array_equal(execute_onnx(hw, {"x": x})[hw.graph.output[0].name],
                                  maxpool_nhwc(x, (2, 2), (1, 2), 1))
