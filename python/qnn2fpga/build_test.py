"""`qnn2fpga build`: folded graph, FINN-named reports that match their schemas, one clear
line for bad input, and no half-written output directory."""

from __future__ import annotations

import json
import os

from qnn2fpga import report_schemas, testing
from qnn2fpga.testing import one_error_line, qnn2fpga

REPORTS = ["build_report.html", "estimate_layer_cycles.json", "estimate_layer_resources.json",
           "estimate_network_performance.json", "op_and_param_counts.json"]


def test_build_with_target_fps_writes_finn_named_outputs(tmp_path):
    testing.tiny_mlp().save(str(tmp_path / "mlp.onnx"))
    p = qnn2fpga("build", "mlp.onnx", "--board=pynq-z1", "--target-fps=2000000", "--output-dir=out",
                 cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr
    out = tmp_path / "out"
    assert sorted(os.listdir(out)) == ["auto_folding_config.json", "build_dataflow.log", "final_hw_config.json",
                                       "intermediate_models", "report", "time_per_step.json"]
    assert sorted(os.listdir(out / "report")) == REPORTS
    assert sorted(os.listdir(out / "intermediate_models")) == [
        "1_import.onnx", "2_to_integer.onnx", "3_streamline.onnx", "4_lower.onnx", "5_to_hw.onnx",
        "6_target_fps_parallelization.onnx"]
    for name in REPORTS[1:]:
        report_schemas.validate(name, json.loads((out / "report" / name).read_text()))
    times = json.loads((out / "time_per_step.json").read_text())
    report_schemas.validate("time_per_step", times)
    assert list(times) == ["import", "to_integer", "streamline", "lower", "to_hw", "target_fps_parallelization",
                           "generate_estimate_reports"]
    perf = json.loads((out / "report" / "estimate_network_performance.json").read_text())
    assert perf["estimated_throughput_fps"] >= 2e6 and perf["max_cycles"] <= 50
    # the config the build chose reproduces the same folding when given back
    assert json.loads((out / "auto_folding_config.json").read_text()) == \
        json.loads((out / "final_hw_config.json").read_text())
    p = qnn2fpga("build", "mlp.onnx", "--board=pynq-z1", "--folding=out/final_hw_config.json",
                 "--output_dir=again", cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "again" / "report" / "estimate_layer_cycles.json").read_text() == \
        (out / "report" / "estimate_layer_cycles.json").read_text()
    assert "html" in (out / "report" / "build_report.html").read_text()[:200].lower()


def test_folding_config_warnings_are_logged(tmp_path):
    testing.tiny_mlp().save(str(tmp_path / "mlp.onnx"))
    (tmp_path / "f.json").write_text(json.dumps({"MVAU_0": {"PE": 4}, "fc_typo": {"PE": 2}}))
    p = qnn2fpga("build", "mlp.onnx", "--board=zcu104", "--folding=f.json", "--output_dir=out", cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert "warning: unused configuration: node 'fc_typo' is not in the graph" in p.stdout
    assert "fc_typo" in (tmp_path / "out" / "build_dataflow.log").read_text()
    cycles = json.loads((tmp_path / "out" / "report" / "estimate_layer_cycles.json").read_text())
    assert cycles["MVAU_0"] == 16 * 12 // 4


def test_bad_input_gives_one_line_and_keeps_the_previous_build(tmp_path):
    testing.tiny_mlp().save(str(tmp_path / "mlp.onnx"))
    ok = qnn2fpga("build", "mlp.onnx", "--board=pynq-z1", "--target_fps=1e6", "--output_dir=out", cwd=str(tmp_path))
    assert ok.returncode == 0, ok.stderr
    before = sorted(os.listdir(tmp_path / "out"))
    (tmp_path / "bad.json").write_text('{"MVAU_0": {"PE": 5}}')
    cases = [
        (["--board=pynq-z9", "--target_fps=1e6"], "board 'pynq-z9': is unknown"),
        (["--board=pynq-z1", "--folding=nope.json"], "nope.json' : does not exist".replace(" :", ":")),
        (["--board=pynq-z1", "--folding=bad.json"], "PE=5 does not divide MH=12"),
        (["--board=pynq-z1"], "needs exactly one of --target_fps and --folding"),
        (["--board=pynq-z1", "--target_fps=1e9"], "exceeds one frame per cycle"),
    ]
    for args, words in cases:
        line = one_error_line(qnn2fpga("build", "mlp.onnx", *args, "--output_dir=out", cwd=str(tmp_path)))
        assert words in line, line
        assert sorted(os.listdir(tmp_path / "out")) == before  # the good build is untouched
    assert not [f for f in os.listdir(tmp_path) if ".partial-" in f]  # nothing half-written left behind
