"""Data layout between numpy tensors and hardware streams and memories: one library
shared by the simulators, the code generators and the drivers.

Conventions (documented in README "Data layout"):
- An element of datatype `dt` takes `dt.bitwidth()` bits: unsigned values as they are,
  signed values in two's complement, BIPOLAR as one bit (1 = +1, 0 = -1).
- A stream word holds `fold` elements (SIMD or PE), element i at bits [i*b, (i+1)*b):
  element 0 in the least significant bits. Tensors are channels-last; the innermost
  axis is cut into words of `fold` consecutive channels.
- Text files for $readmemh and the testbenches: one word per line, hexadecimal, most
  significant digit first, zero-padded to ceil(width/4) digits.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
from qonnx.core.datatype import DataType


def element_bits(dt) -> int:
    return 1 if dt == DataType["BIPOLAR"] else dt.bitwidth()


def encode(values: np.ndarray, dt) -> np.ndarray:
    """Element bit patterns (object array of Python ints) of integer `values` of `dt`."""
    return _codes(values, dt).astype(object)


def decode(codes: np.ndarray, dt) -> np.ndarray:
    """Inverse of `encode`: bit patterns to values (float32, the qonnx convention)."""
    c = np.asarray(codes)
    if c.dtype.kind == "u" and c.dtype.itemsize < 8 or c.dtype.kind == "i":
        c = c.astype(np.int64)
    else:
        c = c.astype(object).astype(np.int64)
    if dt == DataType["BIPOLAR"]:
        return (2 * c - 1).astype(np.float32)
    b = dt.bitwidth()
    if dt.signed():  # sign extension: codes from 2^(b-1) up are negative
        c = (c ^ (1 << (b - 1))) - (1 << (b - 1))
    return c.astype(np.float32)


def pack_words(values: np.ndarray, dt, fold: int) -> list[int]:
    """Channels-last `values` -> stream words of `fold` elements, in stream order."""
    codes = encode(values, dt).reshape(-1)
    if codes.size % fold:
        raise ValueError(f"{codes.size} elements do not split into words of {fold}")
    bits = element_bits(dt)
    words = []
    for row in codes.reshape(-1, fold):
        w = 0
        for i, c in enumerate(row):
            w |= int(c) << (i * bits)
        words.append(w)
    return words


def unpack_words(words: Sequence[int], dt, fold: int, shape: Sequence[int]) -> np.ndarray:
    """Stream words -> values of `shape` (inverse of `pack_words`)."""
    bits, mask = element_bits(dt), (1 << element_bits(dt)) - 1
    codes = [(int(w) >> (i * bits)) & mask for w in words for i in range(fold)]
    return decode(np.array(codes, dtype=object), dt).reshape(shape)


def word_bytes(dt, fold: int) -> int:
    """Bytes per stream word in memory: fold * element bits, rounded up to whole bytes."""
    return -(-fold * element_bits(dt) // 8)


def _uint(bits: int) -> np.dtype:
    """The narrowest little-endian unsigned dtype (1, 2, 4 or 8 bytes) holding `bits` bits."""
    return np.dtype(f"<u{1 << max(0, (bits - 1).bit_length() - 3)}")


def _codes_checked(v: np.ndarray, dt) -> np.ndarray:
    """Element bit patterns (uint64) of `v`, every value checked the plain way. The fast
    path of `_codes` defers to it whenever its own checks fail, so errors read the same."""
    if not np.array_equal(v, np.round(v)):
        raise ValueError(f"non-integer values for {dt.name}")
    iv = v.astype(np.int64)
    if dt == DataType["BIPOLAR"]:
        if not np.isin(iv, (-1, 1)).all():
            raise ValueError("BIPOLAR values must be -1 or +1")
        return ((iv + 1) // 2).astype(np.uint64)
    if iv.size and (iv.min() < dt.min() or iv.max() > dt.max()):
        raise ValueError(f"values outside {dt.name} [{dt.min()}, {dt.max()}]")
    return (iv & ((1 << dt.bitwidth()) - 1)).astype(np.uint64)


# native float dtype -> the unsigned dtype of its size, whose view compares bit patterns
_BITS_VIEW = {np.dtype(t): np.dtype(f"u{np.dtype(t).itemsize}") for t in (np.float16, np.float32, np.float64)}


def _all_plus_minus_one(v: np.ndarray) -> bool:
    """Whether every value of a non-float (or non-native float) array is -1 or +1; integer
    arrays by reductions without temporaries: in [-1, 1] and all odd."""
    if v.dtype.kind in "biu":
        return bool(v.min() >= -1 and v.max() <= 1 and np.bitwise_and.reduce(v, axis=None) & 1)
    return bool((np.abs(v) == 1).all())


def _one_bit_float_codes(v: np.ndarray, dt) -> np.ndarray | None:
    """1-bit codes (uint8 0/1) of a native float array, or None when some value is not
    exactly one of the two values of `dt`. Through bit patterns (the array viewed as
    unsigned integers of its size), where a value is legal exactly when its pattern is one
    of two, instead of range, integer and membership checks on floats:
    - BIPOLAR: the patterns of -1 and +1 differ only in the sign bit, so every value is
      +-1 exactly when the OR and the AND of all patterns, sign bit cleared, both are the
      pattern of 1.0 (two reductions, no temporaries); the code is then `v > 0`.
    - BINARY: two equality passes against the patterns of 1.0 and 0.0 give the code (the
      first) and the check (every element matched one of them).
    NaN, -0.0 and any other pattern fail (the caller then takes the plain per-value path,
    which accepts -0.0 as 0)."""
    ut = _BITS_VIEW[v.dtype]
    u, one = v.view(ut), np.array(1, v.dtype).view(ut)  # same item size: a view of any strides
    if dt == DataType["BIPOLAR"]:
        nosign = np.iinfo(ut).max >> 1
        legal = (int(np.bitwise_or.reduce(u, axis=None)) & nosign == one
                 and int(np.bitwise_and.reduce(u, axis=None)) & nosign == one)
        return (v > 0).view(np.uint8) if legal else None
    ones, legal = u == one, u == 0
    np.logical_or(legal, ones, out=legal)
    return ones.view(np.uint8) if legal.all() else None


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether native float arrays of one shape and dtype hold the same bit patterns,
    compared 8 bytes at a time when both are contiguous (fewer, wider comparisons)."""
    ut = _BITS_VIEW[a.dtype]
    if a.flags.c_contiguous and b.flags.c_contiguous and a.nbytes % 8 == 0:
        a, b, ut = a.reshape(-1), b.reshape(-1), np.dtype(np.uint64)
    return np.array_equal(a.view(ut), b.view(ut))


