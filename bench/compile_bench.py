"""Compile time and python-mode execution speed, against qonnx execution of the raw export.

    ./bazelw run //bench:compile_bench

For CNV-w1a1 (targets) and TFC-w1a1 (for reference), measured in one run, each timing
repeated and the best taken (other jobs may share the machine):
- the estimate-only build, `qnn2fpga build MODEL --board=pynq-z1 --target_fps=F
  --stop_step=generate_estimate_reports` as a user runs it (a fresh process, imports
  included), wall time (and the CPU time of that run); target for CNV-w1a1: 10 s;
- python-mode execution (`qnn2fpga.execute.execute`, mode "python") of that build's
  hardware-layer graph, per frame, against the baseline of qonnx's `execute_onnx` on the
  raw export, per frame, on the same seeded frames; the outputs must be bit-identical;
  target for CNV-w1a1: ratio python / qonnx <= 1.
The build time is also given in frames of the baseline (how many qonnx executions of
the export it costs), which stays comparable across machines. Exits 1 when a CNV-w1a1
target is missed (or the outputs differ).
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.transformation.infer_shapes import InferShapes

from qnn2fpga import execute, flow
from qnn2fpga.graph import real_inputs
from qnn2fpga.testing import qnn2fpga

CASES = [  # (name, model file, target fps on pynq-z1, targets apply)
    ("CNV-w1a1", "models/cnv/cnv_w1a1.onnx", 3000, True),
    ("TFC-w1a1", "models/tfc/tfc_w1a1.onnx", 100_000, False),
]
BUILD_TARGET_S = 10.0
BUILD_REPEATS = 3
FRAMES = 8
EXEC_REPEATS = 3


def _path(rel: str) -> str:
    """`rel` in this binary's runfiles (the workspace root is this file's parent's parent)."""
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), rel)


def _best(f, repeats: int) -> tuple[float, object]:
    """The shortest wall time of `repeats` calls of f, and that call's result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        r = f()
        elapsed = time.perf_counter() - t0
        if elapsed < best:
            best, result = elapsed, r
    return best, result


def main() -> int:
    failed = []
    with tempfile.TemporaryDirectory(prefix="compile-bench-") as tmp:
        for name, rel, fps, targets in CASES:
            model_path = _path(rel)
            out = os.path.join(tmp, name)

            def build() -> float:
                """Runs the build; returns its CPU time (user + system)."""
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                p = qnn2fpga("build", model_path, "--board=pynq-z1", f"--target_fps={fps}",
                             "--stop_step=generate_estimate_reports", f"--output_dir={out}", cwd=tmp)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                if p.returncode != 0:
                    raise SystemExit(f"{name}: the build failed:\n{p.stdout}{p.stderr}")
                return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime

            t_build, cpu = _best(build, BUILD_REPEATS)
            compiled = ModelWrapper(os.path.join(out, "intermediate_models", "7_generate_estimate_reports.onnx"))

            export = flow.load_model(model_path).transform(InferShapes())
            inp, outp = real_inputs(export)[0], export.graph.output[0].name
            shape = export.get_tensor_shape(inp)
            x = np.random.default_rng(0).uniform(-1, 1, size=(FRAMES, *shape[1:])).astype(np.float32)
            t_qonnx, ref = _best(lambda: np.concatenate(
                [execute_onnx(export, {inp: x[i:i + 1]})[outp] for i in range(FRAMES)]), EXEC_REPEATS)
            t_python, got = _best(lambda: execute.execute(compiled, x, "python"), EXEC_REPEATS)
            same = np.array_equal(ref, got)
            q_frame, p_frame = t_qonnx / FRAMES, t_python / FRAMES
            build_ok, exec_ok = t_build <= BUILD_TARGET_S, p_frame <= q_frame

            def verdict(ok: bool) -> str:
                return ("met" if ok else "MISSED") if targets else "no target"

            print(f"{name}: estimate-only build ({fps:,} fps on pynq-z1) {t_build:.2f} s, best of {BUILD_REPEATS} "
                  f"(CPU {cpu:.2f} s; target {BUILD_TARGET_S:.0f} s: {verdict(build_ok)}); = "
                  f"{t_build / q_frame:,.0f} frames of the baseline")
            print(f"{name}: python mode {p_frame * 1e3:.1f} ms/frame; baseline qonnx on the raw export "
                  f"{q_frame * 1e3:.1f} ms/frame; ratio python/qonnx {p_frame / q_frame:.2f} "
                  f"(target <= 1: {verdict(exec_ok)}); outputs on {FRAMES} frames "
                  f"{'bit-identical' if same else 'DIFFER'}")
            if not same:
                failed.append(f"{name}: python-mode outputs differ from qonnx execution of the export")
            if targets and not build_ok:
                failed.append(f"{name}: the estimate-only build took {t_build:.2f} s (target {BUILD_TARGET_S:.0f} s)")
            if targets and not exec_ok:
                failed.append(f"{name}: python mode {p_frame / q_frame:.2f} x qonnx on the raw export (target <= 1)")
    for f in failed:
        print(f"FAIL: {f}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
