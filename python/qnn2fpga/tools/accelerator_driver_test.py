"""The driver test of a qnn_accelerator (`<name>_driver_test`, see
bazel/private/accelerator.bzl): the deployment package's own driver (driver/ as the
package holds it) over the simulation transport, the Bazel-built simulator of the
stitched design, against qonnx execution of the export.

Environment (runfiles paths, set by the macro): ACCEL_MODEL (the export), ACCEL_HW (the
FIFO step's outputs: hw_fifos.onnx), ACCEL_PACKAGE (<name>/deploy), ACCEL_SIM (the
simulator), ACCEL_INPUT_DATATYPE (UINT8: raw pixels in), ACCEL_BOARD.

Checks: 50 network inputs give exactly the export's outputs at every batch size from 1
to 50 (at 7 of them for designs of over 4,096 cycles per frame, unless the environment
has DRIVER_BATCH_SIZES=all); the
package's example input gives its expected output; throughput_test reports the
simulated rate; bad input (shape, values, dtype, missing files, a stalled run, another
board) is one typed error.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest

from qnn2fpga import deploy, errors, flow, rtlsim, testing

INPUTS = 50


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    model = flow.load_model(str(testing.runfile("ACCEL_HW", "hw_fifos.onnx")))
    design = rtlsim.write_design(model, tmp_path_factory.mktemp("design"))
    package = testing.runfile("ACCEL_PACKAGE")
    io = json.loads((package / "driver" / deploy.IO_FILE).read_text())
    return model, design, package, io


def _driver(setup, batch_size: int = 1, **kw):
    _, design, package, io = setup
    transport = deploy.SimTransport(design, testing.runfile("ACCEL_SIM", "_rtlsim"), io["fclk_mhz"], **kw)
    return deploy.load_driver(package / "driver", transport, batch_size), transport


@pytest.fixture(scope="module")
def golden():
    export = flow.load_model(str(testing.runfile("ACCEL_MODEL", ".onnx")))
    return testing.export_golden(export, INPUTS, seed=1, input_datatype=os.environ.get("ACCEL_INPUT_DATATYPE", ""))


def _batch_sizes(design) -> list[int]:
    """Every batch size from 1 to INPUTS; for designs of over 4,096 cycles per frame (each
    batch size is a pass of INPUTS frames through the simulator) a spread of them, unless
    DRIVER_BATCH_SIZES=all (`--test_env=DRIVER_BATCH_SIZES=all`)."""
    if design.bottleneck_cycles() <= 4096 or os.environ.get("DRIVER_BATCH_SIZES") == "all":
        return list(range(1, INPUTS + 1))
    return [1, 2, 3, 7, 16, INPUTS - 1, INPUTS]


def test_every_batch_size_gives_the_exports_outputs(setup, golden):
    _, design, _, _ = setup
    x, want = golden
    if os.environ.get("ACCEL_INPUT_DATATYPE"):
        x = x.astype(np.uint8)  # what a user loads from an image file
    for batch_size in _batch_sizes(design):
        accel, _ = _driver(setup, batch_size)
        got = accel.execute(x)
        assert got.shape == want.shape
        assert np.array_equal(got, want), (f"batch size {batch_size}: {int(np.count_nonzero(got != want))} of "
                                           f"{got.size} outputs differ")


def test_the_packages_example_gives_its_expected_output(setup):
    _, _, package, _ = setup
    accel, _ = _driver(setup, 4)
    got = accel.execute(np.load(package / "example_input.npy"))
    assert np.array_equal(got, np.load(package / "expected_output.npy"))


def test_throughput_test_reports_the_simulated_rate(setup):
    _, design, _, io = setup
    accel, transport = _driver(setup, 20)
    m = accel.throughput_test()
    cycles = transport.report["cycles"]
    assert m["batch_size"] == 20 and m["fclk[mhz]"] == io["fclk_mhz"]
    assert m["runtime[ms]"] == pytest.approx(cycles / (io["fclk_mhz"] * 1e3))
    assert m["throughput[images/s]"] == pytest.approx(20 * io["fclk_mhz"] * 1e6 / cycles)
    # The batch includes the pipeline's fill: between the latency-bound and the steady rate.
    steady = io["fclk_mhz"] * 1e6 / transport.report["cycles_per_frame"]
    assert steady / 20 < m["throughput[images/s]"] <= steady
    assert transport.report["cycles_per_frame"] <= 1.05 * design.bottleneck_cycles()


def test_bad_input_is_one_typed_error(setup, golden):
    _, _, package, io = setup
    x, _ = golden
    accel, _ = _driver(setup, 4)
    driver_error = sys.modules[type(accel).__module__].DriverError  # the package's own class
    with pytest.raises(driver_error, match=r"network input batch: has shape .* expected \(N, "):
        accel.execute(x[:, ..., :-1])
    with pytest.raises(driver_error, match="accelerator input batch: has shape"):
        accel.execute_hw(np.zeros((2, 3)))
    with pytest.raises(driver_error, match="has dtype"):
        accel.execute(x.astype(np.complex64))
    if os.environ.get("ACCEL_INPUT_DATATYPE"):  # raw pixels: refused before the software head runs
        for wrong in (x.astype(np.int16) + 256, x + 0.5):
            with pytest.raises(driver_error, match="network input batch: holds values that are not UINT8 "):
                accel.execute(wrong)
    with pytest.raises(driver_error, match="batch_size: 0 is not a positive integer"):
        accel.batch_size = 0
    bad = np.full((1, *io["ishape_normal"][0][1:]), accel.idt().max() + 1)
    with pytest.raises(driver_error, match="pass values of the input datatype"):
        accel.execute_hw(bad)
    with pytest.raises(driver_error, match="runtime weight directory .* does not exist"):
        accel.load_runtime_weights(str(package / "no_such_dir"))
    with pytest.raises(driver_error, match=r"bitfile .* does not exist.*needs Vivado"):
        type(accel).from_package(str(package / "driver"))


def test_a_package_for_another_board_is_refused(setup, monkeypatch):
    _, _, package, io = setup
    other = "ZCU104" if io["board"] != "zcu104" else "Pynq-Z1"
    monkeypatch.setenv("BOARD", other)  # what a PYNQ image sets
    with pytest.raises(Exception, match=f"driver error: this board {other!r}: the package was built for "):
        _driver(setup)


def test_a_stalled_run_stops_with_the_diagnosis(setup, golden):
    x, _ = golden
    accel, _ = _driver(setup, 2, stall_bound=3)
    with pytest.raises(errors.QnnError, match="the simulated accelerator: stopped after 0 of 2 frames"):
        accel.execute(x[:2])
