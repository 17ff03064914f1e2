"""Resource and cycle estimates for hardware layers and whole dataflow graphs.

Per layer: the LUTs of the memories kept in LUTs (`memories()` mapped by
layers/resources.map_memory: distributed RAM, or tables in logic) are structural and
added as they are, like block RAM, UltraRAM and DSP counts (the layer's "dsp" feature).
The rest of LUT, and FF, are linear in the layer's `resource_features()` (FF also in
`mem_lut`, the memories' LUTs), with coefficients per device family and op type from the
data file `estimates/resource_models.json` (fitted to the Yosys runs of the layer test
grid by `bazel run //python/qnn2fpga:calibrate_resources`, which refuses a model with a
feature no run exercises). An op without a calibrated model uses the documented generic
model and is reported with "calibrated": false.

Units are the reports': LUT counts every LUT site (logic, distributed RAM, shift
registers), BRAM_18K counts a 36 Kb block as two.
"""

from __future__ import annotations

import functools
import json
import math
import pathlib

from qnn2fpga.errors import BoardError
from qnn2fpga.boards import FAMILIES
from qnn2fpga.layers.resources import map_memory
from qnn2fpga.report_schemas import RESOURCES
# Yosys synthesis family names (yosys_synth) -> device families.
SYNTH_FAMILY = {"xc7": "7series", "xcup": "ultrascale_plus"}
MODEL_FILE = pathlib.Path(__file__).parent / "estimates" / "resource_models.json"

# Ops without Yosys data: every feature costs one LUT and a stream bit one FF; a plain
# register bit (`reg_bits`: a clock enable, no multiplexer in front) one FF and no LUT.
GENERIC_MODEL = {"LUT": {"one": 20.0, "reg_bits": 0.0, "*": 1.0},
                 "FF": {"one": 10.0, "stream_bits": 1.0, "acc_bits": 1.0, "reg_bits": 1.0}}


@functools.lru_cache(maxsize=None)
def _load(path: str) -> dict:
    return json.loads(pathlib.Path(path).read_text())


def models(path: pathlib.Path | str = MODEL_FILE) -> dict:
    """The resource model data: {"families": {family: {op: {"LUT": {feature: coef}, "FF": ...,
    "features": [the features its Yosys runs exercised]}}}}."""
    return _load(str(path))


# Features a resource's fitted model does not use: the DSP count is structural, and so
# are the memories' LUTs (`mem_lut`), which the LUT estimate adds with coefficient 1.
NOT_FITTED = {"LUT": ("dsp", "mem_lut"), "FF": ("dsp",)}


def _apply(coefs: dict, feats: dict, resource: str) -> float:
    default = coefs.get("*", 0.0)
    return sum(coefs.get(name, default) * value for name, value in feats.items()
               if name not in NOT_FITTED[resource])


def layer_features(layer, family: str) -> tuple[dict, dict]:
    """The layer's features (plus `mem_lut`, its memories' LUTs, when it has memories) and
    its memories' primitives {"BRAM_18K", "URAM", "LUT"} on `family` (the model's inputs,
    also for calibration)."""
    feats = dict(layer.resource_features())
    totals = {"BRAM_18K": 0, "URAM": 0, "LUT": 0}
    mems = layer.memories()
    for mem in mems:
        for key, n in map_memory(mem, family).items():
            totals[key] += n
    if mems:
        feats["mem_lut"] = totals["LUT"]
    return feats, totals


