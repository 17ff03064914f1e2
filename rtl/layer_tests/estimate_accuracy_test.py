"""The resource models (python/qnn2fpga/estimates/resource_models.json) against Yosys:
the checked-in models are what calibration fits to this grid's runs (else: regenerate
with `bazel run //python/qnn2fpga:calibrate_resources`), and per layer type and family
the median LUT error is at most 15 %, block RAM estimates within 15 % as well.
The accuracy table is written to the test's undeclared outputs (accuracy.md)."""

import json
import os
import pathlib

import pytest

from qnn2fpga import estimate
from qnn2fpga.tools import calibrate_resources

ROOT = pathlib.Path(os.environ.get("TEST_SRCDIR", "")) / os.environ.get("TEST_WORKSPACE", "")
REPORT = json.loads((ROOT / "rtl/layer_tests/yosys_counts.json").read_text())
MEDIAN_LUT_LIMIT = 0.15


@pytest.fixture(scope="module")
def fitted():
    return calibrate_resources.calibrate([REPORT])


def test_checked_in_models_are_up_to_date(fitted):
    stored = estimate.models()
    assert stored["families"] == fitted["families"], (
        "python/qnn2fpga/estimates/resource_models.json is stale: run "
        "'bazel run //python/qnn2fpga:calibrate_resources'")
    assert stored["accuracy"] == fitted["accuracy"]


def test_median_lut_error_per_layer_type(fitted):
    rows = ["| family | op | n | LUT median | LUT worst | FF median | BRAM_18K median | BRAM_18K worst |",
            "|---|---|---|---|---|---|---|---|"]
    bad = []
    for family, ops in sorted(fitted["accuracy"].items()):
        for op, acc in sorted(ops.items()):
            lut, ff, bram = acc["LUT"], acc.get("FF", {}), acc.get("BRAM_18K", {})
            rows.append(f"| {family} | {op} | {acc['samples']} | {lut['median']:.1%} | {lut['worst']:.1%} "
                        f"({lut['worst_config']}) | {ff.get('median', 0):.1%} | "
                        + (f"{bram['median']:.1%} | {bram['worst']:.1%} ({bram['worst_config']})" if bram else "- | -")
                        + " |")
            if lut["median"] > MEDIAN_LUT_LIMIT:
                bad.append(f"{family} {op}: median LUT error {lut['median']:.1%}")
            if bram and bram["median"] > MEDIAN_LUT_LIMIT:
                bad.append(f"{family} {op}: median BRAM_18K error {bram['median']:.1%}")
    out = os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR")
    if out:
        pathlib.Path(out, "accuracy.md").write_text("\n".join(rows) + "\n")
    print("\n".join(rows))
    assert not bad, bad
    # every op with RTL in the grid has fitted models and an accuracy entry for both families
    for family in ("7series", "ultrascale_plus"):
        assert {row["op"] for row in REPORT["layers"]} <= set(fitted["accuracy"][family])
        assert {m.split("/")[0] for m in fitted["families"][family]} == set(fitted["accuracy"][family])
