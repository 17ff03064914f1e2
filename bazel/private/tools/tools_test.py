"""Tests of the action tools: Yosys report categories, missing-tool messages, the layer-list upkeep."""

import json
import os
import shutil
import subprocess

import pytest

import yosys_synth

_HERE = os.path.dirname(os.path.abspath(__file__))


def test_categorize_xilinx_cells():
    cells = {"LUT6": 3, "LUT1": 1, "INV": 2, "FDRE": 5, "FDCE": 1, "SRLC32E": 2, "RAM64M": 4,
             "RAMB18E1": 1, "RAMB36E2": 2, "URAM288": 1, "DSP48E2": 3, "CARRY4": 6, "MUXF7": 1,
             "VCC": 1, "GND": 1, "SOMETHING": 7}
    r = yosys_synth.categorize(cells)
    assert r == {"LUT": 6, "FF": 6, "LUTRAM": 4, "SRL": 2, "BRAM18": 1, "BRAM36": 2, "URAM": 1,
                 "DSP": 3, "CARRY": 6, "MUXF": 1, "OTHER": 7}


def test_string_and_number_parameters():
    assert yosys_synth._param_value("16") == "16"
    assert yosys_synth._param_value("-3") == "-3"
    assert yosys_synth._param_value("8'hff") == "8'hff"
    assert yosys_synth._param_value("block") == '"block"'


def test_missing_yosys_is_one_line(tmp_path, capsys):
    rc = yosys_synth.main(["--yosys", "", "--top", "t", "--family", "xc7", "--report",
                           str(tmp_path / "r.json"), "--netlist", str(tmp_path / "n.v"),
                           "--log", str(tmp_path / "l"), "x.sv"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 127
    assert err == ["qnn2fpga: yosys is not installed; install it with 'apt-get install -y yosys' "
                   "(./bazelw does this)"]
    assert not (tmp_path / "r.json").exists()


def test_missing_verilator_is_one_line(tmp_path):
    p = subprocess.run(["bash", os.path.join(_HERE, "verilate.sh"), "", str(tmp_path / "m.cpp"),
                        str(tmp_path / "h"), "--", "x.sv"], capture_output=True, text=True)
    assert p.returncode == 127
    assert p.stderr.strip().splitlines() == [
        "qnn2fpga: verilator is not installed; install it with 'apt-get install -y verilator' "
        "(./bazelw does this)"]


@pytest.mark.parametrize("find,ok", [("count < DEPTH", True), ("not there", False)])
def test_mutate(tmp_path, find, ok):
    src = tmp_path / "a.sv"
    src.write_text("assign r = count < DEPTH;\nassign q = count < DEPTH;\n")
    out = tmp_path / "b.sv"
    p = subprocess.run(["bash", os.path.join(_HERE, "mutate.sh"), str(src), str(out), find, "count <= DEPTH"],
                       capture_output=True, text=True)
    assert (p.returncode == 0) == ok
    if ok:  # first occurrence only, everything else byte-identical
        assert out.read_text() == "assign r = count <= DEPTH;\nassign q = count < DEPTH;\n"
    else:
        assert "not found" in p.stderr


def test_yosys_synth_report(tmp_path):
    """Synthesizes a tiny module end to end when yosys is available (it is under ./bazelw)."""
    yosys = shutil.which("yosys")
    assert yosys, "yosys not on PATH (./bazelw installs it)"
    src = tmp_path / "add.sv"
    src.write_text("module add #(parameter int W = 4, parameter S = \"x\") "
                   "(input logic clk, input logic [W-1:0] a, b, output logic [W:0] y);\n"
                   "  always_ff @(posedge clk) y <= a + b;\nendmodule\n")
    report = tmp_path / "r.json"
    rc = yosys_synth.main(["--yosys", yosys, "--top", "add", "--family", "xc7", "--param", "W=8",
                           "--param", "S=abc", "--report", str(report), "--netlist", str(tmp_path / "n.v"),
                           "--log", str(tmp_path / "l"), str(src)])
    assert rc == 0
    r = json.loads(report.read_text())
    assert r["params"] == {"S": "abc", "W": "8"}
    assert r["resources"]["FF"] == 9  # W+1 output bits registered
    assert r["resources"]["CARRY"] >= 1


def _layer_list(*args, env=None):
    return subprocess.run(["bash", os.path.join(_HERE, "checked_in.sh"), *args], capture_output=True, text=True,
                          env=env)


def test_layer_list_check_fails_when_stale_and_names_the_update(tmp_path):
    generated, checked_in = tmp_path / "generated.bzl", tmp_path / "hw_layers.bzl"
    generated.write_text('HW_LAYERS = {"zcu104": {"layers": [("MVAU_0", "MVAU")]}}\n')
    checked_in.write_text("HW_LAYERS = {}\n")
    p = _layer_list("check", str(generated), str(checked_in), "//models/x:hw_layers_update")
    assert p.returncode == 1
    assert "is stale" in p.stderr and "bazel run //models/x:hw_layers_update" in p.stderr
    checked_in.write_text(generated.read_text())
    assert _layer_list("check", str(generated), str(checked_in), "//models/x:hw_layers_update").returncode == 0


def test_layer_list_update_writes_into_the_workspace(tmp_path):
    generated = tmp_path / "generated.bzl"
    generated.write_text("HW_LAYERS = {}\n")
    (tmp_path / "ws" / "pkg").mkdir(parents=True)
    env = dict(os.environ, BUILD_WORKSPACE_DIRECTORY=str(tmp_path / "ws"))
    assert _layer_list("update", str(generated), "pkg/hw_layers.bzl", env=env).returncode == 0
    assert (tmp_path / "ws" / "pkg" / "hw_layers.bzl").read_text() == "HW_LAYERS = {}\n"
    env.pop("BUILD_WORKSPACE_DIRECTORY")
    p = _layer_list("update", str(generated), "pkg/hw_layers.bzl", env=env)
    assert p.returncode == 2 and "bazel run" in p.stderr
