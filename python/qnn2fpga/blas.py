"""One BLAS thread for the compiler's own matrix products.

numpy's OpenBLAS starts a thread per core and its threads busy-wait for work. The
products the layer models compute (exact integer matmuls of a few million MACs) gain
little from a second thread on an idle machine, and on a busy one (a parallel build,
a test run beside Verilator) the waiting threads take 10-100x longer than one thread
(measured on 2 cores: a 784x576x64 product 1.2 ms on one thread, 11 ms on two). So
`single_thread()` runs its block with one OpenBLAS thread and restores the count after.
The library is found among the process's loaded libraries (Linux); elsewhere, or with
another BLAS, the block runs unchanged.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
from typing import Callable, Iterator

# (set, get) symbol pairs of OpenBLAS builds: numpy's scipy-openblas (64-bit ints),
# plain OpenBLAS, and OpenBLAS with 64-bit integer symbols.
_SYMBOLS = (
    ("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
    ("openblas_set_num_threads", "openblas_get_num_threads"),
    ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
)


@functools.lru_cache(maxsize=None)
def _controls() -> tuple[Callable[[int], None], Callable[[], int]] | None:
    """numpy's OpenBLAS thread-count setter and getter, or None."""
    import numpy  # noqa: F401,PLC0415 (loads the BLAS library)

    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "blas" in line.lower() and "/" in line})
    except OSError:
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for set_name, get_name in _SYMBOLS:
            if hasattr(lib, set_name) and hasattr(lib, get_name):
                setter, getter = getattr(lib, set_name), getattr(lib, get_name)
                setter.argtypes, setter.restype = [ctypes.c_int], None
                getter.argtypes, getter.restype = [], ctypes.c_int
                return setter, getter
    return None


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Runs the block with one OpenBLAS thread (see the module text)."""
    controls = _controls()
    if controls is None:
        yield
        return
    setter, getter = controls
    before = getter()
    if before == 1:
        yield
        return
    setter(1)
    try:
        yield
    finally:
        setter(before)
