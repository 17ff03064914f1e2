"""TFC-w1a1 auto-folded for Pynq-Z1 at 100 MHz and 1,560,000 fps (64 cycles per frame):
the target is met within the board, with fewer LUTs than FINN's own example folding for
that throughput (FINN estimates 8,551 LUTs and 26 BRAM18 for it), both by the estimate
and by Yosys (xc7) on the layers exactly as folded, with the network's real weights.

The synthesized configurations are listed in BUILD.bazel (_TFC_W1A1_PYNQ_Z1); the first
test fails when automatic folding no longer chooses them (update the list from its
message). The comparison is with the least-cost folding (`bram_fill=0`): the default
also spends idle block RAM on LUTs, which here takes one BRAM18 more than FINN's 26."""

import json
import os
import pathlib

import pytest

from qnn2fpga import boards, estimate, flow, folding
from qnn2fpga.layers.registry import get_layer

ROOT = pathlib.Path(os.environ.get("TEST_SRCDIR", "")) / os.environ.get("TEST_WORKSPACE", "")
FINN_LUT, FINN_BRAM18 = 8551, 26
TARGET_FPS = 1_560_000
BOARD = boards.load_board("pynq-z1")


@pytest.fixture(scope="module")
def folded():
    model = flow.compile_model(flow.load_model(str(ROOT / "models/tfc/tfc_w1a1.onnx")))
    return folding.auto_fold(model, BOARD, TARGET_FPS, 100.0, bram_fill=0)


@pytest.fixture(scope="module")
def synthesized():
    report = json.loads((ROOT / "tests/folding/tfc_w1a1_pynq_z1_resources.json").read_text())
    return {row["name"].rsplit("_", 1)[-1].replace("mvau", "MVAU_"): row for row in report["layers"]}


def test_synthesized_layers_are_what_auto_folding_chooses(folded, synthesized):
    model, _ = folded
    nodes = folding.hw_nodes(model)
    assert sorted(n.name for n in nodes) == sorted(synthesized)
    for node in nodes:
        layer = get_layer(node)
        attrs = synthesized[node.name]["attrs"]
        current = {k: (v.name if hasattr(v, "name") else v) for k, v in
                   ((k, layer.attr(k)) for k in attrs)}
        wanted = {k: v for k, v in attrs.items()}
        assert current == wanted, f"{node.name}: auto-folding now gives {current}; update _TFC_W1A1_PYNQ_Z1"


def test_target_met_within_the_board(folded):
    _, res = folded
    assert res.max_cycles <= 64 and res.fps >= TARGET_FPS
    total = res.total()
    for r in ("LUT", "FF", "BRAM_18K", "URAM", "DSP"):
        assert total[r] <= BOARD.capacity[r], r


def test_fewer_luts_than_finn_by_estimate_and_by_yosys(folded, synthesized):
    _, res = folded
    est = res.total()
    yosys_lut = sum(row["xc7"]["LUT_ALL"] for row in synthesized.values())
    yosys_bram = sum(row["xc7"]["BRAM_18K"] for row in synthesized.values())
    lines = [f"{name}: estimate {res.choices[name].resources['LUT']} LUT / {res.choices[name].resources['BRAM_18K']} "
             f"BRAM18, Yosys {row['xc7']['LUT_ALL']} LUT / {row['xc7']['BRAM_18K']} BRAM18"
             for name, row in sorted(synthesized.items())]
    lines.append(f"total: estimate {est['LUT']} LUT / {est['BRAM_18K']} BRAM18, Yosys {yosys_lut} LUT / "
                 f"{yosys_bram} BRAM18; FINN's example folding {FINN_LUT} LUT / {FINN_BRAM18} BRAM18")
    print("\n".join(lines))
    out = os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR")
    if out:
        pathlib.Path(out, "tfc_w1a1_pynq_z1.txt").write_text("\n".join(lines) + "\n")
    assert est["LUT"] < FINN_LUT and est["BRAM_18K"] <= FINN_BRAM18
    assert yosys_lut < FINN_LUT and yosys_bram <= FINN_BRAM18
    assert estimate.SYNTH_FAMILY["xc7"] == BOARD.family
