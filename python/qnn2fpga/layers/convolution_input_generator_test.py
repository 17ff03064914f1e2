"""ConvolutionInputGenerator against qonnx's Im2Col (same element ordering), and its checks."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.util.basic import qonnx_make_model

from qnn2fpga.errors import DataTypeError, FoldingError, ModelError
from qnn2fpga.layers import numerics
from qnn2fpga.layers.testing import execute_single_node, single_node_model, the_layer


def im2col(x, k, stride, dil, dt, pad=(0, 0, 0, 0), pad_value=0):
    """qonnx Im2Col on an NHWC input."""
    node = helper.make_node("Im2Col", ["x"], ["y"], domain="qonnx.custom_op.general", kernel_size=list(k),
                            stride=list(stride), dilations=list(dil), input_shape=str(tuple(x.shape)),
                            pad_amount=list(pad), pad_value=pad_value)
    graph = helper.make_graph([node], "ref", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = ModelWrapper(qonnx_make_model(graph))
    model.set_tensor_datatype("x", DataType[dt])
    model = model.transform(InferShapes())
    return execute_onnx(model, {"x": x})["y"]


def cig_attrs(k, c, ifm, stride=(1, 1), dil=(1, 1), simd=1, dt="INT4", depthwise=0):
    ofm = [numerics.sliding_window_dim(*a) for a in zip(ifm, k, stride, dil)]
    return dict(ConvKernelDim=list(k), IFMChannels=c, IFMDim=list(ifm), OFMDim=ofm, Stride=list(stride),
                Dilation=list(dil), SIMD=simd, inputDataType=dt, outputDataType=dt, depthwise=depthwise)


CONFIGS = [
    # kernel, channels, ifm, stride, dilation, simd, datatype, depthwise
    ((3, 3), 3, (6, 6), (1, 1), (1, 1), 1, "INT4", 0),
    ((3, 3), 4, (8, 8), (2, 2), (1, 1), 2, "UINT8", 0),
    ((2, 3), 2, (5, 7), (1, 2), (1, 1), 2, "INT2", 0),
    ((3, 3), 2, (9, 9), (1, 1), (2, 2), 1, "BIPOLAR", 0),
    ((3, 2), 5, (7, 6), (2, 1), (2, 3), 5, "INT8", 0),
    ((1, 1), 8, (4, 4), (1, 1), (1, 1), 4, "UINT2", 0),
    ((4, 4), 1, (4, 4), (1, 1), (1, 1), 1, "INT3", 0),
    ((1, 5), 3, (1, 12), (1, 1), (1, 1), 3, "INT4", 0),
    ((3, 3), 6, (5, 5), (1, 1), (1, 1), 3, "INT4", 1),
    ((2, 2), 4, (6, 6), (3, 3), (1, 1), 1, "UINT3", 0),
]


@pytest.mark.parametrize("k,c,ifm,stride,dil,simd,dt,dw", CONFIGS)
def test_equals_qonnx_im2col(k, c, ifm, stride, dil, simd, dt, dw):
    rng = np.random.default_rng(c * ifm[0] * ifm[1])
    model = single_node_model("ConvolutionInputGenerator", cig_attrs(k, c, ifm, stride, dil, simd, dt, dw))
    for _ in range(3):
        x = numerics.random_values(DataType[dt], (1, *ifm, c), rng)
        (y,) = execute_single_node(model, [x])
        ref = im2col(x, k, stride, dil, dt)
        assert y.shape == ref.shape
        np.testing.assert_array_equal(y, ref)


def test_window_element_order_is_ky_kx_c():
    x = np.arange(4 * 5 * 3, dtype=np.float32).reshape(1, 4, 5, 3)
    model = single_node_model("ConvolutionInputGenerator", cig_attrs((2, 3), 3, (4, 5), dt="UINT8"))
    (y,) = execute_single_node(model, [x])
    oy, ox = 1, 2
    for ky in range(2):
        for kx in range(3):
            for c in range(3):
                assert y[0, oy, ox, (ky * 3 + kx) * 3 + c] == x[0, oy + ky, ox + kx, c]


def test_fmpadding_then_cig_equals_padded_im2col():
    rng = np.random.default_rng(9)
    pad = [1, 2, 0, 1]
    x = numerics.random_values(DataType["INT4"], (1, 5, 4, 2), rng)
    padded = single_node_model("FMPadding", dict(Padding=pad, ImgDim=[5, 4], NumChannels=2, inputDataType="INT4",
                                                 padValue=-3))
    (xp,) = execute_single_node(padded, [x])
    cig = single_node_model("ConvolutionInputGenerator", cig_attrs((3, 3), 2, xp.shape[1:3], stride=(2, 1)))
    (y,) = execute_single_node(cig, [xp])
    np.testing.assert_array_equal(y, im2col(x, (3, 3), (2, 1), (1, 1), "INT4", pad=pad, pad_value=-3))


def test_folding_shapes_and_cycles():
    layer = the_layer(single_node_model("ConvolutionInputGenerator", cig_attrs((3, 3), 4, (6, 6), simd=2)))
    assert layer.get_folded_input_shape() == (1, 6, 6, 2, 2)
    assert layer.get_folded_output_shape() == (1, 4, 4, 18, 2)
    assert layer.get_instream_width() == 8 == layer.get_outstream_width()
    assert layer.cycles() == 4 * 4 * 18  # output-bound
    strided = the_layer(single_node_model("ConvolutionInputGenerator", cig_attrs((1, 1), 4, (6, 6), stride=(3, 3))))
    assert strided.cycles() == 6 * 6 * 4  # input-bound: the stride skips pixels


@pytest.mark.parametrize("change,error,match", [
    (dict(OFMDim=[5, 5]), ModelError, r"set OFMDim=\[4, 4\]"),
    (dict(SIMD=3), FoldingError, "SIMD=3 does not divide IFMChannels=4"),
    (dict(outputDataType="INT8"), DataTypeError, "set outputDataType=INT4"),
    (dict(Stride=[0, 1]), ModelError, "non-positive"),
    (dict(ConvKernelDim=[3]), ModelError, "expected 2"),
])
def test_bad_configurations(change, error, match):
    attrs = {**cig_attrs((3, 3), 4, (6, 6)), **change}
    with pytest.raises(error, match=match) as e:
        the_layer(single_node_model("ConvolutionInputGenerator", attrs, name="swg0")).verify_node()
    assert "ConvolutionInputGenerator node 'swg0'" in str(e.value)
