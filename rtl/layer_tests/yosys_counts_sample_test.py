"""The checked-in Yosys counts (yosys_counts.json) are those of the layer grid as it is
now: they list exactly the configurations the BUILD file synthesizes, with the same
attributes, and a sample of them synthesized afresh gives exactly the checked-in counts.
(`bazel test //rtl/layer_tests:yosys_counts_test` compares every configuration.)"""

import json
import os

ROOT = os.path.join(os.environ.get("TEST_SRCDIR", ""), os.environ.get("TEST_WORKSPACE", ""))
UPDATE = "run 'bazel run //rtl/layer_tests:yosys_counts_update'"


def _load(name):
    with open(os.path.join(ROOT, "rtl/layer_tests", name)) as f:
        return json.load(f)


CHECKED_IN = {row["name"]: row for row in _load("yosys_counts.json")["layers"]}


def test_checked_in_counts_cover_exactly_the_synthesized_configurations():
    declared = _load("resource_report_configs.json")
    assert sorted(CHECKED_IN) == sorted(declared), f"yosys_counts.json lists other configurations; {UPDATE}"
    for name, config in declared.items():
        row = CHECKED_IN[name]
        assert row["attrs"] == config["attrs"] and row["variant"] == config["variant"], (name, UPDATE)
        assert sorted(f for f in ("xc7", "xcup") if f in row) == config["families"], (name, UPDATE)


def test_a_fresh_synthesis_of_the_sample_gives_the_checked_in_counts():
    fresh = _load("resource_sample.json")["layers"]
    assert len(fresh) >= 5
    for row in fresh:
        assert row == CHECKED_IN[row["name"]], f"{row['name']}: Yosys now counts differently; {UPDATE}"
