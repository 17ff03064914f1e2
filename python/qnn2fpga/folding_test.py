"""Folding configs (FINN's format) and automatic folding for a throughput target."""

from __future__ import annotations

import json

import pytest

from qnn2fpga import boards, estimate, flow, folding, testing
from qnn2fpga.errors import BoardError, FoldingError, InputFileError
from qnn2fpga.layers import ConvolutionInputGenerator, StreamingMaxPool
from qnn2fpga.layers.registry import get_layer

PYNQ = boards.load_board("pynq-z1")


def tiny():
    """MVAU_0: 16 -> 12 (UINT8 x INT4, thresholds); MVAU_1: 12 -> 5 (no activation)."""
    return flow.compile_model(testing.tiny_mlp())


def layer(model, name):
    return get_layer(model.get_node_from_name(name))


def test_config_defaults_and_node_entries_apply():
    model, rep = folding.apply_config(tiny(), {
        "Defaults": {"ram_style": ["block", ["MVAU"]], "mem_mode": ["internal_embedded", "all"]},
        "MVAU_0": {"PE": 4, "SIMD": 8}, "MVAU_1": {"PE": 5, "ram_style": "distributed"}})
    a, b = layer(model, "MVAU_0"), layer(model, "MVAU_1")
    assert (a.PE, a.SIMD, a.ram_style, a.mem_mode) == (4, 8, "block", "internal_embedded")
    assert (b.PE, b.SIMD, b.ram_style, b.mem_mode) == (5, 1, "distributed", "internal_embedded")
    assert rep.warnings() == []


def test_unknown_nodes_and_attributes_are_reported_not_applied():
    model, rep = folding.apply_config(tiny(), {"MVAU_9": {"PE": 2}, "MVAU_0": {"PE": 2, "depth": 64},
                                               "Defaults": {"K": [3, ["LabelSelect"]]}})
    assert layer(model, "MVAU_0").PE == 2
    assert rep.unknown_nodes == ["MVAU_9"] and rep.unused_attrs == [("MVAU_0", "depth")]
    assert rep.unused_defaults == ["K"]
    assert any("MVAU_9" in w and "not in the graph" in w for w in rep.warnings())


@pytest.mark.parametrize("entry,words", [
    ({"PE": 5}, ["MVAU_0", "PE=5 does not divide MH=12", "1, 2, 3, 4, 6, 12"]),
    ({"SIMD": 3}, ["MVAU_0", "SIMD=3 does not divide MW=16"]),
    ({"ram_style": "bram"}, ["MVAU_0", "ram_style", "'bram'", "distributed"]),
    ({"PE": "four"}, ["MVAU_0", "PE", "not an integer"]),
])
def test_impossible_values_raise_typed_errors(entry, words):
    with pytest.raises(FoldingError) as e:
        folding.apply_config(tiny(), {"MVAU_0": entry})
    line = e.value.one_line()
    for w in words:
        assert w in line, line


def test_malformed_config_is_an_input_error():
    with pytest.raises(InputFileError, match=r'default "PE" is 4, not \[value, op types\]'):
        folding.apply_config(tiny(), {"Defaults": {"PE": 4}})
    with pytest.raises(InputFileError, match="not a JSON object"):
        folding.apply_config(tiny(), [1, 2])


def test_hw_config_round_trips():
    model, _ = folding.apply_config(tiny(), {"MVAU_0": {"PE": 3, "SIMD": 4, "ram_style": "block"}})
    cfg = json.loads(json.dumps(folding.hw_config(model)))
    assert cfg["MVAU_0"]["PE"] == 3 and cfg["MVAU_0"]["ram_style"] == "block" and "Defaults" in cfg
    again, rep = folding.apply_config(tiny(), cfg)
    assert folding.hw_config(again) == cfg and rep.warnings() == []


