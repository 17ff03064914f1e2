"""VVAU against a direct depthwise convolution (and qonnx's grouped Conv through the
front end), its folding, memory layout and checks."""

from __future__ import annotations

import numpy as np
import pytest
from qonnx.core.datatype import DataType

from qnn2fpga import boards, execute, flow, folding, packing, testing
from qnn2fpga.errors import DataTypeError, FoldingError, ModelError, UnsupportedOpError
from qnn2fpga.layers import get_layer, is_hw_layer, numerics
from qnn2fpga.layers.testing import execute_single_node, single_node_model, the_layer


def attrs(c=4, k=(3, 3), dim=(2, 2), pe=1, simd=1, idt="INT4", wdt="INT4", odt="INT16", acc="INT16", **kw):
    return dict(Channels=c, Kernel=list(k), KernelSize=k[0] * k[1], Dim=list(dim), PE=pe, SIMD=simd,
                inputDataType=idt, weightDataType=wdt, outputDataType=odt, accDataType=acc,
                noActivation=0 if "ActVal" in kw or odt != acc else 1, **kw)


def direct_depthwise(img, w, k):
    """out[y, x, c] = sum_{ky, kx} img[y + ky, x + kx, c] * w[c, ky*KW + kx] (NHWC, stride 1)."""
    (kh, kw), (_, h, wd, c) = k, img.shape
    out = np.zeros((1, h - kh + 1, wd - kw + 1, c), dtype=np.int64)
    for ky in range(kh):
        for kx in range(kw):
            out += img[:, ky:ky + out.shape[1], kx:kx + out.shape[2], :].astype(np.int64) * \
                w[:, ky * kw + kx].astype(np.int64)
    return out


@pytest.mark.parametrize("k,c,pe,simd,idt,wdt", [
    ((3, 3), 4, 1, 1, "INT4", "INT4"),
    ((3, 3), 6, 3, 3, "UINT8", "INT2"),
    ((5, 5), 2, 2, 25, "BIPOLAR", "BIPOLAR"),
    ((1, 3), 8, 4, 1, "INT8", "BIPOLAR"),
    ((2, 3), 4, 2, 2, "UINT4", "BINARY"),
])
def test_window_generator_then_vvau_is_a_depthwise_convolution(k, c, pe, simd, idt, wdt):
    """The SWG (depthwise=1, SIMD = PE) and the VVAU together compute the convolution,
    with no activation (the accumulator) for every folding."""
    rng = np.random.default_rng(c * simd)
    ih, iw = k[0] + 2, k[1] + 3
    dim = (ih - k[0] + 1, iw - k[1] + 1)
    swg = single_node_model("ConvolutionInputGenerator", dict(
        ConvKernelDim=list(k), IFMChannels=c, IFMDim=[ih, iw], OFMDim=list(dim), SIMD=pe, inputDataType=idt,
        outputDataType=idt, depthwise=1))
    w = numerics.random_values(DataType[wdt], (c, k[0] * k[1]), rng)
    vvau = single_node_model("VVAU", attrs(c, k, dim, pe, simd, idt, wdt, "INT24", "INT24"), (w,))
    for _ in range(2):
        img = numerics.random_values(DataType[idt], (1, ih, iw, c), rng)
        (windows,) = execute_single_node(swg, [img])
        (y,) = execute_single_node(vvau, [windows])
        np.testing.assert_array_equal(y, direct_depthwise(img, w, k))


def test_thresholds_follow_the_accumulator():
    rng = np.random.default_rng(3)
    a = attrs(4, (3, 3), (2, 2), 2, 3, "UINT4", "INT4", "INT2", "INT16", ActVal=-2)
    layer = the_layer(single_node_model("VVAU", a, (np.zeros((4, 9)), np.zeros((4, 3)))))
    w, t = layer.random_params(rng)
    x = numerics.random_values(DataType["UINT4"], (1, 2, 2, 36), rng)
    acc = the_layer(single_node_model("VVAU", {**a, "noActivation": 1, "outputDataType": "INT16"}, (w,))).execute(x, w)
    expect = -2 + (acc[..., None] >= t).sum(-1)
    np.testing.assert_array_equal(layer.execute(x, w, t), expect)
    assert expect.min() >= -2 and expect.max() <= 1


