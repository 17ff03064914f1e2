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
        if dw:  # per group of SIMD channels the whole window
            ref = ref.reshape(*ref.shape[:3], k[0] * k[1], c // simd, simd).transpose(0, 1, 2, 4, 3, 5)
        assert y.shape == ref.shape[:3] + (k[0] * k[1] * c,)
        ref = ref.reshape(y.shape)
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


def test_depthwise_window_order_is_channel_group_ky_kx():
    x = np.arange(4 * 5 * 6, dtype=np.float32).reshape(1, 4, 5, 6)
    model = single_node_model("ConvolutionInputGenerator", cig_attrs((2, 3), 6, (4, 5), simd=2, dt="UINT8",
                                                                    depthwise=1))
    (y,) = execute_single_node(model, [x])
    oy, ox, i = 1, 2, 0
    for cf in range(3):
        for ky in range(2):
            for kx in range(3):
                for s in range(2):
                    assert y[0, oy, ox, i] == x[0, oy + ky, ox + kx, cf * 2 + s]
                    i += 1


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


def test_rtl_instance_binds_the_attributes():
    attrs = {**cig_attrs((3, 2), 6, (9, 8), stride=(2, 1), dil=(1, 3), simd=3, dt="BIPOLAR"), "ram_style": "block"}
    layer = the_layer(single_node_model("ConvolutionInputGenerator", attrs))
    inst = layer.rtl([])
    assert inst.module == "convolution_input_generator"
    assert inst.library == "//rtl/convolution_input_generator" == layer.rtl_library
    assert inst.params == dict(IFM_H=9, IFM_W=8, CHANNELS=6, K_H=3, K_W=2, STRIDE_H=2, STRIDE_W=1, DIL_H=1, DIL_W=3,
                               SIMD=3, ELEM_BITS=1, DEPTHWISE=0, RAM_STYLE="block")
    assert inst.memories == {}
    # The first window spans (2*1*8 + 1*3 + 1) pixels of 2 words; latency: that fill + 5.
    assert layer.window_span() == 40 and inst.latency == 45


@pytest.mark.parametrize("k,ifm,stride,dil,c,simd,depth", [
    # 3x3 stride 1: WIN = (2*8 + 2 + 1) * 2 = 38; the largest move is to the next frame
    # (= WIN when the window fits the image exactly): 2*WIN.
    ((3, 3), (8, 8), (1, 1), (1, 1), 4, 2, 76),
    # CNV's first layer: 2 * (2*32 + 3) words, a little over 4 image rows.
    ((3, 3), (32, 32), (1, 1), (1, 1), 3, 3, 134),
    # 1-D: a few pixels, not rows: WIN = 3, 2 * 3.
    ((1, 3), (1, 8), (1, 1), (1, 1), 4, 4, 6),
    # 1x1 stride 2 on 6x6 (unused last row and column): WIN = 1 word; the row step
    # 2*6 - 2*2 and the frame step 36 - 2*2*6 - 2*2 are both 8 pixels.
    ((1, 1), (6, 6), (2, 2), (1, 1), 2, 2, 9),
    # Stride (2, 1), 2x3 kernel on 7x5: WIN = 5 + 2 + 1 = 8; steps: next column 1, next
    # row 2*5 - 2 = 8, next frame 7*5 - 2*2*5 - 2 = 13 (the last image row is unused).
    ((2, 3), (7, 5), (2, 1), (1, 1), 3, 3, 21),
])
def test_line_buffer_depth(k, ifm, stride, dil, c, simd, depth):
    layer = the_layer(single_node_model("ConvolutionInputGenerator", cig_attrs(k, c, ifm, stride, dil, simd)))
    assert layer.line_buffer_depth() == depth
    (mem,) = layer.memories()
    assert (mem.depth, mem.width, mem.style, mem.rom) == (depth, simd * 4, "auto", False)


def test_ram_style_is_checked_and_reaches_the_memory():
    attrs = {**cig_attrs((3, 3), 4, (6, 6)), "ram_style": "distributed"}
    layer = the_layer(single_node_model("ConvolutionInputGenerator", attrs))
    assert layer.memories()[0].style == "distributed" and layer.rtl([]).params["RAM_STYLE"] == "distributed"
    with pytest.raises(ModelError, match="ram_style='flipflops' is not one of"):
        the_layer(single_node_model("ConvolutionInputGenerator", {**attrs, "ram_style": "flipflops"})).verify_node()


# ---- parallel_window = 1: a whole window per word ----


def par_layer(k, c, ifm, stride=(1, 1), dil=(1, 1), dt="INT4", depthwise=0, **extra):
    attrs = {**cig_attrs(k, c, ifm, stride, dil, c, dt, depthwise), "parallel_window": 1, **extra}
    return the_layer(single_node_model("ConvolutionInputGenerator", attrs, name="swg0"))


def test_parallel_window_needs_simd_equal_to_the_channels():
    attrs = {**cig_attrs((3, 3), 4, (6, 6), simd=2), "parallel_window": 1}
    with pytest.raises(FoldingError, match="parallel_window=1 reads one whole pixel per cycle, but SIMD=2") as e:
        the_layer(single_node_model("ConvolutionInputGenerator", attrs, name="swg0")).verify_node()
    assert "ConvolutionInputGenerator node 'swg0'" in str(e.value)
    assert "set SIMD=4, or parallel_window=0" in str(e.value)
    bad = {**attrs, "SIMD": 4, "parallel_window": 2}
    with pytest.raises(ModelError, match="parallel_window=2 is not one of"):
        the_layer(single_node_model("ConvolutionInputGenerator", bad)).verify_node()


def test_parallel_window_shapes_widths_and_cycles():
    layer = par_layer((3, 3), 4, (8, 8))
    layer.verify_node()
    assert layer.get_folded_input_shape() == (1, 8, 8, 1, 4)
    assert layer.get_folded_output_shape() == (1, 6, 6, 1, 36)
    assert (layer.get_instream_width(), layer.get_outstream_width()) == (16, 144)
    assert layer.cycles() == 8 * 8  # one input pixel per cycle
    assert par_layer((1, 1), 4, (7, 7), stride=(2, 2)).cycles() == 49  # 16 windows, 49 pixels
    # the serial generator at SIMD = C: a window position per cycle
    serial = the_layer(single_node_model("ConvolutionInputGenerator", cig_attrs((3, 3), 4, (8, 8), simd=4)))
    assert serial.cycles() == 6 * 6 * 9


@pytest.mark.parametrize("k,c,ifm,stride,dil,dw", [
    ((3, 3), 4, (8, 8), (1, 1), (1, 1), 0),
    ((3, 2), 5, (7, 6), (2, 1), (2, 3), 0),
    ((1, 5), 3, (1, 12), (1, 2), (1, 1), 0),
    ((3, 3), 6, (5, 5), (1, 1), (1, 1), 1),  # depthwise with SIMD = C: the standard order
])
def test_parallel_window_values_are_the_serial_ones(k, c, ifm, stride, dil, dw):
    rng = np.random.default_rng(5)
    x = numerics.random_values(DataType["INT4"], (1, *ifm, c), rng)
    serial = single_node_model("ConvolutionInputGenerator", cig_attrs(k, c, ifm, stride, dil, 1, "INT4"))
    par = single_node_model("ConvolutionInputGenerator",
                            {**cig_attrs(k, c, ifm, stride, dil, c, "INT4", dw), "parallel_window": 1})
    np.testing.assert_array_equal(execute_single_node(par, [x])[0], execute_single_node(serial, [x])[0])


def test_parallel_window_rtl_instance_and_line_buffer():
    layer = par_layer((3, 2), 6, (9, 8), stride=(2, 1), dil=(2, 3), dt="BIPOLAR", ram_style="block")
    inst = layer.rtl([])
    assert inst.module == "convolution_input_generator_parallel"
    assert inst.library == "//rtl/convolution_input_generator"
    assert inst.params == dict(IFM_H=9, IFM_W=8, CHANNELS=6, K_H=3, K_W=2, STRIDE_H=2, STRIDE_W=1, DIL_H=2, DIL_W=3,
                               ELEM_BITS=1, RAM_STYLE="block")
    assert inst.latency == 5
    # a delay line of DIL_H = 2 rows of 8 pixels, each word the K_H-1 = 2 pixels above
    assert layer.parallel_line_buffer() == (16, 12)
    (mem,) = layer.memories()
    assert (mem.depth, mem.width, mem.style, mem.rom) == (16, 12, "block", False)
    assert layer.resource_class() == "ConvolutionInputGenerator/parallel"
    feats = layer.resource_features()
    # the queue; stage B, (span-1) x KH register window (span 4), output window: pixels of 6 bits
    assert feats["stream_bits"] == 6 * 2 and feats["reg_bits"] == 6 * (1 + 3 * 3 + 6)
    # 1-D: no line buffer; a one-pixel-wide column image: a register, no memory
    assert par_layer((1, 3), 4, (1, 8)).memories() == []
    assert par_layer((3, 1), 2, (6, 1)).memories() == []


def test_parallel_window_estimate_is_calibrated():
    """Its own resource model (cal_swgp_* Yosys runs in rtl/layer_tests)."""
    from qnn2fpga import estimate  # noqa: PLC0415

    res = estimate.layer_resources(par_layer((3, 3), 4, (8, 8)), "7series")
    # every register bit a flip-flop: 16-bit pixels, 2 queued, 1 in stage B, 2x3 window, 3x3 out
    assert res["calibrated"] is True and res["FF"] >= 16 * (3 + 2 * 3 + 9)
    # the plain registers cost (nearly) no LUTs: Yosys, xc7, 111 LUT and 1,181 FF for
    # 14x14 x 64 bipolar channels, whose 1,152 register bits are flip-flops with enables
    big = estimate.layer_resources(par_layer((3, 3), 64, (14, 14), dt="BIPOLAR", ram_style="block"), "7series")
    assert abs(big["LUT"] - 111) <= 0.15 * 111 and abs(big["FF"] - 1181) <= 0.05 * 1181
