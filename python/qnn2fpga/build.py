"""The build flow: QONNX in, a folded, FIFO-sized, stitched and simulated accelerator out.

    qnn2fpga build MODEL.onnx --board pynq-z1 (--target_fps N | --folding F.json) --output_dir DIR
                   [--start_step S] [--stop_step S] [--verify_input X.npy --verify_expected Y.npy]

Steps, in order (FINN's names where they exist; qnn2fpga.steps.STEPS, one function each):

    import                      the compile steps of qnn2fpga.flow
    to_integer
    streamline
    lower
    to_hw
    fold                        reported as target_fps_parallelization (with --target_fps) or
                                apply_folding_config (with --folding)
    generate_estimate_reports   the estimate reports (and build_report.html)
    hw_codegen                  width converters and FIFOs between the folded layers, every
                                layer's RTL generated once to catch what cannot be built
    set_fifo_depths             qnn2fpga.fifo_sizing: one simulation with deep FIFOs
    create_stitched_ip          one SystemVerilog design
    measure_rtlsim_performance  Verilator, random frames at full rate, outputs checked
                                against the layers' models
    make_driver                 driver/: the PYNQ driver (qnn2fpga.deploy, drivers/)
    deployment_package          deploy/: driver/, example input and output, README

DIR receives (FINN's names):

    build_dataflow.log, time_per_step.json, intermediate_models/<i>_<step>.onnx,
    auto_folding_config.json (automatic folding), final_hw_config.json (FIFO depths
    included once sized), report/estimate_layer_resources.json, estimate_layer_cycles.json,
    estimate_network_performance.json, op_and_param_counts.json, build_report.html,
    rtlsim_performance.json, stitched_ip/ (qnn2fpga_accel.sv, memory files, design.txt; the
    shell for Vivado, qnn2fpga_accel_shell.sv and shell.json: qnn2fpga.shell),
    driver/ (driver.py, driver_base.py, validate.py, packing.py, io_shape_dict.json,
    head.onnx/tail.onnx, runtime_weights/), deploy/ (driver/, example_input.npy,
    expected_output.npy, README.md),
    verification_output/verify_<mode>_0_SUCCESS.npy or _FAIL.npy (with --verify_input)

--start_step resumes DIR's build from the intermediate model of the step before; the
new DIR keeps what the earlier steps wrote and nothing of the later ones. The build
writes into a fresh sibling directory (`.DIR.partial-<pid>-*`) and renames it to DIR
only when every step succeeded, so DIR never holds a half-written build; a failed or
interrupted (Ctrl-C) build removes that directory, and one left by a killed build is
removed by the next build into DIR.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from qnn2fpga import boards, estimate, execute, files, flow, folding, html_report, packing, report_schemas, steps
from qnn2fpga.errors import BoardError, FoldingError, InputFileError  # noqa: F401 (BoardError: what --strict raises)
from qnn2fpga.graph import real_inputs
from qnn2fpga.transforms.input_quant import check_input_datatype, scaled_input
from qnn2fpga.layers.registry import get_layer
from qnn2fpga.steps import STREAM_OPS, estimate_warnings, load_folding


@dataclass(frozen=True)
class BuildConfig:
    model: str
    output_dir: str
    board: str
    target_fps: float | None = None
    folding_config: str | None = None
    fclk_mhz: float | None = None
    topk: int = 0
    input_datatype: str = ""  # 'UINT8': the accelerator takes raw pixels (flow.CompileOptions)
    stop_step: str | None = None
    start_step: str | None = None
    mvau_wwidth_max: int = folding.DEFAULT_WWIDTH_MAX
    auto_fifo_depths: bool = True
    verify_input: str | None = None
    verify_expected: str | None = None
    strict: bool = False  # a folding whose estimate exceeds the board is an error, not a warning


def check_config(cfg: BuildConfig) -> None:
    """Refuses bad arguments before any work (and before DIR is touched)."""
    check_output_dir(cfg.output_dir, "--output_dir", beside=True)
    check_input_datatype(cfg.input_datatype)
    if (cfg.target_fps is None) == (cfg.folding_config is None):
        raise FoldingError("build", "needs exactly one of --target_fps and --folding",
                           "pass --target_fps=N for automatic folding or --folding=F.json")
    for flag, step in (("--stop_step", cfg.stop_step), ("--start_step", cfg.start_step)):
        if step is not None and steps.index(step) is None:
            raise InputFileError(flag, f"'{step}' is not a step", f"use one of {', '.join(steps.STEP_NAMES)}")
    if cfg.start_step and cfg.stop_step and steps.index(cfg.stop_step) < steps.index(cfg.start_step):
        raise InputFileError("--stop_step", f"'{cfg.stop_step}' comes before --start_step '{cfg.start_step}'",
                             "choose a later stop step")
    if cfg.start_step and steps.index(cfg.start_step) > 0:
        _resume_model(cfg)  # refuses a missing or incomplete earlier build
    if (cfg.verify_input is None) != (cfg.verify_expected is None):
        raise InputFileError("verification", "needs both --verify_input and --verify_expected",
                             "pass both .npy files or neither")
    for flag, path in (("--verify_input", cfg.verify_input), ("--verify_expected", cfg.verify_expected)):
        if path is not None:
            load_npy(path, flag)
    boards.load_board(cfg.board)
    if cfg.folding_config:
        load_folding(cfg.folding_config)
    if not os.path.isfile(cfg.model):
        raise InputFileError(f"file '{cfg.model}'", "does not exist", "check the model path")


def load_npy(path: str, flag: str) -> np.ndarray:
    where = f"{flag} file '{path}'"
    if not os.path.isfile(path):
        raise InputFileError(where, "does not exist", "check the path")
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError) as e:
        raise InputFileError(where, f"is not a .npy array ({str(e).splitlines()[0][:80]})",
                             "save it with numpy.save") from None


def check_output_file(path: str, flag: str) -> None:
    """Refuses, before any work, an output file `flag` names that could not be written:
    a directory, or a parent directory that is missing or read-only."""
    path = os.path.abspath(path)
    if os.path.isdir(path):
        raise InputFileError(f"{flag} '{path}'", "is a directory", f"give {flag} a file path, not a directory")
    parent = os.path.dirname(path)
    if not os.path.exists(parent):
        raise InputFileError(f"directory '{parent}'", "does not exist", f"create it or choose another {flag} path")
    _check_writable_dir(parent, flag)


def check_output_dir(path: str, flag: str, beside: bool = False) -> None:
    """Refuses, before any work, an output directory `flag` names that could not be
    filled: a file there, or no writable directory to create it in. `beside`: it is
    written as a sibling and renamed into place, so its parent must be writable too."""
    path = os.path.abspath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise InputFileError(f"{flag} '{path}'", "is a file, not a directory", f"remove it or choose another {flag}")
    if os.path.isdir(path):
        _check_writable_dir(path, flag)
    if beside or not os.path.isdir(path):
        parent = os.path.dirname(path)
        while not os.path.exists(parent) and parent != os.path.dirname(parent):
            parent = os.path.dirname(parent)  # created with the output
        _check_writable_dir(parent, flag)


def _check_writable_dir(directory: str, flag: str) -> None:
    if not os.path.isdir(directory):
        raise InputFileError(f"'{directory}'", "is a file, not a directory", f"choose another {flag} path")
    if not os.access(directory, os.W_OK | os.X_OK):  # also false on a read-only file system, even for root
        raise InputFileError(f"directory '{directory}'", "is not writable", f"choose a writable place for {flag}")


@contextlib.contextmanager
def _deferred_interrupt():
    """Ctrl-C during the block takes effect after it: moving or removing a directory is
    not left half done (e.g. by a second Ctrl-C while an interrupted build cleans up)."""
    previous = signal.getsignal(signal.SIGINT)
    if previous is None or threading.current_thread() is not threading.main_thread():
        yield  # a handler not set from Python, or a thread that cannot set one
        return
    caught = []
    signal.signal(signal.SIGINT, lambda *a: caught.append(a))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught and callable(previous):
            previous(*caught[0])  # Python's default handler raises KeyboardInterrupt


# What each step writes into the build directory besides its intermediate model (globs).
_STEP_FILES = {
    "fold": ("auto_folding_config.json", "final_hw_config.json"),
    "generate_estimate_reports": ("report/estimate_*.json", "report/op_and_param_counts.json",
                                  "report/build_report.*"),
    "create_stitched_ip": ("stitched_ip",),
    "measure_rtlsim_performance": ("report/rtlsim_performance.json",),
    "make_driver": ("driver",),
    "deployment_package": ("deploy",),
}


def _carry_forward(old: pathlib.Path, work: pathlib.Path, first: int) -> None:
    """A build resumed at step `first` keeps what the steps before it wrote in `old` (their
    intermediate models and files, the log and timings) and nothing of the later steps."""
    keep = ["build_dataflow.log", "time_per_step.json"]
    keep += [str(p.relative_to(old)) for p in (old / "intermediate_models").glob("*_*.onnx")
             if p.name.split("_")[0].isdigit() and int(p.name.split("_")[0]) <= first]
    keep += [str(p.relative_to(old)) for step in steps.STEP_NAMES[:first] for pattern in _STEP_FILES.get(step, ())
             for p in old.glob(pattern)]
    for rel in keep:
        src, dst = old / rel, work / rel
        if src.is_dir():
            shutil.copytree(src, dst)
        elif src.is_file():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)


def _partial_prefix(out: pathlib.Path) -> str:
    """Build directories in the making are `.<out>.partial-<pid>-<random>` beside `out`."""
    return f".{out.name}.partial-"


def _remove_abandoned_partials(out: pathlib.Path) -> None:
    """Removes `.<out>.partial-<pid>-*` directories whose build process is gone (a killed
    build cannot remove its own); those of a live process are another build's."""
    prefix = _partial_prefix(out)
    for p in out.parent.glob(prefix + "*"):
        pid = p.name[len(prefix):].split("-")[0]
        if pid.isdigit():
            try:
                os.kill(int(pid), 0)
                continue  # alive
            except ProcessLookupError:
                pass
            except PermissionError:
                continue  # alive, someone else's
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)


