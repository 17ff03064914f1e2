"""The compiler as a plain Python package, the way a user without Bazel gets it: a
non-editable `pip install ./python` into a fresh virtualenv, then the `qnn2fpga` console
script from another directory: --version, compile, build (every step, FIFO sizing and
rtlsim included) and run --mode rtlsim, with the board data and the RTL library coming
from the installed package. The install leaves nothing in the source tree and the wheel
holds no test modules. Needs the PyPI registry (tagged requires-network) and Verilator."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np

from qnn2fpga import testing


def _runfiles() -> pathlib.Path:
    return pathlib.Path(os.environ["TEST_SRCDIR"]) / os.environ["TEST_WORKSPACE"]


def _checkout(dest: pathlib.Path) -> pathlib.Path:
    """python/, boards/, rtl/ and drivers/ as in a checkout (real files, no Bazel files)."""
    skip = shutil.ignore_patterns("BUILD.bazel", "__pycache__")
    for d in ("python", "boards", "rtl", "drivers"):
        shutil.copytree(_runfiles() / d, dest / d, symlinks=False, ignore=skip)
    return dest


def _tree(root: pathlib.Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_pip_install_gives_a_cli_that_compiles_builds_and_simulates(tmp_path):
    src = _checkout(tmp_path / "checkout")
    before = _tree(src)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                          str(src / "python")], capture_output=True, text=True, cwd=tmp_path)
    assert pip.returncode == 0, pip.stderr[-3000:]
    assert _tree(src) == before, "the install wrote into the source tree"

    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}  # no PYTHONPATH of this test
    site = pathlib.Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import qnn2fpga, os; "
                                        "print(os.path.dirname(qnn2fpga.__file__))"], cwd="/", env=env,
                                       capture_output=True, text=True, check=True).stdout.strip())
    assert str(venv) in str(site)
    assert [p.name for p in site.rglob("*_test.py") if "data" not in p.relative_to(site).parts] == []
    assert (site / "data" / "boards" / "pynq-z1.json").is_file()
    assert (site / "data" / "drivers" / "driver_base.py").is_file()

    work = tmp_path / "elsewhere"
    work.mkdir()

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["qnn2fpga", *args], cwd=work, env=env, capture_output=True, text=True)

    version = cli("--version")
    assert version.returncode == 0 and version.stdout.strip() == "qnn2fpga 0.1.0"
    model = testing.tiny_mlp(fixed_point_out=True, bn_tail=True)
    model.save(str(work / "mlp.onnx"))

    p = cli("compile", "mlp.onnx", "-o", "mlp_hw.onnx")
    assert p.returncode == 0, p.stderr
    assert (work / "mlp_hw.onnx").exists() and "MVAU" in p.stdout

    x, expected = testing.export_golden(model, 4)
    np.save(work / "x.npy", x)
    np.save(work / "y.npy", expected)
    p = cli("build", "mlp.onnx", "--board=pynq-z1", "--target_fps=1000000", "--output_dir=out",
            "--verify_input=x.npy", "--verify_expected=y.npy")
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    perf = json.loads((work / "out" / "report" / "rtlsim_performance.json").read_text())
    assert perf["cycles_per_frame"] > 0
    assert (work / "out" / "stitched_ip").is_dir()
    assert (work / "out" / "deploy" / "driver" / "driver_base.py").is_file()
    assert np.array_equal(np.load(work / "out" / "deploy" / "expected_output.npy"), expected)  # the same seed

    p = cli("run", "--model=mlp.onnx", "--input=x.npy", "--output=y_rtl.npy", "--mode=rtlsim",
            "--target_fps=1000000", "--board=pynq-z1")
    assert p.returncode == 0, p.stderr[-2000:]
    assert np.array_equal(np.load(work / "y_rtl.npy"), expected)

    bad = cli("compile", "missing.onnx", "-o", "x.onnx")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    unknown = cli("build", "mlp.onnx", "--board=no-such-board", "--target_fps=1000", "--output_dir=o2")
    assert unknown.returncode == 2 and "pynq-z1" in unknown.stderr