def test_folding_shapes_cycles_and_memories():
    layer = the_layer(single_node_model("VVAU", attrs(8, (3, 3), (4, 5), pe=2, simd=3, odt="UINT4", ActVal=0),
                                        (np.zeros((8, 9)), np.zeros((8, 15)))))
    assert layer.get_folded_input_shape() == (1, 4, 5, 12, 6)  # PE*SIMD elements per word
    assert layer.get_folded_output_shape() == (1, 4, 5, 4, 2)
    assert layer.producer_fold() == 2
    assert layer.cycles() == 4 * 5 * (8 // 2) * (9 // 3)
    wmem, tmem = layer.memories()
    assert (wmem.depth, wmem.width) == (4 * 3, 2 * 3 * 4)
    assert (tmem.depth, tmem.width) == (4, 2 * 15 * 17)


def test_weight_words_layout():
    w = np.arange(4 * 9).reshape(4, 9) % 7 - 3
    layer = the_layer(single_node_model("VVAU", attrs(4, (3, 3), (1, 1), pe=2, simd=3), (w,)))
    inst = layer.rtl([w])
    words, width = inst.memories["WEIGHT_FILE"]
    assert width == 24 and len(words) == 2 * 3
    for cf in range(2):
        for sf in range(3):
            fields = [(words[cf * 3 + sf] >> (4 * f)) & 0xF for f in range(6)]
            expect = [int(w[cf * 2 + pe, sf * 3 + s]) & 0xF for pe in range(2) for s in range(3)]
            assert fields == expect
    assert inst.params["CHANNELS"] == 4 and inst.params["SIMD"] == 3 and inst.latency == 4
    assert packing.element_bits(DataType["INT4"]) == 4


@pytest.mark.parametrize("change,error,match", [
    (dict(PE=3), FoldingError, "PE=3 does not divide Channels=4"),
    (dict(SIMD=2), FoldingError, "SIMD=2 does not divide KernelSize=9"),
    (dict(KernelSize=6), ModelError, "set KernelSize=9"),
    (dict(outputDataType="INT8"), DataTypeError, "set outputDataType=INT16"),
    (dict(ram_style="ultra"), ModelError, "ram_style='ultra' is not one of"),
])
def test_bad_configurations(change, error, match):
    with pytest.raises(error, match=match) as e:
        the_layer(single_node_model("VVAU", {**attrs(), **change}, (np.zeros((4, 9)),), name="dw0")).verify_node()
    assert "VVAU node 'dw0'" in str(e.value)


def test_accumulator_range_is_checked():
    layer = the_layer(single_node_model("VVAU", attrs(acc="INT8", odt="INT8"), (np.full((4, 9), 7.0),)))
    with pytest.raises(DataTypeError, match="set accDataType=INT10"):
        layer.check_params([np.full((4, 9), 7.0)])


@pytest.fixture(scope="module")
def compiled():
    model = testing.tiny_depthwise()
    return model, flow.compile_model(model)


def test_depthwise_conv_compiles_to_window_generator_and_vvau(compiled):
    _, model = compiled
    hw = [n for n in model.graph.node if is_hw_layer(n)]
    assert [n.op_type for n in hw] == ["ConvolutionInputGenerator", "VVAU"]
    swg, vvau = (get_layer(n) for n in hw)
    assert swg.depthwise == 1 and vvau.noActivation == 0 and vvau.Kernel == [3, 3] and vvau.Channels == 4
    assert vvau.outputDataType == DataType["INT4"] and vvau.accDataType.bitwidth() <= 12


def test_compiled_python_execution_is_bit_exact(compiled):
    original, model = compiled
    x, y = testing.export_golden(original, 6)
    np.testing.assert_array_equal(execute.execute(model, x, "python").reshape(y.shape), y)


def test_auto_folding_ties_the_window_generator_to_pe(compiled):
    model = flow.compile_model(compiled[0])  # folded in place: a copy of its own

    board = boards.load_board("Pynq-Z1")
    # 100 MHz / 600k fps = 166 cycles: the window generator (16 pixels x 9 positions x 4
    # channels) needs SIMD = 4, and the VVAU's PE follows it.
    model, result = folding.auto_fold(model, board, target_fps=600e3, fclk_mhz=100.0)
    swg, vvau = (get_layer(n) for n in model.graph.node if is_hw_layer(n))
    assert swg.SIMD == vvau.PE == 4 and result.max_cycles <= 166


def test_grouped_conv_is_refused_with_the_node_named():
    model = testing.tiny_depthwise(channels=4)
    for a in model.graph.node[2].attribute:
        if a.name == "group":
            a.i = 2
    model.set_initializer("w", np.ones((4, 2, 3, 3), dtype=np.float32))
    with pytest.raises(UnsupportedOpError, match="Conv node 'dwconv'.*group=2"):
        flow.compile_model(model)


def test_a_folding_that_unties_pe_from_the_window_generator_is_refused(compiled):
    model = flow.compile_model(compiled[0])
    with pytest.raises(FoldingError, match="set ConvolutionInputGenerator_0 SIMD=2"):
        folding.apply_config(model, {"VVAU_0": {"PE": 2}})
    folding.apply_config(model, {"VVAU_0": {"PE": 2}, "ConvolutionInputGenerator_0": {"SIMD": 2}})
