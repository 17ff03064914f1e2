"""Bazel build times of one accelerator, measured on a copy of this workspace with its
own output root and no caches (the machine should be otherwise idle):

    ./bazelw run //bench:bazel_bench [-- --model=cnv]

cold      `bazel test //models/<model>:pynq-z1_rtlsim_test` from nothing (exports,
          compile, FIFO sizing, stitching, the simulator's Verilator build, the test)
no-op     the same command again
one fold  after changing one layer's PE: tfc in its folding config (MVAU_1, 4 -> 2);
          cnv (folded automatically for 3,300 fps) through a per-layer override file
          that the copy's pynq-z1 accelerator takes from the start (MVAU_4's PE -> 2)

Prints each time and its ratio to the cold build, and how many actions each ran.
"""

from __future__ import annotations

import json
import pathlib
import sys
import tempfile
import time

from nested import Workspace



def timed(ws: Workspace, target: str, *args: str) -> tuple[float, int]:
    log = ws.dir.parent / "exec.json"
    t0 = time.perf_counter()
    ws.bazel("test", "--disk_cache=", f"--execution_log_json_file={log}", *args, target)
    seconds = time.perf_counter() - t0
    return seconds, log.read_text().count('"mnemonic"')


def main() -> int:
    model = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--model=")), "tfc")
    target = f"//models/{model}:pynq-z1_rtlsim_test"
    with tempfile.TemporaryDirectory(prefix="bazel_bench.") as tmp:
        ws = Workspace(pathlib.Path(tmp), "bench")
        if model == "cnv":  # automatic folding plus an (empty) per-layer override file
            overrides = ws.dir / "models/cnv/pynq-z1_overrides.json"
            overrides.write_text("{}\n")
            build = ws.dir / "models/cnv/BUILD.bazel"
            pinned = '        folding = "pynq-z1_overrides.json" if board == "pynq-z1" else None,\n'
            fps_line = "        target_fps = fps,\n"
            build.write_text(build.read_text().replace(fps_line, pinned + fps_line))
        ws.bazel("info", "output_base")  # server start-up, not part of any measurement
        cold, n_cold = timed(ws, target)
        noop, n_noop = timed(ws, target)
        if model == "cnv":
            overrides.write_text(json.dumps({"MVAU_4": {"PE": 2}}, indent=2))
        else:
            config = ws.dir / "models/tfc/pynq-z1_folding.json"
            folding = json.loads(config.read_text())
            folding["MVAU_1"]["PE"] = 2
            config.write_text(json.dumps(folding, indent=2))
        incr, n_incr = timed(ws, target)
        ws.bazel("shutdown")
    print(f"{target}, fresh output root, no caches")
    print(f"cold build + test     {cold:8.1f} s  {n_cold:4d} actions  (baseline)")
    print(f"no-op rebuild         {noop:8.1f} s  {n_noop:4d} actions  ratio {noop / cold:.3f}")
    print(f"one layer's PE change {incr:8.1f} s  {n_incr:4d} actions  ratio {incr / cold:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