def test_values_no_backend_implements_are_refused_with_a_warning_naming_attribute_and_layer():
    model, rep = folding.apply_config(tiny(), {
        "Defaults": {"preferred_impl_style": ["hls", "all"]},
        "MVAU_0": {"PE": 4, "resType": "dsp"}, "MVAU_1": {"resType": "lut"}})
    a, b = layer(model, "MVAU_0"), layer(model, "MVAU_1")
    # not applied: the layers keep what the RTL builds
    assert (a.PE, a.resType, a.preferred_impl_style, b.resType) == (4, "auto", "", "auto")
    assert rep.applied == {"MVAU_0": {"PE": 4}}
    warnings = rep.warnings()
    assert len(warnings) == 4, warnings
    for node, attr, value in (("MVAU_0", "resType", "dsp"), ("MVAU_1", "resType", "lut"),
                              ("MVAU_0", "preferred_impl_style", "hls"), ("MVAU_1", "preferred_impl_style", "hls")):
        line = next(w for w in warnings if f"'{node}'" in w and f"{attr}='{value}'" in w)
        assert line.startswith(f"ignored configuration: MVAU node '{node}': {attr}='{value}' is not implemented "
                               "and was not applied: "), line
    res = next(w for w in warnings if "resType='dsp'" in w)
    assert "keeps resType='auto'" in res and "'lut' and 'dsp'" in res
    hls = next(w for w in warnings if "preferred_impl_style" in w)
    assert "no HLS backend" in hls and "'hls'" in hls


def test_values_the_backend_implements_apply_without_warnings():
    model, rep = folding.apply_config(tiny(), {"Defaults": {"preferred_impl_style": ["rtl", "all"]},
                                               "MVAU_0": {"resType": "auto"}})
    assert layer(model, "MVAU_0").preferred_impl_style == "rtl" and layer(model, "MVAU_0").resType == "auto"
    assert rep.warnings() == []


def test_an_unknown_value_of_a_partly_implemented_attribute_is_still_an_error():
    with pytest.raises(FoldingError, match="resType='DSP' is not one of"):
        folding.apply_config(tiny(), {"MVAU_0": {"resType": "DSP"}})


def _all_choices(model, name, target):
    """Brute force: every legal configuration of one layer meeting `target` cycles."""
    lay = layer(model, name)
    return [c for c in folding._candidates(lay, PYNQ.family, PYNQ.capacity, folding.DEFAULT_WWIDTH_MAX)
            if c.cycles <= target]


