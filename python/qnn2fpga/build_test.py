"""`qnn2fpga build`: folded graph, FINN-named reports that match their schemas, one clear
line for bad input, and no half-written output directory."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
import unittest.mock as mock

import numpy as np
import pytest

from qnn2fpga import boards, build, deploy, errors, random_graphs, report_schemas, testing
from qnn2fpga.testing import one_error_line, qnn2fpga

REPORTS = ["build_report.html", "estimate_layer_cycles.json", "estimate_layer_resources.json",
           "estimate_network_performance.json", "op_and_param_counts.json", "rtlsim_performance.json"]
ESTIMATES_ONLY = "--stop_step=generate_estimate_reports"


def test_build_with_target_fps_writes_finn_named_outputs(tmp_path, monkeypatch):
    testing.tiny_mlp().save(str(tmp_path / "mlp.onnx"))
    p = qnn2fpga("build", "mlp.onnx", "--board=pynq-z1", "--target-fps=2000000", "--output-dir=out",
                 cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr
    out = tmp_path / "out"
    assert sorted(os.listdir(out)) == ["auto_folding_config.json", "build_dataflow.log", "deploy", "driver",
                                       "final_hw_config.json", "intermediate_models", "report", "stitched_ip",
                                       "time_per_step.json"]
    assert sorted(os.listdir(out / "report")) == REPORTS
    log = (out / "build_dataflow.log").read_text()  # each Verilator build named once, by what it is for
    assert log.count("compiling the stitched design with Verilator") == 1
    assert log.count("compiling the deep-FIFO design for FIFO sizing with Verilator") == 1
    steps = ["import", "to_integer", "streamline", "lower", "to_hw", "target_fps_parallelization",
             "generate_estimate_reports", "hw_codegen", "set_fifo_depths", "create_stitched_ip",
             "measure_rtlsim_performance", "make_driver", "deployment_package"]
    assert sorted(os.listdir(out / "intermediate_models")) == sorted(f"{i}_{s}.onnx" for i, s in enumerate(steps, 1))
    for name in REPORTS[1:]:
        report_schemas.validate(name, json.loads((out / "report" / name).read_text()))
    times = json.loads((out / "time_per_step.json").read_text())
    report_schemas.validate("time_per_step", times)
    assert list(times) == steps
    rtl = json.loads((out / "report" / "rtlsim_performance.json").read_text())
    assert rtl["cycles_per_frame"] <= 1.05 * rtl["estimated_bottleneck_cycles"]
    assert rtl["fifo_depths"] and rtl["fifo_sizing_seconds"] > 0
    hw = json.loads((out / "final_hw_config.json").read_text())
    assert {k: hw[k]["depth"] for k in rtl["fifo_depths"]} == rtl["fifo_depths"]  # sized depths exported
    assert sorted(os.listdir(out / "stitched_ip"))[:2] == ["design.txt", "qnn2fpga_accel.sv"]
    perf = json.loads((out / "report" / "estimate_network_performance.json").read_text())
    assert perf["estimated_throughput_fps"] >= 2e6 and perf["max_cycles"] <= 50
    # the config the build chose reproduces the same folding when given back
    auto, final = (json.loads((out / f).read_text()) for f in ("auto_folding_config.json", "final_hw_config.json"))
    assert {k: final[k] for k in auto} == auto
    p = qnn2fpga("build", "mlp.onnx", "--board=pynq-z1", "--folding=out/final_hw_config.json",
                 "--output_dir=again", ESTIMATES_ONLY, cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "again" / "report" / "estimate_layer_cycles.json").read_text() == \
        (out / "report" / "estimate_layer_cycles.json").read_text()
    page = (out / "report" / "build_report.html").read_text()
    assert "Measured in simulation" in page and f"{rtl['cycles_per_frame']:,} cycles per frame" in page
    for name in rtl["fifo_depths"]:  # the inserted FIFOs, rendered after the build sized them
        assert f"<td>{name}</td><td>StreamingFIFO</td><td>{rtl['fifo_depths'][name]} words x" in page
    # the package tried without a board: its driver over the simulated design, from a relative path
    monkeypatch.chdir(tmp_path)
    accel = deploy.simulated_driver("out", batch_size=3)
    x = np.load(out / "deploy" / "example_input.npy")
    assert np.array_equal(accel.execute(x), np.load(out / "deploy" / "expected_output.npy"))
    with pytest.raises(errors.InputFileError, match="'again': holds no deploy/driver/"):
        deploy.simulated_driver("again")  # stopped after the estimates


def test_folding_config_warnings_are_logged(tmp_path):
    testing.tiny_mlp().save(str(tmp_path / "mlp.onnx"))
    (tmp_path / "f.json").write_text(json.dumps({"MVAU_0": {"PE": 4, "depth": 3}}))
    p = qnn2fpga("build", "mlp.onnx", "--board=zcu104", "--folding=f.json", "--output_dir=out", ESTIMATES_ONLY,
                 cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert "warning: unused configuration: node 'MVAU_0' has no attribute 'depth'" in p.stdout
    assert "has no attribute 'depth'" in (tmp_path / "out" / "build_dataflow.log").read_text()
    cycles = json.loads((tmp_path / "out" / "report" / "estimate_layer_cycles.json").read_text())
    assert cycles["MVAU_0"] == 16 * 12 // 4


def test_folding_config_values_without_a_backend_are_refused_in_the_log(tmp_path):
    testing.tiny_mlp().save(str(tmp_path / "mlp.onnx"))
    (tmp_path / "f.json").write_text(json.dumps({"MVAU_0": {"PE": 4, "resType": "dsp"},
                                                 "MVAU_1": {"preferred_impl_style": "hls"}}))
    p = qnn2fpga("build", "mlp.onnx", "--board=zcu104", "--folding=f.json", "--output_dir=out", ESTIMATES_ONLY,
                 cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr
    log = (tmp_path / "out" / "build_dataflow.log").read_text()
    for line in ("warning: ignored configuration: MVAU node 'MVAU_0': resType='dsp' is not implemented",
                 "warning: ignored configuration: MVAU node 'MVAU_1': preferred_impl_style='hls' is not implemented"):
        assert line in p.stdout and line[len("warning: "):] in log
    final = json.loads((tmp_path / "out" / "final_hw_config.json").read_text())
    assert final["MVAU_0"]["resType"] == "auto" and final["MVAU_1"]["preferred_impl_style"] == ""

def test_bad_input_gives_one_line_and_keeps_the_previous_build(tmp_path):
    testing.tiny_mlp().save(str(tmp_path / "mlp.onnx"))
    ok = qnn2fpga("build", "mlp.onnx", "--board=pynq-z1", "--target_fps=1e6", "--output_dir=out", ESTIMATES_ONLY,
                  cwd=str(tmp_path))
    assert ok.returncode == 0, ok.stderr
    before = sorted(os.listdir(tmp_path / "out"))
    (tmp_path / "bad.json").write_text('{"MVAU_0": {"PE": 5}}')
    (tmp_path / "typo.json").write_text('{"MVAU_0": {"PE": 4}, "fc_typo": {"PE": 2}}')
    cases = [
        (["--board=pynq-z9", "--target_fps=1e6"], "board 'pynq-z9': is unknown"),
        (["--board=pynq-z1", "--folding=nope.json"], "nope.json' : does not exist".replace(" :", ":")),
        (["--board=pynq-z1", "--folding=bad.json"], "PE=5 does not divide MH=12"),
        (["--board=pynq-z1", "--folding=typo.json"],
         "names nodes the graph does not have: fc_typo; fix: use the hardware node names (MVAU_0"),
        (["--board=pynq-z1"], "needs exactly one of --target_fps and --folding"),
        (["--board=pynq-z1", "--target_fps=1e9"], "exceeds one frame per cycle"),
        (["--board=pynq-z1", "--target_fps=1e6", "--stop_step=nope"], "'nope' is not a step"),
        (["--board=pynq-z1", "--target_fps=1e6", "--verify_input=x.npy"], "needs both --verify_input and"),
        (["--board=pynq-z1", "--target_fps=1e6", "--verify_input=none.npy", "--verify_expected=none.npy"],
         "--verify_input file"),
        (["--board=pynq-z1", "--target_fps=1e6", "--start_step=create_stitched_ip"], "holds no model of step"),
    ]
    for args, words in cases:
        line = one_error_line(qnn2fpga("build", "mlp.onnx", *args, "--output_dir=out", cwd=str(tmp_path)))
        assert words in line, line
        assert sorted(os.listdir(tmp_path / "out")) == before  # the good build is untouched
    assert not [f for f in os.listdir(tmp_path) if ".partial-" in f]  # nothing half-written left behind


def test_verification_start_step_and_run(tmp_path):
    """--verify_input/--verify_expected against `run`'s python-mode output; resuming at
    a step reuses the earlier steps; run in rtlsim mode gives the same batch."""
    testing.tiny_mlp().save(str(tmp_path / "mlp.onnx"))
    np.save(tmp_path / "x.npy", np.random.default_rng(0).uniform(0, 1, size=(8, 16)).astype(np.float32))
    p = qnn2fpga("run", "--model=mlp.onnx", "--input=x.npy", "--output=y.npy", cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr
    p = qnn2fpga("run", "--model=mlp.onnx", "--input=x.npy", "--output=y_rtl.npy", "--mode=rtlsim",
                 "--target_fps=1e6", "--board=pynq-z1", cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert np.array_equal(np.load(tmp_path / "y.npy"), np.load(tmp_path / "y_rtl.npy"))
    p = qnn2fpga("build", "mlp.onnx", "--board=pynq-z1", "--target_fps=1e6", "--output_dir=out",
                 "--verify_input=x.npy", "--verify_expected=y.npy", cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert os.listdir(tmp_path / "out" / "verification_output") == ["verify_rtlsim_0_SUCCESS.npy"]
    np.save(tmp_path / "wrong.npy", np.load(tmp_path / "y.npy") + 1)
    p = qnn2fpga("build", "mlp.onnx", "--board=pynq-z1", "--target_fps=1e6", "--output_dir=out",
                 "--start_step=measure_rtlsim_performance", "--verify_input=x.npy", "--verify_expected=wrong.npy",
                 cwd=str(tmp_path))
    assert p.returncode == 1 and "verification failed" in p.stderr
    assert "resuming at measure_rtlsim_performance from 10_create_stitched_ip.onnx" in p.stdout
    assert "step 1/" not in p.stdout
    assert "verify_rtlsim_0_FAIL.npy" in os.listdir(tmp_path / "out" / "verification_output")
    times = json.loads((tmp_path / "out" / "time_per_step.json").read_text())
    assert list(times)[0] == "import" and list(times)[-1] == "deployment_package"


def test_run_bad_inputs_give_one_line(tmp_path):
    testing.tiny_mlp().save(str(tmp_path / "mlp.onnx"))
    np.save(tmp_path / "x.npy", np.zeros((4, 16), np.float32))
    np.save(tmp_path / "wrong_shape.npy", np.zeros((4, 15), np.float32))
    np.save(tmp_path / "strings.npy", np.array([["a"] * 16]))
    (tmp_path / "junk.npy").write_text("not numpy")
    (tmp_path / "f.json").write_text('{"MVAU_9": {"PE": 2}}')
    base = ["run", "--model=mlp.onnx", "--output=y.npy"]
    cases = [
        (["--input=missing.npy"], "missing.npy': does not exist"),
        (["--input=wrong_shape.npy"], "has shape (4, 15); the model takes a batch of shape (N, 16)"),
        (["--input=strings.npy"], "holds <U1 values"),
        (["--input=junk.npy"], "is not a .npy array"),
        (["--input=x.npy", "--target_fps=1e6", "--board=nope"], "board 'nope': is unknown"),
        (["--input=x.npy", "--target_fps=1e6"], "flag --board: is missing"),
        (["--input=x.npy", "--folding=nope.json"], "does not exist"),
        (["--input=x.npy", "--folding=f.json"], "names nodes the graph does not have: MVAU_9"),
    ]
    for args, words in cases:
        line = one_error_line(qnn2fpga(*base, *args, cwd=str(tmp_path)))
        assert words in line, line
    line = one_error_line(qnn2fpga("run", "--input=x.npy", "--output=y.npy", cwd=str(tmp_path)))
    assert "--model" in line
    assert not (tmp_path / "y.npy").exists()


def test_output_dir_that_cannot_be_a_directory_is_refused_before_any_step(tmp_path):
    testing.tiny_mlp().save(str(tmp_path / "mlp.onnx"))
    (tmp_path / "afile").write_text("keep")
    for out, words in (("afile", f"--output_dir '{tmp_path}/afile': is a file, not a directory"),
                       ("afile/out", f"'{tmp_path}/afile': is a file, not a directory")):
        p = qnn2fpga("build", "mlp.onnx", "--board=pynq-z1", "--target_fps=1e6", f"--output_dir={out}",
                     ESTIMATES_ONLY, cwd=str(tmp_path))
        assert words in one_error_line(p)
        assert "step 1/" not in p.stdout
    assert sorted(f for f in os.listdir(tmp_path) if f != ".cache") == ["afile", "mlp.onnx"]
    assert (tmp_path / "afile").read_text() == "keep"


def test_ctrl_c_prints_one_line_exits_130_and_leaves_no_partial_build(tmp_path):
    """Ctrl-C (SIGINT to the process group, as a terminal sends it) while Verilator builds
    the FIFO-sizing simulator: one line, status 130, the earlier DIR as it was."""
    testing.tiny_mlp().save(str(tmp_path / "mlp.onnx"))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "earlier.txt").write_text("an earlier build")
    p = testing.qnn2fpga_started("build", "mlp.onnx", "--board=pynq-z1", "--target_fps=1e6", "--output_dir=out",
                                 cwd=str(tmp_path))
    try:
        seen = []
        for line in p.stdout:
            seen.append(line)
            if "with Verilator" in line:
                time.sleep(1)  # Verilator at work (it takes seconds)
                os.killpg(p.pid, signal.SIGINT)
                break
        assert seen and "Verilator" in seen[-1], "".join(seen)
        out, err = p.communicate(timeout=300)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    assert p.returncode == 130, err
    assert err == "qnn2fpga: interrupted\n"
    assert "Traceback" not in out
    assert not [f for f in os.listdir(tmp_path) if ".partial-" in f]
    assert os.listdir(tmp_path / "out") == ["earlier.txt"]


def test_second_ctrl_c_while_cleaning_up_still_removes_the_partial_build(tmp_path, monkeypatch):
    """Impatient users press Ctrl-C again: the removal of the partial directory finishes
    first, then the interrupt goes on."""
    testing.tiny_mlp().save(str(tmp_path / "mlp.onnx"))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "earlier.txt").write_text("an earlier build")

    def interrupted(self):
        (self.work / "report" / "half.json").write_text("{")
        raise KeyboardInterrupt  # the first Ctrl-C, during a step

    rmtree = shutil.rmtree

    def rmtree_interrupted(path, *args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # the second one
        rmtree(path, *args, **kwargs)

    monkeypatch.setattr(build._Build, "run", interrupted)
    monkeypatch.setattr(shutil, "rmtree", rmtree_interrupted)
    cfg = build.BuildConfig(model=str(tmp_path / "mlp.onnx"), output_dir=str(tmp_path / "out"), board="pynq-z1",
                            target_fps=1e6)
    with pytest.raises(KeyboardInterrupt):
        build.build(cfg, log=lambda msg: None)
    assert sorted(os.listdir(tmp_path)) == ["mlp.onnx", "out"]
    assert os.listdir(tmp_path / "out") == ["earlier.txt"]


def test_resumed_build_keeps_only_what_the_steps_before_it_wrote(tmp_path):
    """--start_step carries forward the earlier steps' models and files, never the later
    steps' artifacts of the old directory (here planted as an old full build would
    leave them), and --stop_step's build then holds nothing past its last step."""
    testing.tiny_mlp().save(str(tmp_path / "mlp.onnx"))
    p = qnn2fpga("build", "mlp.onnx", "--board=pynq-z1", "--target_fps=1e6", "--output_dir=out", ESTIMATES_ONLY,
                 cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr
    estimate_line = [line for line in p.stdout.splitlines() if line.startswith("estimated ")][0]
    assert ", total LUT " in estimate_line and "{" not in estimate_line  # words, not a Python dict
    out = tmp_path / "out"
    for planted in ("report/rtlsim_performance.json", "stitched_ip/qnn2fpga_accel.sv",
                    "intermediate_models/9_set_fifo_depths.onnx", "verification_output/verify_rtlsim_0_FAIL.npy"):
        (out / planted).parent.mkdir(parents=True, exist_ok=True)
        (out / planted).write_text("stale")
    p = qnn2fpga("build", "mlp.onnx", "--board=pynq-z1", "--target_fps=1e6", "--output_dir=out",
                 "--start_step=generate_estimate_reports", ESTIMATES_ONLY, cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert sorted(os.listdir(out)) == ["auto_folding_config.json", "build_dataflow.log", "final_hw_config.json",
                                       "intermediate_models", "report", "time_per_step.json"]
    assert sorted(os.listdir(out / "report")) == sorted(r for r in REPORTS if r != "rtlsim_performance.json")
    assert [f.split("_")[0] for f in sorted(os.listdir(out / "intermediate_models"))] == [str(i) for i in range(1, 8)]


def test_a_killed_builds_partial_directory_is_removed_by_the_next_build(tmp_path):
    """A build killed with SIGKILL cannot clean up: the next build into the same directory
    removes its `.out.partial-<pid>-*` (the pid is gone), not a live build's."""
    testing.tiny_mlp().save(str(tmp_path / "mlp.onnx"))
    dead = tmp_path / ".out.partial-99999999-abc"  # above any Linux pid
    live = tmp_path / f".out.partial-{os.getpid()}-def"
    for d in (dead, live):
        (d / "report").mkdir(parents=True)
    p = qnn2fpga("build", "mlp.onnx", "--board=pynq-z1", "--target_fps=1e6", "--output_dir=out",
                 "--stop_step=to_hw", cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert not dead.exists() and live.is_dir()
    assert [f for f in os.listdir(tmp_path) if ".partial-" in f] == [live.name]


def test_fixed_folding_beyond_the_board_warns_or_with_strict_fails(tmp_path):
    """A --folding config is checked against the board like automatic folding: fully
    unfolded on a board with 1,200 LUTs it warns (the build goes on), and --strict
    refuses it with one line naming the resources."""

    testing.tiny_mlp().save(str(tmp_path / "mlp.onnx"))
    (tmp_path / "boards").mkdir()
    full = {"Defaults": {}, "MVAU_0": {"PE": 12, "SIMD": 16}, "MVAU_1": {"PE": 5, "SIMD": 12}}
    (tmp_path / "full.json").write_text(json.dumps(full))
    tiny = boards.Board("tiny", "Tiny", "xc7z007s", "7series", "zynq", 100.0,
                        {"LUT": 50, "FF": 2400, "BRAM_18K": 4, "URAM": 0, "DSP": 10})
    cfg = dict(model=str(tmp_path / "mlp.onnx"), board="pynq-z1", folding_config=str(tmp_path / "full.json"),
               stop_step="generate_estimate_reports")

    with mock.patch.object(boards, "load_board", return_value=tiny):
        result = build.build(build.BuildConfig(output_dir=str(tmp_path / "a"), **cfg), log=lambda m: None)
        assert any("will not fit" in w and "LUT" in w for w in result["warnings"])
        with pytest.raises(build.BoardError, match=r"board 'tiny': the folded design is estimated to need LUT"):
            build.build(build.BuildConfig(output_dir=str(tmp_path / "b"), strict=True, **cfg), log=lambda m: None)
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("seed", [2, 0])
def test_a_conv_net_with_a_flatten_before_its_classifier_is_stitched(tmp_path, seed):
    """Random conv graphs with a Flatten (seed 2, after padding, sliding window and
    max-pool) or a Reshape (seed 0) before the fully connected layers: to_hw removes it
    (a stream wire), so the build stitches one design (FIFO sizing, which simulates, left
    out; random_graphs_rtlsim_test simulates such graphs)."""
    random_graphs.random_graph(seed)[0].save(str(tmp_path / "conv.onnx"))
    p = qnn2fpga("build", "conv.onnx", "--board=pynq-z1", "--target_fps=1000", "--output_dir=out",
                 "--noauto_fifo_depths", "--stop_step=create_stitched_ip", cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr
    sv = (tmp_path / "out" / "stitched_ip" / "qnn2fpga_accel.sv").read_text()
    assert "u_mvau_1" in sv  # the classifier, after the removed Flatten/Reshape
    shell_sv = (tmp_path / "out" / "stitched_ip" / "qnn2fpga_accel_shell.sv").read_text()
    assert "qnn2fpga_accel u_accel (" in shell_sv
    assert json.loads((tmp_path / "out" / "stitched_ip" / "shell.json").read_text())["top"] == "qnn2fpga_accel_shell"
    image_layers = ("u_fmpadding_0", "u_convolutioninputgenerator_0", "u_streamingmaxpool_0")
    assert all(u in sv for u in image_layers) == (seed == 2)  # seed 0: a 1x1 convolution, a plain MVAU


def test_software_between_hardware_layers_is_named_when_stitching():
    """A software node left between two hardware layers (here inserted by hand: the
    compiler itself leaves none) keeps the layers from being one design."""
    from onnx import helper  # noqa: PLC0415

    from qnn2fpga import errors, flow, stitch  # noqa: PLC0415

    model = flow.compile_model(testing.tiny_mlp())
    first = next(n for n in model.graph.node if n.name == "MVAU_0")
    second = next(n for n in model.graph.node if n.name == "MVAU_1")
    model.graph.node.insert(list(model.graph.node).index(second),
                            helper.make_node("Identity", [first.output[0]], ["copied"], name="between"))
    second.input[0] = "copied"
    with pytest.raises(errors.UnsupportedOpError, match="split by software nodes Identity 'between'"):
        stitch.stream_graph(model)


def test_estimates_from_the_generic_model_are_flagged(tmp_path):
    """A fork and a join (layers without Yosys data; the front end makes none, so the
    model is given as hardware layers)."""
    from onnx import helper  # noqa: PLC0415
    from qonnx.transformation.infer_datatypes import InferDataTypes  # noqa: PLC0415
    from qonnx.transformation.infer_shapes import InferShapes  # noqa: PLC0415

    from qnn2fpga.layers import AddStreams, DuplicateStreams  # noqa: PLC0415

    nodes = [DuplicateStreams.make_node(["x"], ["a", "b"], name="DuplicateStreams_0", NumChannels=8, PE=1,
                                        inputDataType="UINT4"),
             AddStreams.make_node(["a", "b"], ["y"], name="AddStreams_0", NumChannels=8, PE=1,
                                  inputDataTypes=["UINT4", "UINT4"])]
    model = testing.make_model(nodes, ("x", [1, 8]), ("y", [1, 8]), {}, dtypes={"x": "UINT4"})
    model = model.transform(InferShapes()).transform(InferDataTypes())
    model.model.opset_import.append(helper.make_opsetid(nodes[0].domain, 1))
    model.save(str(tmp_path / "fork.onnx"))
    p = qnn2fpga("build", "fork.onnx", "--board=pynq-z1", "--target_fps=1000", "--output_dir=out", ESTIMATES_ONLY,
                 cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert "warning: DuplicateStreams_0, AddStreams_0: resources from the generic model" in p.stdout
    page = (tmp_path / "out" / "report" / "build_report.html").read_text()
    assert "met by the estimate, which has warnings" in page and "resources from the generic model" in page
