"""Bazel build times of one accelerator, measured on a copy of this workspace with its
own output root and no caches (the machine should be otherwise idle):

    ./bazelw run //bench:bazel_bench

cold      `bazel test //models/tfc:pynq-z1_rtlsim_test` from nothing (exports, compile,
          FIFO sizing, stitching, the simulator's Verilator build, the test)
no-op     the same command again
one fold  after changing one layer's PE in the folding config (MVAU_1, 4 -> 2)

Prints each time and its ratio to the cold build, and how many actions each ran.
"""

from __future__ import annotations

import json
import pathlib
import sys
import tempfile
import time

from nested import Workspace

TARGET = "//models/tfc:pynq-z1_rtlsim_test"


def timed(ws: Workspace, *args: str) -> tuple[float, int]:
    log = ws.dir.parent / "exec.json"
    t0 = time.perf_counter()
    ws.bazel("test", "--disk_cache=", f"--execution_log_json_file={log}", *args, TARGET)
    seconds = time.perf_counter() - t0
    return seconds, log.read_text().count('"mnemonic"')


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bazel_bench.") as tmp:
        ws = Workspace(pathlib.Path(tmp), "bench")
        ws.bazel("info", "output_base")  # server start-up, not part of any measurement
        cold, n_cold = timed(ws)
        noop, n_noop = timed(ws)
        config = ws.dir / "models/tfc/pynq-z1_folding.json"
        folding = json.loads(config.read_text())
        folding["MVAU_1"]["PE"] = 2
        config.write_text(json.dumps(folding, indent=2))
        incr, n_incr = timed(ws)
        ws.bazel("shutdown")
    print(f"{TARGET}, fresh output root, no caches")
    print(f"cold build + test     {cold:8.1f} s  {n_cold:4d} actions  (baseline)")
    print(f"no-op rebuild         {noop:8.1f} s  {n_noop:4d} actions  ratio {noop / cold:.3f}")
    print(f"one layer's PE change {incr:8.1f} s  {n_incr:4d} actions  ratio {incr / cold:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
