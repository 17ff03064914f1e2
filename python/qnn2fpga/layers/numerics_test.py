"""Shared numerics against brute force and against qonnx's own helpers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from qonnx.core.datatype import DataType
from qonnx.custom_op.general.im2col import compute_conv_output_dim
from qonnx.custom_op.general.maxpoolnhwc import compute_pool_output_dim
from qonnx.custom_op.general.multithreshold import multithreshold

from qnn2fpga.errors import DataTypeError, ModelError
from qnn2fpga.layers import numerics
from qnn2fpga.layers.numerics import smallest_int_datatype


@pytest.mark.parametrize("lo,hi,name", [
    (0, 0, "UINT2"), (0, 1, "UINT2"), (0, 3, "UINT2"), (0, 4, "UINT3"), (0, 255, "UINT8"), (0, 256, "UINT9"),
    (-1, 0, "INT2"), (-2, 1, "INT2"), (-2, 2, "INT3"), (-3, 1, "INT3"), (-128, 127, "INT8"), (-129, 0, "INT9"),
    (-1, 128, "INT9"), (5, 9, "UINT4"), (-(2**31), 2**31 - 1, "INT32"), (0, 2**40, "UINT41")])
def test_smallest_int_datatype(lo, hi, name):
    assert smallest_int_datatype(lo, hi) == DataType[name]
    assert smallest_int_datatype(lo, hi).name == name


def test_smallest_int_datatype_is_minimal_by_brute_force():
    for lo, hi in itertools.combinations_with_replacement(range(-70, 70, 3), 2):
        dt = smallest_int_datatype(lo, hi)
        assert dt.min() <= lo and hi <= dt.max()
        assert dt.name.startswith("UINT" if lo >= 0 else "INT")
        if dt.bitwidth() > 2:
            narrower = DataType[f"{'UINT' if lo >= 0 else 'INT'}{dt.bitwidth() - 1}"]
            assert not (narrower.min() <= lo and hi <= narrower.max())


@pytest.mark.parametrize("lo,hi", [(3, 2), (0.5, 2), (0, 2.5)])
def test_smallest_int_datatype_rejects_bad_ranges(lo, hi):
    with pytest.raises(ValueError):
        smallest_int_datatype(lo, hi)


def test_divisors():
    assert numerics.divisors(1) == [1]
    assert numerics.divisors(12) == [1, 2, 3, 4, 6, 12]
    assert numerics.divisors(49) == [1, 7, 49]
    for n in range(1, 200):
        assert numerics.divisors(n) == [d for d in range(1, n + 1) if n % d == 0]


def test_count_thresholds_matches_qonnx_multithreshold():
    rng = np.random.default_rng(0)
    for channels, t, shared in [(5, 7, False), (3, 1, False), (4, 3, True)]:
        x = rng.integers(-20, 20, size=(2, 3, 4, channels)).astype(np.float32)
        thr = np.sort(rng.integers(-20, 20, size=(1 if shared else channels, t)), axis=1).astype(np.float32)
        ours = numerics.count_thresholds(x, thr)
        theirs = multithreshold(x, thr, channels_last=True)
        np.testing.assert_array_equal(ours, theirs)
        assert ours.dtype == np.int64


def test_threshold_activation_offsets_and_bipolar():
    x = np.array([[-3, 0, 2, 5]], np.float32)
    t = np.array([[0, 2, 4]], np.float32)
    np.testing.assert_array_equal(numerics.threshold_activation(x, t, -1, DataType["INT3"]), [[-1, 0, 1, 2]])
    np.testing.assert_array_equal(numerics.threshold_activation(x, t[:, :1], 0, DataType["BIPOLAR"]),
                                  [[-1, 1, 1, 1]])


def test_counting_is_exact_beyond_float32_precision():
    big = 2**24 + 1  # not representable in float32
    x = np.array([[big]], np.int64)
    assert numerics.count_thresholds(x, np.array([[float(2**24 + 2)]]))[0, 0] == 0
    assert numerics.count_thresholds(x, np.array([[float(2**24)]]))[0, 0] == 1


def test_matmul_acc_range_is_exact_by_brute_force():
    rng = np.random.default_rng(1)
    for dt_name in ("INT2", "UINT2", "BIPOLAR"):
        dt = DataType[dt_name]
        vals = [-1, 1] if dt_name == "BIPOLAR" else list(range(int(dt.min()), int(dt.max()) + 1))
        w = rng.integers(-3, 4, size=(3, 4))
        outs = [np.array(x) @ w for x in itertools.product(vals, repeat=3)]
        assert numerics.matmul_acc_range(dt, w) == (int(np.min(outs)), int(np.max(outs)))


def test_exact_matmul_does_not_round_like_float32():
    x = np.array([[4097, 4097]], np.float32)
    w = np.array([[4097], [1]], np.float32)
    assert numerics.exact_matmul(x, w)[0, 0] == 4097 * 4097 + 4097
    assert (x @ w)[0, 0] != 4097 * 4097 + 4097  # what float32 would have done


def test_exact_matmul_beyond_float64_precision_uses_integers():
    rng = np.random.default_rng(3)
    x = rng.integers(-(2**31), 2**31, size=(3, 4))
    w = rng.integers(-(2**31), 2**31, size=(4, 2))
    want = [[sum(int(x[i, k]) * int(w[k, j]) for k in range(4)) for j in range(2)] for i in range(3)]
    assert numerics.exact_matmul(x, w).tolist() == want


def test_as_int64_rejects_fractions():
    with pytest.raises(ValueError):
        numerics.as_int64(np.array([0.5]))


def test_to_float32_exact():
    assert numerics.to_float32_exact(np.array([2**24, -(2**24), 2**25])).dtype == np.float32
    with pytest.raises(ValueError):
        numerics.to_float32_exact(np.array([2**24 + 1]))


@pytest.mark.parametrize("ifm,k,s,d", [(6, 3, 1, 1), (7, 2, 2, 1), (7, 3, 2, 2), (5, 5, 1, 1), (9, 3, 3, 3)])
def test_sliding_window_dim_matches_qonnx(ifm, k, s, d):
    assert numerics.sliding_window_dim(ifm, k, s, d) == compute_conv_output_dim(ifm, k, s, 0, d)
    if d == 1:
        assert numerics.sliding_window_dim(ifm, k, s) == compute_pool_output_dim(ifm, k, s, 0, 0)


def test_sliding_window_dim_ceil_mode():
    assert numerics.sliding_window_dim(5, 2, 2, ceil_mode=True) == 3
    assert numerics.sliding_window_dim(4, 2, 2, ceil_mode=True) == 2
    assert numerics.sliding_window_dim(5, 1, 3, ceil_mode=True) == 2  # a window starting at 6 is dropped
    assert numerics.sliding_window_dim(2, 3, 1) == 0


def test_check_thresholds_and_activation_errors_name_the_node():
    assert numerics.check_thresholds(np.zeros((4, 3)), 4) is None
    assert numerics.check_thresholds(np.zeros((1, 3)), 4) is None
    assert "shape" in numerics.check_thresholds(np.zeros((3, 3)), 4)
    assert "ascending" in numerics.check_thresholds(np.array([[1.0, 0.0]]), 4)
    with pytest.raises(ModelError, match="node 'n'"):
        numerics.check_activation("node 'n'", np.array([[1.0, 0.0]]), 1, 0, DataType["UINT2"])
    with pytest.raises(DataTypeError, match=r"\[0, 4\]"):
        numerics.check_activation("node 'n'", np.zeros((1, 4)), 1, 0, DataType["UINT2"])
    with pytest.raises(DataTypeError, match="one threshold"):
        numerics.check_activation("node 'n'", np.zeros((1, 2)), 1, 0, DataType["BIPOLAR"])


def test_random_values_cover_the_datatype():
    rng = np.random.default_rng(2)
    for name in ("BIPOLAR", "INT3", "UINT2", "BINARY"):
        dt = DataType[name]
        v = numerics.random_values(dt, (2000,), rng)
        assert v.dtype == np.float32 and np.all(dt.allowed(v))
        assert v.min() == dt.min() and v.max() == dt.max()


def test_datatype_parsing():
    assert numerics.datatype("INT4") == DataType["INT4"]
    assert numerics.datatype(DataType["UINT3"]) == DataType["UINT3"]
    with pytest.raises(ValueError):
        numerics.datatype("INT4X")
    assert not numerics.is_integer_datatype(DataType["FLOAT32"])
    assert not numerics.is_integer_datatype(DataType["FIXED<8,4>"])
    assert numerics.is_integer_datatype(DataType["BIPOLAR"])


def test_comparator_thresholds_compare_like_the_originals():
    rng = np.random.default_rng(3)
    t = np.sort(rng.uniform(-20, 20, size=(4, 6)), axis=1)
    lo, hi = -8, 7
    hw = numerics.comparator_thresholds(t, lo, hi)
    assert hw.min() >= lo and hw.max() <= hi + 1 and hw.dtype == np.int64
    x = np.arange(lo, hi + 1)
    for c in range(4):
        for j in range(6):
            np.testing.assert_array_equal(x >= t[c, j], x >= hw[c, j])
