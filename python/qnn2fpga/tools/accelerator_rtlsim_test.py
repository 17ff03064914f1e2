"""The whole-design test of a qnn_accelerator (`<name>_rtlsim_test`, see
bazel/private/accelerator.bzl): the Bazel-built simulator of the stitched design, with
the software head and tail, against qonnx execution of the original export.

Environment (runfiles paths, set by the macro): ACCEL_MODEL (the export), ACCEL_HW (the
FIFO step's outputs: hw_fifos.onnx), ACCEL_VERILOG (the stitch step's outputs: the
stitched .sv), ACCEL_SIM (the simulator), ACCEL_INPUTS (how many random inputs),
ACCEL_INPUT_DATATYPE (UINT8: raw pixels in, the export fed x / 255).

Checks: the design regenerated from hw_fifos.onnx is the one the simulator was built
from; the outputs equal qonnx execution of the export bit for bit; the steady-state
cycles per frame are within 5% of the estimated bottleneck.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from qnn2fpga import execute, flow, rtlsim, testing


@pytest.fixture(scope="module")
def design(tmp_path_factory):
    model = flow.load_model(str(testing.runfile("ACCEL_HW", "hw_fifos.onnx")))
    d = rtlsim.write_design(model, tmp_path_factory.mktemp("design"))
    return model, d


def test_simulator_was_built_from_this_design(design):
    _, d = design
    assert d.verilog.read_text() == testing.runfile("ACCEL_VERILOG", ".sv").read_text()


def test_bit_identical_to_qonnx_execution_of_the_export(design):
    model, d = design
    export = flow.load_model(str(testing.runfile("ACCEL_MODEL", ".onnx")))
    x, want = testing.export_golden(export, int(os.environ["ACCEL_INPUTS"]),
                                    input_datatype=os.environ.get("ACCEL_INPUT_DATATYPE", ""))
    got = execute.execute(model, x, "rtlsim", d, testing.runfile("ACCEL_SIM", "_rtlsim"))
    assert got.shape == want.shape
    assert np.array_equal(got, want), f"{int(np.count_nonzero(got != want))} of {got.size} outputs differ"


def test_cycles_per_frame_match_the_estimate(design):
    _, d = design
    res = rtlsim.simulate(testing.runfile("ACCEL_SIM", "_rtlsim"), d, d.random_frames(10))
    assert res.ok, res.report
    node, est = d.bottleneck()
    assert est <= res.report["cycles_per_frame"] <= 1.05 * est, (node, res.report)
