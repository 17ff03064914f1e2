"""The HTML build report (html_report) and the report schemas (report_schemas)."""

from __future__ import annotations

import copy
import re

import pytest

from qnn2fpga import html_report, report_schemas

CAPACITY = {"LUT": 53200, "FF": 106400, "BRAM_18K": 280, "URAM": 0, "DSP": 220}


def _res(lut, ff=0, bram=0, uram=0, dsp=0) -> dict:
    return {"LUT": lut, "FF": ff, "BRAM_18K": bram, "URAM": uram, "DSP": dsp}


def example(cycles=(1000, 4000, 2000), names=None) -> dict:
    names = names or [f"MVAU_{i}" for i in range(len(cycles))]
    layers = [
        {"name": n, "op": "MVAU", "cycles": c, "folding": {"PE": 4, "SIMD": 8}, "resources": _res(100 * (i + 1), 50)}
        for i, (n, c) in enumerate(zip(names, cycles))
    ]
    total = {r: sum(layer["resources"][r] for layer in layers) for r in report_schemas.RESOURCES}
    worst = max(range(len(cycles)), key=lambda i: cycles[i])
    return {
        "model": "tfc_w1a1",
        "board": {"name": "Pynq-Z1", "part": "xc7z020clg400-1", "capacity": dict(CAPACITY)},
        "fclk_mhz": 100.0,
        "layers": layers,
        "total": total,
        "performance": {
            "max_cycles": cycles[worst], "max_cycles_node_name": names[worst],
            "critical_path_cycles": sum(cycles), "estimated_throughput_fps": 1e8 / cycles[worst],
            "estimated_latency_ns": 10.0 * sum(cycles), "fclk_mhz": 100.0,
        },
        "target_fps": 20000,
    }


def cycle_bars(html: str) -> dict[str, tuple[str, float]]:
    """Layer name (as escaped in the page) -> (class, width) of its bar in the cycle chart."""
    found = re.findall(r'<title>([^<]*): [\d,]+ cycles</title>.*?<rect class="([^"]*)" x="[^"]*" y="[^"]*" '
                       r'width="([^"]*)"', html, re.S)
    return {name: (css, float(width)) for name, css, width in found}


def test_every_layer_appears_in_chart_and_table():
    html = html_report.render(example())
    for name in ("MVAU_0", "MVAU_1", "MVAU_2"):
        assert f"<td>{name}</td>" in html
    assert set(cycle_bars(html)) == {"MVAU_0", "MVAU_1", "MVAU_2"}


def test_only_bottleneck_is_highlighted_and_bars_scale_to_it():
    html = html_report.render(example(cycles=(1000, 4000, 2000)))
    bars = cycle_bars(html)
    assert bars["MVAU_1"] == ("bar bottleneck", html_report.BAR_MAX)
    assert bars["MVAU_0"] == ("bar", html_report.BAR_MAX / 4)
    assert bars["MVAU_2"] == ("bar", html_report.BAR_MAX / 2)
    assert html.count('class="bar bottleneck"') == 1
    rows = re.findall(r'<tr class="bottleneck"><td>([^<]*)</td>', html)
    assert rows == ["MVAU_1"] and html.count('class="bottleneck"') == 1


def test_ties_for_the_maximum_are_all_bottlenecks():
    bars = cycle_bars(html_report.render(example(cycles=(4000, 1000, 4000))))
    assert [n for n, (css, _) in bars.items() if css == "bar bottleneck"] == ["MVAU_0", "MVAU_2"]


def test_names_are_escaped():
    html = html_report.render(example(names=["in<&>put", "MVAU_1", "x\"y'"]))
    assert "in&lt;&amp;&gt;put" in html and "in<&>put" not in html
    assert 'x"y' not in html
    assert "in&lt;&amp;&gt;put" in cycle_bars(html)


def test_output_is_deterministic_and_self_contained():
    data = example()
    html = html_report.render(data)
    assert html == html_report.render(copy.deepcopy(data))
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    for forbidden in ("http:", "https:", "<script", "src=", "<link", "/work/", "/tmp/"):
        assert forbidden not in html, forbidden


