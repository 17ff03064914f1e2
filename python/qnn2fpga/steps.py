"""The build's steps as functions `step(model, cfg) -> model`, and STEPS, the one tuple
naming every step in order: the compile steps of qnn2fpga.flow, then the hardware steps
(the list, with what each writes, is in qnn2fpga.build's docstring).

Who runs which steps:

    qnn2fpga build           all of them, or --start_step to --stop_step (qnn2fpga.build)
    qnn2fpga run             import to fold, and in rtlsim mode on to create_stitched_ip (run_model)
    Bazel accelerator        compile action: import to generate_estimate_reports; FIFO action:
                             hw_codegen and set_fifo_depths (qnn2fpga.accelerator)
    network rtlsim tests     import to to_hw once, then fold to measure_rtlsim_performance per folding

A step writes its files (FINN's names) into cfg.out_dir when one is given; says what it
did through cfg.log, what a long-running tool is doing through cfg.progress, and warnings
through cfg.warn; and leaves what later steps and the caller use in cfg.state.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.general import GiveReadableTensorNames

from qnn2fpga import boards, codegen, estimate, execute, fifo_sizing, flow
from qnn2fpga import deploy, folding, report, report_schemas, rtlsim, shell, stitch
from qnn2fpga.errors import BoardError, FoldingError, InputFileError, QnnError
from qnn2fpga.layers.registry import get_layer
from qnn2fpga.transforms.insert_streams import InsertDWC, InsertFIFO

# FINN's names for `fold`, by how the folding is chosen (automatic, or a config file).
FOLD_STEPS = ("target_fps_parallelization", "apply_folding_config")
RTLSIM_FRAMES = 10
# The layers hw_codegen inserts between the folded ones.
STREAM_OPS = ("StreamingFIFO", "StreamingDataWidthConverter")
# Their node names (deterministic): a folding config's entries for them (e.g. a
# final_hw_config.json given back) apply once they exist.
STREAM_NODE_PREFIXES = ("StreamingFIFO_", "StreamingDataWidthConverter_")


def _quiet(msg: str) -> None:
    """A message sink that drops the message."""


@dataclass
class StepState:
    """What the steps leave for later steps and for the caller."""

    export: ModelWrapper | None = None  # the model `import` started from (to_hw restores its tail)
    warnings: list[str] = field(default_factory=list)
    performance: dict | None = None  # estimate_network_performance
    resources: dict | None = None  # estimate_layer_resources
    fifo_sizing_seconds: float | None = None
    fifo_sizing: fifo_sizing.Sizing | None = None  # the sizing, with its build and simulation times
    design: rtlsim.Design | None = None  # the stitched design, once written
    rtlsim: dict | None = None  # what report/rtlsim_performance.json holds


@dataclass(frozen=True)
class StepConfig:
    """What the steps need besides the model. `board`: for automatic folding and the
    estimates; `fclk_mhz`: default the board's clock; `out_dir`: where steps write their
    files (none written without it; create_stitched_ip needs it)."""

    board: boards.Board | None = None
    target_fps: float | None = None
    folding_config: str | None = None
    fclk_mhz: float | None = None
    topk: int = 0
    input_datatype: str = ""  # 'UINT8': raw pixels, the first quantizer in hardware (flow.CompileOptions)
    mvau_wwidth_max: int = folding.DEFAULT_WWIDTH_MAX
    auto_fifo_depths: bool = True
    strict: bool = False  # a folding whose estimate exceeds the board is an error, not a warning
    out_dir: pathlib.Path | None = None
    log: Callable[[str], None] = _quiet
    progress: Callable[[str], None] = _quiet
    warn: Callable[[str], None] = _quiet
    state: StepState = field(default_factory=StepState)

    @property
    def fclk(self) -> float:
        return self.fclk_mhz or self.board.default_clock_mhz


def write_json(path: pathlib.Path, obj, schema: str | None = None) -> None:
    if schema:
        report_schemas.validate(schema, obj)
    path.write_text(json.dumps(obj, indent=2) + "\n")  # insertion order: graph and step order


def _write(cfg: StepConfig, rel: str, obj, schema: str | None = None) -> None:
    if cfg.out_dir is not None:
        path = cfg.out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(path, obj, schema)


def _warn(cfg: StepConfig, warning: str) -> None:
    cfg.state.warnings.append(warning)
    cfg.warn(warning)


# --- helpers of the steps ---------------------------------------------------------------------
def load_folding(path: str) -> dict:
    where = f"folding config '{path}'"
    if not pathlib.Path(path).is_file():
        raise InputFileError(where, "does not exist", "check the path of --folding")
    try:
        return json.loads(pathlib.Path(path).read_text())
    except json.JSONDecodeError as e:
        raise InputFileError(where, f"is not valid JSON ({e.msg} at line {e.lineno})", "fix the JSON syntax") from None


def apply_folding_file(model, path: str):
    """Applies a FINN-format folding config file; entries for nodes the graph does not
    have are an error (a typo would otherwise silently leave a layer unfolded), other
    unused entries are returned as warnings."""
    where = f"folding config '{path}'"
    model, rep = folding.apply_config(model, load_folding(path), where)
    unknown = [n for n in rep.unknown_nodes if not n.startswith(STREAM_NODE_PREFIXES)]
    if unknown:
        nodes = ", ".join(n.name for n in folding.hw_nodes(model))
        raise FoldingError(where, f"names nodes the graph does not have: {', '.join(unknown)}",
                           f"use the hardware node names ({nodes})")
    return model, [w for w in rep.warnings() if not any(f"'{n}'" in w for n in rep.unknown_nodes)]


def insert_streams(model, folding_config: str | None = None, warn=None):
    """Width converters and FIFOs between the folded layers; then the folding config's
    entries for them (FIFO depths, implementation), if any, with `warn` called for each of
    their values that is not implemented (the other layers' were reported by the fold
    step). Tensors are renamed after their producers, as after every compile step: the same
    model gives the same bytes."""
    model = model.transform(InsertDWC()).transform(InsertFIFO()).transform(GiveReadableTensorNames())
    if folding_config:
        model, rep = folding.apply_config(model, load_folding(folding_config), f"folding config '{folding_config}'")
        streams = {n.name for n in model.graph.node if n.op_type in STREAM_OPS}
        ours = [x for x in rep.not_implemented if any(f"'{name}'" in x[0] for name in streams)]
        for w in folding.ConfigReport(not_implemented=ours).warnings() if warn else []:
            warn(w)
    return model


def _over_text(over: dict, capacity: dict) -> str:
    need = ", ".join(f"{r} {over[r]:g} of {capacity[r]:g}" for r in sorted(over))
    return f"the folded design is estimated to need {need}"


def estimate_warnings(reports: dict, board) -> list[str]:
    """What makes the estimate doubtful: more than the board has, or layers whose
    resources come from the generic (uncalibrated) model."""
    res = reports["estimate_layer_resources"]
    out = []
    over = estimate.over_capacity(res["total"], board.capacity)
    if over:
        out.append(f"board '{board.key}': {_over_text(over, board.capacity)}; it will not fit "
                   "(--strict makes this an error)")
    generic = [name for name, r in res.items() if name != "total" and not r.get("calibrated", True)]
    if generic:
        out.append(f"{', '.join(generic)}: resources from the generic model (no Yosys calibration for "
                   f"{'this layer type' if len(generic) == 1 else 'these layer types'}); take them as a rough guide")
    return out


def stitched_design(model, cfg: StepConfig) -> rtlsim.Design:
    """The stitched design: create_stitched_ip's, else written now (a build resumed after
    that step)."""
    if cfg.state.design is None:
        step_create_stitched_ip(model, cfg)
    return cfg.state.design


def simulator(model, cfg: StepConfig) -> tuple[rtlsim.Design, pathlib.Path]:
    """The stitched design (stitched_design) and its simulator, built with Verilator
    unless cached."""
    design = stitched_design(model, cfg)
    return design, rtlsim.compile_design(design, log=cfg.progress)


# --- the steps --------------------------------------------------------------------------------
def _compile(name: str, model, cfg: StepConfig):
    options = flow.CompileOptions(topk=cfg.topk, input_datatype=cfg.input_datatype)
    return flow.apply_step(name, model, options, cfg.state.export)


def step_import(model, cfg: StepConfig):
    cfg.state.export = model
    return _compile("import", model, cfg)


def step_to_integer(model, cfg: StepConfig):
    return _compile("to_integer", model, cfg)


def step_streamline(model, cfg: StepConfig):
    return _compile("streamline", model, cfg)


def step_lower(model, cfg: StepConfig):
    return _compile("lower", model, cfg)


def step_to_hw(model, cfg: StepConfig):
    """flow's to_hw; then every node must have converted (one error naming those that did not)."""
    if cfg.state.export is None:
        raise ValueError("to_hw restores the export's tail: cfg.state.export must hold the model `import` started from")
    model = _compile("to_hw", model, cfg)
    report.check_converted(model)
    return model


