"""Fits the per-family LUT/FF resource models to Yosys runs and reports their accuracy.

    bazel run //python/qnn2fpga:calibrate_resources            # rewrite the model file
    bazel run //python/qnn2fpga:calibrate_resources -- --check # fail if it is stale

Reads resource_report.json files (//rtl/layer_tests:resource_report: every layer
configuration of the test grid and the calibration set, synthesized for xc7 and xcup),
computes each configuration's features (layer.resource_features(), plus mem_lut: the
LUTs of its memories kept in LUTs by layers/resources.map_memory; a parameter variant
is left out unless the layer declares it by an attribute of the same name, as
Thresholding's shared_thresholds: otherwise the estimate assumes the general case), and
fits, per op type, family and resource, non-negative coefficients minimizing the squared
relative error (scipy.optimize.nnls on rows scaled by 1/max(count, FLOOR)). Memory LUTs
are structural, not fitted: the LUT model is fitted to Yosys's LUT count minus mem_lut,
and the estimate adds mem_lut back (qnn2fpga/estimate.py).
A feature that no configuration of an op type exercises (zero in every run) would get a
silent zero coefficient: calibration refuses it, naming op, family and feature. Writes
python/qnn2fpga/estimates/resource_models.json: the coefficients and, per op and
family, the fit's accuracy (median and worst |error| for LUT, FF and BRAM_18K).
"""

from __future__ import annotations

import json
import os
import pathlib
import sys

import numpy as np
from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_multi_string("report", [], "resource_report.json from hw_layer_resource_report (repeatable)")
flags.DEFINE_string("output", None, "model file to write (default: the source tree's, under bazel run)")
flags.DEFINE_boolean("check", False, "do not write: exit 1 when the model file differs from a fresh fit")

FLOOR = 30.0  # counts below this are weighted as if they were this (relative error of tiny layers)


def layer_from_attrs(op: str, attrs: dict):
    from qnn2fpga.layers import LAYERS  # noqa: PLC0415

    cls = LAYERS[op]
    return cls(cls.make_node(["x"], ["y"], name=op, **attrs))


def modelled(row: dict) -> bool:
    """Whether the estimate sees a report row as it was synthesized: no parameter variant,
    or one its attributes declare (attribute named as the variant, set)."""
    variant = row.get("variant")
    return not variant or bool(row["attrs"].get(variant))


def samples(reports: list[dict]) -> dict:
    """{(resource class, op, family): [(name, attrs, features, truth)]} over every
    synthesized configuration."""
    from qnn2fpga import estimate  # noqa: PLC0415

    out: dict = {}
    for report in reports:
        for row in report["layers"]:
            if not modelled(row):
                continue
            layer = layer_from_attrs(row["op"], row["attrs"])
            for synth_family, family in estimate.SYNTH_FAMILY.items():
                counts = row.get(synth_family)
                if counts is None:
                    continue
                feats, _ = estimate.layer_features(layer, family)
                truth = {"LUT": counts["LUT_ALL"], "FF": counts["FF"], "BRAM_18K": counts["BRAM_18K"],
                         "URAM": counts["URAM"], "DSP": counts["DSP"]}
                out.setdefault((layer.resource_class(), row["op"], family), []).append(
                    (row["name"], row["attrs"], feats, truth))
    return out


def cell(layer, family: str) -> tuple[str, str, str, str]:
    """The calibration cell of a layer: (resource class, weight kind: bipolar, binary, int
    or -, mem_mode or -, where its largest memory goes on `family`: lut, block, uram or
    none). The example networks' cells must all have Yosys runs (estimate_accuracy_test)."""
    from qnn2fpga.layers import numerics  # noqa: PLC0415
    from qnn2fpga.layers.resources import map_memory  # noqa: PLC0415

    declared = layer.declared_attrs()
    wdt = layer.attr("weightDataType") if "weightDataType" in declared else None
    kind = "-" if wdt is None else ("bipolar" if wdt == numerics.BIPOLAR else
                                    "binary" if wdt.name == "BINARY" else "int")
    mode = layer.attr("mem_mode") if "mem_mode" in declared else "-"
    mems = layer.memories()
    place = "none"
    if mems:
        prims = map_memory(max(mems, key=lambda m: m.bits), family)
        place = "uram" if prims["URAM"] else "block" if prims["BRAM_18K"] else "lut"
    return layer.resource_class(), kind, mode, place


class CalibrationError(ValueError):
    """A model calibration cannot fit honestly (e.g. a feature without samples)."""


def unsampled(rows: list) -> list[str]:
    """Features that the layers of these rows have but that are zero in every row."""
    names = {k for _, _, f, _ in rows for k in f} - {"dsp"}
    return sorted(k for k in names if not any(f.get(k) for _, _, f, _ in rows))


