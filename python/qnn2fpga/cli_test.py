"""The command line: a compiled model and its summary, or one line naming what is wrong
(and no output file)."""

from __future__ import annotations

import os

import numpy as np
from onnx import helper

from qnn2fpga import testing
from qnn2fpga.testing import one_error_line, qnn2fpga


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
    from qnn2fpga import flow, verify

    m = testing.tiny_mlp()
    rng = np.random.default_rng(0)
    compiled = flow.compile_model(m)
    assert [n.op_type for n in compiled.graph.node].count("MVAU") == 2
    c = verify.compare(m, compiled, [rng.random((1, 16)).astype(np.float32) for _ in range(20)])
    assert c.ok, c


def test_compiled_model_is_deterministic():
    """Passes create tensors with random names; the flow renames them, so compiling twice
    (in processes with different random states) gives byte-identical models."""
    from qnn2fpga import flow

    a = flow.compile_model(testing.tiny_mlp()).model.SerializeToString()
    import random

    random.seed(12345)
    b = flow.compile_model(testing.tiny_mlp()).model.SerializeToString()
    assert a == b
