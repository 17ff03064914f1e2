"""The command line: a compiled model and its summary, or one line naming what is wrong
(and no output file)."""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import pathlib
import random
import re
import stat

import numpy as np
import onnx
import pytest
from onnx import helper

from qnn2fpga import build, cli, errors, flow, testing, verify
from qnn2fpga.testing import one_error_line, qnn2fpga

# What each command takes (the help must list exactly these).
COMMAND_FLAGS = {
    "compile": {"output", "topk", "input_datatype", "save_intermediate"},
    "build": {"board", "target_fps", "folding", "output_dir", "fclk_mhz", "start_step", "stop_step", "topk",
              "input_datatype", "mvau_wwidth_max", "verify_input", "verify_expected", "auto_fifo_depths", "strict"},
    "run": {"model", "input", "output", "mode", "folding", "target_fps", "board", "fclk_mhz", "topk",
            "input_datatype"},
}
ABSL_NOISE = ("--logtostderr", "--verbosity", "--only_check_args", "Try --helpfull", "absl.")


def test_compile_writes_model_and_summary_with_paths_relative_to_the_user(tmp_path):
    testing.tiny_mlp().save(str(tmp_path / "mlp.onnx"))
    (tmp_path / "out").mkdir()
    p = qnn2fpga("compile", "mlp.onnx", "-o", "out/mlp_hw.onnx", "--save_intermediate=steps", cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "out" / "mlp_hw.onnx").exists()
    assert sorted(os.listdir(tmp_path / "steps")) == [
        "1_import.onnx", "2_to_integer.onnx", "3_streamline.onnx", "4_lower.onnx", "5_to_hw.onnx"]
    rows = p.stdout.splitlines()
    assert rows[0].split()[:3] == ["node", "op", "runs_on"]
    assert sum(" MVAU " in r and " hw " in r for r in rows) == 2
    assert [f for f in os.listdir(tmp_path / "out")] == ["mlp_hw.onnx"]


def test_missing_file(tmp_path):
    line = one_error_line(qnn2fpga("compile", "nope.onnx", "-o", "x.onnx", cwd=str(tmp_path)))
    assert f"file '{tmp_path}/nope.onnx': does not exist" in line
    assert not (tmp_path / "x.onnx").exists()