def fit(rows: list, resource: str, where: str = "") -> dict:
    """Non-negative coefficients of `resource` (LUT: Yosys's count minus the structural
    mem_lut) over the rows' features; refuses features without samples."""
    from qnn2fpga import estimate  # noqa: PLC0415
    from scipy.optimize import nnls  # noqa: PLC0415

    missing = unsampled(rows)
    if missing:
        raise CalibrationError(
            f"{where or 'calibration'}: feature(s) {', '.join(missing)} are zero in every one of the "
            f"{len(rows)} Yosys run(s), so their {resource} coefficients would silently be 0; fix: add "
            "configurations that exercise them to rtl/layer_tests/BUILD.bazel and synthesize them")
    skip = estimate.NOT_FITTED[resource]
    names = sorted({k for _, _, f, _ in rows for k in f if k not in skip})
    x = np.array([[f.get(k, 0.0) for k in names] for _, _, f, _ in rows], dtype=float)
    y = np.array([t[resource] for _, _, _, t in rows], dtype=float)
    w = 1.0 / np.maximum(y, FLOOR)  # relative error of the whole count
    if "mem_lut" in skip:  # structural: the model covers the rest
        y = y - np.array([f.get("mem_lut", 0.0) for _, _, f, _ in rows], dtype=float)
    coef, _ = nnls(x * w[:, None], y * w, maxiter=50 * len(names) + 100)
    return {k: round(float(c), 6) for k, c in zip(names, coef) if c > 0}


def errors(rows: list, op: str, family: str, model_data: dict) -> dict:
    """Median and worst relative |error| per resource (BRAM: over rows where either is > 0)."""
    from qnn2fpga import estimate  # noqa: PLC0415

    errs: dict = {"LUT": [], "FF": [], "BRAM_18K": []}
    worst_name = {}
    for name, attrs, _, truth in rows:
        est = estimate.layer_resources(layer_from_attrs(op, attrs), family, model_data)
        for r in errs:
            if r == "BRAM_18K" and not (truth[r] or est[r]):
                continue
            e = abs(est[r] - truth[r]) / max(truth[r], 1)
            errs[r].append(e)
            if e >= max(errs[r]):
                worst_name[r] = name
    out = {"samples": len(rows)}
    for r, v in errs.items():
        if v:
            out[r] = {"median": round(float(np.median(v)), 4), "worst": round(float(np.max(v)), 4),
                      "worst_config": worst_name[r]}
    return out


def calibrate(reports: list[dict]) -> dict:
    data = samples(reports)
    model = {"doc": "Generated by //python/qnn2fpga:calibrate_resources from Yosys runs; do not edit. "
                    "Estimate = sum(coefficient * feature) per op, family and resource, plus the structural "
                    "LUTs of memories kept in LUTs for LUT (see qnn2fpga/estimate.py).",
             "families": {}, "accuracy": {}}
    for (cls, op, family), rows in sorted(data.items()):
        where = f"{cls} on {family}"
        model["families"].setdefault(family, {})[cls] = {
            "LUT": fit(rows, "LUT", where), "FF": fit(rows, "FF", where),
            # what the runs exercised: a layer with another feature is estimated as uncalibrated
            "features": sorted({k for _, _, f, _ in rows for k in f} - {"dsp"})}
    by_op: dict = {}
    for (cls, op, family), rows in sorted(data.items()):
        by_op.setdefault((op, family), []).extend(rows)
    for (op, family), rows in sorted(by_op.items()):
        model["accuracy"].setdefault(family, {})[op] = errors(rows, op, family, model)
    return model


def _default_output() -> pathlib.Path:
    ws = os.environ.get("BUILD_WORKSPACE_DIRECTORY")
    from qnn2fpga import estimate  # noqa: PLC0415

    if ws:
        return pathlib.Path(ws) / "python" / "qnn2fpga" / "estimates" / "resource_models.json"
    return estimate.MODEL_FILE


def main(argv):
    # Reports as --report flags or positional paths (bazel run passes the report target's
    # files: the .json is used, the .md ignored).
    paths = FLAGS.report + [a for a in argv[1:] if a.endswith(".json")]
    reports = [json.loads(pathlib.Path(p).read_text()) for p in paths]
    if not reports:
        print("calibrate_resources: pass --report=resource_report.json", file=sys.stderr)
        return 2
    try:
        text = json.dumps(calibrate(reports), indent=1, sort_keys=True) + "\n"
    except CalibrationError as e:
        print(f"calibrate_resources: {e}", file=sys.stderr)
        return 1
    out = pathlib.Path(FLAGS.output) if FLAGS.output else _default_output()
    if FLAGS.check:
        if not out.exists() or out.read_text() != text:
            print(f"calibrate_resources: {out} is stale; regenerate it with "
                  "'bazel run //python/qnn2fpga:calibrate_resources'", file=sys.stderr)
            return 1
        print(f"{out} is up to date")
        return 0
    out.write_text(text)
    acc = json.loads(text)["accuracy"]
    for family, ops in acc.items():
        for op, a in ops.items():
            lut = a.get("LUT", {})
            print(f"{family:16s} {op:28s} n={a['samples']:3d} LUT median {lut.get('median', 0):.1%} "
                  f"worst {lut.get('worst', 0):.1%}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    app.run(main)
