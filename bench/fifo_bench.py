"""FIFO sizing of CNV-w1a1 folded automatically for 3,300 fps on the Pynq-Z1 (100 MHz).

    ./bazelw run //bench:fifo_bench

Measured in one run, in a fresh simulator cache (cold):
- the whole set_fifo_depths step (stitching the deep-FIFO design, its Verilator build,
  the sizing simulation), and the sizing simulation alone;
- the baseline: one Verilator build of the sized design (what any rtlsim of the design
  costs anyway); the ratios say how many design builds the step and the simulation cost.
Then the sized design runs 20 frames at full input rate: exits 1 if it deadlocks, its
outputs differ from the layers' models, or it misses 1.05 x the estimated bottleneck.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

from qnn2fpga import boards, flow, folding, rtlsim, stitch
from qnn2fpga.steps import StepConfig, run

MODEL = "models/cnv/cnv_w1a1.onnx"
BOARD, FPS = "pynq-z1", 3300
FRAMES = 20


def _path(rel: str) -> str:
    """`rel` in this binary's runfiles (the workspace root is this file's parent's parent)."""
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), rel)


def main() -> int:
    board = boards.load_board(BOARD)
    model = flow.compile_model(flow.load_model(_path(MODEL)))
    model, fold = folding.auto_fold(model, board, FPS, board.default_clock_mhz)
    with tempfile.TemporaryDirectory(prefix="fifo-bench-") as tmp:
        os.environ["QNN2FPGA_CACHE"] = os.path.join(tmp, "cache")
        cfg = StepConfig(board=board, out_dir=None)
        model = run(model, cfg, "hw_codegen", "hw_codegen")
        t0 = time.perf_counter()
        sized = run(model, cfg, "set_fifo_depths", "set_fifo_depths")
        step = time.perf_counter() - t0
        sizing = cfg.state.fifo_sizing
        design = rtlsim.write_design(sized, os.path.join(tmp, "design"))
        t0 = time.perf_counter()
        sim = rtlsim.compile_design(design)
        build = time.perf_counter() - t0
        x = design.random_frames(FRAMES, seed=1)
        res = rtlsim.simulate(sim, design, x)
        expected = stitch.execute_chain(design.stitched, x)
    r = res.report
    print(f"CNV-w1a1 on {board.name} for {FPS} fps: {len(design.nodes)} stitched layers, "
          f"{len(sizing.depths)} FIFOs sized, deepest {max(sizing.depths.values())}")
    print(f"set_fifo_depths step {step:.1f} s (of which the deep design's Verilator build "
          f"{sizing.build_seconds:.1f} s, the sizing simulation {sizing.sim_seconds:.2f} s); "
          f"baseline one Verilator build of the sized design {build:.1f} s")
    print(f"ratios against the baseline: step {step / build:.2f}, sizing simulation {sizing.sim_seconds / build:.3f}")
    print(f"sized design, {FRAMES} frames at full rate: {r['cycles_per_frame']} cycles/frame, "
          f"estimated bottleneck {design.bottleneck_cycles()} ({fold.fps:.0f} fps estimated, "
          f"{board.default_clock_mhz * 1e6 / r['cycles_per_frame']:.0f} fps simulated)")
    import numpy as np  # noqa: PLC0415

    if not res.ok or not np.array_equal(res.y, expected):
        print("FAIL: the sized design stopped or its outputs differ from the layers' models", file=sys.stderr)
        return 1
    if r["cycles_per_frame"] > 1.05 * design.bottleneck_cycles():
        print("FAIL: the sized design misses 1.05 x the estimated bottleneck", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
