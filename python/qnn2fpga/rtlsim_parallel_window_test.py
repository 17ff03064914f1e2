"""A convolution folded to one output pixel per cycle, end to end: testing.tiny_gap_cnn
(3x3 conv of 16 channels on a 6x6 RGB image, global average pooling, a linear layer)
folded automatically for 2.5 million fps at 100 MHz (40 cycles per frame), beyond the
serial window generator's 4*4*9 = 144 cycles, so auto_fold picks the parallel one
(parallel_window = 1, a whole 27-element window per word, 36 cycles); width converters
and FIFOs inserted, FIFOs sized by simulation, the design stitched and simulated:
bit-exact against the layers' models and qonnx execution of the original graph (also
under throttling), and at the estimated bottleneck's rate."""

from __future__ import annotations

import numpy as np
import pytest

from qnn2fpga import boards, execute, fifo_sizing, flow, folding, rtlsim, stitch, testing
from qnn2fpga.layers import get_layer
from qnn2fpga.transforms.insert_streams import InsertDWC, InsertFIFO

FPS = 2.5e6  # 40 cycles per frame at 100 MHz


@pytest.fixture(scope="module")
def sized(tmp_path_factory):
    original = testing.tiny_gap_cnn(channels=16)
    model = flow.compile_model(original)
    model, result = folding.auto_fold(model, boards.load_board("zcu104"), FPS, fclk_mhz=100.0)
    model = model.transform(InsertDWC()).transform(InsertFIFO())
    model, _ = fifo_sizing.size_fifos(model, tmp_path_factory.mktemp("sizing"))
    design = rtlsim.write_design(model, tmp_path_factory.mktemp("design"))
    return original, model, result, design, rtlsim.compile_design(design)


def test_the_fast_target_takes_the_parallel_window(sized):
    _, model, result, design, _ = sized
    swg = get_layer(model.get_node_from_name("ConvolutionInputGenerator_0"))
    assert (swg.parallel_window, swg.SIMD, swg.output_folds()) == (1, 3, [27])
    assert swg.cycles() == 36 <= result.target_cycles == 40
    assert design.nodes[0] == "ConvolutionInputGenerator_0"


def test_bit_exact_against_the_layer_models_and_qonnx(sized):
    original, model, _, design, sim = sized
    x, y = testing.export_golden(original, 8, seed=3)
    got = execute.execute(model, x, "rtlsim", design, sim)
    np.testing.assert_array_equal(got, execute.execute(model, x, "python"))
    np.testing.assert_array_equal(got.reshape(y.shape), y)


@pytest.mark.parametrize("in_p, out_p", [(0.4, 1.0), (1.0, 0.3)])
def test_bit_exact_under_throttling(sized, in_p, out_p):
    _, _, _, design, sim = sized
    x = design.random_frames(6, seed=5)
    res = rtlsim.simulate(sim, design, x, in_p=in_p, out_p=out_p, seed=7)
    assert res.ok, res.report
    assert np.array_equal(res.y, stitch.execute_chain(design.stitched, x).reshape(res.y.shape))


def test_cycles_per_frame_at_the_bottleneck(sized):
    _, _, result, design, sim = sized
    r = rtlsim.simulate(sim, design, design.random_frames(12)).report
    print("cycles per frame", r["cycles_per_frame"], "bottleneck", design.bottleneck())
    assert design.bottleneck_cycles() <= result.target_cycles
    assert r["cycles_per_frame"] <= 1.05 * design.bottleneck_cycles()
