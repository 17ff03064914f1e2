"""Host packing speed: `packing.pack_bytes` / `unpack_bytes` against plain numpy copies.

    ./bazelw run //bench:packing_bench

What a driver runs on every batch: for 1-, 2-, 4- and 8-bit datatypes (plus a padded
word and two widths of the general path), tensors of 2**20 elements (less the remainder
of the fold) are packed from float32 values (the qonnx convention) and from the
narrowest integer dtype (int8 / uint8), and unpacked back to float32. Speeds are in
MB/s of packed data (MB = 1e6 bytes) and in elements/s, each the best of REPEATS runs
(other jobs may share the machine). The baseline, measured in the same run, moves the
same packed bytes without any layout work: `np.packbits` of the same number of 0/1 bits
(`np.unpackbits` for unpacking) for sub-byte types, a `tobytes` copy of the same bytes
for whole-byte ones; `ratio` is packing speed / baseline speed. Every result is checked
against the values (round trip). Exits 1 when a round trip differs. Last, the cost of
single numpy passes over as many float32 values (a bit-pattern comparison, a reduction,
casts, np.packbits): the floor any pure-numpy packing from or unpacking to float32 has.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from qonnx.core.datatype import DataType

from qnn2fpga import packing

ELEMENTS = 1 << 20
REPEATS = 7
CASES = [  # (datatype, fold); fold * bits % 8 == 0 except where marked
    ("BIPOLAR", 16),
    ("BINARY", 8),
    ("UINT2", 4),
    ("INT2", 8),
    ("UINT4", 2),
    ("INT4", 8),
    ("INT4", 3),  # padded: 12 bits in 2 bytes
    ("UINT8", 4),
    ("INT8", 16),
    ("INT3", 8),  # general path, whole bytes per word
    ("INT16", 2),  # general path, whole bytes per element
]


def best(f) -> float:
    t = float("inf")
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        f()
        t = min(t, time.perf_counter() - t0)
    return t


def values(dt, n: int, rng) -> np.ndarray:
    if dt == DataType["BIPOLAR"]:
        return rng.choice([-1.0, 1.0], n).astype(np.float32)
    return rng.integers(dt.min(), dt.max() + 1, n).astype(np.float32)


def baselines(data: np.ndarray, bits: int) -> tuple[float, float]:
    """(pack, unpack) seconds of moving `data` (packed bytes of `bits`-bit elements)
    without layout work."""
    if bits % 8 == 0:
        flat = data.reshape(-1)
        return best(flat.tobytes), best(lambda: np.frombuffer(flat.tobytes(), np.uint8))
    zero_one = np.unpackbits(data.reshape(-1))
    return best(lambda: np.packbits(zero_one)), best(lambda: np.unpackbits(data.reshape(-1)))


def single_passes(rng) -> None:
    """What one whole-array numpy pass over ELEMENTS float32 values costs on this machine:
    the floor of packing from float32 (every value is read and checked at least once)
    and of unpacking to float32 (4 bytes written per element). Each as microseconds and as
    the MB/s of 1-bit and 2-bit packed data it alone would allow."""
    x = rng.choice([-1.0, 1.0], ELEMENTS).astype(np.float32)
    u, c = x.view(np.uint32), x.astype(np.int8)
    flags = np.empty(ELEMENTS, bool)
    passes = [
        ("u == pattern (float32 bits, into bools)", lambda: np.equal(u, np.uint32(0x3F800000), out=flags)),
        ("np.bitwise_or.reduce(u)", lambda: np.bitwise_or.reduce(u)),
        ("x.astype(int8)", lambda: x.astype(np.int8)),
        ("int8 -> float32 (4 bytes written each)", lambda: c.astype(np.float32)),
        ("np.packbits of the bools", lambda: np.packbits(flags, bitorder="little")),
    ]
    print(f"single passes over {ELEMENTS:,} float32 values: {'us':>6} {'1-bit MB/s':>10} {'2-bit MB/s':>10}")
    for name, f in passes:
        t = best(f)
        print(f"  {name:46} {t * 1e6:6.0f} {ELEMENTS / 8 / t / 1e6:10.0f} {ELEMENTS / 4 / t / 1e6:10.0f}")


def main() -> int:
    rng = np.random.default_rng(0)
    failed = []
    print(f"{ELEMENTS:,} elements (less the fold's remainder), best of {REPEATS}; MB/s of packed data, "
          "ratio = against the baseline")
    print(f"{'datatype':8} {'fold':>4} {'bytes':>9}  {'pack f32':>9} {'pack int':>9} {'ratio':>6} {'base':>7}  "
          f"{'unpack':>8} {'ratio':>6} {'base':>7}  {'Melem/s pack/unpack':>19}")
    for name, fold in CASES:
        dt = DataType[name]
        n = ELEMENTS - ELEMENTS % fold
        v = values(dt, n, rng).reshape(-1, fold)
        narrow = v.astype(np.uint8 if dt.min() >= 0 else np.int8) if packing.element_bits(dt) <= 8 else v
        data = packing.pack_bytes(v, dt, fold)
        if not (np.array_equal(packing.pack_bytes(narrow, dt, fold), data)
                and np.array_equal(packing.unpack_bytes(data, dt, fold), v)):
            failed.append(f"{name} fold {fold}: round trip differs")
        t_pack = best(lambda: packing.pack_bytes(v, dt, fold))
        t_pack_int = best(lambda: packing.pack_bytes(narrow, dt, fold))
        t_unpack = best(lambda: packing.unpack_bytes(data, dt, fold))
        b_pack, b_unpack = baselines(data, packing.element_bits(dt))
        mb = data.nbytes / 1e6
        print(f"{name:8} {fold:4} {data.nbytes:9,}  {mb / t_pack:9.0f} {mb / t_pack_int:9.0f} "
              f"{b_pack / t_pack:6.2f} {mb / b_pack:7.0f}  {mb / t_unpack:8.0f} {b_unpack / t_unpack:6.2f} "
              f"{mb / b_unpack:7.0f}  {n / t_pack / 1e6:9.0f} /{n / t_unpack / 1e6:8.0f}")
    print("pack f32: from float32 values; pack int: from int8/uint8 (INT16: float32); "
          "base: baseline MB/s; ratio: pack f32 and unpack against their baselines")
    single_passes(rng)
    for f in failed:
        print(f"FAIL: {f}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
