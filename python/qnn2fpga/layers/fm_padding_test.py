"""FMPadding against an index-by-index reference, and its RTL (rtl/fm_padding) over several
back-to-back frames (the generated Verilator tests stream one frame)."""

from __future__ import annotations

import numpy as np
import pytest
from qonnx.core.datatype import DataType

from qnn2fpga import rtlsim
from qnn2fpga.errors import DataTypeError, FoldingError
from qnn2fpga.layers import numerics
from qnn2fpga.layers.testing import execute_single_node, single_node_model, the_layer


def pad_reference(x, top, left, bottom, right, value):
    n, h, w, c = x.shape
    out = np.full((n, top + h + bottom, left + w + right, c), value, dtype=np.float32)
    for y in range(h):
        for xx in range(w):
            out[:, top + y, left + xx, :] = x[:, y, xx, :]
    return out


@pytest.mark.parametrize("pad,img,c,simd,dt,value", [
    ([1, 1, 1, 1], [4, 4], 3, 1, "INT4", 0),
    ([0, 0, 0, 0], [3, 2], 2, 2, "INT4", 0),
    ([2, 0, 1, 3], [3, 5], 4, 2, "UINT8", 255),
    ([0, 1, 0, 1], [1, 6], 6, 3, "BIPOLAR", -1),
    ([3, 3, 3, 3], [2, 2], 1, 1, "INT2", -2),
])
def test_matches_reference(pad, img, c, simd, dt, value):
    rng = np.random.default_rng(c)
    model = single_node_model("FMPadding", dict(Padding=pad, ImgDim=img, NumChannels=c, SIMD=simd, inputDataType=dt,
                                                padValue=value))
    x = numerics.random_values(DataType[dt], (1, *img, c), rng)
    (y,) = execute_single_node(model, [x])
    np.testing.assert_array_equal(y, pad_reference(x, *pad, value))
    layer = the_layer(model)
    assert layer.cycles() == layer.get_number_output_values() == y.size // simd


def test_pad_value_must_be_of_the_datatype():
    with pytest.raises(DataTypeError, match=r"padValue=0 is not a BIPOLAR value.*\(-1 or 1\)") as e:
        the_layer(single_node_model("FMPadding", dict(Padding=[1, 1, 1, 1], ImgDim=[2, 2], NumChannels=2,
                                                      inputDataType="BIPOLAR"), name="pad0")).verify_node()
    assert "FMPadding node 'pad0'" in str(e.value)


def test_bad_simd():
    with pytest.raises(FoldingError, match="SIMD=4 does not divide NumChannels=6"):
        the_layer(single_node_model("FMPadding", dict(Padding=[1, 1, 1, 1], ImgDim=[2, 2], NumChannels=6, SIMD=4,
                                                      inputDataType="INT4"))).verify_node()


@pytest.mark.parametrize("pad,img,c,simd,dt,value", [
    ([0, 2, 1, 0], [3, 5], 6, 2, "UINT4", 7),  # a frame ends in padding
    ([2, 1, 0, 0], [2, 3], 3, 1, "INT4", -3),  # a frame ends in an image pixel
])
def test_rtl_streams_frames_back_to_back(tmp_path, pad, img, c, simd, dt, value):
    """Several frames through rtl/fm_padding: bit-exact with input gaps and back-pressure,
    and at full rate one frame every cycles() cycles, with no bubble between frames."""
    model = single_node_model("FMPadding", dict(Padding=pad, ImgDim=img, NumChannels=c, SIMD=simd, inputDataType=dt,
                                                padValue=value))
    design = rtlsim.write_design(model, tmp_path)
    sim = rtlsim.compile_design(design)
    x = design.random_frames(5, seed=3)
    for in_p, out_p in [(1.0, 1.0), (0.6, 0.5), (1.0, 0.2)]:
        res = rtlsim.simulate(sim, design, x, in_p=in_p, out_p=out_p, seed=4)
        assert res.ok, res.report
        np.testing.assert_array_equal(res.y, pad_reference(x, *pad, value))
        assert res.report["frames_done"] == 5
        if in_p == out_p == 1.0:
            cycles = the_layer(model).cycles()
            assert res.report["cycles_per_frame"] == cycles
            done = res.report["frame_done"]
            assert all(b - a == cycles for a, b in zip(done, done[1:]))
