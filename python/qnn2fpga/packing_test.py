"""The data layout: round trips, bit positions, encodings and errors."""

import re

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


# The plain layout, bit by bit through uint64 arrays (and the plain per-value checks,
# packing._codes_checked): the reference the fast paths of pack_bytes / unpack_bytes must
# reproduce byte for byte, value for value and error for error.
def _reference_pack_bytes(values, dt, fold):
    codes = packing._codes_checked(np.asarray(values), dt)
    if codes.ndim == 0 or codes.shape[-1] % fold:
        raise ValueError(f"shape {codes.shape}: the innermost axis does not split into words of {fold}")
    b = packing.element_bits(dt)
    bits = (codes[..., None] >> np.arange(b, dtype=np.uint64)) & np.uint64(1)
    bits = bits.reshape(*codes.shape[:-1], codes.shape[-1] // fold, fold * b).astype(np.uint8)
    pad = packing.word_bytes(dt, fold) * 8 - fold * b
    if pad:
        bits = np.concatenate([bits, np.zeros((*bits.shape[:-1], pad), np.uint8)], axis=-1)
    return np.packbits(bits, axis=-1, bitorder="little")


def _reference_unpack_bytes(data, dt, fold):
    data = np.asarray(data, dtype=np.uint8)
    b = packing.element_bits(dt)
    bits = np.unpackbits(data, axis=-1, bitorder="little")[..., : fold * b]
    c = (bits.reshape(*data.shape[:-2], data.shape[-2] * fold, b).astype(np.int64) << np.arange(b)).sum(axis=-1)
    if dt == DataType["BIPOLAR"]:
        return (2 * c - 1).astype(np.float32)
    if dt.signed():
        c = np.where(c >= (1 << (b - 1)), c - (1 << b), c)
    return c.astype(np.float32)


FAST_AND_GENERAL = ["BIPOLAR", "BINARY", "UINT2", "INT2", "UINT3", "INT3", "UINT4", "INT4", "INT5", "UINT6", "INT7",
                    "UINT8", "INT8", "INT9", "UINT12", "INT12", "UINT16", "INT16", "INT20", "UINT24", "INT24",
                    "UINT32", "INT32"]


def _inputs(iv, dt):
    """The same integers as float32 (qonnx), float64, int64 and the narrow integer dtypes."""
    out = [iv, iv.astype(np.float64)]
    if dt.bitwidth() <= 24:
        out.append(iv.astype(np.float32))
    for t in (np.int8, np.uint8, np.int16, np.uint16):
        if np.iinfo(t).min <= iv.min(initial=0) and iv.max(initial=0) <= np.iinfo(t).max:
            out.append(iv.astype(t))
    return out


@pytest.mark.parametrize("dt", FAST_AND_GENERAL)
def test_packed_bytes_match_the_bitwise_reference(dt):
    dt = DataType[dt]
    rng = np.random.default_rng(2)
    lo, hi = (-1, 1) if dt == DataType["BIPOLAR"] else (dt.min(), dt.max())
    for fold in (1, 2, 3, 4, 5, 8, 12, 16):  # 3, 5, 12 pad the words of sub-byte types
        for shape in ((fold * 7,), (3, fold * 2), (2, 3, fold * 5), (0, fold), (4, 0)):
            iv = rng.integers(lo, hi + 1, size=shape, dtype=np.int64)
            if dt == DataType["BIPOLAR"]:
                iv = np.where(iv >= 0, 1, -1)
            elif iv.size:  # both ends of the range, negative ones included when signed
                iv.reshape(-1)[:2] = lo, hi
            want = _reference_pack_bytes(iv, dt, fold)
            for v in _inputs(iv, dt):
                got = packing.pack_bytes(v, dt, fold)
                assert got.dtype == np.uint8 and got.shape == want.shape, (fold, shape, v.dtype)
                assert np.array_equal(got, want), (fold, shape, v.dtype)
            back = packing.unpack_bytes(want, dt, fold)
            assert back.dtype == np.float32 and np.array_equal(back, _reference_unpack_bytes(want, dt, fold))
            assert np.array_equal(back, iv.astype(np.float32))
            # any bytes, padding bits set included
            noise = rng.integers(0, 256, size=want.shape, dtype=np.uint8)
            assert np.array_equal(packing.unpack_bytes(noise, dt, fold), _reference_unpack_bytes(noise, dt, fold))


def test_packed_bytes_of_views_and_odd_layouts():
    dt, rng = DataType["INT4"], np.random.default_rng(3)
    v = rng.integers(-8, 8, size=(6, 16)).astype(np.float32)
    for view in (v[::2], v[:, ::2], v.T.copy().T, v.astype(">f4"), v.astype(np.float16)):
        assert np.array_equal(packing.pack_bytes(view, dt, 4), _reference_pack_bytes(view, dt, 4))
    data = packing.pack_bytes(v, dt, 4)
    assert np.array_equal(packing.unpack_bytes(data[::2], dt, 4), v[::2])
    assert np.array_equal(packing.unpack_bytes(data.astype(np.int64), dt, 4), v)
    b = rng.choice([-1.0, 1.0], size=(4, 8))
    for view in (b[:, ::2], b.astype(">f4"), b.astype(np.float16), b.astype(np.int8)):
        assert np.array_equal(packing.pack_bytes(view, DataType["BIPOLAR"], 4),
                              _reference_pack_bytes(view, DataType["BIPOLAR"], 4))
    assert np.array_equal(packing.pack_bytes(b > 0, DataType["BINARY"], 8),
                          _reference_pack_bytes(b > 0, DataType["BINARY"], 8))
    u = rng.integers(0, 256, size=(3, 8), dtype=np.uint8)
    out = packing.pack_bytes(u, DataType["UINT8"], 8)
    u[:] = 0  # the packed bytes are a copy, not a view of the input
    assert out.any()


BAD = [
    ("BIPOLAR", [1.0, 0.0]), ("BIPOLAR", [1.0, 0.5]), ("BIPOLAR", [1, 2]), ("BIPOLAR", [-1.0, np.nan]),
    ("BIPOLAR", [1.0, -1.0000001]), ("BINARY", [0.0, 0.5]), ("BINARY", [1, -1]), ("BINARY", [2.0, 1.0]),
    ("BINARY", [np.nan, 0.0]), ("UINT2", [4.0, 0.0]), ("INT2", [-3, 0]), ("INT4", [8.0, 0.0]),
    ("INT4", [7.5, 0.0]), ("INT4", [9.5, 0.0]), ("INT4", [np.inf, 0.0]), ("UINT4", [-1.0, 0.0]),
    ("UINT8", [256, 0]), ("UINT8", [-0.5, 0.0]), ("INT8", [-129.0, 0.0]), ("INT8", [np.nan, 0.0]),
    ("INT3", [4.0, 0.0]), ("INT16", [1e10, 0.0]), ("UINT32", [-1, 0]),
    # what the float fast paths (bit patterns; a cast to int8 and back) must still refuse
    ("BINARY", [1e-40, 1.0]), ("BIPOLAR", [-1.0, np.inf]), ("UINT2", [1.5, 3.0]), ("UINT2", [1e-40, 0.0]),
    ("INT2", [-0.5, 1.0]), ("UINT4", [15.5, 0.0]), ("INT8", [300.0, 0.0]), ("INT8", [-128.5, 0.0]),
    ("UINT8", [-1.0, 0.0]), ("UINT8", [255.5, 0.0]), ("INT4", [-np.inf, 0.0]), ("UINT4", [np.nan, 1.0]),
]


MESSAGES = r"^(non-integer values for \w+|BIPOLAR values must be -1 or \+1|values outside \w+ \[-?\d+, \d+\])$"


@pytest.mark.parametrize("dt, bad", BAD)
def test_bad_values_raise_the_reference_errors(dt, bad):
    dt = DataType[dt]
    for dtype in (np.float32, np.float64, np.int64, np.int8):
        v = np.array(bad, np.float64)
        if dtype in (np.int64, np.int8) and not (np.isfinite(v).all() and np.array_equal(v, np.round(v))):
            continue
        v = v.astype(dtype) if dtype != np.int8 or np.abs(v).max() < 128 else v
        with pytest.raises(ValueError, match=MESSAGES) as want:
            _reference_pack_bytes(v, dt, 2)
        with pytest.raises(ValueError, match=f"^{re.escape(str(want.value))}$"):
            packing.pack_bytes(v, dt, 2)


@pytest.mark.parametrize("dt", ["UINT2", "UINT4"])
def test_every_byte_of_sub_byte_codes(dt):
    dt = DataType[dt]
    n = 8 // dt.bitwidth()
    v = np.array(np.unravel_index(np.arange(256), (1 << dt.bitwidth(),) * n))[::-1].T  # byte x's codes
    data = packing.pack_bytes(v, dt, n)
    assert data.reshape(-1).tolist() == list(range(256))
    assert np.array_equal(packing.unpack_bytes(data, dt, n), v)


@pytest.mark.parametrize("dt", ["BINARY", "BIPOLAR", "UINT2", "INT4", "INT8"])
def test_negative_zero_and_non_native_floats_take_the_plain_path(dt):
    """-0.0 is a legal 0 (the fast paths compare bit patterns, so they defer to the plain
    checks), and big-endian or half-precision floats encode like native float32."""
    dt = DataType[dt]
    v = np.array([[1.0, -1.0, 1.0, -1.0]]) if dt == DataType["BIPOLAR"] else np.array([[-0.0, 1.0, 0.0, 1.0]])
    for view in (v, v.astype(np.float32), v.astype(">f4"), v.astype(np.float16), v.astype(">f8")):
        assert np.array_equal(packing.pack_bytes(view, dt, 2), _reference_pack_bytes(view, dt, 2))