def test_header_shows_target_and_whether_met():
    data = example()  # 25,000 fps
    html = html_report.render(data)
    assert "Pynq-Z1" in html and "xc7z020clg400-1" in html and "100 MHz" in html
    assert "25,000 frames/s" in html and "20,000 frames/s" in html and 'class="met"' in html
    data["target_fps"] = 30000
    assert 'class="missed">not met' in html_report.render(data)
    data["target_fps"] = None
    assert "Target throughput" not in html_report.render(data)


def resource_bars(html: str) -> dict[str, tuple[str, float, str]]:
    """Resource -> (class, width, value text) in the capacity chart."""
    chart = html.split("<h2>Resources vs board capacity</h2>")[1]
    found = re.findall(r'<title>(\w+): [^<]*</title>.*?<rect class="track"[^>]*>\s*'
                       r'<rect class="([^"]*)" x="[^"]*" y="[^"]*" width="([^"]*)"[^>]*>\s*<text[^>]*>([^<]*)<',
                       chart, re.S)
    return {name: (css, float(width), text) for name, css, width, text in found}


def test_resources_against_capacity():
    data = example()
    data["total"]["LUT"] = 2 * CAPACITY["LUT"]  # over: red, drawn no wider than the track
    data["total"]["FF"] = CAPACITY["FF"] // 4
    bars = resource_bars(html_report.render(data))
    assert bars["LUT"] == ("res over", html_report.BAR_MAX, "106,400 / 53,200 (200.0%)")
    assert bars["FF"] == ("res", html_report.BAR_MAX / 4, "26,600 / 106,400 (25.0%)")
    assert bars["URAM"][0] == "res" and bars["URAM"][2].startswith("n/a")  # none on the board, none used
    data["total"]["URAM"] = 3  # used without capacity: over, not n/a
    uram = resource_bars(html_report.render(data))["URAM"]
    assert uram[0] == "res over" and uram[1] == html_report.BAR_MAX and "over capacity" in uram[2]
    assert [n for n, (css, _, _) in bars.items() if "over" in css] == ["LUT"]


def test_warnings_make_a_met_target_doubtful():
    data = example()  # 25,000 fps estimated, 20,000 targeted
    data["warnings"] = ["board 'pynq-z1': the folded design is estimated to need LUT 60000 of 53200"]
    html = html_report.render(data)
    assert 'class="met"' not in html and "met by the estimate, which has warnings" in html
    assert "<li>board &#39;pynq-z1&#39;: the folded design is estimated to need LUT 60000 of 53200</li>" in html


def test_rtlsim_results_and_inserted_streams_are_shown():
    data = example()
    assert "Measured in simulation" not in html_report.render(data)
    data["rtlsim"] = {"N": 10, "cycles_per_frame": 5000, "latency_cycles": 7100, "cycles_per_frame_over_estimate": 1.25}
    data["streams"] = [{"name": "StreamingFIFO_0", "op": "StreamingFIFO", "detail": "32 words x 8 bits",
                        "resources": _res(40, 20, 1)}]
    html = html_report.render(data)
    measured = html.split("Measured in simulation")[1].split("<h2>")[0]
    assert "20,000 frames/s (5,000 cycles per frame, 1.25 &times; the estimate)" in measured
    assert "7,100 cycles" in measured
    assert "in simulation <span class=\"met\">met</span>" in html  # 20,000 fps against a 20,000 target
    streams = html.split("<h2>FIFOs and width converters</h2>")[1].split("</table>")[0]
    assert "<td>StreamingFIFO_0</td><td>StreamingFIFO</td><td>32 words x 8 bits</td>" in streams
    # the board's share counts the stream: 600 + 40 LUTs, 0 + 1 BRAM
    bars = resource_bars(html)
    assert bars["LUT"][2].startswith("640 /") and bars["BRAM_18K"][2].startswith("1 /")
    data["target_fps"] = 21000
    assert "in simulation <span class=\"missed\">not met</span>" in html_report.render(data)


# --- report schemas -----------------------------------------------------------------------

