"""The build flow: QONNX in, a folded hardware graph and its estimate reports out.

    qnn2fpga build MODEL.onnx --board pynq-z1 (--target_fps N | --folding F.json) --output_dir DIR

Named steps (FINN's names where they exist): the compile steps of qnn2fpga.flow
(import, to_integer, streamline, lower, to_hw), then `target_fps_parallelization`
(with --target_fps) or `apply_folding_config` (with --folding), then
`generate_estimate_reports`. DIR receives (FINN's names):

    build_dataflow.log, time_per_step.json, intermediate_models/<i>_<step>.onnx,
    auto_folding_config.json (automatic folding), final_hw_config.json,
    report/estimate_layer_resources.json, estimate_layer_cycles.json,
    estimate_network_performance.json, op_and_param_counts.json, build_report.html

The build writes into a fresh sibling directory and renames it to DIR only when every
step succeeded, so DIR never holds a half-written build.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import tempfile
import time
from dataclasses import dataclass
from typing import Callable

from qnn2fpga import boards, estimate, flow, folding, html_report, report_schemas
from qnn2fpga.errors import FoldingError, InputFileError

FOLD_STEPS = ("target_fps_parallelization", "apply_folding_config")
STEPS = (*flow.STEP_NAMES, "fold", "generate_estimate_reports")


@dataclass(frozen=True)
class BuildConfig:
    model: str
    output_dir: str
    board: str
    target_fps: float | None = None
    folding_config: str | None = None
    fclk_mhz: float | None = None
    topk: int = 0
    stop_step: str | None = None
    mvau_wwidth_max: int = folding.DEFAULT_WWIDTH_MAX


def _write_json(path: pathlib.Path, obj, schema: str | None = None) -> None:
    if schema:
        report_schemas.validate(schema, obj)
    path.write_text(json.dumps(obj, indent=2) + "\n")  # insertion order: graph and step order


def load_folding(path: str) -> dict:
    where = f"folding config '{path}'"
    if not os.path.isfile(path):
        raise InputFileError(where, "does not exist", "check the path of --folding")
    try:
        return json.loads(pathlib.Path(path).read_text())
    except json.JSONDecodeError as e:
        raise InputFileError(where, f"is not valid JSON ({e.msg} at line {e.lineno})", "fix the JSON syntax") from None


def check_config(cfg: BuildConfig) -> None:
    """Refuses bad arguments before any work (and before DIR is touched)."""
    if (cfg.target_fps is None) == (cfg.folding_config is None):
        raise FoldingError("build", "needs exactly one of --target_fps and --folding",
                           "pass --target_fps=N for automatic folding or --folding=F.json")
    if cfg.stop_step is not None and cfg.stop_step not in STEPS:
        raise InputFileError("--stop_step", f"'{cfg.stop_step}' is not a step", f"use one of {', '.join(STEPS)}")
    boards.load_board(cfg.board)
    if cfg.folding_config:
        load_folding(cfg.folding_config)
    if not os.path.isfile(cfg.model):
        raise InputFileError(f"file '{cfg.model}'", "does not exist", "check the model path")


def build(cfg: BuildConfig, log: Callable[[str], None] = print) -> dict:
    """Runs the build; returns {"output_dir", "performance", "warnings"}."""
    check_config(cfg)
    board = boards.load_board(cfg.board)
    fclk = cfg.fclk_mhz or board.default_clock_mhz
    out = pathlib.Path(cfg.output_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        result = _run(cfg, board, fclk, work, log)
        if out.exists():
            shutil.rmtree(out)
        os.replace(work, out)
        result["output_dir"] = str(out)
        return result
    finally:
        if work.exists():
            shutil.rmtree(work)


def _run(cfg: BuildConfig, board, fclk: float, work: pathlib.Path, log) -> dict:
    (work / "intermediate_models").mkdir()
    (work / "report").mkdir()
    times: dict = {}
    lines: list[str] = []

    def say(msg: str) -> None:
        lines.append(msg)
        log(msg)

    def finish(result: dict) -> dict:
        _write_json(work / "time_per_step.json", times, "time_per_step")
        (work / "build_dataflow.log").write_text("\n".join(lines) + "\n")
        return result

    model = flow.load_model(cfg.model)
    options = flow.CompileOptions(topk=cfg.topk)
    steps = flow.run_steps(model, options)
    for i, name in enumerate(flow.STEP_NAMES, start=1):
        say(f"step {i}/{len(STEPS)}: {name}")
        t0 = time.perf_counter()
        _, model = next(steps)
        times[name] = round(time.perf_counter() - t0, 3)
        model.save(str(work / "intermediate_models" / f"{i}_{name}.onnx"))
        if cfg.stop_step == name:
            return finish({"performance": None, "warnings": []})
    from qnn2fpga.report import check_converted  # noqa: PLC0415

    check_converted(model)

    i = len(flow.STEP_NAMES) + 1
    warnings: list[str] = []
    t0 = time.perf_counter()
    if cfg.target_fps is not None:
        step = "target_fps_parallelization"
        say(f"step {i}/{len(STEPS)}: {step} ({cfg.target_fps:g} fps at {fclk:g} MHz on {board.name})")
        model, res = folding.auto_fold(model, board, cfg.target_fps, fclk, wwidth_max=cfg.mvau_wwidth_max)
        _write_json(work / "auto_folding_config.json", folding.hw_config(model))
    else:
        step = "apply_folding_config"
        say(f"step {i}/{len(STEPS)}: {step} ({cfg.folding_config})")
        model, rep = folding.apply_config(model, load_folding(cfg.folding_config), f"folding config '{cfg.folding_config}'")
        warnings = rep.warnings()
        for w in warnings:
            say(f"warning: {w}")
    times[step] = round(time.perf_counter() - t0, 3)
    model.save(str(work / "intermediate_models" / f"{i}_{step}.onnx"))
    _write_json(work / "final_hw_config.json", folding.hw_config(model))
    if cfg.stop_step == "fold":
        return finish({"performance": None, "warnings": warnings})

    i += 1
    say(f"step {i}/{len(STEPS)}: generate_estimate_reports")
    t0 = time.perf_counter()
    reports = estimate.network(model, board.family, fclk)
    for name, obj in reports.items():
        _write_json(work / "report" / f"{name}.json", obj, name)
    html_report.write(_html_data(cfg, board, fclk, model, reports), work / "report")
    times["generate_estimate_reports"] = round(time.perf_counter() - t0, 3)
    perf = reports["estimate_network_performance"]
    say(f"estimated {perf['estimated_throughput_fps']:.0f} fps (bottleneck {perf['max_cycles_node_name']}, "
        f"{perf['max_cycles']} cycles), total {reports['estimate_layer_resources']['total']}")
    return finish({"performance": perf, "warnings": warnings, "resources": reports["estimate_layer_resources"]})


def _html_data(cfg: BuildConfig, board, fclk: float, model, reports: dict) -> dict:
    from qnn2fpga.layers.base import get_layer  # noqa: PLC0415

    res, cyc = reports["estimate_layer_resources"], reports["estimate_layer_cycles"]
    layers = []
    for node in folding.hw_nodes(model):
        layer = get_layer(node)
        fold = {k: layer.attr(k) for k in layer.fold_attrs()}
        fold.update({k: layer.attr(k) for k in ("mem_mode", "ram_style") if k in layer.declared_attrs()})
        layers.append({"name": node.name, "op": node.op_type, "cycles": cyc[node.name], "folding": fold,
                       "resources": {r: res[node.name][r] for r in estimate.RESOURCES}})
    return {"model": os.path.basename(cfg.model), "board": {"name": board.name, "part": board.part,
                                                           "capacity": dict(board.capacity)},
            "fclk_mhz": fclk, "layers": layers, "total": res["total"],
            "performance": reports["estimate_network_performance"], "target_fps": cfg.target_fps}
