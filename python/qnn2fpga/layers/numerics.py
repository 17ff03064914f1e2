"""Numerics shared by the hardware layers and the passes that configure them.

Each rule lives here once: datatype sizing, accumulator ranges, threshold counting, the
exact conversion of results back to qonnx's float32 containers. Values are integers
carried in float arrays (qonnx convention); bipolar values are -1/+1. Arithmetic is done
in int64 (or float64 for comparisons against thresholds), never in float32, so python
execution is exact wherever the hardware is.
"""

from __future__ import annotations

import functools
from typing import Sequence

import numpy as np
from qonnx.core.datatype import BaseDataType, DataType

from qnn2fpga import blas
from qnn2fpga.errors import DataTypeError, ModelError

BIPOLAR = DataType["BIPOLAR"]

# float32 represents every integer of magnitude up to 2**24 exactly, and not all beyond.
FLOAT32_EXACT_INT = 2**24


def datatype(value: str | BaseDataType) -> BaseDataType:
    """A qonnx DataType from its name (or the DataType itself). Raises ValueError for an
    unknown name."""
    if isinstance(value, BaseDataType):
        return value
    try:
        return _datatype_named(str(value))
    except (KeyError, ValueError) as e:
        raise ValueError(f"unknown qonnx datatype {value!r}") from e


@functools.lru_cache(maxsize=512)
def _datatype_named(name: str) -> BaseDataType:
    """DataType[name], parsed once per name (layer attributes decode it on every read)."""
    return DataType[name]


def smallest_int_datatype(min_value: int, max_value: int) -> BaseDataType:
    """The narrowest UINTn (if min_value >= 0) or INTn holding [min_value, max_value].

    n is at least 2: the special 1-bit types (BINARY, BIPOLAR) are never returned, so the
    result is always a plain two's-complement or unsigned integer of n bits.
    """
    lo, hi = int(min_value), int(max_value)
    if lo != min_value or hi != max_value or lo > hi:
        raise ValueError(f"need integers min <= max, got [{min_value}, {max_value}]")
    if lo >= 0:
        return DataType[f"UINT{max(2, hi.bit_length())}"]
    # INTn holds [-2**(n-1), 2**(n-1) - 1]: n-1 bits must cover both -lo-1 and hi.
    return DataType[f"INT{max(2, 1 + max((-lo - 1).bit_length(), max(hi, 0).bit_length()))}"]


def is_integer_datatype(dt: BaseDataType) -> bool:
    """True for the datatypes hardware layers stream: INTn, UINTn, BINARY, BIPOLAR, TERNARY."""
    return dt.is_integer() and not dt.is_fixed_point()


