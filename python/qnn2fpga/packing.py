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
    c = np.asarray(codes, dtype=object).astype(np.int64)
    if dt == DataType["BIPOLAR"]:
        return (2 * c - 1).astype(np.float32)
    b = dt.bitwidth()
    if dt.signed():
        c = np.where(c >= (1 << (b - 1)), c - (1 << b), c)
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


def _codes(values: np.ndarray, dt) -> np.ndarray:
    """Vectorized `encode` as uint64 (element bit patterns)."""
    v = np.asarray(values)
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


def pack_bytes(values: np.ndarray, dt, fold: int) -> np.ndarray:
    """Channels-last `values` (..., C) -> uint8 array (..., C / fold, word_bytes): each
    stream word as its little-endian bytes (byte 0 holds word bits 0..7, so element 0
    starts in byte 0's least significant bit), the word zero-padded to whole bytes. This
    is the layout a DMA reads from memory into the stream; vectorized, no Python loop."""
    codes = _codes(values, dt)
    if codes.ndim == 0 or codes.shape[-1] % fold:
        raise ValueError(f"shape {codes.shape}: the innermost axis does not split into words of {fold}")
    b = element_bits(dt)
    bits = (codes[..., None] >> np.arange(b, dtype=np.uint64)) & np.uint64(1)  # (..., C, b)
    bits = bits.reshape(*codes.shape[:-1], codes.shape[-1] // fold, fold * b).astype(np.uint8)
    pad = word_bytes(dt, fold) * 8 - fold * b
    if pad:
        bits = np.concatenate([bits, np.zeros((*bits.shape[:-1], pad), np.uint8)], axis=-1)
    return np.packbits(bits, axis=-1, bitorder="little")


def unpack_bytes(data: np.ndarray, dt, fold: int) -> np.ndarray:
    """Inverse of `pack_bytes`: uint8 (..., words, word_bytes) -> values (..., words * fold)
    as float32 (the qonnx convention)."""
    data = np.asarray(data, dtype=np.uint8)
    if data.ndim < 2 or data.shape[-1] != word_bytes(dt, fold):
        raise ValueError(f"shape {data.shape}: expected (..., words, {word_bytes(dt, fold)}) bytes")
    b = element_bits(dt)
    bits = np.unpackbits(data, axis=-1, bitorder="little")[..., : fold * b]
    bits = bits.reshape(*data.shape[:-2], data.shape[-2] * fold, b).astype(np.uint64)
    return decode((bits << np.arange(b, dtype=np.uint64)).sum(axis=-1), dt)


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
