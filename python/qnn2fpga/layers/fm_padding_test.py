"""FMPadding against an index-by-index reference."""

from __future__ import annotations

import numpy as np
import pytest
from qonnx.core.datatype import DataType

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