def _narrow_float_codes(v: np.ndarray, dt) -> np.ndarray | None:
    """Codes (uint8) of a float array for a datatype of 2 to 8 bits, or None when some value
    is not an integer of `dt`. One cast to int8 (uint8 for unsigned `dt`) truncates every
    value; a value is legal exactly when it is in range and casting its truncation back
    reproduces its bit pattern, so a cast back and a comparison check integrality and
    range together (out-of-range, NaN and infinite values give some int8 that does not
    cast back to them), and the code is the int8's low bits (two's complement)."""
    bits, narrow = element_bits(dt), np.dtype(np.int8 if dt.signed() else np.uint8)
    with np.errstate(invalid="ignore"):  # out-of-range values: undefined, refused below
        c = v.astype(narrow)
    same = _same_bits(c.astype(v.dtype), v) if v.dtype in _BITS_VIEW else np.array_equal(c.astype(v.dtype), v)
    info = np.iinfo(narrow)
    in_range = (dt.min() <= info.min or dt.min() <= c.min()) and (dt.max() >= info.max or c.max() <= dt.max())
    if not (same and in_range):
        return None
    c = c.view(np.uint8)
    if bits < 8 and dt.signed():
        c &= np.uint8((1 << bits) - 1)
    return c


def _codes(values, dt) -> np.ndarray:
    """Vectorized `encode`: element bit patterns in a new array of the narrowest unsigned
    dtype holding them (`_uint`; uint64 beyond 32 bits). Checks that the values are
    integers of `dt` in a few whole-array passes and falls back to `_codes_checked` (to
    raise its errors) when they are not: 1-bit datatypes from floats by bit patterns
    (`_one_bit_float_codes`), 2- to 8-bit ones from floats by a cast and its round trip
    (`_narrow_float_codes`), the rest by min and max (plus an integer check for floats)."""
    v = np.asarray(values)
    bits = element_bits(dt)
    if v.size == 0 or v.dtype.kind not in "biuf" or bits > 32:
        return _codes_checked(v, dt).astype(_uint(min(bits, 64)))
    fast = None
    if v.dtype.kind == "f" and bits == 1 and v.dtype in _BITS_VIEW:
        fast = _one_bit_float_codes
    elif v.dtype.kind == "f" and bits <= 8 and dt != DataType["BIPOLAR"]:  # BIPOLAR is no two's complement
        fast = _narrow_float_codes
    if fast is not None:
        codes = fast(v, dt)
        return codes if codes is not None else _codes_checked(v, dt).astype(np.uint8)
    if dt == DataType["BIPOLAR"]:
        if not _all_plus_minus_one(v):
            return _codes_checked(v, dt).astype(np.uint8)
        return (v > 0).view(np.uint8)
    lo, hi = dt.min(), dt.max()
    if not (lo <= v.min() and v.max() <= hi) or (v.dtype.kind == "f" and not np.array_equal(v, np.rint(v))):
        return _codes_checked(v, dt).astype(_uint(bits))  # raises (NaN fails the range test)
    ut = _uint(bits)
    if not dt.signed():
        return v.astype(ut)  # in range, so exact
    codes = v.astype(ut.str.replace("u", "i")).view(ut)  # two's complement of the full dtype
    if bits < 8 * ut.itemsize:
        codes &= ut.type((1 << bits) - 1)
    return codes


