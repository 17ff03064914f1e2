"""FIFO sizing time and stitched-simulation speed for TFC-w1a1.

    ./bazelw run //bench:rtlsim_bench

TFC-w1a1 folded automatically for 1.5 Mfps on the ZCU104 (100 MHz), width converters
and FIFOs inserted. Measured in one run, in a fresh simulator cache:
- FIFO sizing wall time, cold (its deep-FIFO design built by Verilator) and warm
  (binary cached), against the baseline of one Verilator build of the sized design: the
  ratio says how many design builds sizing costs.
- Simulation speed of the sized design on 2000 frames at full rate: simulated cycles per
  second and frames per second, against the baseline of the layers' numpy models
  (python mode, the same frames).
Exits 1 if the sized design misses 1.05 x the estimated bottleneck.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

from qnn2fpga import boards, fifo_sizing, flow, folding, rtlsim, stitch
from qnn2fpga.transforms.insert_streams import InsertDWC, InsertFIFO

MODEL = "models/tfc/tfc_w1a1.onnx"
FRAMES = 2000


def _path(rel: str) -> str:
    """`rel` in this binary's runfiles (the workspace root is this file's parent's parent)."""
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), rel)


def main() -> int:
    board = boards.load_board("zcu104")
    model = flow.compile_model(flow.load_model(_path(MODEL)))
    model, _ = folding.auto_fold(model, board, 1_500_000, board.default_clock_mhz)
    model = model.transform(InsertDWC()).transform(InsertFIFO())
    with tempfile.TemporaryDirectory(prefix="rtlsim-bench-") as tmp:
        os.environ["QNN2FPGA_CACHE"] = os.path.join(tmp, "cache")
        t0 = time.perf_counter()
        sized, sizing = fifo_sizing.size_fifos(model, os.path.join(tmp, "cold"))
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        fifo_sizing.size_fifos(model, os.path.join(tmp, "warm"))
        warm = time.perf_counter() - t0
        design = rtlsim.write_design(sized, os.path.join(tmp, "design"))
        t0 = time.perf_counter()
        sim = rtlsim.compile_design(design)
        build = time.perf_counter() - t0

        x = design.random_frames(FRAMES, seed=1)
        t0 = time.perf_counter()
        res = rtlsim.simulate(sim, design, x)
        t_sim = time.perf_counter() - t0
        t0 = time.perf_counter()
        stitch.execute_chain(design.stitched, x)
        t_py = time.perf_counter() - t0
    r = res.report
    print(f"TFC-w1a1, {len(design.nodes)} stitched layers, {len(sizing.depths)} FIFOs sized to "
          + ", ".join(f"{k}={v}" for k, v in sizing.depths.items()))
    print(f"FIFO sizing: cold {cold:.2f} s, warm {warm:.2f} s; baseline one Verilator build {build:.2f} s; "
          f"ratio cold/build {cold / build:.2f}, warm/build {warm / build:.3f}")
    print(f"simulation: {FRAMES} frames, {r['cycles']} cycles in {t_sim:.2f} s = {r['cycles'] / t_sim:,.0f} cycles/s, "
          f"{FRAMES / t_sim:,.0f} frames/s; baseline python layer models {FRAMES / t_py:,.0f} frames/s; "
          f"ratio rtlsim/python {t_py / t_sim:.2f}")
    print(f"steady state {r['cycles_per_frame']} cycles/frame, estimated bottleneck {design.bottleneck_cycles()}")
    if not res.ok or r["cycles_per_frame"] > 1.05 * design.bottleneck_cycles():
        print("FAIL: the sized design misses 1.05 x the estimated bottleneck", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
