"""The compiler as a plain Python package: `pip install` into a fresh virtualenv gives a
`qnn2fpga` console script that compiles a model. Needs the PyPI registry (tagged
requires-network) for the dependencies."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

from qnn2fpga import testing


def _runfiles_python_dir() -> pathlib.Path:
    root = pathlib.Path(os.environ["TEST_SRCDIR"]) / os.environ["TEST_WORKSPACE"]
    return root / "python"


def test_pip_install_gives_a_working_console_script(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(_runfiles_python_dir(), src, symlinks=False,
                    ignore=shutil.ignore_patterns("*_test.py", "BUILD.bazel", "__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(src)],
                         capture_output=True, text=True)
    assert pip.returncode == 0, pip.stderr[-3000:]
    testing.tiny_mlp().save(str(tmp_path / "mlp.onnx"))
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}
    p = subprocess.run(["qnn2fpga", "compile", "mlp.onnx", "-o", "mlp_hw.onnx"], cwd=tmp_path, env=env,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "mlp_hw.onnx").exists() and "MVAU" in p.stdout
    # The installed package is what ran, not the source tree.
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import qnn2fpga; print(qnn2fpga.__file__)"],
                           cwd="/", env=env, capture_output=True, text=True).stdout
    assert str(venv) in where
    bad = subprocess.run(["qnn2fpga", "compile", "missing.onnx", "-o", "x.onnx"], cwd=tmp_path, env=env,
                         capture_output=True, text=True)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