def test_missing_external_data_file_is_named_whole(tmp_path):
    """Dynamo exports keep their weights in `<model>.onnx.data`; a model copied without
    it gets one complete line naming that file and how to fix it, and compiles once the
    file is back."""

    model = testing.tiny_mlp().model
    onnx.save(model, str(tmp_path / "m.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
              location="m.onnx.data", size_threshold=0)
    os.rename(tmp_path / "m.onnx.data", tmp_path / "elsewhere.data")
    line = one_error_line(qnn2fpga("compile", "m.onnx", "-o", "out.onnx", cwd=str(tmp_path)))
    assert line == (f"qnn2fpga: input file error: file '{tmp_path}/m.onnx': keeps its weights in 'm.onnx.data', "
                    "which is not beside it; fix: copy 'm.onnx.data' into the model's directory "
                    "(the exporter writes the two files together)")
    os.rename(tmp_path / "elsewhere.data", tmp_path / "m.onnx.data")
    assert qnn2fpga("compile", "m.onnx", "-o", "out.onnx", cwd=str(tmp_path)).returncode == 0


def test_malformed_onnx(tmp_path):
    (tmp_path / "bad.onnx").write_bytes(b"\x08\x07 this is not a protobuf \xff\xfe")
    line = one_error_line(qnn2fpga("compile", "bad.onnx", "-o", "x.onnx", cwd=str(tmp_path)))
    assert "bad.onnx" in line and "not a" in line and "ONNX model" in line
    assert not (tmp_path / "x.onnx").exists()


def test_model_with_two_inputs(tmp_path):
    m = testing.make_model([helper.make_node("Add", ["a", "b"], ["y"])], ("a", [1, 4]), ("y", [1, 4]), {},
                           extra_inputs=[("b", [1, 4])])
    m.save(str(tmp_path / "two.onnx"))
    line = one_error_line(qnn2fpga("compile", "two.onnx", "-o", "x.onnx", cwd=str(tmp_path)))
    assert "2 inputs" in line and "'a'" in line and "'b'" in line
    assert not (tmp_path / "x.onnx").exists()


def test_unsupported_op_is_named(tmp_path):
    testing.tiny_mlp(middle_op="Sin").save(str(tmp_path / "sin.onnx"))
    line = one_error_line(qnn2fpga("compile", "sin.onnx", "-o", "x.onnx", cwd=str(tmp_path)))
    assert "not converted" in line and "'middle' (Sin): unsupported op: Sin has no hardware layer" in line
    assert not (tmp_path / "x.onnx").exists()


def test_12_bit_activation_is_over_the_limit(tmp_path):
    testing.tiny_mlp(act_bits=12).save(str(tmp_path / "wide.onnx"))
    line = one_error_line(qnn2fpga("compile", "wide.onnx", "-o", "x.onnx", cwd=str(tmp_path)))
    assert "(Quant): bit width over the limit: 12-bit activation (limit 8)" in line
    assert not (tmp_path / "x.onnx").exists()


def test_bad_command_line(tmp_path):
    line = one_error_line(qnn2fpga("simulate", "m.onnx", cwd=str(tmp_path)))
    assert "usage: qnn2fpga compile" in line and "qnn2fpga build" in line
    line = one_error_line(qnn2fpga("compile", "m.onnx", cwd=str(tmp_path)))
    assert "-o/--output" in line


def test_tiny_mlp_compiles_bit_exactly():

    m = testing.tiny_mlp()
    rng = np.random.default_rng(0)
    compiled = flow.compile_model(m)
    assert [n.op_type for n in compiled.graph.node].count("MVAU") == 2
    c = verify.compare(m, compiled, [rng.random((1, 16)).astype(np.float32) for _ in range(20)])
    assert c.ok, c


def test_compiled_model_is_deterministic():
    """Passes create tensors with random names; the flow renames them, so compiling twice
    (in processes with different random states) gives byte-identical models."""

    a = flow.compile_model(testing.tiny_mlp()).model.SerializeToString()

    random.seed(12345)
    b = flow.compile_model(testing.tiny_mlp()).model.SerializeToString()
    assert a == b


def _help(*args: str, cwd) -> str:
    p = qnn2fpga(*args, cwd=str(cwd))
    assert p.returncode == 0 and p.stderr == "", (args, p.stderr)
    assert not any(noise in p.stdout for noise in ABSL_NOISE), p.stdout
    return p.stdout


def test_help_lists_the_commands_one_line_each(tmp_path):
    text = _help("--help", cwd=tmp_path)
    assert _help("-h", cwd=tmp_path) == text and _help("help", cwd=tmp_path) == text
    for name in COMMAND_FLAGS:
        lines = [line for line in text.splitlines() if line.split()[:1] == [name]]
        assert len(lines) == 1 and len(lines[0].split()) > 3, text  # the name and a one-line summary
    assert "COMMAND --help" in text and "--version" in text


@pytest.mark.parametrize("command", sorted(COMMAND_FLAGS))
def test_command_help_lists_exactly_its_flags_with_docs_and_an_example(tmp_path, command):
    text = _help(command, "--help", cwd=tmp_path)
    assert _help("help", command, cwd=tmp_path) == text and _help(command, "-h", cwd=tmp_path) == text
    rows = dict(re.findall(r"^  (?:-\w, )?--(?:\[no\])?(\w+)\S*\s+(.+)$", text, re.M))
    assert set(rows) == COMMAND_FLAGS[command], text
    for name, doc in rows.items():
        # the doc is the absl flag's own (one definition), naming no single command
        assert re.sub(r"^<[^>]*>: ", "", cli.FLAGS[name].help) in doc, (name, doc)
        assert not re.match(r"(compile|build|run):", doc), (name, doc)
    example = text.split("example:\n", 1)[1].strip().splitlines()
    assert len(example) == 1 and example[0].startswith(f"qnn2fpga {command} "), text
    assert set(re.findall(r"--(\w+)", example[0])) <= COMMAND_FLAGS[command]
    if command == "build":
        for name in ("board", "target_fps", "folding", "output_dir"):
            assert len(rows[name].split()) >= 3, rows[name]


def test_helpfull_has_every_command_and_no_absl_flags(tmp_path):
    text = _help("--helpfull", cwd=tmp_path)
    assert all(f"usage: qnn2fpga {c} " in text for c in COMMAND_FLAGS)


def test_flag_docs_do_not_claim_one_command():
    """--board, --target_fps, --folding, --fclk_mhz and --topk serve several commands."""
    for name in set().union(*COMMAND_FLAGS.values()):
        assert not re.match(r"(compile|build|run):", cli.FLAGS[name].help), (name, cli.FLAGS[name].help)


def test_version_comes_from_the_package_metadata_or_pyproject(tmp_path):
    try:
        want = importlib.metadata.version("qnn2fpga")
    except importlib.metadata.PackageNotFoundError:
        import tomllib  # noqa: PLC0415 (Python 3.11+)

        toml = pathlib.Path(__file__).resolve().parents[1] / "pyproject.toml"
        want = tomllib.loads(toml.read_text())["project"]["version"]
    assert _help("--version", cwd=tmp_path) == f"qnn2fpga {want}\n"
    assert want not in pathlib.Path(cli.__file__).read_text()  # one place for the number


def test_help_of_an_unknown_command_and_bad_flags_give_one_line(tmp_path):
    assert "'help' takes one of compile, build, run" in one_error_line(qnn2fpga("help", "simulate", cwd=str(tmp_path)))
    line = one_error_line(qnn2fpga("build", "m.onnx", "--no_such_flag=1", cwd=str(tmp_path)))
    assert "no_such_flag" in line and "qnn2fpga build --help" in line
    line = one_error_line(qnn2fpga("compile", "m.onnx", "-o", "x.onnx", "--board=pynq-z1", cwd=str(tmp_path)))
    assert "flag --board: is not a flag of 'compile'" in line


def test_output_paths_are_checked_before_any_work(tmp_path):
    """An -o/--output naming a directory, a parent that is a file: one line, before the
    model is compiled (no summary printed, nothing written)."""
    testing.tiny_mlp().save(str(tmp_path / "mlp.onnx"))
    np.save(tmp_path / "x.npy", np.zeros((2, 16), np.float32))
    (tmp_path / "outdir").mkdir()
    (tmp_path / "afile").write_text("keep")
    cases = [
        (["compile", "mlp.onnx", "-o", "outdir"], f"-o/--output '{tmp_path}/outdir': is a directory"),
        (["compile", "mlp.onnx", "--output=afile/x.onnx"], f"'{tmp_path}/afile': is a file, not a directory"),
        (["compile", "mlp.onnx", "-o", "y.onnx", "--save_intermediate=afile"],
         f"--save_intermediate '{tmp_path}/afile': is a file, not a directory"),
        (["run", "--model=mlp.onnx", "--input=x.npy", "--output=outdir"],
         f"--output '{tmp_path}/outdir': is a directory"),
        (["run", "mlp.onnx", "--input=x.npy", "--output=afile/y.npy"],
         f"'{tmp_path}/afile': is a file, not a directory"),
    ]
    for args, words in cases:
        p = qnn2fpga(*args, cwd=str(tmp_path))
        assert words in one_error_line(p), p.stderr
        assert p.stdout == ""
    assert sorted(set(os.listdir(tmp_path)) - {".cache"}) == ["afile", "mlp.onnx", "outdir", "x.npy"]  # (onnxruntime's)
    assert os.listdir(tmp_path / "outdir") == [] and (tmp_path / "afile").read_text() == "keep"


@contextlib.contextmanager
def _parsed_flags(*argv: str):
    cli.FLAGS(["qnn2fpga", *argv])
    try:
        yield
    finally:
        cli.FLAGS.unparse_flags()


def test_read_only_output_directory_is_refused_before_any_work(tmp_path, monkeypatch):
    """In process, so that as root (whom mode bits do not stop) the read-only directory
    can be simulated as access(2) reports one (a read-only file system refuses root too)."""

    testing.tiny_mlp().save(str(tmp_path / "mlp.onnx"))
    np.save(tmp_path / "x.npy", np.zeros((2, 16), np.float32))
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    if os.access(ro, os.W_OK):  # root
        access = os.access
        monkeypatch.setattr(os, "access", lambda path, mode, *a, **k: access(path, mode, *a, **k) and not (
            mode & os.W_OK and os.fspath(path).startswith(str(ro))))

    def work(*_):
        raise AssertionError("the model was loaded before the output was checked")

    monkeypatch.setattr(flow, "load_model", work)
    monkeypatch.setenv("BUILD_WORKING_DIRECTORY", str(tmp_path))
    not_writable = f"directory '{ro}': is not writable"
    try:
        with _parsed_flags("-o", "ro/x.onnx"), pytest.raises(errors.InputFileError, match=not_writable):
            cli.compile_command("mlp.onnx")
        with _parsed_flags("-o", "y.onnx", "--save_intermediate=ro/steps"), \
                pytest.raises(errors.InputFileError, match=not_writable):
            cli.compile_command("mlp.onnx")
        with _parsed_flags("--input=x.npy", "--output=ro/y.npy"), \
                pytest.raises(errors.InputFileError, match=not_writable):
            cli.run_command("mlp.onnx")
        cfg = build.BuildConfig(model=str(tmp_path / "mlp.onnx"), output_dir=str(ro / "out"), board="pynq-z1",
                                target_fps=1e6)
        with pytest.raises(errors.InputFileError, match=not_writable):
            build.build(cfg, log=lambda msg: None)
        assert os.listdir(ro) == []
    finally:
        ro.chmod(0o755)


@pytest.mark.skipif(os.geteuid() == 0, reason="running as root, whom a 0o555 directory does not stop from writing; "
                    "test_read_only_output_directory_is_refused_before_any_work simulates it in process")
def test_read_only_output_directory_gives_one_line(tmp_path):
    testing.tiny_mlp().save(str(tmp_path / "mlp.onnx"))
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        p = qnn2fpga("compile", "mlp.onnx", "-o", "ro/x.onnx", cwd=str(tmp_path))
        assert f"directory '{ro}': is not writable" in one_error_line(p)
        assert p.stdout == ""
    finally:
        ro.chmod(0o755)


def test_outputs_get_the_umask_modes_not_tempfile_private_ones(tmp_path):
    testing.tiny_mlp().save(str(tmp_path / "mlp.onnx"))
    np.save(tmp_path / "x.npy", np.zeros((1, 16), dtype=np.float32))
    old = os.umask(0o027)
    try:
        compiled = qnn2fpga("compile", "mlp.onnx", "-o", "hw.onnx", cwd=str(tmp_path))
        ran = qnn2fpga("run", "mlp.onnx", "--input=x.npy", "--output=y.npy", cwd=str(tmp_path))
        built = qnn2fpga("build", "mlp.onnx", "--board=pynq-z1", "--target_fps=1e6", "--output_dir=out",
                         "--stop_step=generate_estimate_reports", cwd=str(tmp_path))
    finally:
        os.umask(old)
    assert compiled.returncode == ran.returncode == built.returncode == 0, compiled.stderr + ran.stderr + built.stderr
    mode = lambda p: stat.S_IMODE(os.stat(tmp_path / p).st_mode)  # noqa: E731
    assert (mode("hw.onnx"), mode("y.npy")) == (0o640, 0o640)  # were 0600 (tempfile)
    assert mode("out") == 0o750 and mode("out/report/build_report.html") == 0o640  # the directory was 0700
