"""A depthwise convolution end to end: a tiny QONNX graph (testing.tiny_depthwise)
compiles to a depthwise ConvolutionInputGenerator and a VVAU with fused thresholds,
folded PE = 2, SIMD = 3 (a width converter regroups the window generator's 2-channel
words into 6-element ones), stitched and simulated: bit-exact against qonnx execution
of the original graph, under throttling, and at the estimated bottleneck's rate."""

from __future__ import annotations

import numpy as np
import pytest

from qnn2fpga import execute, fifo_sizing, flow, folding, rtlsim, stitch, testing
from qnn2fpga.layers import get_layer
from qnn2fpga.transforms.insert_streams import InsertDWC, InsertFIFO

CONFIG = {"ConvolutionInputGenerator_0": {"SIMD": 2}, "VVAU_0": {"PE": 2, "SIMD": 3}}


@pytest.fixture(scope="module")
def sized(tmp_path_factory):
    original = testing.tiny_depthwise(channels=4, image=8)
    model = flow.compile_model(original)
    model, _ = folding.apply_config(model, CONFIG, "test config")
    model = model.transform(InsertDWC()).transform(InsertFIFO())
    model, _ = fifo_sizing.size_fifos(model, tmp_path_factory.mktemp("sizing"))
    design = rtlsim.write_design(model, tmp_path_factory.mktemp("design"))
    return original, model, design, rtlsim.compile_design(design)


def test_design_has_the_window_generator_a_converter_and_the_vvau(sized):
    _, model, design, _ = sized
    ops = [model.get_node_from_name(n).op_type for n in design.nodes]
    assert [o for o in ops if o != "StreamingFIFO"] == ["ConvolutionInputGenerator", "StreamingDataWidthConverter",
                                                        "VVAU"]
    vvau = get_layer(model.get_node_from_name("VVAU_0"))
    assert (vvau.PE, vvau.SIMD, vvau.noActivation) == (2, 3, 0)


def test_bit_exact_against_qonnx(sized):
    original, model, design, sim = sized
    x, y = testing.export_golden(original, 6, seed=3)
    got = execute.execute(model, x, "rtlsim", design, sim)
    np.testing.assert_array_equal(got.reshape(y.shape), y)


@pytest.mark.parametrize("in_p, out_p", [(0.4, 1.0), (1.0, 0.3)])
def test_bit_exact_under_throttling(sized, in_p, out_p):
    _, _, design, sim = sized
    x = design.random_frames(6, seed=5)
    res = rtlsim.simulate(sim, design, x, in_p=in_p, out_p=out_p, seed=7)
    assert res.ok, res.report
    assert np.array_equal(res.y, stitch.execute_chain(design.stitched, x).reshape(res.y.shape))


def test_cycles_per_frame_at_the_bottleneck(sized):
    _, _, design, sim = sized
    r = rtlsim.simulate(sim, design, design.random_frames(12)).report
    # The window generator: 6x6 pixels x 9 positions x 4/2 channel words = 648; the VVAU
    # 6x6 x 4/2 x 9/3 = 216.
    assert design.bottleneck_cycles() == 648
    assert design.bottleneck_cycles() <= r["cycles_per_frame"] <= 1.05 * design.bottleneck_cycles()