def divisors(n: int) -> list[int]:
    """The positive divisors of n, ascending: the legal PE/SIMD values for a dimension n."""
    small = [d for d in range(1, int(n**0.5) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


def not_allowed(values: np.ndarray, dt: BaseDataType) -> np.ndarray:
    """The distinct values in `values` that `dt` cannot hold (empty when all fit)."""
    values = np.asarray(values)
    return np.unique(values[~np.asarray(dt.allowed(values), dtype=bool)])


def as_int64(values: np.ndarray) -> np.ndarray:
    """Integer-valued float (or int) array -> int64, exactly. Raises ValueError on a
    fractional or non-finite value."""
    values = np.asarray(values)
    if values.dtype.kind in "iub":
        return values.astype(np.int64)
    if not np.all(np.isfinite(values)) or not np.array_equal(values, np.round(values)):
        raise ValueError("expected integer values")
    return values.astype(np.int64)


def exact_matmul(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """x (..., MW) @ w (MW, MH), exact, as int64.

    When MW * max|x| * max|w| < 2**53 every partial sum is an integer float64 holds
    exactly, whatever the summation order, so the fast float64 (BLAS) product is exact;
    otherwise numpy's int64 product is used. BLAS runs on one thread (qnn2fpga.blas).
    """
    xi, wi = as_int64(x), as_int64(w)
    if xi.size == 0 or wi.size == 0:
        return np.matmul(xi, wi)
    bound = int(xi.shape[-1]) * int(np.abs(xi).max()) * int(np.abs(wi).max())
    if bound < 2**53:
        with blas.single_thread():
            return np.matmul(xi.astype(np.float64), wi.astype(np.float64)).astype(np.int64)
    return np.matmul(xi, wi)


def matmul_acc_range(x_dt: BaseDataType, weights: np.ndarray) -> tuple[int, int]:
    """Exact (min, max) of x @ weights over every x whose elements are of `x_dt`: per
    output column the extreme of each product is at an end of x_dt's range: lo_x times
    the column's positive weights plus hi_x times its negative ones, and the reverse."""
    w = as_int64(weights)
    lo_x, hi_x = int(x_dt.min()), int(x_dt.max())
    total, size = w.sum(axis=0), np.abs(w).sum(axis=0)
    pos, neg = (size + total) // 2, (total - size) // 2  # sums of the positive and negative weights
    lo = lo_x * pos + hi_x * neg
    hi = hi_x * pos + lo_x * neg
    return int(lo.min()), int(hi.max())


def count_thresholds(values: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Per element, how many of its channel's thresholds it reaches (value >= t).

    values: (..., C), channels last. thresholds: (C, T), or (1, T) shared by all channels.
    Returns int64 of the shape of `values`. Compared in float64, exact for integer values
    of magnitude below 2**53 and for any float32 threshold.
    """
    t = np.asarray(thresholds, dtype=np.float64)
    v = np.asarray(values)
    v = v.astype(np.float64) if v.dtype.kind == "f" else v.astype(np.int64)
    return np.count_nonzero(v[..., np.newaxis] >= t, axis=-1).astype(np.int64)


def threshold_activation(values: np.ndarray, thresholds: np.ndarray, act_val: int,
                         out_dt: BaseDataType) -> np.ndarray:
    """The thresholding activation of MVAU and Thresholding (int64).

    out = act_val + count(values >= thresholds), or for a BIPOLAR output (one threshold
    per channel, act_val 0) out = 2 * count - 1, i.e. -1 below the threshold, +1 at or
    above it.
    """
    count = count_thresholds(values, thresholds)
    if out_dt == BIPOLAR:
        return 2 * count - 1
    return int(act_val) + count


def activation_range(act_val: int, num_thresholds: int, out_dt: BaseDataType) -> tuple[int, int]:
    """(min, max) that threshold_activation can produce with T = num_thresholds."""
    if out_dt == BIPOLAR:
        return -1, 1
    return int(act_val), int(act_val) + int(num_thresholds)


def check_thresholds(thresholds: np.ndarray, channels: int) -> str | None:
    """What is wrong with a threshold matrix for `channels` channels, or None.
    Valid: 2-D (channels, T) or (1, T), T >= 1, each row non-decreasing, no NaN."""
    t = np.asarray(thresholds)
    if t.ndim != 2 or t.shape[0] not in (1, channels) or t.shape[1] < 1:
        return f"thresholds have shape {t.shape}, expected ({channels}, T) or (1, T) with T >= 1"
    if np.isnan(t).any():
        return "thresholds contain NaN"
    if np.any(np.diff(t.astype(np.float64), axis=1) < 0):
        rows = np.nonzero(np.any(np.diff(t.astype(np.float64), axis=1) < 0, axis=1))[0]
        return f"thresholds of channel(s) {rows[:8].tolist()} are not in ascending order"
    return None


def to_float32_exact(values: np.ndarray) -> np.ndarray:
    """Integer results -> the float32 container qonnx tensors use. Raises ValueError when
    a value is beyond 2**24 in magnitude and so would not survive the conversion."""
    values = np.asarray(values)
    out = values.astype(np.float32)
    if values.size and np.abs(values).max() > FLOAT32_EXACT_INT:
        if not np.array_equal(out.astype(np.float64), values.astype(np.float64)):
            raise ValueError("results beyond 2**24 in magnitude are not exact in float32")
    return out


def random_values(dt: BaseDataType, shape: Sequence[int], rng: np.random.Generator) -> np.ndarray:
    """Uniformly random values of integer datatype `dt` in a float32 array (test inputs)."""
    if dt == BIPOLAR:
        return (2 * rng.integers(0, 2, size=tuple(shape)) - 1).astype(np.float32)
    return rng.integers(int(dt.min()), int(dt.max()), size=tuple(shape), endpoint=True).astype(np.float32)


def check_activation(where: str, thresholds: np.ndarray, channels: int, act_val: int,
                     out_dt: BaseDataType) -> None:
    """Raises (naming `where`) unless `thresholds` are well-formed for `channels` and every
    activation they can produce fits `out_dt`. Used by every thresholding layer."""
    problem = check_thresholds(thresholds, channels)
    if problem:
        raise ModelError(where, problem, "give ascending thresholds of shape (channels, T) or (1, T)")
    t = np.asarray(thresholds).shape[1]
    if out_dt == BIPOLAR:
        if t != 1:
            raise DataTypeError(where, f"a BIPOLAR output needs exactly one threshold per channel, got {t}",
                                "use thresholds of shape (channels, 1)")
        return
    lo, hi = activation_range(act_val, t, out_dt)
    if lo < out_dt.min() or hi > out_dt.max():
        raise DataTypeError(where, f"ActVal={act_val} with {t} thresholds gives outputs [{lo}, {hi}], outside "
                            f"{out_dt.name}",
                            f"use output datatype {smallest_int_datatype(lo, hi).name} or fewer thresholds")


def sliding_window_dim(ifm: int, kernel: int, stride: int, dilation: int = 1, ceil_mode: bool = False) -> int:
    """Number of window positions along one unpadded axis (0 if no window fits).

    Floor mode counts windows lying entirely inside the input. Ceil mode also counts a
    last, partial window, provided it starts inside the input (the rule of ONNX MaxPool
    and PyTorch without padding).
    """
    span = dilation * (kernel - 1) + 1
    if ifm < span:
        return 0
    if not ceil_mode:
        return (ifm - span) // stride + 1
    out = -(-(ifm - span) // stride) + 1
    return out - 1 if (out - 1) * stride >= ifm else out


def check_variant(where: str, variant: str, known) -> None:
    """Refuses a random-parameter variant a layer does not know (hardware test setup)."""
    if variant not in known:
        raise ModelError(where, f"unknown parameter variant {variant!r}",
                         "use one of " + ", ".join(repr(v) for v in known))


def comparator_thresholds(thresholds: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Integer thresholds that compare like `thresholds` on integer inputs in [lo, hi]:
    x >= t exactly when x >= ceil(t), and thresholds below lo (always reached) or above hi
    (never reached) clip to lo and hi + 1. Hardware stores these, in signed fields wide
    enough for [lo, hi + 1]."""
    return np.clip(np.ceil(np.asarray(thresholds, dtype=np.float64)), lo, hi + 1).astype(np.int64)


def sum_datatype(dt: BaseDataType, count: int) -> BaseDataType:
    """The narrowest integer datatype holding any sum of `count` elements of `dt` (a
    channel's sum over a pooling window or a whole image; BIPOLAR sums -count..count)."""
    return smallest_int_datatype(count * int(dt.min()), count * int(dt.max()))


def pool_sums(x: np.ndarray, count: int) -> np.ndarray:
    """x (..., G*count, C) -> (..., G, C): the channel sums of each group of `count`
    consecutive pixels, exact (int64)."""
    xi = as_int64(x)
    return xi.reshape(*xi.shape[:-2], xi.shape[-2] // count, count, xi.shape[-1]).sum(axis=-2)


def thresholds_needed(out_dt: BaseDataType) -> int:
    """Thresholds per channel a fused activation producing `out_dt` needs: one for a
    BIPOLAR output, else one per step between its levels (max - min)."""
    return 1 if out_dt == BIPOLAR else int(out_dt.max() - out_dt.min())


def accumulator_bits(acc_dt: BaseDataType) -> int:
    """Width of an accumulator of `acc_dt` as the RTL builds it: two's complement, so an
    unsigned type gets a sign bit."""
    return acc_dt.bitwidth() + (0 if acc_dt.signed() else 1)


def random_thresholds(lo: int, hi: int, rows: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """`rows` ascending rows of `n` integer thresholds (float32) for accumulators in
    [lo, hi], concentrated in the middle half where sums of random products usually land
    (hardware test parameters)."""
    spread, mid = max(1, (hi - lo) // 4), (lo + hi) // 2
    return np.sort(rng.integers(mid - spread, mid + spread + 1, size=(rows, n)), axis=1).astype(np.float32)