def layer_resources(layer, family: str, model_data: dict | None = None) -> dict:
    """{"LUT", "FF", "BRAM_18K", "URAM", "DSP", "calibrated"} of one layer on `family`."""
    if family not in FAMILIES:
        raise BoardError(f"device family '{family}'", "has no resource model", f"use one of {list(FAMILIES)}")
    feats, totals = layer_features(layer, family)
    data = (model_data or models())["families"].get(family, {})
    model = data.get(layer.resource_class()) or data.get(layer.op_type)
    calibrated = model is not None
    model = model or GENERIC_MODEL
    # Features the model was fitted without (no Yosys run had them): the generic model's
    # cost, not a silent zero, and the estimate is marked uncalibrated.
    unfitted = {k: v for k, v in feats.items() if v and k != "dsp" and k not in model.get("features", feats)}
    calibrated = calibrated and not unfitted
    if not any(v for k, v in feats.items() if k != "one"):  # e.g. an equal-width converter: wires
        lut = ff = 0.0
    else:
        lut, ff = (_apply(model[r], feats, r) + _apply(GENERIC_MODEL[r], unfitted, r) for r in ("LUT", "FF"))
    # memory LUTs are structural: never scaled by a fitted coefficient (which could be zero)
    return {"LUT": int(math.ceil(max(0.0, lut))) + totals["LUT"], "FF": int(math.ceil(max(0.0, ff))),
            "BRAM_18K": totals["BRAM_18K"], "URAM": totals["URAM"], "DSP": int(feats.get("dsp", 0)),
            "calibrated": calibrated}


def total(per_layer: dict[str, dict]) -> dict:
    return {r: sum(v[r] for v in per_layer.values()) for r in RESOURCES}


def over_capacity(total_res: dict, capacity: dict, max_utilization: float = 1.0) -> dict:
    """The resources of `total_res` (FF aside: never the binding one) beyond
    `max_utilization` of a board's `capacity`, with their totals."""
    return {r: total_res[r] for r in RESOURCES if r != "FF" and total_res[r] > capacity[r] * max_utilization}


def weighted_cost(res: dict, capacity: dict) -> float:
    """One number to minimize: every resource in LUT-equivalents, weighted by how scarce
    it is on the board (a BRAM_18K on a board with 53200 LUTs and 280 BRAMs weighs 190
    LUTs). A resource the board lacks is infinitely expensive."""
    cost = 0.0
    for r in RESOURCES:
        if r == "FF" or not res.get(r):
            continue
        if capacity.get(r, 0) <= 0:
            return math.inf
        cost += res[r] * capacity["LUT"] / capacity[r]
    return cost


def bottlenecks(cycles: dict[str, int]) -> list[str]:
    """Every layer at the most cycles per frame, in the order of `cycles` (graph order).
    The first is the one a report names alone (`max_cycles_node_name`); the log and the
    HTML report list them all."""
    most = max(cycles.values(), default=0)
    return [name for name, c in cycles.items() if c == most and most > 0]


def network(model, family: str, fclk_mhz: float) -> dict:
    """The estimate reports of a hardware graph, by FINN file name (without .json):
    estimate_layer_resources, estimate_layer_cycles, estimate_network_performance,
    op_and_param_counts."""
    from qnn2fpga.layers.registry import get_layer, is_hw_layer  # noqa: PLC0415

    nodes = [n for n in model.graph.node if is_hw_layer(n)]
    layers = {n.name: get_layer(n) for n in nodes}
    resources = {name: layer_resources(layer, family) for name, layer in layers.items()}
    cycles = {name: int(layer.cycles()) for name, layer in layers.items()}
    counts = {name: layer.op_and_param_counts() for name, layer in layers.items()}
    count_total: dict = {}
    for c in counts.values():
        for k, v in c.items():
            count_total[k] = count_total.get(k, 0) + v
    # Critical path: the longest chain of per-layer cycles from an input to an output.
    longest: dict = {}
    for n in nodes:  # nodes are in topological order
        preds = [p for p in (model.find_direct_predecessors(n) or []) if p.name in longest]
        longest[n.name] = cycles[n.name] + max((longest[p.name] for p in preds), default=0)
    max_node = next(iter(bottlenecks(cycles)), "")
    max_cycles = cycles.get(max_node, 0)
    critical = max(longest.values(), default=0)
    perf = {"max_cycles": max_cycles, "max_cycles_node_name": max_node, "critical_path_cycles": critical,
            "estimated_throughput_fps": round(fclk_mhz * 1e6 / max_cycles, 3) if max_cycles else 0.0,
            "estimated_latency_ns": round(critical * 1e3 / fclk_mhz, 3), "fclk_mhz": fclk_mhz}
    return {"estimate_layer_resources": {**resources, "total": total(resources)},
            "estimate_layer_cycles": cycles,
            "estimate_network_performance": perf,
            "op_and_param_counts": {**counts, "total": count_total}}
