"""JSON Schemas (draft 2020-12) of the build's report files, and `validate` against them.

The schemas are package data, `schemas/<report>.schema.json`, one per report file
(FINN's names): the per-layer resource, cycle and op/parameter estimates, the network
performance estimate, the time spent per build step and the measured rtlsim performance. They are the reference for the
reports' keys; writers validate before writing and readers may rely on them.
"""

from __future__ import annotations

import functools
import json
import pathlib

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

SCHEMA_DIR = pathlib.Path(__file__).parent / "schemas"
# What estimate.network() returns, by report name (each a report/<name>.json).
ESTIMATE_REPORTS = (
    "estimate_layer_resources",
    "estimate_layer_cycles",
    "estimate_network_performance",
    "op_and_param_counts",
)
SCHEMA_NAMES = (*ESTIMATE_REPORTS, "time_per_step", "rtlsim_performance")
_MAX_MESSAGE = 200  # the offending instance can be a whole report; keep the line short


@functools.cache
def schema(report_name: str) -> dict:
    """The schema of `report_name` ("estimate_layer_cycles" or "estimate_layer_cycles.json")."""
    name = report_name.removesuffix(".json")
    if name not in SCHEMA_NAMES:
        raise ValueError(f"unknown report {report_name!r}; known: {', '.join(SCHEMA_NAMES)}")
    loaded = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text())
    Draft202012Validator.check_schema(loaded)
    return loaded


def validate(report_name: str, obj) -> None:
    """Raises ValueError naming the report and the JSON path of the (most relevant) first
    problem when `obj` does not match the report's schema; returns None otherwise. (A
    report qnn2fpga wrote that does not match is a bug, not bad input: no QnnError.)"""
    error = best_match(Draft202012Validator(schema(report_name)).iter_errors(obj))
    if error is not None:
        message = " ".join(error.message.split())
        if len(message) > _MAX_MESSAGE:
            message = message[: _MAX_MESSAGE - 3] + "..."
        name = report_name.removesuffix(".json")
        raise ValueError(f"{name}.json does not match its schema at {error.json_path}: {message}")


# The resource names of the estimate reports, in report order (LUT, FF, BRAM_18K, URAM, DSP).
RESOURCES = tuple(schema("estimate_layer_resources")["$defs"]["resources"]["required"])