def _resume_model(cfg: BuildConfig) -> pathlib.Path:
    """The intermediate model the step before --start_step saved in DIR."""
    i = steps.index(cfg.start_step)
    found = sorted(pathlib.Path(cfg.output_dir, "intermediate_models").glob(f"{i}_*.onnx"))
    if not found:
        raise InputFileError(f"output directory '{cfg.output_dir}'", f"holds no model of step {i} "
                             f"({steps.STEP_NAMES[i - 1]}) to resume from at '{cfg.start_step}'",
                             "run the build without --start_step first")
    return found[0]


def build(cfg: BuildConfig, log: Callable[[str], None] = print) -> dict:
    """Runs the build; returns {"output_dir", "performance", "warnings", "rtlsim", "verification"}."""
    check_config(cfg)
    board = boards.load_board(cfg.board)
    fclk = cfg.fclk_mhz or board.default_clock_mhz
    out = pathlib.Path(cfg.output_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = None
    try:
        with _deferred_interrupt():
            _remove_abandoned_partials(out)
            work = pathlib.Path(tempfile.mkdtemp(prefix=f"{_partial_prefix(out)}{os.getpid()}-", dir=out.parent))
            work.chmod(files.umask_mode(directory=True))
        if cfg.start_step and steps.index(cfg.start_step) > 0:
            _carry_forward(out, work, steps.index(cfg.start_step))
        result = _Build(cfg, board, fclk, work, log).run()
        with _deferred_interrupt():
            if out.exists():
                shutil.rmtree(out)
            os.replace(work, out)
        result["output_dir"] = str(out)
        return result
    finally:
        if work is not None and work.exists():
            with _deferred_interrupt():
                shutil.rmtree(work)


class _Build:
    """One build: runs the steps (qnn2fpga.steps) from --start_step to --stop_step, saving
    the model after each, timing them, keeping the log, and writing the HTML report."""

    def __init__(self, cfg: BuildConfig, board, fclk: float, work: pathlib.Path, log):
        self.cfg, self.board, self.fclk, self.work, self.log = cfg, board, fclk, work, log
        self.model = None
        self.times: dict = {}
        self.lines: list[str] = []
        self.verification = None
        self.step_cfg = steps.StepConfig(
            board=board, target_fps=cfg.target_fps, folding_config=cfg.folding_config, fclk_mhz=fclk, topk=cfg.topk,
            input_datatype=cfg.input_datatype,
            mvau_wwidth_max=cfg.mvau_wwidth_max, auto_fifo_depths=cfg.auto_fifo_depths, strict=cfg.strict,
            out_dir=work, log=self.say, progress=lambda m: self.say("  " + m), warn=lambda w: self.say(f"warning: {w}"))
        (work / "intermediate_models").mkdir(exist_ok=True)
        (work / "report").mkdir(exist_ok=True)
        if cfg.start_step and (work / "time_per_step.json").exists():
            old = json.loads((work / "time_per_step.json").read_text())
            self.times = {k: v for k, v in old.items() if (steps.index(k) or 0) < steps.index(cfg.start_step)}
        if cfg.start_step and (work / "build_dataflow.log").exists():
            self.lines = (work / "build_dataflow.log").read_text().splitlines()

    def say(self, msg: str) -> None:
        self.lines.append(msg)
        self.log(msg)

    def run(self) -> dict:
        first = steps.index(self.cfg.start_step) if self.cfg.start_step else 0
        last = steps.index(self.cfg.stop_step) if self.cfg.stop_step else len(steps.STEPS) - 1
        state = self.step_cfg.state
        if first == 0:
            self.model = flow.load_model(self.cfg.model)
        else:
            resume = _resume_model(self.cfg)
            self.model = flow.load_model(str(resume))
            if first <= steps.index("to_hw"):
                state.export = flow.load_model(self.cfg.model)  # to_hw restores the export's tail
            self.say(f"resuming at {steps.STEP_NAMES[first]} from {resume.name}")
        try:
            for i in range(first, last + 1):
                name, step = steps.STEPS[i]
                label = steps.label(name, self.step_cfg)
                self.say(f"step {i + 1}/{len(steps.STEPS)}: {label}")
                t0 = time.perf_counter()
                self.model = step(self.model, self.step_cfg)
                if name == "generate_estimate_reports":
                    self.write_html_report()
                self.times[label] = round(time.perf_counter() - t0, 3)
                self.model.save(str(self.work / "intermediate_models" / f"{i + 1}_{label}.onnx"))
            if self.cfg.verify_input:
                self.verify(stitched=last >= steps.index("create_stitched_ip"))
            if last > steps.index("generate_estimate_reports"):
                self.write_html_report()  # now with the inserted streams and what rtlsim measured
        finally:
            steps.write_json(self.work / "time_per_step.json", self.times, "time_per_step")
            (self.work / "build_dataflow.log").write_text("\n".join(self.lines) + "\n")
        result = {"performance": state.performance, "warnings": state.warnings, "rtlsim": state.rtlsim,
                  "verification": self.verification}
        if state.resources is not None:
            result["resources"] = state.resources
        return result

    def write_html_report(self) -> None:
        """report/build_report.html from the estimate reports in DIR, the inserted FIFOs
        and width converters, and rtlsim_performance.json once measured."""
        report = self.work / "report"
        reports = {name: json.loads((report / f"{name}.json").read_text()) for name in report_schemas.ESTIMATE_REPORTS}
        measured = report / "rtlsim_performance.json"
        rtlsim = json.loads(measured.read_text()) if measured.exists() else None
        warnings = estimate_warnings(reports, self.board) + rtlsim_warnings(rtlsim)
        html_report.write(_html_data(self.cfg, self.board, self.fclk, self.model, reports, rtlsim, warnings), report)

    def verify(self, stitched: bool) -> None:
        """Runs --verify_input through the whole network (rtlsim once the design is
        stitched, python before) and compares with --verify_expected."""
        cfg = self.cfg
        x = execute.check_batch(self.model, load_npy(cfg.verify_input, "--verify_input"),
                                f"--verify_input file '{cfg.verify_input}'")
        expected = load_npy(cfg.verify_expected, "--verify_expected")
        if cfg.input_datatype and self.model.get_tensor_datatype(real_inputs(self.model)[0]).name != cfg.input_datatype:
            x = scaled_input(x, cfg.input_datatype)  # stopped before to_hw: the export's own input
        mode = "rtlsim" if stitched else "python"
        design, sim = steps.simulator(self.model, self.step_cfg) if stitched else (None, None)
        y = execute.execute(self.model, x, mode, design, sim)
        ok = y.shape == expected.shape and match(y, expected)
        (self.work / "verification_output").mkdir(exist_ok=True)
        np.save(self.work / "verification_output" / f"verify_{mode}_0_{'SUCCESS' if ok else 'FAIL'}.npy", y)
        detail = "" if ok else (f": shape {y.shape} vs {expected.shape}" if y.shape != expected.shape else
                                f": max difference {float(np.max(np.abs(y - expected))):.3g}")
        self.say(f"verification ({mode}, {len(x)} inputs): {'SUCCESS' if ok else 'FAIL'}{detail}")
        self.verification = {"mode": mode, "ok": ok}


def match(y: np.ndarray, expected: np.ndarray) -> bool:
    """Outputs agree: equal, or (float results of a software tail) within float32
    rounding of the export's own arithmetic (1e-5 of the largest magnitude) with the
    same arg-max."""
    y, e = y.astype(np.float64), np.asarray(expected, dtype=np.float64)
    if np.array_equal(y, e):
        return True
    scale = max(float(np.max(np.abs(e))), 1e-30)
    return bool(np.max(np.abs(y - e)) <= 1e-5 * scale and (y.reshape(len(y), -1).argmax(-1) ==
                                                          e.reshape(len(e), -1).argmax(-1)).all())


def rtlsim_warnings(perf: dict | None) -> list[str]:
    """A simulated design slower than its estimate (beyond 5 %)."""
    if not perf or perf["cycles_per_frame_over_estimate"] <= 1.05:
        return []
    return [f"the stitched design took {perf['cycles_per_frame']:g} cycles per frame in simulation, "
            f"{perf['cycles_per_frame_over_estimate']:g} times the estimate of its bottleneck "
            f"{perf['estimated_bottleneck_node']}"]


def _streams(model, family: str) -> list[dict]:
    """The FIFOs and width converters hw_codegen inserted, with their estimated resources."""
    out = []
    for node in model.graph.node:
        if node.op_type not in STREAM_OPS:
            continue
        layer = get_layer(node)
        bits = packing.element_bits(layer.dataType)
        if node.op_type == "StreamingFIFO":
            detail = f"{layer.depth} words x {layer.PE * bits} bits"
        else:
            detail = f"{layer.inFold * bits} to {layer.outFold * bits} bits"
        out.append({"name": node.name, "op": node.op_type, "detail": detail,
                    "resources": {r: v for r, v in estimate.layer_resources(layer, family).items()
                                  if r in estimate.RESOURCES}})
    return out


def _html_data(cfg: BuildConfig, board, fclk: float, model, reports: dict, rtlsim: dict | None = None,
               warnings: list[str] = ()) -> dict:
    res, cyc = reports["estimate_layer_resources"], reports["estimate_layer_cycles"]
    layers = []
    for node in folding.hw_nodes(model):
        if node.name not in cyc:
            continue  # a FIFO or width converter inserted after the estimates (see "streams")
        layer = get_layer(node)
        fold = {k: layer.attr(k) for k in layer.fold_attrs()}
        fold.update({k: layer.attr(k) for k in ("mem_mode", "ram_style") if k in layer.declared_attrs()})
        layers.append({"name": node.name, "op": node.op_type, "cycles": cyc[node.name], "folding": fold,
                       "resources": {r: res[node.name][r] for r in estimate.RESOURCES}})
    return {"model": os.path.basename(cfg.model), "board": {"name": board.name, "part": board.part,
                                                           "capacity": dict(board.capacity)},
            "fclk_mhz": fclk, "layers": layers, "total": res["total"],
            "performance": reports["estimate_network_performance"], "target_fps": cfg.target_fps,
            "warnings": list(warnings), "rtlsim": rtlsim, "streams": _streams(model, board.family)}