@pytest.mark.parametrize("fps", [2e6, 1e7, 3e7])
def test_auto_fold_meets_the_target_with_the_least_cost(fps):
    model, res = folding.auto_fold(tiny(), PYNQ, fps, bram_fill=0)
    target = int(100e6 // fps)
    assert res.target_cycles == target and res.max_cycles <= target and res.fps >= fps
    for name in ("MVAU_0", "MVAU_1"):
        lay = layer(model, name)
        assert lay.cycles() <= target
        best = min(c.cost for c in _all_choices(tiny(), name, target))
        assert res.choices[name].cost == pytest.approx(best)
        # the model holds the chosen attributes, and the estimate matches the choice
        assert estimate.layer_resources(lay, PYNQ.family) == res.choices[name].resources
    # a faster target never costs less
    _, slower = folding.auto_fold(tiny(), PYNQ, fps / 2, bram_fill=0)
    assert estimate.weighted_cost(slower.total(), PYNQ.capacity) <= estimate.weighted_cost(res.total(), PYNQ.capacity)


@pytest.mark.parametrize("fps", [2e6, 1e7])
def test_idle_block_ram_takes_memories_off_luts_within_the_budget(fps, monkeypatch):
    """Same folds and cycles as the least-cost folding; memories move to BRAM (the one
    saving the most LUTs per BRAM first) only while the design stays within bram_fill of
    the board's BRAM_18K, and every move saves at least MIN_FILL_SAVING LUTs (tiny's
    memories are small: with that minimum at 1 LUT, some move)."""
    base_model, base = folding.auto_fold(tiny(), PYNQ, fps, bram_fill=0)
    for min_saving in (folding.MIN_FILL_SAVING, 1):
        monkeypatch.setattr(folding, "MIN_FILL_SAVING", min_saving)
        for fill, budget in [(0.5, 140), (0.001, 0.28)]:
            model, res = folding.auto_fold(tiny(), PYNQ, fps, bram_fill=fill)
            assert res.total()["BRAM_18K"] <= max(budget, base.total()["BRAM_18K"])
            for name, c in res.choices.items():
                b = base.choices[name]
                assert {k: v for k, v in c.attrs.items() if k not in ("ram_style", "mem_mode")} == \
                       {k: v for k, v in b.attrs.items() if k not in ("ram_style", "mem_mode")}
                assert c.cycles == b.cycles
                if c.attrs != b.attrs:
                    assert c.resources["LUT"] <= b.resources["LUT"] - min_saving
                    assert c.resources["BRAM_18K"] > b.resources["BRAM_18K"]
    _, filled = folding.auto_fold(tiny(), PYNQ, fps)
    moved = [n for n in filled.choices if filled.choices[n].attrs != base.choices[n].attrs]
    assert moved and filled.total()["LUT"] < base.total()["LUT"]


def test_weight_stream_width_limit_is_respected():
    model, _ = folding.auto_fold(tiny(), PYNQ, 5e7, wwidth_max=8)
    for name in ("MVAU_0", "MVAU_1"):
        lay = layer(model, name)
        assert lay.mem_mode == "internal_embedded" or lay.weight_stream_width() <= 8


def test_unreachable_target_names_the_layer_and_the_achievable_fps():
    model = tiny()
    layer(model, "MVAU_0").numInputVectors = [1, 4]  # 4 vectors per frame: at least 4 cycles
    with pytest.raises(FoldingError) as e:
        folding.auto_fold(model, PYNQ, 5e7)  # 2 cycles per frame
    line = e.value.one_line()
    assert "layer MVAU_0" in line and "cannot reach" in line and "achievable: 25000000 fps (4 cycles)" in line


def test_suggested_fps_is_accepted_when_given_back():
    """At 0.000123 MHz four cycles are 30.75 fps: the message says 30 (31 would ask for
    3 cycles and be refused again), and 30 fps then folds."""
    model = tiny()
    layer(model, "MVAU_0").numInputVectors = [1, 4]
    with pytest.raises(FoldingError) as e:
        folding.auto_fold(model, PYNQ, 100, fclk_mhz=0.000123)
    assert "achievable: 30 fps (4 cycles)" in e.value.one_line()
    folding.auto_fold(model, PYNQ, 30, fclk_mhz=0.000123)


def test_design_too_large_for_the_board_reports_what_fits():
    small = boards.Board("tiny", "Tiny", "xc7z007s", "7series", "zynq", 100.0,
                         {"LUT": 1200, "FF": 2400, "BRAM_18K": 4, "URAM": 0, "DSP": 10})
    with pytest.raises(BoardError) as e:
        folding.auto_fold(tiny(), small, 5e7)
    line = e.value.one_line()
    assert "needs LUT" in line and "achievable on Tiny" in line
    fps = float(line.split("achievable on Tiny: ")[1].split(" fps")[0])
    _, res = folding.auto_fold(tiny(), small, fps)  # what it says is achievable does fit
    assert res.total()["LUT"] <= 1200 and res.fps >= fps


def test_fold_ties_keep_a_sliding_window_at_its_consumers_fold():
    """A depthwise sliding window feeding a pooling layer: SIMD follows the pool's PE."""

    swg = ConvolutionInputGenerator.make_node(
        ["x"], ["w"], name="SWG_0", ConvKernelDim=[1, 1], IFMChannels=16, IFMDim=[4, 4], OFMDim=[4, 4],
        inputDataType="UINT4", outputDataType="UINT4", depthwise=1)
    pool = StreamingMaxPool.make_node(["w"], ["y"], name="Pool_0", PoolDim=[2, 2], ImgDim=[4, 4],
                                      NumChannels=16, dataType="UINT4")
    model = testing.make_model([swg, pool], ("x", [1, 4, 4, 16]), ("y", [1, 2, 2, 16]), {})
    model.set_tensor_shape("w", [1, 4, 4, 16])
    for fps in (1e5, 1e6, 5e6):
        model, _ = folding.auto_fold(model, PYNQ, fps)
        s, p = layer(model, "SWG_0"), layer(model, "Pool_0")
        assert s.SIMD == p.PE
        assert max(s.cycles(), p.cycles()) <= 100e6 // fps


def lfc_w1a2_shaped():
    """The hardware layers of LFC-w1a2: 784 -> 1024 -> 1024 -> 1024 -> 10, bipolar
    weights, INT2 activations (2.9 Mbit of weights)."""
    import numpy as np  # noqa: PLC0415

    from qnn2fpga.layers import MVAU  # noqa: PLC0415

    sizes, nodes, inits, dtypes = [784, 1024, 1024, 1024, 10], [], {}, {"x": "INT2"}
    rng = np.random.default_rng(0)
    for i, (mw, mh) in enumerate(zip(sizes, sizes[1:])):
        last = i == len(sizes) - 2
        inits[f"w{i}"] = rng.choice([-1.0, 1.0], size=(mw, mh))
        dtypes[f"w{i}"] = "BIPOLAR"
        ins = [f"a{i}", f"w{i}"]
        if not last:
            inits[f"t{i}"] = np.sort(rng.integers(-mw, mw, size=(mh, 3)), axis=1)
            ins.append(f"t{i}")
        nodes.append(MVAU.make_node(
            ins, ["y" if last else f"a{i + 1}"], name=f"MVAU_{i}", MW=mw, MH=mh, SIMD=1, PE=1,
            inputDataType="INT2", weightDataType="BIPOLAR", accDataType="INT13",
            outputDataType="INT13" if last else "INT2", noActivation=int(last), ActVal=0 if last else -2,
            numInputVectors=[1]))
    nodes[0].input[0] = "x"
    return testing.make_model(nodes, ("x", [1, 784]), ("y", [1, 10]), inits, dtypes=dtypes)


def test_auto_fold_counts_the_luts_of_weights_kept_in_luts():
    """Memory LUTs are structural: LFC-w1a2 at 50,000 fps on Pynq-Z1 may keep its 2.9 Mbit
    of weights in LUTs only if the estimate counts them (they were a fitted coefficient
    that had no samples for bipolar weights, so zero: 2,909 LUT for > 50,000 of memory)."""
    model, res = folding.auto_fold(lfc_w1a2_shaped(), PYNQ, 50000)
    for node in model.graph.node:
        lay = get_layer(node)
        _, mem = estimate.layer_features(lay, "7series")
        est = estimate.layer_resources(lay, "7series")
        assert est["LUT"] >= mem["LUT"], (node.name, est, mem)
    assert not estimate.over_capacity(res.total(), PYNQ.capacity)
    assert res.total()["LUT"] >= sum(estimate.layer_features(get_layer(n), "7series")[1]["LUT"]
                                     for n in model.graph.node)


@pytest.mark.parametrize("fps, parallel", [(1e6, 1), (2.5e6, 1), (5e5, 0), (1e5, 0)])
def test_a_target_beyond_the_serial_window_takes_the_parallel_one(fps, parallel):
    """tiny_gap_cnn's 3x3 window on 6x6 x 3 channels: the serial generator needs at least
    4*4*9 = 144 cycles (SIMD = 3), the parallel one 36 (a pixel per cycle). Targets of 100
    and 40 cycles take it (SIMD = C), 200 and 1000 do not."""
    model = flow.compile_model(testing.tiny_gap_cnn(channels=16))
    model, res = folding.auto_fold(model, PYNQ, fps)
    swg = layer(model, "ConvolutionInputGenerator_0")
    assert swg.parallel_window == parallel and (swg.SIMD == 3 or not parallel)
    assert swg.cycles() <= res.target_cycles and (swg.cycles() == 36) == bool(parallel)
    assert folding.hw_config(model)["ConvolutionInputGenerator_0"]["parallel_window"] == parallel
    assert folding.fastest_cycles(model, PYNQ) <= 40


def test_parallel_window_in_a_folding_config():
    model = flow.compile_model(testing.tiny_gap_cnn(channels=16))
    model, report = folding.apply_config(model, {"ConvolutionInputGenerator_0": {"SIMD": 3, "parallel_window": 1}})
    assert report.applied["ConvolutionInputGenerator_0"] == {"SIMD": 3, "parallel_window": 1}
    assert layer(model, "ConvolutionInputGenerator_0").output_folds() == [27]
    with pytest.raises(FoldingError, match="set SIMD=3, or parallel_window=0"):
        folding.apply_config(model, {"ConvolutionInputGenerator_0": {"SIMD": 1, "parallel_window": 1}})


def test_a_tied_depthwise_window_goes_parallel_only_when_needed():
    """testing.tiny_depthwise (3x3 on 8x8 x 4 channels): the window generator's SIMD is
    tied to the VVAU's PE; serial it needs 6*6*9 = 324 cycles at least (SIMD = PE = 4),
    parallel 64. A 100-cycle target takes the parallel one with PE = C, a 400-cycle one
    does not."""
    for fps, parallel in ((1e6, 1), (2.5e5, 0)):
        model = flow.compile_model(testing.tiny_depthwise(channels=4, image=8))
        model, res = folding.auto_fold(model, PYNQ, fps)
        swg, vvau = layer(model, "ConvolutionInputGenerator_0"), layer(model, "VVAU_0")
        assert swg.parallel_window == parallel and swg.SIMD == vvau.PE
        assert swg.cycles() == (64 if parallel else 324) and vvau.cycles() <= res.target_cycles
