"""The data layout: round trips, bit positions, encodings and errors."""

import numpy as np
import pytest
from qonnx.core.datatype import DataType

from qnn2fpga import packing


@pytest.mark.parametrize("dt", ["BIPOLAR", "BINARY", "INT2", "UINT4", "INT4", "UINT8", "INT8", "INT13"])
@pytest.mark.parametrize("fold", [1, 3, 6])
def test_round_trip(dt, fold):
    dt = DataType[dt]
    rng = np.random.default_rng(0)
    lo, hi = (-1, 1) if dt == DataType["BIPOLAR"] else (dt.min(), dt.max())
    v = rng.integers(lo, hi + 1, size=(2, 4, 6)).astype(np.float32)
    if dt == DataType["BIPOLAR"]:
        v = np.where(v >= 0, 1, -1).astype(np.float32)
    words = packing.pack_words(v, dt, fold)
    assert len(words) == v.size // fold
    assert all(0 <= w < 1 << (fold * packing.element_bits(dt)) for w in words)
    np.testing.assert_array_equal(packing.unpack_words(words, dt, fold, v.shape), v)


def test_bit_positions_element_zero_in_lsbs():
    assert packing.pack_words(np.array([1, 2, 3]), DataType["UINT4"], 3) == [0x321]
    assert packing.pack_words(np.array([-1, 1, 1, -1]), DataType["BIPOLAR"], 4) == [0b0110]
    assert packing.pack_words(np.array([-1, 0, 1]), DataType["INT2"], 3) == [0b01_00_11]


def test_hex_lines_are_zero_padded_and_read_back():
    text = packing.hex_lines([1, 0xABC], 10)
    assert text == "001\nabc\n"
    assert packing.read_hex(text) == [1, 0xABC]


def test_bad_values_are_rejected():
    with pytest.raises(ValueError):
        packing.pack_words(np.array([8.0]), DataType["INT4"], 1)
    with pytest.raises(ValueError):
        packing.pack_words(np.array([0.0]), DataType["BIPOLAR"], 1)
    with pytest.raises(ValueError):
        packing.pack_words(np.array([0.5]), DataType["UINT4"], 1)
    with pytest.raises(ValueError):
        packing.pack_words(np.zeros(5), DataType["UINT4"], 2)


def test_mvau_weight_words_layout():
    # W (MW=4, MH=2), SIMD=2, PE=1: word nf*SF + sf holds W[sf*2 + s, nf], s in the low bits.
    w = np.array([[1, -1], [2, -2], [3, -3], [-4, 0]], np.float32)
    words = packing.mvau_weight_words(w, DataType["INT4"], simd=2, pe=1)
    assert words == [0x21, 0xC3, 0xEF, 0x0D]
    # PE=2, SIMD=1: field pe*SIMD + s.
    assert packing.mvau_weight_words(w, DataType["INT4"], simd=1, pe=2)[0] == 0xF1


def test_threshold_words_layout():
    t = np.array([[-1, 2], [3, 4]], np.float32)
    assert packing.threshold_words(t, pe=2, bits=4) == [0x432F]
    assert packing.threshold_words(t, pe=1, bits=4) == [0x2F, 0x43]


def test_axilite_writes_address_map():
    # 8 bits: one register per word.
    assert packing.axilite_writes([0x12, 0xFF], 8) == [(0, 0x12), (4, 0xFF)]
    # 40 bits: two chunks, stride 2; low chunk first.
    assert packing.axilite_writes([0xAB_1234_5678], 40) == [(0, 0x12345678), (4, 0xAB)]
    # 72 bits: three chunks, stride rounded up to 4 registers.
    w = (0x1 << 64) | (0x2 << 32) | 0x3
    assert packing.axilite_writes([0, w], 72) == [(0, 0), (4, 0), (8, 0), (16, 3), (20, 2), (24, 1)]
    assert [packing.axilite_stride(b) for b in (1, 32, 33, 64, 65, 128, 129)] == [1, 1, 2, 2, 4, 4, 8]


@pytest.mark.parametrize("dt", ["BIPOLAR", "BINARY", "INT2", "UINT3", "INT4", "UINT8", "INT8", "INT13", "UINT32"])
@pytest.mark.parametrize("fold", [1, 3, 8])
def test_packed_bytes_are_the_stream_words_little_endian(dt, fold):
    dt = DataType[dt]
    rng = np.random.default_rng(1)
    if dt == DataType["BIPOLAR"]:
        v = rng.choice([-1.0, 1.0], size=(2, 5, 24)).astype(np.float32)
    else:
        v = rng.integers(dt.min(), dt.max() + 1, size=(2, 5, 24)).astype(np.float32)
    data = packing.pack_bytes(v, dt, fold)
    nbytes = packing.word_bytes(dt, fold)
    assert data.dtype == np.uint8 and data.shape == (2, 5, 24 // fold, nbytes)
    words = packing.pack_words(v, dt, fold)
    assert [int.from_bytes(w.tobytes(), "little") for w in data.reshape(-1, nbytes)] == words
    np.testing.assert_array_equal(packing.unpack_bytes(data, dt, fold), v)


def test_packed_bytes_layout_and_errors():
    # UINT4, 3 per word: 12 bits -> 2 bytes; element 0 in byte 0's low nibble
    assert packing.pack_bytes(np.array([[1, 2, 3]]), DataType["UINT4"], 3).tolist() == [[[0x21, 0x03]]]
    with pytest.raises(ValueError, match="words of 4"):
        packing.pack_bytes(np.zeros((1, 6)), DataType["UINT4"], 4)
    with pytest.raises(ValueError, match="outside UINT4"):
        packing.pack_bytes(np.array([[16.0]]), DataType["UINT4"], 1)
    with pytest.raises(ValueError, match="bytes"):
        packing.unpack_bytes(np.zeros((1, 3), np.uint8), DataType["UINT4"], 3)