def step_fold(model, cfg: StepConfig):
    """Automatic folding for cfg.target_fps, else cfg.folding_config applied (else every
    layer keeps its default folding); with both, the config's entries override the
    automatic choices (qnn_accelerator's per-layer overrides). auto_folding_config.json,
    final_hw_config.json."""
    if cfg.target_fps is not None:
        cfg.log(f"  {cfg.target_fps:g} fps at {cfg.fclk:g} MHz on {cfg.board.name}")
        model, _ = folding.auto_fold(model, cfg.board, cfg.target_fps, cfg.fclk, wwidth_max=cfg.mvau_wwidth_max)
        _write(cfg, "auto_folding_config.json", folding.hw_config(model))
        if cfg.folding_config:
            cfg.log(f"  overrides: {cfg.folding_config}")
            model, warnings = apply_folding_file(model, cfg.folding_config)
            for w in warnings:
                _warn(cfg, w)
    elif cfg.folding_config:
        cfg.log(f"  {cfg.folding_config}")
        model, warnings = apply_folding_file(model, cfg.folding_config)
        for w in warnings:
            _warn(cfg, w)
    else:
        return model
    _write(cfg, "final_hw_config.json", folding.hw_config(model))
    return model


def step_generate_estimate_reports(model, cfg: StepConfig):
    """report/<FINN estimate report>.json; more than the board has is a warning (an error
    with cfg.strict)."""
    board = cfg.board
    reports = estimate.network(model, board.family, cfg.fclk)
    for name, obj in reports.items():
        _write(cfg, f"report/{name}.json", obj, name)
    perf = reports["estimate_network_performance"]
    tied = estimate.bottlenecks(reports["estimate_layer_cycles"])[1:]
    cfg.log(f"estimated {perf['estimated_throughput_fps']:.0f} fps (bottleneck {perf['max_cycles_node_name']}"
            + (f", tied with {', '.join(tied)}" if tied else "") + f", {perf['max_cycles']} cycles), total "
            + ", ".join(f"{k} {v:g}" for k, v in reports["estimate_layer_resources"]["total"].items()))
    cfg.state.performance = perf
    cfg.state.resources = reports["estimate_layer_resources"]
    over = estimate.over_capacity(reports["estimate_layer_resources"]["total"], board.capacity)
    if over and cfg.strict:
        raise BoardError(f"board '{board.key}'", _over_text(over, board.capacity),
                         "fold less (fewer PE/SIMD) or pick a larger board")
    for warning in estimate_warnings(reports, board):
        _warn(cfg, warning)
    return model