def _pack_subbyte(codes: np.ndarray, bits: int) -> np.ndarray:
    """Flat uint8 `codes` of 1, 2, 4 or 8 bits (a multiple of 8 // bits of them) -> bytes
    holding 8 // bits consecutive codes each, the first in the least significant bits.
    2 and 4 bits: the codes of a byte, read as one little-endian word (code i in byte i),
    times a constant that shifts code i to bit 8 * (n - 1) + bits * i: the top byte is
    the packed byte (the other partial products fall below it, in disjoint bit ranges so
    without carries, or off the word)."""
    if bits == 8:
        return codes
    if bits == 1:
        return np.packbits(codes, bitorder="little")
    n, ut = 8 // bits, _uint(64 // bits)
    top = 8 * (n - 1)
    x = codes.view(ut) * ut.type(sum(1 << (top - (8 - bits) * i) for i in range(n)))
    x >>= top
    return x.astype(np.uint8)


def pack_bytes(values: np.ndarray, dt, fold: int) -> np.ndarray:
    """Channels-last `values` (..., C) -> uint8 array (..., C / fold, word_bytes): each
    stream word as its little-endian bytes (byte 0 holds word bits 0..7, so element 0
    starts in byte 0's least significant bit), the word zero-padded to whole bytes. This
    is the layout a DMA reads from memory into the stream; vectorized, no Python loop.
    1-, 2-, 4- and 8-bit elements and whole-byte elements (16, 24, 32 bits) take a few
    passes over uint8 arrays; other widths go through their bits."""
    codes = _codes(values, dt)
    if codes.ndim == 0 or codes.shape[-1] % fold:
        raise ValueError(f"shape {codes.shape}: the innermost axis does not split into words of {fold}")
    b, wb = element_bits(dt), word_bytes(dt, fold)
    lead, words = codes.shape[:-1], codes.shape[-1] // fold
    if b in (1, 2, 4, 8):
        slots = wb * 8 // b  # element slots per word, the last ones padding
        if slots != fold:
            codes = _copy_columns(codes.reshape(*lead, words, fold), np.zeros((*lead, words, slots), np.uint8))
        return _pack_subbyte(codes.reshape(-1), b).reshape(*lead, words, wb)
    if b % 8 == 0:  # whole bytes: the low b / 8 bytes of each little-endian code
        by = codes.view(np.uint8).reshape(*lead, codes.shape[-1], codes.dtype.itemsize)
        return np.ascontiguousarray(by[..., : b // 8]).reshape(*lead, words, wb)
    # any width: bit k of every element at once into a zero-padded (..., words, bits) array
    bits = np.zeros((*lead, words, wb * 8), np.uint8)
    fields = bits[..., : fold * b].reshape(*lead, words, fold, b, copy=False)
    c = codes.reshape(*lead, words, fold)
    for k in range(b):
        fields[..., k] = (c >> k) & 1
    return np.packbits(bits.reshape(-1), bitorder="little").reshape(*lead, words, wb)


def _copy_columns(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """dst[..., :n] = src (n = src.shape[-1]) one column at a time when n is small, which
    numpy does far faster than one copy whose innermost loop is n long; returns dst."""
    n = src.shape[-1]
    if n > 8:
        dst[..., :n] = src
    for j in range(n if n <= 8 else 0):
        dst[..., j] = src[..., j]
    return dst


_LUTS: dict[str, np.ndarray] = {}


def _byte_lut(dt) -> np.ndarray:
    """(256, 8 // bits) float32: the values of the elements a byte holds, for 1- and 2-bit
    `dt`, first element first."""
    if dt.name not in _LUTS:
        b = element_bits(dt)
        shifts = np.arange(0, 8, b, dtype=np.int64)
        _LUTS[dt.name] = decode((np.arange(256, dtype=np.int64)[:, None] >> shifts) & ((1 << b) - 1), dt)
    return _LUTS[dt.name]


def unpack_bytes(data: np.ndarray, dt, fold: int) -> np.ndarray:
    """Inverse of `pack_bytes`: uint8 (..., words, word_bytes) -> values (..., words * fold)
    as float32 (the qonnx convention). 1- and 2-bit elements through a 256-entry table
    of each byte's values, 4-bit ones by splitting bytes with shifts, 8-bit ones by a
    cast, other widths through their bits."""
    data = np.asarray(data, dtype=np.uint8)
    wb = word_bytes(dt, fold)
    if data.ndim < 2 or data.shape[-1] != wb:
        raise ValueError(f"shape {data.shape}: expected (..., words, {wb}) bytes")
    b, lead, words = element_bits(dt), data.shape[:-2], data.shape[-2]
    if b == 4:  # each byte to two: as a 16-bit word, its high nibble moved to bits 8..11
        x = data.reshape(-1).astype("<u2")
        x |= x << 4
        x &= 0x0F0F
        codes = x.view(np.uint8).reshape(*lead, words, wb * 2)
        if codes.shape[-1] != fold:
            codes = _copy_columns(codes[..., :fold], np.empty((*lead, words, fold), np.uint8))
        if dt.signed():  # sign extension: 8..15 -> -8..-1
            codes ^= np.uint8(8)
            codes = codes.view(np.int8)
            codes -= np.int8(8)
        return codes.reshape(*lead, words * fold).astype(np.float32)
    if b in (1, 2):
        vals = np.take(_byte_lut(dt), data.reshape(-1), axis=0).reshape(*lead, words, wb * 8 // b)
        if vals.shape[-1] != fold:
            vals = _copy_columns(vals[..., :fold], np.empty((*lead, words, fold), np.float32))
        return vals.reshape(*lead, words * fold)
    if b == 8:
        flat = data.reshape(*lead, words * fold)
        return (flat.view(np.int8) if dt.signed() else flat).astype(np.float32)
    ut = _uint(b)
    if b % 8 == 0:  # whole bytes: each element's bytes, zero-extended to a little-endian code
        codes = np.zeros((*lead, words * fold, ut.itemsize), np.uint8)
        codes[..., : b // 8] = data.reshape(*lead, words * fold, b // 8)
        codes = codes.view(ut)[..., 0]
    else:  # any width: bit k of every element at once
        bits = np.unpackbits(data.reshape(-1), bitorder="little").reshape(*lead, words, wb * 8)
        fields = bits[..., : fold * b].reshape(*lead, words, fold, b, copy=False)
        codes = np.zeros((*lead, words, fold), ut)
        for k in range(b):
            codes |= fields[..., k].astype(ut) << k
        codes = codes.reshape(*lead, words * fold)
    return decode(codes, dt)


def pack_fields(fields: Iterable[int], bits: int) -> int:
    """Concatenates already-encoded fields, the first in the least significant bits."""
    w = 0
    for i, f in enumerate(fields):
        w |= (int(f) & ((1 << bits) - 1)) << (i * bits)
    return w


def to_twos(values: np.ndarray, bits: int) -> np.ndarray:
    """Signed integers as `bits`-wide two's-complement codes (object array)."""
    iv = np.asarray(values).astype(np.int64)
    if iv.size and (iv.min() < -(1 << (bits - 1)) or iv.max() >= (1 << (bits - 1))):
        raise ValueError(f"values do not fit {bits}-bit two's complement")
    return (iv & ((1 << bits) - 1)).astype(object)


def hex_lines(words: Sequence[int], width: int) -> str:
    """One word per line, zero-padded hex (the $readmemh and testbench format)."""
    digits = max(1, -(-width // 4))
    return "".join(f"{int(w):0{digits}x}\n" for w in words)


def words_bytes(words: Sequence[int], width: int) -> np.ndarray:
    """Words of `width` bits as a DMA moves them: uint8 (len(words), ceil(width / 8)),
    little-endian (the layout of `pack_bytes`)."""
    wb = -(-width // 8)
    return np.frombuffer(b"".join(int(w).to_bytes(wb, "little") for w in words), dtype=np.uint8).reshape(-1, wb)


def read_hex(text: str) -> list[int]:
    return [int(line, 16) for line in text.split() if line]


def mvau_weight_words(w: np.ndarray, dt, simd: int, pe: int) -> list[int]:
    """MVAU weight memory (MW, MH) -> SF*NF words of PE*SIMD weights: word nf*SF + sf,
    field pe*SIMD + s = W[sf*SIMD + s, nf*PE + pe]."""
    mw, mh = w.shape
    codes = encode(w, dt)
    bits = element_bits(dt)
    words = []
    for nf in range(mh // pe):
        for sf in range(mw // simd):
            tile = codes[sf * simd:(sf + 1) * simd, nf * pe:(nf + 1) * pe]  # (SIMD, PE)
            words.append(pack_fields(tile.T.reshape(-1), bits))
    return words


def threshold_words(t: np.ndarray, pe: int, bits: int) -> list[int]:
    """Thresholds (C, N) -> C/PE words: word cf, field pe*N + n = T[cf*PE + pe, n], signed."""
    c, n = t.shape
    codes = to_twos(t, bits)
    return [pack_fields(codes[cf * pe:(cf + 1) * pe].reshape(-1), bits) for cf in range(c // pe)]


def axilite_stride(width: int) -> int:
    """32-bit registers per memory word in the AXI-lite map of a writable memory: the
    number of 32-bit chunks of a `width`-bit word, rounded up to a power of two."""
    chunks = -(-width // 32)
    return 1 << (chunks - 1).bit_length()


def axilite_addr_bits(depth: int, width: int) -> int:
    """AXI-lite address width of a writable memory of `depth` words of `width` bits."""
    return max(2, (depth * axilite_stride(width) * 4 - 1).bit_length())


def axilite_writes(words: Sequence[int], width: int) -> list[tuple[int, int]]:
    """(byte address, 32-bit data) writes that store `words` (`width` bits each) in a
    runtime-writable memory (rtl/common/axil_mem_write.sv): chunk j (bits [32j, 32j+32))
    of word i at byte address (i * axilite_stride(width) + j) * 4, chunks low to high,
    since writing the top chunk commits the word."""
    stride, chunks = axilite_stride(width), -(-width // 32)
    return [((i * stride + j) * 4, (w >> (32 * j)) & 0xFFFFFFFF) for i, w in enumerate(words) for j in range(chunks)]
