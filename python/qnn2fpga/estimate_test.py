"""Resource estimates: memory mapping rules, the per-layer model, network reports."""

from __future__ import annotations

import pytest

from qnn2fpga import estimate, flow, report_schemas, testing
from qnn2fpga.errors import BoardError
from qnn2fpga.layers import MVAU
from qnn2fpga.layers.resources import Memory, bram18_count, lutram_luts, map_memory, rom_logic_luts, uram_count


@pytest.mark.parametrize("depth,width,n", [(512, 36, 1), (1024, 18, 1), (513, 36, 2), (64, 784, 22),
                                           (50176, 1, 4), (2048, 9, 1), (196, 256, 8), (0, 8, 0)])
def test_bram18_count_picks_the_best_aspect_ratio(depth, width, n):
    assert bram18_count(depth, width) == n


def test_uram_lutram_and_rom_sizes():
    assert uram_count(4096, 72) == 1 and uram_count(4097, 73) == 4
    assert lutram_luts(32, 6) == 4 and lutram_luts(64, 3) == 4 and lutram_luts(128, 3) == 8
    assert rom_logic_luts(2, 100) == 0  # constants and the address bit
    assert rom_logic_luts(64, 10) == 10 and rom_logic_luts(256, 10) == 40


def test_auto_tables_go_where_yosys_puts_them():
    """synth_xilinx's libmap costs a bit of table in logic 1/64 of a BRAM18's 129: TFC-w1a1's
    first layer at SIMD 28 x PE 8 on Pynq-Z1 (224 words of 224 bits, 7 BRAM18) stays in
    logic in Yosys (`//models/tfc:pynq-z1_mvau_0_synth`); 4x deeper it goes to block RAM."""
    assert map_memory(Memory(224, 224), "7series")["BRAM_18K"] == 0
    assert map_memory(Memory(224, 224), "ultrascale_plus")["LUT"] > 0
    assert map_memory(Memory(896, 224), "7series")["BRAM_18K"] == 13
    assert map_memory(Memory(128, 512), "7series")["BRAM_18K"] == 0  # shallow tables: always logic


def test_map_memory_styles():
    assert map_memory(Memory(1024, 36, "block"), "7series") == {"BRAM_18K": 2, "URAM": 0, "LUT": 0}
    assert map_memory(Memory(4096, 72, "ultra", rom=False), "ultrascale_plus")["URAM"] == 1
    # no UltraRAM on 7-series: block RAM instead
    assert map_memory(Memory(4096, 72, "ultra", rom=False), "7series")["BRAM_18K"] == 16
    # auto: a RAM goes where it is cheaper (by Yosys's costs), a ROM stays in logic
    assert map_memory(Memory(16, 8, "auto", rom=False), "7series")["LUT"] > 0
    assert map_memory(Memory(4096, 36, "auto", rom=False), "7series")["BRAM_18K"] == 8
    assert map_memory(Memory(128, 448, "auto", rom=True), "7series")["BRAM_18K"] == 0
    assert map_memory(Memory(256, 512, "auto", rom=True), "7series")["BRAM_18K"] == 15


def mvau(**kw):
    attrs = dict(MW=64, MH=64, SIMD=8, PE=8, inputDataType="BIPOLAR", weightDataType="BIPOLAR",
                 outputDataType="BIPOLAR", accDataType="INT8")
    attrs.update(kw)
    return MVAU(MVAU.make_node(["x", "w", "t"], ["y"], name="m", **attrs))