def step_hw_codegen(model, cfg: StepConfig):
    """Width converters and FIFOs inserted; every layer's RTL generated once (not kept), to
    refuse what cannot be built."""
    model = insert_streams(model, cfg.folding_config, lambda w: _warn(cfg, w))
    template = (rtlsim.rtl_root() / rtlsim.TEMPLATES[0]).read_text()
    for node in stitch.hw_chain(model):
        codegen.generate(get_layer(node), stitch.layer_params(model, node), "check", template, "")
    n = sum(1 for x in model.graph.node if x.op_type in STREAM_OPS)
    cfg.log(f"  {n} FIFOs and width converters inserted")
    return model


def step_set_fifo_depths(model, cfg: StepConfig):
    """FIFO depths from one simulation with deep FIFOs (unless cfg.auto_fifo_depths is off);
    final_hw_config.json with them."""
    if not cfg.auto_fifo_depths:
        cfg.log("  kept the configured FIFO depths (auto_fifo_depths off)")
        return model
    with tempfile.TemporaryDirectory(prefix="qnn2fpga-fifo-") as tmp:
        model, sizing = fifo_sizing.size_fifos(model, tmp, log=cfg.progress)
    cfg.state.fifo_sizing_seconds = sizing.seconds
    cfg.state.fifo_sizing = sizing
    cfg.log(f"  sized {len(sizing.depths)} FIFOs in {sizing.seconds:.1f} s: "
            + ", ".join(f"{k}={v}" for k, v in sizing.depths.items()))
    _write(cfg, "final_hw_config.json", folding.hw_config(model))
    return model


