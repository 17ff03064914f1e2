"""The per-layer resource report covers every generated layer test configuration with
Yosys counts for both device families, and the counts are plausible."""

import json
import os

ROOT = os.path.join(os.environ.get("TEST_SRCDIR", ""), os.environ.get("TEST_WORKSPACE", ""))


def _load(name):
    with open(os.path.join(ROOT, "rtl/layer_tests", name)) as f:
        return json.load(f)


def test_every_tested_configuration_is_synthesized_for_both_families():
    """(UltraRAM configurations for UltraScale+ only.)"""
    report = {row["name"]: row for row in _load("yosys_counts.json")["layers"]}
    tests = [label.split(":")[1] for labels in _load("layer_tests.json").values() for label in labels]
    # plus the synthesis-only calibration configurations (cal_*)
    assert tests and sorted(tests) == sorted(n for n in report if not n.startswith("cal_"))
    for name, row in report.items():
        # A width converter between equal widths is wires only.
        wire = row["op"] == "StreamingDataWidthConverter" and row["attrs"]["inFold"] == row["attrs"]["outFold"]
        attrs = row["attrs"]
        uram = attrs.get("ram_style") == "ultra" or \
            0 < attrs.get("depth_trigger_uram", 0) <= attrs.get("NumChannels", 0) // attrs.get("PE", 1)
        assert "xc7" in row or uram, f"{name}: only UltraRAM configurations may skip 7-series (no URAM)"
        if uram:
            assert row["xcup"]["URAM"] >= 1, name
        for family in ("xc7", "xcup") if "xc7" in row else ("xcup",):
            r = row[family]
            assert all(isinstance(v, int) and v >= 0 for v in r.values())
            if wire:
                assert sum(r.values()) == 0, (name, family, r)
            else:
                assert r["LUT"] + r["DSP"] > 0 and r["FF"] > 0, (name, family, r)


def test_attributes_are_recorded_and_folding_costs_area():
    rows = _load("yosys_counts.json")["layers"]
    mvau = {(r["attrs"]["SIMD"], r["attrs"]["PE"], r["attrs"]["inputDataType"], r["attrs"]["mem_mode"]): r
            for r in rows if r["op"] == "MVAU" and r["name"].startswith("mvau_w4a8u_")
            and not r["attrs"].get("runtime_writeable_weights")}
    for mode in ("internal_embedded", "internal_decoupled", "external"):
        small, mid = mvau[(1, 1, "UINT8", mode)], mvau[(4, 2, "UINT8", mode)]
        assert small["xc7"]["LUT"] < mid["xc7"]["LUT"], mode