def test_layer_estimates_grow_with_parallelism_and_follow_the_memory_style():
    small, big = estimate.layer_resources(mvau(), "7series"), estimate.layer_resources(mvau(SIMD=64, PE=16), "7series")
    assert big["LUT"] > 2 * small["LUT"] and small["calibrated"]
    block = estimate.layer_resources(mvau(MW=1024, MH=1024, ram_style="block"), "7series")
    lut = estimate.layer_resources(mvau(MW=1024, MH=1024, ram_style="distributed"), "7series")
    assert block["BRAM_18K"] == bram18_count(1024 * 1024 // 64, 64) and lut["BRAM_18K"] == 0
    assert lut["LUT"] > block["LUT"]
    # wide integer products go to DSPs, narrow ones stay in LUTs
    assert estimate.layer_resources(mvau(inputDataType="UINT8", weightDataType="INT8", outputDataType="INT20",
                                         accDataType="INT20", noActivation=1), "7series")["DSP"] == 64
    assert estimate.layer_resources(mvau(inputDataType="UINT8", weightDataType="INT4", outputDataType="INT20",
                                         accDataType="INT20", noActivation=1), "7series")["DSP"] == 0


def test_unknown_family_is_refused():
    with pytest.raises(BoardError, match="device family 'virtex2'"):
        estimate.layer_resources(mvau(), "virtex2")


def test_weighted_cost_uses_board_scarcity():
    cap = {"LUT": 1000, "FF": 2000, "BRAM_18K": 10, "URAM": 0, "DSP": 10}
    assert estimate.weighted_cost({"LUT": 10, "FF": 5, "BRAM_18K": 1, "URAM": 0, "DSP": 0}, cap) == 110
    assert estimate.weighted_cost({"LUT": 10, "FF": 5, "BRAM_18K": 0, "URAM": 1, "DSP": 0}, cap) == float("inf")


def test_network_reports_match_their_schemas_and_layers():
    model = flow.compile_model(testing.tiny_mlp())
    reports = estimate.network(model, "7series", 100.0)
    for name, obj in reports.items():
        report_schemas.validate(name, obj)
    cycles = reports["estimate_layer_cycles"]
    assert cycles == {"MVAU_0": 16 * 12, "MVAU_1": 12 * 5}
    perf = reports["estimate_network_performance"]
    assert perf["max_cycles"] == 192 and perf["max_cycles_node_name"] == "MVAU_0"
    assert perf["critical_path_cycles"] == 252 and perf["estimated_latency_ns"] == 2520.0
    assert perf["estimated_throughput_fps"] == pytest.approx(100e6 / 192, abs=1e-3)
    counts = reports["op_and_param_counts"]
    assert counts["MVAU_0"]["op_mac_UINT8_INT4"] == 16 * 12 and counts["total"]["param_weight_INT4"] == 16 * 12 + 12 * 5
    res = reports["estimate_layer_resources"]
    assert res["total"]["LUT"] == res["MVAU_0"]["LUT"] + res["MVAU_1"]["LUT"]


def test_tied_bottlenecks_are_named_in_graph_order():
    # MVAU_0 and MVAU_2 tie: the report names the first in graph order (was the last by name).
    assert estimate.bottlenecks({"MVAU_0": 40, "MVAU_1": 10, "MVAU_2": 40}) == ["MVAU_0", "MVAU_2"]
    assert estimate.bottlenecks({"Thresholding_9": 40, "MVAU_0": 40}) == ["Thresholding_9", "MVAU_0"]
    assert estimate.bottlenecks({}) == []
    model = flow.compile_model(testing.tiny_mlp())
    for node in model.graph.node:  # both layers at one cycle per frame
        if node.op_type == "MVAU":
            for a in node.attribute:
                if a.name in ("PE", "SIMD"):
                    a.i = {"MVAU_0": {"PE": 12, "SIMD": 16}, "MVAU_1": {"PE": 5, "SIMD": 12}}[node.name][a.name]
    perf = estimate.network(model, "7series", 100.0)["estimate_network_performance"]
    assert perf["max_cycles"] == 1 and perf["max_cycles_node_name"] == "MVAU_0"


def lfc_w1a2_layer(**kw):
    """LFC-w1a2's middle layer as automatic folding builds it at 50,000 fps on Pynq-Z1."""
    attrs = dict(MW=1024, MH=1024, SIMD=128, PE=8, inputDataType="INT2", weightDataType="BIPOLAR",
                 outputDataType="INT2", accDataType="INT12", ActVal=-2, mem_mode="internal_embedded",
                 ram_style="distributed")
    return mvau(**{**attrs, **kw})


@pytest.mark.parametrize("family", ["7series", "ultrascale_plus"])
def test_memory_luts_are_structural_not_fitted(family):
    """The LUTs of memories kept in LUTs are added as they are: a fitted model without a
    memory term (as bipolar-weight MVAUs had) cannot make them vanish."""
    layer = lfc_w1a2_layer()
    _, mem = estimate.layer_features(layer, family)
    assert mem["LUT"] > 20000  # 1 Mbit of weights as tables in logic
    assert estimate.layer_resources(layer, family)["LUT"] >= mem["LUT"]
    empty = {"families": {family: {"MVAU/bipolar": {"LUT": {}, "FF": {}}}}}
    assert estimate.layer_resources(layer, family, empty)["LUT"] == mem["LUT"]
    # in block RAM they cost no LUTs of memory
    block = lfc_w1a2_layer(ram_style="block")
    assert estimate.layer_features(block, family)[1]["LUT"] < mem["LUT"] / 10  # the thresholds' table


def _report(rows):
    """A Yosys counts report of MVAU configurations {name: (attrs, LUT_ALL)}."""
    return {"layers": [{"name": name, "op": "MVAU", "attrs": attrs, "variant": "",
                        "xc7": {"LUT_ALL": lut, "FF": lut // 2, "BRAM_18K": 0, "URAM": 0, "DSP": 0}}
                       for name, (attrs, lut) in rows.items()]}


BIPW = dict(MW=64, MH=32, inputDataType="INT2", weightDataType="BIPOLAR", outputDataType="INT2",
            accDataType="INT8", ActVal=-2, mem_mode="internal_decoupled", ram_style="distributed")


def test_calibration_refuses_a_feature_without_samples():
    """No run with runtime-writable weights: the AXI-lite path's coefficient would be a
    silent zero, so calibration refuses, naming the op class, family and feature."""
    from qnn2fpga.tools import calibrate_resources  # noqa: PLC0415

    rows = {f"b{s}": ({**BIPW, "SIMD": s, "PE": 4}, 100 + 40 * s) for s in (1, 2, 4, 8)}
    with pytest.raises(Exception, match=r"MVAU/bipolar on 7series: feature\(s\) axilite_bits are zero"):
        calibrate_resources.calibrate([_report(rows)])
    rows["rw"] = ({**BIPW, "SIMD": 4, "PE": 4, "runtime_writeable_weights": 1}, 400)
    model = calibrate_resources.calibrate([_report(rows)])
    assert "MVAU/bipolar" in model["families"]["7series"]


def test_calibration_fits_logic_beside_the_structural_memory_luts():
    """Yosys counts that are logic plus exactly the mapped memory LUTs give a model whose
    estimates reproduce them: the fit sees the count minus mem_lut."""
    from qnn2fpga.tools import calibrate_resources  # noqa: PLC0415

    rows = {}
    for s, p, rw in ((1, 1, 0), (2, 4, 0), (4, 4, 0), (8, 2, 0), (8, 8, 0), (4, 2, 1), (16, 4, 0)):
        attrs = {**BIPW, "SIMD": s, "PE": p, "runtime_writeable_weights": rw}
        layer = calibrate_resources.layer_from_attrs("MVAU", attrs)
        feats, mem = estimate.layer_features(layer, "7series")
        logic = 50 + 3 * feats["sign_bits"] + 2 * feats["cmp_bits"] + 5 * feats["axilite_bits"]
        rows[f"c{s}_{p}_{rw}"] = (attrs, logic + mem["LUT"])
    model = calibrate_resources.calibrate([_report(rows)])
    assert "mem_lut" not in model["families"]["7series"]["MVAU/bipolar"]["LUT"]
    assert model["accuracy"]["7series"]["MVAU"]["LUT"]["worst"] < 0.02


def test_a_feature_the_model_was_not_fitted_on_costs_and_is_marked():
    """A layer with a feature no calibration run had (here: runtime-writable weights) is
    not estimated with a silent zero for it: generic cost, "calibrated": false."""
    layer = mvau(**{**BIPW, "SIMD": 4, "PE": 4, "runtime_writeable_weights": 1})
    feats, _ = estimate.layer_features(layer, "7series")
    fitted = {"LUT": {"one": 10.0}, "FF": {"one": 5.0}, "features": sorted(set(feats) - {"axilite_bits", "dsp"})}
    res = estimate.layer_resources(layer, "7series", {"families": {"7series": {"MVAU/bipolar": fitted}}})
    assert not res["calibrated"]
    assert res["LUT"] == 10 + feats["axilite_bits"] + feats["mem_lut"]
    both = {**fitted, "features": fitted["features"] + ["axilite_bits"]}
    assert estimate.layer_resources(layer, "7series", {"families": {"7series": {"MVAU/bipolar": both}}})["calibrated"]
