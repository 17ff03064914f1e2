"""One BLAS thread for the compiler's own matrix products.

numpy's OpenBLAS starts a thread per core and its threads busy-wait for work. The
products the layer models compute (exact integer matmuls of a few million MACs) gain
little from a second thread on an idle machine, and on a busy one (a parallel build,
a test run beside Verilator) the waiting threads take 10-100x longer than one thread
(measured on 2 cores: a 784x576x64 product 1.2 ms on one thread, 11 ms on two). So
`single_thread()` runs its block with one BLAS thread and restores the count after,
through threadpoolctl (which finds numpy's BLAS among the loaded libraries).
"""

from __future__ import annotations

import functools

from threadpoolctl import ThreadpoolController


@functools.lru_cache(maxsize=None)
def controller() -> ThreadpoolController:
    """The process's thread pools (numpy loaded first, so its BLAS is among them)."""
    import numpy  # noqa: F401,PLC0415 (loads the BLAS library)

    return ThreadpoolController()


def single_thread():
    """A context manager: its block runs with one BLAS thread (see the module text)."""
    return controller().limit(limits=1, user_api="blas")