def step_create_stitched_ip(model, cfg: StepConfig):
    """stitched_ip/: the SystemVerilog design, its memory files and design.txt."""
    if cfg.out_dir is None:
        raise ValueError("create_stitched_ip writes into cfg.out_dir, which is not set")
    target = cfg.out_dir / "stitched_ip"
    if target.exists():
        shutil.rmtree(target)
    design = cfg.state.design = rtlsim.write_design(model, target)
    wrapped = shell.write_shell(design, target)
    cfg.log(f"  {target.name}/{design.verilog.name}: {len(design.nodes)} layers; "
            f"{target.name}/{wrapped['verilog'].name} and shell.json: the accelerator for a Vivado shell")
    return model


def step_measure_rtlsim_performance(model, cfg: StepConfig):
    """RTLSIM_FRAMES random frames at full rate through the stitched design, its outputs
    checked against the layers' models; report/rtlsim_performance.json."""
    design, sim = simulator(model, cfg)
    x = design.random_frames(RTLSIM_FRAMES)
    t0 = time.perf_counter()
    res = rtlsim.simulate(sim, design, x)
    wall = time.perf_counter() - t0
    if not res.ok:
        raise QnnError("the stitched design", f"stopped in simulation: {res.report['diagnosis']}",
                       "report this with the model and folding")
    want = stitch.execute_chain(design.stitched, x).reshape(res.y.shape)
    if not np.array_equal(res.y, want):
        bad = int(np.count_nonzero(res.y != want))
        raise QnnError("the stitched design", f"computed {bad} output values unlike the layers' models",
                       "report this with the model and folding")
    r, fclk = res.report, cfg.fclk
    slowest, est = design.bottleneck()
    perf = {
        "N": r["frames"], "cycles": r["cycles"], "runtime[ms]": r["cycles"] / (fclk * 1e3),
        "throughput[images/s]": r["frames"] / (r["cycles"] / (fclk * 1e6)),
        "stable_throughput[images/s]": fclk * 1e6 / r["cycles_per_frame"] if r["cycles_per_frame"] else 0.0,
        "latency_cycles": r["latency"], "fclk[MHz]": fclk, "cycles_per_frame": r["cycles_per_frame"],
        "estimated_bottleneck_cycles": est, "estimated_bottleneck_node": slowest,
        "cycles_per_frame_over_estimate": round(r["cycles_per_frame"] / est, 4),
        "fifo_depths": {n: d for n, _, _, d in design.fifos}, "fifo_max_occupancy": r["fifo_max"],
        "sim_cycles_per_second": round(r["cycles"] / wall, 1) if wall > 0 else 0.0,
    }
    if cfg.state.fifo_sizing_seconds is not None:
        perf["fifo_sizing_seconds"] = cfg.state.fifo_sizing_seconds
    _write(cfg, "report/rtlsim_performance.json", perf, "rtlsim_performance")
    cfg.log(f"  rtlsim: {perf['cycles_per_frame']:g} cycles per frame (estimate {est}, "
            f"x{perf['cycles_per_frame_over_estimate']:g}), latency {perf['latency_cycles']} cycles")
    cfg.state.rtlsim = perf
    return model