VALID = {
    "estimate_layer_resources": {
        "MVAU_0": {**_res(500, 300, 2, 0, 0), "calibrated": True},
        "LabelSelect_0": {**_res(40, 30), "calibrated": False},
        "total": _res(540, 330, 2),
    },
    "estimate_layer_cycles": {"MVAU_0": 3136, "LabelSelect_0": 10},
    "estimate_network_performance": {
        "max_cycles": 3136, "max_cycles_node_name": "MVAU_0", "critical_path_cycles": 3200,
        "estimated_throughput_fps": 31887.76, "estimated_latency_ns": 32000.0, "fclk_mhz": 100,
    },
    "op_and_param_counts": {
        "MVAU_0": {"op_mac_BINARY_BIPOLAR": 50176, "param_weight_BIPOLAR": 50176, "param_threshold_INT11": 64},
        "total": {"op_mac_BINARY_BIPOLAR": 50176, "param_weight_BIPOLAR": 50176, "param_threshold_INT11": 64},
    },
    "time_per_step": {"import": 0.42, "to_hw": 1.5, "estimate": 0},
    "rtlsim_performance": {
        "N": 10, "cycles": 850, "runtime[ms]": 0.0085, "throughput[images/s]": 1176470.6,
        "stable_throughput[images/s]": 1562500.0, "latency_cycles": 207, "fclk[MHz]": 100.0,
        "cycles_per_frame": 64.0, "estimated_bottleneck_cycles": 64, "estimated_bottleneck_node": "MVAU_0",
        "cycles_per_frame_over_estimate": 1.0, "fifo_depths": {"StreamingFIFO_0": 2},
        "fifo_max_occupancy": {"StreamingFIFO_0": 1}, "fifo_sizing_seconds": 11.6, "sim_cycles_per_second": 2e6},
}


def test_schema_names_match_the_schema_files():
    files = sorted(p.name for p in report_schemas.SCHEMA_DIR.glob("*.schema.json"))
    assert files == sorted(f"{n}.schema.json" for n in report_schemas.SCHEMA_NAMES)
    assert report_schemas.RESOURCES == ("LUT", "FF", "BRAM_18K", "URAM", "DSP")


@pytest.mark.parametrize("name", report_schemas.SCHEMA_NAMES)
def test_valid_reports_pass(name):
    report_schemas.validate(name, VALID[name])
    report_schemas.validate(name + ".json", VALID[name])


def _without_total(r):
    del r["total"]


def _negative_lut(r):
    r["MVAU_0"]["LUT"] = -1


def _string_cycles(r):
    r["MVAU_0"] = "3136"


def _wrong_op_key(r):
    r["MVAU_0"]["mac_BINARY_BIPOLAR"] = 1


def _extra_resource(r):
    r["total"]["LUTRAM"] = 3


def _missing_fclk(r):
    del r["fclk_mhz"]


def _bool_cycles(r):
    r["LabelSelect_0"] = True


def _zero_depth(r):
    r["fifo_depths"]["StreamingFIFO_0"] = 0


def _negative_time(r):
    r["import"] = -0.1


@pytest.mark.parametrize("name, break_it, path", [
    ("estimate_layer_resources", _without_total, "$"),
    ("estimate_layer_resources", _negative_lut, "$.MVAU_0.LUT"),
    ("estimate_layer_resources", _extra_resource, "$.total"),
    ("estimate_layer_cycles", _string_cycles, "$.MVAU_0"),
    ("estimate_layer_cycles", _bool_cycles, "$.LabelSelect_0"),
    ("op_and_param_counts", _without_total, "$"),
    ("op_and_param_counts", _wrong_op_key, "$.MVAU_0"),
    ("estimate_network_performance", _missing_fclk, "$"),
    ("time_per_step", _negative_time, "$.import"),
    ("rtlsim_performance", _zero_depth, "$.fifo_depths.StreamingFIFO_0"),
])
def test_invalid_reports_fail_naming_report_and_path(name, break_it, path):
    report = copy.deepcopy(VALID[name])
    break_it(report)
    with pytest.raises(ValueError) as e:
        report_schemas.validate(name, report)
    message = str(e.value)
    assert "\n" not in message
    assert message.startswith(f"{name}.json does not match its schema at {path}: "), message


def test_unknown_report_name():
    with pytest.raises(ValueError, match="unknown report"):
        report_schemas.validate("estimate_layer_cycle", {})


def test_render_rejects_bad_performance():
    data = example()
    data["performance"]["max_cycles"] = "4000"
    with pytest.raises(ValueError, match=r"estimate_network_performance\.json .* at \$\.max_cycles"):
        html_report.render(data)
