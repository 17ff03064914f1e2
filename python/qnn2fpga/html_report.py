"""The build report as one self-contained HTML page (`report/build_report.html`).

`render(data)` lays out the page from the estimates: a header (model, board, clock,
estimated throughput and latency against the target), the warnings that make the
estimate doubtful (a target "met" by an estimate with warnings says so), what the
stitched design measured in simulation once it has run, a bar chart of cycles per layer
with the bottleneck layer(s) highlighted, a per-layer table (folding, cycles,
resources), the FIFOs and width converters inserted between the layers, and the total
resources against the board's capacity. The page has no
external references and no script: inline CSS and SVG only. All geometry is computed
here; the template (`templates/build_report.html.j2`) only places numbers and text.
Output is a pure function of `data`: no timestamps, no paths.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass

import jinja2

from qnn2fpga import report_schemas
from qnn2fpga.report_schemas import RESOURCES

TEMPLATE_DIR = pathlib.Path(__file__).parent / "templates"
TEMPLATE = "build_report.html.j2"
REPORT_FILE = "build_report.html"

# Colours by CSS class; tests look for the bottleneck colour in a screenshot.
COLOURS = {
    "bar": "#4e79a7",
    "bottleneck": "#f28e2b",
    "res": "#59a14f",
    "over": "#e15759",
    "track": "#e6e6e6",
}

# Chart geometry in SVG user units (CSS px).
LABEL_W = 230  # left column for names
BAR_MAX = 560  # the longest bar
VALUE_W = 200  # right of the longest bar, for its value text
ROW_H = 24
BAR_H = 16
LEGEND_H = 26
MAX_LABEL = 30  # characters of a name shown beside its bar (the table has the full name)


@dataclass(frozen=True)
class Bar:
    y: float  # top of the bar
    width: float
    label: str  # beside the bar, left
    title: str  # tooltip
    value: str  # beside the bar, right
    css: str  # class of the bar's rect


def _label(name: str) -> str:
    return name if len(name) <= MAX_LABEL else name[: MAX_LABEL - 1] + "\u2026"


def _cycle_bars(layers: list[dict], max_cycles: int, bottleneck: list[bool]) -> list[Bar]:
    """One bar per layer, scaled to the slowest; the bottleneck layers get their own class."""
    bars = []
    for i, layer in enumerate(layers):
        cycles = layer["cycles"]
        width = BAR_MAX * cycles / max_cycles if max_cycles else 0.0
        bars.append(Bar(
            y=LEGEND_H + i * ROW_H, width=round(width, 2), label=_label(layer["name"]),
            title=f"{layer['name']}: {cycles:,} cycles", value=f"{cycles:,}",
            css="bar bottleneck" if bottleneck[i] else "bar",
        ))
    return bars


def _resource_bars(total: dict, capacity: dict) -> list[Bar]:
    """One bar per resource, total / capacity; over 100 % is drawn full width in the
    "over" colour. A resource the board lacks (capacity 0) is n/a unless it is used."""
    bars = []
    for i, res in enumerate(RESOURCES):
        used, cap = total[res], capacity[res]
        if cap > 0:
            fraction = used / cap
            value = f"{used:,} / {cap:,} ({100 * fraction:.1f}%)"
        else:
            fraction = float("inf") if used > 0 else 0.0
            value = f"{used:,} / 0 (over capacity)" if used > 0 else "n/a (none on this board)"
        over = fraction > 1.0
        bars.append(Bar(
            y=i * ROW_H, width=round(BAR_MAX * min(fraction, 1.0), 2), label=res,
            title=f"{res}: {value}", value=value, css="res over" if over else "res",
        ))
    return bars


def _duration(ns: float) -> str:
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("\u00b5s", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.2f} {unit}"
    return f"{ns:.0f} ns"


def _rate(fps: float) -> str:
    return f"{fps:,.0f}" if fps >= 100 else f"{fps:,.2f}"


def _rtlsim(perf: dict | None, target: float | None, fclk_mhz: float) -> dict | None:
    """The measured side (rtlsim_performance.json), if the build simulated the design."""
    if not perf:
        return None
    cycles = perf["cycles_per_frame"]
    fps = fclk_mhz * 1e6 / cycles if cycles else 0.0
    return {"fps": _rate(fps), "cycles": cycles, "latency_cycles": perf["latency_cycles"],
            "frames": perf["N"], "over_estimate": f"{perf['cycles_per_frame_over_estimate']:g}",
            "met": None if target is None else fps >= target}


def view(data: dict) -> dict:
    """What the template shows: `data` (see `render`) turned into text and geometry."""
    report_schemas.validate("estimate_network_performance", data["performance"])
    perf, layers, target = data["performance"], data["layers"], data["target_fps"]
    max_cycles = max((layer["cycles"] for layer in layers), default=0)
    # Every layer at the maximum limits throughput (none when nothing takes a cycle).
    bottleneck = [max_cycles > 0 and layer["cycles"] == max_cycles for layer in layers]
    fps = perf["estimated_throughput_fps"]
    streams = list(data.get("streams") or [])
    # The board's share counts the inserted FIFOs and width converters too.
    grand = {r: data["total"][r] + sum(st["resources"][r] for st in streams) for r in RESOURCES}
    return {
        "model": data["model"],
        "board": data["board"],
        "fclk_mhz": f"{data['fclk_mhz']:g}",
        "fps": _rate(fps),
        "latency": _duration(perf["estimated_latency_ns"]),
        "target": None if target is None else {"fps": _rate(target), "met": fps >= target},
        "warnings": list(data.get("warnings") or []),
        "rtlsim": _rtlsim(data.get("rtlsim"), target, data["fclk_mhz"]),
        "streams": [{**st, "resources": [st["resources"][r] for r in RESOURCES]} for st in streams],
        "with_streams": [grand[r] for r in RESOURCES],
        "bottlenecks": [layer["name"] for layer, b in zip(layers, bottleneck) if b],
        "max_cycles": max_cycles,
        "resources": RESOURCES,
        "rows": [
            {
                "name": layer["name"],
                "op": layer["op"],
                "folding": ", ".join(f"{k}={v}" for k, v in layer["folding"].items()) or "-",
                "cycles": layer["cycles"],
                "resources": [layer["resources"][r] for r in RESOURCES],
                "css": "bottleneck" if b else "",
            }
            for layer, b in zip(layers, bottleneck)
        ],
        "total": [data["total"][r] for r in RESOURCES],
        "cycle_chart": {
            "bars": _cycle_bars(layers, max_cycles, bottleneck),
            "height": LEGEND_H + len(layers) * ROW_H,
        },
        "resource_chart": {
            "bars": _resource_bars(grand, data["board"]["capacity"]),
            "height": len(RESOURCES) * ROW_H,
        },
        "geometry": {"label_w": LABEL_W, "bar_max": BAR_MAX, "width": LABEL_W + BAR_MAX + VALUE_W,
                     "bar_h": BAR_H, "text_dy": BAR_H - 4},
        "colours": COLOURS,
    }


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["n"] = lambda v: f"{v:,}"
    return env


def render(data: dict) -> str:
    """The report page for `data`:
    {"model": str, "board": {"name", "part", "capacity": {LUT, FF, BRAM_18K, URAM, DSP}},
     "fclk_mhz": float, "layers": [{"name", "op", "cycles", "folding": {attr: value},
     "resources": {...}}], "total": {...}, "performance": <estimate_network_performance>,
     "target_fps": number or None, and optionally "warnings": [str], "rtlsim":
     <rtlsim_performance>, "streams": [{"name", "op", "detail"}] (FIFOs and width
     converters)}."""
    return _environment().get_template(TEMPLATE).render(**view(data))


def write(data: dict, report_dir: pathlib.Path) -> pathlib.Path:
    """Renders `data` into `report_dir/build_report.html` and returns that path."""
    path = pathlib.Path(report_dir) / REPORT_FILE
    path.write_text(render(data), encoding="utf-8")
    return path