def step_make_driver(model, cfg: StepConfig):
    """driver/: the PYNQ driver of the stitched design (qnn2fpga.deploy.write_driver)."""
    design = stitched_design(model, cfg)
    deploy.write_driver(model, design, cfg.out_dir / "driver", cfg.board.key, cfg.fclk)
    cfg.log("  driver/: driver.py, driver_base.py, validate.py, io_shape_dict.json")
    return model


def step_deployment_package(model, cfg: StepConfig):
    """deploy/: driver, example input and the export's outputs, README (no bitfile:
    that needs Vivado)."""
    design = stitched_design(model, cfg)
    deploy.write_package(model, design, cfg.out_dir / "deploy", cfg.board.key, cfg.fclk, cfg.state.export,
                         input_datatype=cfg.input_datatype)
    cfg.log("  deploy/: driver/, example_input.npy, expected_output.npy, README.md")
    return model


Step = Callable[[ModelWrapper, StepConfig], ModelWrapper]

STEPS: tuple[tuple[str, Step], ...] = (
    ("import", step_import),
    ("to_integer", step_to_integer),
    ("streamline", step_streamline),
    ("lower", step_lower),
    ("to_hw", step_to_hw),
    ("fold", step_fold),
    ("generate_estimate_reports", step_generate_estimate_reports),
    ("hw_codegen", step_hw_codegen),
    ("set_fifo_depths", step_set_fifo_depths),
    ("create_stitched_ip", step_create_stitched_ip),
    ("measure_rtlsim_performance", step_measure_rtlsim_performance),
    ("make_driver", step_make_driver),
    ("deployment_package", step_deployment_package),
)
STEP_NAMES = tuple(name for name, _ in STEPS)


def index(name: str) -> int | None:
    """Position of a step in STEPS (FINN's folding step names count as `fold`)."""
    name = "fold" if name in FOLD_STEPS else name
    return STEP_NAMES.index(name) if name in STEP_NAMES else None


def label(name: str, cfg: StepConfig) -> str:
    """The step's name in logs and output files: `fold` by FINN's name for how it folds."""
    if name != "fold":
        return name
    return FOLD_STEPS[0] if cfg.target_fps is not None else FOLD_STEPS[1]


def run(model, cfg: StepConfig, first: str = STEP_NAMES[0], last: str = STEP_NAMES[-1]):
    """The steps from `first` to `last` (both included) applied in order."""
    for _, step in STEPS[index(first):index(last) + 1]:
        model = step(model, cfg)
    return model


def run_model(original: ModelWrapper, x: np.ndarray, mode: str = "python", folding_config: str | None = None,
              target_fps: float | None = None, board: str | None = None, fclk_mhz: float | None = None,
              topk: int = 0, log=None, input_datatype: str = "") -> np.ndarray:
    """`qnn2fpga run`: compiles `original`, folds it (a FINN-format config, automatic
    folding for `target_fps` on `board`, or every layer's default folding), and runs the
    batch `x` (qnn2fpga.execute). In rtlsim mode the folded graph gets width converters
    and FIFOs, the FIFOs are sized by simulation and the stitched design is built (cached)."""
    log = log or _quiet
    auto = not folding_config and target_fps is not None
    cfg = StepConfig(board=boards.load_board(board) if auto else None, target_fps=target_fps if auto else None,
                     folding_config=folding_config or None, fclk_mhz=fclk_mhz, topk=topk, progress=log,
                     input_datatype=input_datatype,
                     warn=lambda w: log(f"warning: {w}"))
    model = run(original, cfg, last="fold")
    if mode == "python":
        return execute.execute(model, x, "python")
    if mode != "rtlsim":
        raise InputFileError("--mode", f"'{mode}' is not a mode", f"use one of {', '.join(execute.MODES)}")
    with tempfile.TemporaryDirectory(prefix="qnn2fpga-run-") as tmp:
        cfg = dataclasses.replace(cfg, out_dir=pathlib.Path(tmp))
        model = run(model, cfg, "hw_codegen", "create_stitched_ip")
        return execute.execute(model, x, "rtlsim", *simulator(model, cfg))
