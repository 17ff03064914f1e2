"""yosys_counts_add: only new or changed configurations take fresh counts, the others
keep theirs, undeclared ones are dropped, and missing synthesis results are named."""

import json

from qnn2fpga.tools import yosys_counts_add


def _declared(name, attrs):
    return {"attrs": attrs, "variant": "", "families": ["xc7", "xcup"], "op": "MVAU",
            "synth": {f: f"//rtl/layer_tests:{name}_{f}" for f in ("xc7", "xcup")}}


def _row(name, attrs, lut):
    counts = {"LUT": lut, "LUT_ALL": lut}
    return {"name": name, "op": "MVAU", "attrs": attrs, "variant": "", "xc7": counts, "xcup": counts}


def test_merge_synthesizes_only_what_the_counts_lack(tmp_path):
    declared = {"kept": _declared("kept", {"MW": 16}), "changed": _declared("changed", {"MW": 32}),
                "new": _declared("new", {"MW": 64})}
    checked_in = {"kept": _row("kept", {"MW": 16}, 10), "changed": _row("changed", {"MW": 8}, 20),
                  "gone": _row("gone", {"MW": 4}, 30)}
    report, todo, missing = yosys_counts_add.merge(declared, checked_in, tmp_path)
    assert todo == ["changed", "new"] and not report
    assert sorted(missing) == sorted(f"//rtl/layer_tests:{n}_{f}" for n in todo for f in ("xc7", "xcup"))
    (tmp_path / "rtl/layer_tests").mkdir(parents=True)
    for n in todo:
        for f in ("xc7", "xcup"):
            (tmp_path / f"rtl/layer_tests/{n}_{f}.json").write_text(json.dumps(
                {"resources": {"LUT": 100, "FF": 7, "LUTRAM": 2}, "cells": {"RAM64M": 2}}))
    report, todo, missing = yosys_counts_add.merge(declared, checked_in, tmp_path)
    rows = {r["name"]: r for r in report["layers"]}
    assert not missing and sorted(rows) == ["changed", "kept", "new"]
    assert rows["kept"] == checked_in["kept"]
    assert rows["new"]["attrs"] == {"MW": 64} and rows["new"]["xc7"]["LUT_ALL"] == 108  # 100 + 2 RAM64M x 4
    assert [r["name"] for r in report["layers"]] == sorted(rows)
