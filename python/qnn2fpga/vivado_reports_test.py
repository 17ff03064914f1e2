"""parse_reports on hand-written excerpts in the layout Vivado's report_utilization and
report_timing_summary write (numbers made up)."""

from __future__ import annotations

import json
import pathlib

import pytest

from qnn2fpga import vivado
from qnn2fpga.errors import InputFileError

UTIL_7SERIES = """\
Copyright 1986-2022 Xilinx, Inc. All Rights Reserved.
| Design       : qnn2fpga_bd_wrapper
| Device       : 7z020clg400-1
| Design State : Synthesized

1. Slice Logic
--------------

+----------------------------+-------+-------+------------+-----------+-------+
|          Site Type         |  Used | Fixed | Prohibited | Available | Util% |
+----------------------------+-------+-------+------------+-----------+-------+
| Slice LUTs*                | 14021 |     0 |          0 |     53200 | 26.36 |
|   LUT as Logic             | 12870 |     0 |          0 |     53200 | 24.19 |
|   LUT as Memory            |  1151 |     0 |          0 |     17400 |  6.61 |
| Slice Registers            | 18012 |     0 |          0 |    106400 | 16.93 |
|   Register as Flip Flop    | 18012 |     0 |          0 |    106400 | 16.93 |
| F7 Muxes                   |   410 |     0 |          0 |     26600 |  1.54 |
+----------------------------+-------+-------+------------+-----------+-------+
* Warning! The Final LUT count, after physical optimizations and full implementation, is typically lower.

3. Memory
---------

+-------------------+------+-------+------------+-----------+-------+
|     Site Type     | Used | Fixed | Prohibited | Available | Util% |
+-------------------+------+-------+------------+-----------+-------+
| Block RAM Tile    | 72.5 |     0 |          0 |       140 | 51.79 |
|   RAMB36/FIFO*    |   70 |     0 |          0 |       140 | 50.00 |
|   RAMB18          |    5 |     0 |          0 |       280 |  1.79 |
+-------------------+------+-------+------------+-----------+-------+

4. DSP
------

+-----------+------+-------+------------+-----------+-------+
| Site Type | Used | Fixed | Prohibited | Available | Util% |
+-----------+------+-------+------------+-----------+-------+
| DSPs      |   12 |     0 |          0 |       220 |  5.45 |
|   DSP48E1 only |   12 |       |          |           |       |
+-----------+------+-------+------------+-----------+-------+
"""

# UltraScale+, an older release without the Prohibited column.
UTIL_ULTRASCALE = """\
1. CLB Logic
------------

+----------------------------+------+-------+-----------+-------+
|          Site Type         | Used | Fixed | Available | Util% |
+----------------------------+------+-------+-----------+-------+
| CLB LUTs*                  | 9034 |     0 |    230400 |  3.92 |
|   LUT as Logic             | 8800 |     0 |    230400 |  3.82 |
| CLB Registers              | 9500 |     0 |    460800 |  2.06 |
+----------------------------+------+-------+-----------+-------+

3. BLOCKRAM
-----------

+-------------------+------+-------+-----------+-------+
|     Site Type     | Used | Fixed | Available | Util% |
+-------------------+------+-------+-----------+-------+
| Block RAM Tile    |   40 |     0 |       312 | 12.82 |
| URAM              |    4 |     0 |        96 |  4.17 |
+-------------------+------+-------+-----------+-------+

4. ARITHMETIC
-------------

+----------------+------+-------+-----------+-------+
|    Site Type   | Used | Fixed | Available | Util% |
+----------------+------+-------+-----------+-------+
| DSPs           |    3 |     0 |      1728 |  0.17 |
|   DSP48E2 only |    3 |       |           |       |
+----------------+------+-------+-----------+-------+
"""

# report_timing_summary's text with {wns}, {tns}, {fail} and {verdict} to fill in.
TIMING = (pathlib.Path(__file__).parent / "testdata" / "vivado_timing_summary.rpt.in").read_text()


def test_utilization_7series():
    r = vivado.parse_utilization(UTIL_7SERIES)
    assert r["used"] == {"LUT": 14021, "FF": 18012, "BRAM_18K": 145, "URAM": 0, "DSP": 12}
    assert r["available"] == {"LUT": 53200, "FF": 106400, "BRAM_18K": 280, "URAM": 0, "DSP": 220}


def test_utilization_ultrascale_plus():
    r = vivado.parse_utilization(UTIL_ULTRASCALE)
    assert r["used"] == {"LUT": 9034, "FF": 9500, "BRAM_18K": 80, "URAM": 4, "DSP": 3}
    assert r["available"]["BRAM_18K"] == 624


def test_timing_met_and_failed():
    met = vivado.parse_timing_summary(TIMING.format(wns="0.412", tns="0.000", fail="0",
                                                    verdict="All user specified timing constraints are met."))
    assert met["WNS_ns"] == 0.412 and met["met"] and met["clock"] == "clk_fpga_0"
    assert met["period_ns"] == 8.0 and met["fmax_mhz"] == pytest.approx(1000 / 7.588, abs=1e-3)
    failed = vivado.parse_timing_summary(TIMING.format(wns="-1.250", tns="-88.100", fail="97",
                                                       verdict="Timing constraints are not met."))
    assert not failed["met"] and failed["setup_failing_endpoints"] == 97
    assert failed["fmax_mhz"] == pytest.approx(1000 / 9.25, abs=1e-3)


def test_parse_reports_writes_json(tmp_path):
    rpt = tmp_path / "output" / "report"
    rpt.mkdir(parents=True)
    (rpt / "post_synth_utilization.rpt").write_text(UTIL_7SERIES)
    (rpt / "post_route_timing_summary.rpt").write_text(
        TIMING.format(wns="0.100", tns="0.000", fail="0", verdict="All user specified timing constraints are met."))
    written = vivado.parse_reports(tmp_path)
    assert sorted(written) == ["post_route_timing", "post_synth_resources"]
    resources = json.loads((tmp_path / "report" / "post_synth_resources.json").read_text())
    assert resources["used"]["LUT"] == 14021
    assert json.loads((tmp_path / "report" / "post_route_timing.json").read_text())["WNS_ns"] == 0.1


def test_not_a_report():
    with pytest.raises(InputFileError, match="Slice LUTs"):
        vivado.parse_utilization("nothing here\n")
    with pytest.raises(InputFileError, match="WNS"):
        vivado.parse_timing_summary("nothing here\n")
