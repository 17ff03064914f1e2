"""The tool vivado_bitfile's actions run (tools/vivado_bitfile.py), without Vivado: the
project step on a stand-in accelerator (tests/vivado/), the build step failing with one
line that names Vivado, XILINX_VIVADO and the targets that build without it."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

TOOL = pathlib.Path(__file__).with_name("vivado_bitfile.py")
FIXTURE = pathlib.Path(__file__).parents[3] / "tests" / "vivado"  # source tree and runfiles alike
WITHOUT = "//tests/vivado:pynq-z1_package,//tests/vivado:pynq-z1_rtlsim_test"


def run(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(__file__).parents[2]))
    return subprocess.run([sys.executable, str(TOOL), *args], capture_output=True, text=True, env=env, timeout=120)


def project(tmp_path, board="pynq-z1") -> subprocess.CompletedProcess:
    return run("project", f"--board={board}", f"--shell={FIXTURE / 'shell.json'}", f"--out={tmp_path / 'p'}",
               str(FIXTURE / "qnn2fpga_accel_shell.sv"))


def test_project_step_needs_no_vivado(tmp_path):
    proc = project(tmp_path)
    assert proc.returncode == 0, proc.stderr
    tcl = (tmp_path / "p" / "make_project.tcl").read_text()
    assert "-part xc7z020clg400-1" in tcl and "CONFIG.PCW_FPGA0_PERIPHERAL_FREQMHZ {100}" in tcl
    assert sorted(p.name for p in (tmp_path / "p" / "src").iterdir()) == \
        ["qnn2fpga_accel_shell.sv", "qnn2fpga_accel_shell_ipi.v"]


@pytest.mark.parametrize("vivado", ["", "/nonexistent/bin/vivado"])
def test_build_step_without_vivado_fails_with_one_line(tmp_path, vivado):
    assert project(tmp_path).returncode == 0
    proc = run("build", f"--project={tmp_path / 'p'}", f"--vivado={vivado}", f"--out_bit={tmp_path / 'x.bit'}",
               f"--out_hwh={tmp_path / 'x.hwh'}", f"--out_reports={tmp_path / 'r'}", f"--without_vivado={WITHOUT}")
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    for needed in ("Vivado", "XILINX_VIVADO", "//tests/vivado:pynq-z1_package", "//tests/vivado:pynq-z1_rtlsim_test"):
        assert needed in lines[0]
    assert not (tmp_path / "x.bit").exists()


def test_build_step_with_a_stand_in_vivado(tmp_path):
    """The build step end to end with a `vivado` that runs the script in tclsh against the
    recording stub: outputs copied, reports parsed."""
    stub = pathlib.Path(__file__).parents[1] / "vivado_stub.tcl"
    fake = tmp_path / "vivado"
    fake.write_text("#!/bin/sh\n"  # vivado -mode batch -nojournal -log LOG -source make_project.tcl
                    f"mkdir -p stub && QNN_STUB_LOG=calls.jsonl QNN_STUB_DIR=stub exec tclsh <<EOF\n"
                    f"source {stub}\nsource make_project.tcl\nEOF\n")
    fake.chmod(0o755)
    assert project(tmp_path).returncode == 0
    proc = run("build", f"--project={tmp_path / 'p'}", f"--vivado={fake}", f"--out_bit={tmp_path / 'x.bit'}",
               f"--out_hwh={tmp_path / 'x.hwh'}", f"--out_reports={tmp_path / 'r'}", f"--without_vivado={WITHOUT}")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "x.bit").is_file() and (tmp_path / "x.hwh").is_file()
    resources = json.loads((tmp_path / "r" / "post_synth_resources.json").read_text())
    assert resources["used"] == {"LUT": 1000, "FF": 2000, "BRAM_18K": 3, "URAM": 0, "DSP": 0}
    assert json.loads((tmp_path / "r" / "post_route_timing.json").read_text())["WNS_ns"] == 1.5
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == [
        "post_route_resources.json", "post_route_timing.json", "post_route_timing_summary.rpt",
        "post_route_utilization.rpt", "post_synth_resources.json", "post_synth_utilization.rpt"]


@pytest.mark.parametrize(("board", "expected"), [("u50", "Zynq-only in this version"), ("u250", "kv260, pynq-z1"),
                                                 ("vc707", "is unknown")])
def test_boards_without_a_bitfile_fail_with_one_line(tmp_path, board, expected):
    proc = project(tmp_path, board)
    assert proc.returncode == 2
    assert len(proc.stderr.splitlines()) == 1 and expected in proc.stderr, proc.stderr
