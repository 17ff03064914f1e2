"""Deployment packages and the PYNQ driver, beyond one accelerator's <board>_driver_test.

- every Zynq board in boards/ gets a TFC-w1a1 package (raw pixels in), byte-identical
  when written twice, with its board and clock in io_shape_dict.json;
- weights written at run time through the driver (runtime_weights/<layer>.dat) change
  the outputs exactly as the layers' models with the new weights predict; bad weight
  files are one typed error;
- the driver's command line (driver.py, validate.py) prints one line and exits 2 on bad
  input, and runs the package's example through a board-less transport.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from qnn2fpga import boards, deploy, flow, rtlsim, stitch, testing
from qnn2fpga.layers import numerics
from qnn2fpga.transforms.insert_streams import InsertDWC, InsertFIFO

ROOT = pathlib.Path(os.environ.get("TEST_SRCDIR", "")) / os.environ.get("TEST_WORKSPACE", "")
TFC = ROOT / "models/tfc/tfc_w1a1.onnx"
WRITEABLE = {"runtime_writeable_weights": 1, "mem_mode": "internal_decoupled"}
CONFIG = {"Thresholding_0": {"PE": 4}, "MVAU_0": {"PE": 4, "SIMD": 4, **WRITEABLE},
          "MVAU_1": {"PE": 5, "SIMD": 12, **WRITEABLE}}


def _tree(root: pathlib.Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def tfc(tmp_path_factory):
    """TFC-w1a1 compiled for raw pixels, default folding, streams inserted (no simulation)."""
    model = flow.compile_model(flow.load_model(str(TFC)), flow.CompileOptions(input_datatype="UINT8"))
    model = model.transform(InsertDWC()).transform(InsertFIFO())
    return model, rtlsim.write_design(model, tmp_path_factory.mktemp("tfc"))


ZYNQ = sorted(k for k, b in boards.all_boards().items() if b.shell == "zynq")


def test_the_boards_have_six_zynq_shells():
    assert sorted(ZYNQ) == ["kv260", "pynq-z1", "pynq-z2", "ultra96-v2", "zcu102", "zcu104"]


@pytest.mark.parametrize("board", ZYNQ)
def test_every_zynq_board_gets_a_reproducible_tfc_package(tfc, tmp_path, board):
    model, design = tfc
    export = flow.load_model(str(TFC))
    fclk = boards.load_board(board).default_clock_mhz
    one = deploy.write_package(model, design, tmp_path / "a", board, fclk, export, input_datatype="UINT8")
    two = deploy.write_package(model, design, tmp_path / "b", board, fclk, export, input_datatype="UINT8")
    assert _tree(one) == _tree(two)
    names = set(_tree(one))
    assert {"README.md", "example_input.npy", "expected_output.npy", "driver/driver.py", "driver/driver_base.py",
            "driver/validate.py", "driver/packing.py", "driver/io_shape_dict.json", "driver/head.onnx"} <= names
    io = json.loads((one / "driver" / "io_shape_dict.json").read_text())
    assert io["board"] == board and io["fclk_mhz"] == fclk and io["idt"] == ["UINT8"]
    assert io["network_idt"] == "UINT8" and io["ishape_normal"] == [[1, 784]]
    assert io["shell"]["magic"] == 0x51324641 and io["shell"]["dma"] == "dma"
    assert np.load(one / "example_input.npy").dtype == np.uint8
    texts = [p.read_text(errors="replace") for p in one.rglob("*") if p.suffix in (".json", ".md")]
    assert not any(str(tmp_path) in t for t in texts)  # no absolute paths


@pytest.fixture(scope="module")
def writeable(tmp_path_factory):
    """A small design with two runtime-writeable layers, its simulator and its driver."""
    model, design = testing.tiny_mlp_design(CONFIG, tmp_path_factory)
    sim = rtlsim.compile_design(design)
    directory = deploy.write_driver(model, design, tmp_path_factory.mktemp("pkg") / "driver", "pynq-z1", 100.0)
    return model, design, sim, directory


def _accel(writeable, batch_size=3):
    _, design, sim, directory = writeable
    return deploy.load_driver(directory, deploy.SimTransport(design, sim, 100.0), batch_size)


def test_the_package_holds_each_writeable_layers_weights(writeable):
    _, design, _, directory = writeable
    assert sorted(p.name for p in (directory / "runtime_weights").iterdir()) == ["MVAU_0.dat", "MVAU_1.dat"]
    x = design.random_frames(6, seed=2)
    accel = _accel(writeable)
    assert accel.load_runtime_weights() == ["MVAU_0", "MVAU_1"]  # the same weights: the same outputs
    assert np.array_equal(accel.execute_hw(x), stitch.execute_chain(design.stitched, x).reshape(6, -1))


def test_weights_loaded_through_the_driver_change_outputs_as_the_models_predict(writeable, tmp_path):
    _, design, _, _ = writeable
    st = design.stitched
    k = next(i for i, la in enumerate(st.layers) if la.onnx_node.name == "MVAU_1")
    w, *rest = st.params[k]
    fresh = numerics.random_values(st.layers[k].weightDataType, w.shape, np.random.default_rng(7))
    (tmp_path / "MVAU_1.dat").write_text(deploy.runtime_weight_text(design, "MVAU_1", [fresh, *rest]))
    x = design.random_frames(6, seed=2)
    accel = _accel(writeable)
    before = accel.execute_hw(x)
    assert accel.load_runtime_weights(str(tmp_path)) == ["MVAU_1"]
    after = accel.execute_hw(x)
    params = [[fresh, *rest] if i == k else p for i, p in enumerate(st.params)]
    want = stitch.execute_chain(dataclasses.replace(st, params=params), x).reshape(after.shape)
    assert np.array_equal(after, want) and not np.array_equal(after, before)


@pytest.mark.parametrize("name, text, match", [
    ("MVAU_9.dat", "0 1\n", "names no runtime-writeable layer of this accelerator; fix: use one of: MVAU_0, MVAU_1"),
    ("MVAU_1.dat", "zz 1\n", r"line 1: 'zz 1' is not 'OFFSET DATA' in hex"),
    ("MVAU_1.dat", "0 1\n100000 1\n", r"line 2: write \(0x100000, 0x1\) is outside the layer's"),
])
def test_a_bad_weight_file_is_one_typed_error(writeable, tmp_path, name, text, match):
    accel = _accel(writeable)
    (tmp_path / name).write_text(text)
    with pytest.raises(Exception, match=match) as e:
        accel.load_runtime_weights(str(tmp_path))
    assert type(e.value).__name__ == "DriverError" and "\n" not in str(e.value)


def _run(script: pathlib.Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "BOARD"}
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, cwd=script.parent,
                          env=env)


def test_the_command_line_reports_one_line_and_exits_2(writeable, tmp_path):
    _, _, _, directory = writeable
    p = _run(directory / "driver.py", "--exec_mode=execute", "--inputfile=nothing.npy")
    assert p.returncode == 2 and p.stderr.count("\n") == 1, p.stderr
    assert p.stderr.startswith("driver error: bitfile ") and "needs Vivado" in p.stderr
    p = _run(directory / "validate.py", f"--images={tmp_path / 'none.npy'}", f"--labels={tmp_path / 'none.npy'}")
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "does not exist" in p.stderr, p.stderr


def test_validate_counts_correct_predictions(writeable):
    _, design, sim, directory = writeable
    spec = __import__("importlib").util.spec_from_file_location("validate_under_test", directory / "validate.py")
    validate = __import__("importlib").util.module_from_spec(spec)
    spec.loader.exec_module(validate)
    accel = _accel(writeable)
    model = writeable[0]
    x = np.random.default_rng(0).uniform(-1, 1, size=(10, *model.get_tensor_shape(model.graph.input[0].name)[1:]))
    labels = accel.execute(x.astype(np.float32)).reshape(10, -1).argmax(axis=1)
    labels[:3] = (labels[:3] + 1) % 3
    assert validate.accuracy(accel, x.astype(np.float32), labels) == (7, 10)
