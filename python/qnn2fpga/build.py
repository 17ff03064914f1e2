"""The build flow: QONNX in, a folded, FIFO-sized, stitched and simulated accelerator out.

    qnn2fpga build MODEL.onnx --board pynq-z1 (--target_fps N | --folding F.json) --output_dir DIR
                   [--start_step S] [--stop_step S] [--verify_input X.npy --verify_expected Y.npy]

Named steps (FINN's names where they exist): the compile steps of qnn2fpga.flow
(import, to_integer, streamline, lower, to_hw); `fold`, reported as
`target_fps_parallelization` (with --target_fps) or `apply_folding_config` (with
--folding); `generate_estimate_reports`; `hw_codegen` (width converters and FIFOs
between the folded layers, every layer's RTL generated once to catch what cannot be
built); `set_fifo_depths` (qnn2fpga.fifo_sizing: one simulation with deep FIFOs);
`create_stitched_ip` (one SystemVerilog design); `measure_rtlsim_performance`
(Verilator, random frames at full rate, outputs checked against the layers' models).
DIR receives (FINN's names):

    build_dataflow.log, time_per_step.json, intermediate_models/<i>_<step>.onnx,
    auto_folding_config.json (automatic folding), final_hw_config.json (FIFO depths
    included once sized), report/estimate_layer_resources.json, estimate_layer_cycles.json,
    estimate_network_performance.json, op_and_param_counts.json, build_report.html,
    rtlsim_performance.json, stitched_ip/ (qnn2fpga_accel.sv, memory files, design.txt),
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

from qnn2fpga import boards, estimate, files, flow, folding, html_report, report_schemas
from qnn2fpga.errors import BoardError, FoldingError, InputFileError, QnnError

FOLD_STEPS = ("target_fps_parallelization", "apply_folding_config")
HW_STEPS = ("hw_codegen", "set_fifo_depths", "create_stitched_ip", "measure_rtlsim_performance")
STEPS = (*flow.STEP_NAMES, "fold", "generate_estimate_reports", *HW_STEPS)
RTLSIM_FRAMES = 10
# The layers hw_codegen inserts between the folded ones.
STREAM_OPS = ("StreamingFIFO", "StreamingDataWidthConverter")


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
    start_step: str | None = None
    mvau_wwidth_max: int = folding.DEFAULT_WWIDTH_MAX
    auto_fifo_depths: bool = True
    verify_input: str | None = None
    verify_expected: str | None = None
    strict: bool = False  # a folding whose estimate exceeds the board is an error, not a warning


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


# Nodes hw_codegen inserts (deterministic names): their entries in a folding config (e.g.
# a final_hw_config.json given back) apply once they exist.
STREAM_NODE_PREFIXES = ("StreamingFIFO_", "StreamingDataWidthConverter_")


def insert_streams(model, folding_config: str | None = None):
    """Width converters and FIFOs between the folded layers; then the folding config's
    entries for them (FIFO depths, implementation), if any. Tensors are renamed after their
    producers, as after every compile step: the same model gives the same bytes."""
    from qonnx.transformation.general import GiveReadableTensorNames  # noqa: PLC0415

    from qnn2fpga.transforms.insert_streams import InsertDWC, InsertFIFO  # noqa: PLC0415

    model = model.transform(InsertDWC()).transform(InsertFIFO()).transform(GiveReadableTensorNames())
    if folding_config:
        model, _ = folding.apply_config(model, load_folding(folding_config), f"folding config '{folding_config}'")
    return model


def check_config(cfg: BuildConfig) -> None:
    """Refuses bad arguments before any work (and before DIR is touched)."""
    check_output_dir(cfg.output_dir, "--output_dir", beside=True)
    if (cfg.target_fps is None) == (cfg.folding_config is None):
        raise FoldingError("build", "needs exactly one of --target_fps and --folding",
                           "pass --target_fps=N for automatic folding or --folding=F.json")
    for flag, step in (("--stop_step", cfg.stop_step), ("--start_step", cfg.start_step)):
        if step is not None and step_index(step) is None:
            raise InputFileError(flag, f"'{step}' is not a step", f"use one of {', '.join(STEPS)}")
    if cfg.start_step and cfg.stop_step and step_index(cfg.stop_step) < step_index(cfg.start_step):
        raise InputFileError("--stop_step", f"'{cfg.stop_step}' comes before --start_step '{cfg.start_step}'",
                             "choose a later stop step")
    if cfg.start_step and step_index(cfg.start_step) > 0:
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


def step_index(name: str) -> int | None:
    """Position of a step in STEPS (FINN's folding step names count as `fold`)."""
    name = "fold" if name in FOLD_STEPS else name
    return STEPS.index(name) if name in STEPS else None


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
}


def _carry_forward(old: pathlib.Path, work: pathlib.Path, first: int) -> None:
    """A build resumed at step `first` keeps what the steps before it wrote in `old` (their
    intermediate models and files, the log and timings) and nothing of the later steps."""
    keep = ["build_dataflow.log", "time_per_step.json"]
    keep += [str(p.relative_to(old)) for p in (old / "intermediate_models").glob("*_*.onnx")
             if p.name.split("_")[0].isdigit() and int(p.name.split("_")[0]) <= first]
    keep += [str(p.relative_to(old)) for step in STEPS[:first] for pattern in _STEP_FILES.get(step, ())
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
    i = step_index(cfg.start_step)
    found = sorted(pathlib.Path(cfg.output_dir, "intermediate_models").glob(f"{i}_*.onnx"))
    if not found:
        raise InputFileError(f"output directory '{cfg.output_dir}'", f"holds no model of step {i} "
                             f"({STEPS[i - 1]}) to resume from at '{cfg.start_step}'",
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
        if cfg.start_step and step_index(cfg.start_step) > 0:
            _carry_forward(out, work, step_index(cfg.start_step))
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
    """One build's state; each step_<name> method advances self.model."""

    def __init__(self, cfg: BuildConfig, board, fclk: float, work: pathlib.Path, log):
        self.cfg, self.board, self.fclk, self.work, self.log = cfg, board, fclk, work, log
        self.model = None
        self.times: dict = {}
        self.lines: list[str] = []
        self.result = {"performance": None, "warnings": [], "rtlsim": None, "verification": None}
        self.sizing_seconds = None
        (work / "intermediate_models").mkdir(exist_ok=True)
        (work / "report").mkdir(exist_ok=True)
        if cfg.start_step and (work / "time_per_step.json").exists():
            old = json.loads((work / "time_per_step.json").read_text())
            self.times = {k: v for k, v in old.items() if (step_index(k) or 0) < step_index(cfg.start_step)}
        if cfg.start_step and (work / "build_dataflow.log").exists():
            self.lines = (work / "build_dataflow.log").read_text().splitlines()

    def say(self, msg: str) -> None:
        self.lines.append(msg)
        self.log(msg)

    def run(self) -> dict:
        first = step_index(self.cfg.start_step) if self.cfg.start_step else 0
        last = step_index(self.cfg.stop_step) if self.cfg.stop_step else len(STEPS) - 1
        if first == 0:
            self.model = flow.load_model(self.cfg.model)
            self.compile_steps = flow.run_steps(self.model, flow.CompileOptions(topk=self.cfg.topk))
        else:
            self.model = flow.load_model(str(_resume_model(self.cfg)))
            self.say(f"resuming at {STEPS[first]} from {_resume_model(self.cfg).name}")
        try:
            for i in range(first, last + 1):
                name = STEPS[i]
                label = self._label(name)
                self.say(f"step {i + 1}/{len(STEPS)}: {label}")
                t0 = time.perf_counter()
                if name in flow.STEP_NAMES:
                    _, self.model = next(self.compile_steps)
                    if name == flow.STEP_NAMES[-1]:
                        from qnn2fpga.report import check_converted  # noqa: PLC0415

                        check_converted(self.model)
                else:
                    getattr(self, f"step_{name}")()
                self.times[label] = round(time.perf_counter() - t0, 3)
                self.model.save(str(self.work / "intermediate_models" / f"{i + 1}_{label}.onnx"))
            if self.cfg.verify_input:
                self.verify(stitched=last >= STEPS.index("create_stitched_ip"))
            if last > STEPS.index("generate_estimate_reports"):
                self.write_html_report()  # now with the inserted streams and what rtlsim measured
        finally:
            _write_json(self.work / "time_per_step.json", self.times, "time_per_step")
            (self.work / "build_dataflow.log").write_text("\n".join(self.lines) + "\n")
        return self.result

    def _label(self, name: str) -> str:
        if name != "fold":
            return name
        return "target_fps_parallelization" if self.cfg.target_fps is not None else "apply_folding_config"

    # --- steps ------------------------------------------------------------------------------
    def step_fold(self) -> None:
        cfg = self.cfg
        if cfg.target_fps is not None:
            self.say(f"  {cfg.target_fps:g} fps at {self.fclk:g} MHz on {self.board.name}")
            self.model, _ = folding.auto_fold(self.model, self.board, cfg.target_fps, self.fclk,
                                              wwidth_max=cfg.mvau_wwidth_max)
            _write_json(self.work / "auto_folding_config.json", folding.hw_config(self.model))
        else:
            self.say(f"  {cfg.folding_config}")
            self.model, self.result["warnings"] = apply_folding_file(self.model, cfg.folding_config)
            for w in self.result["warnings"]:
                self.say(f"warning: {w}")
        _write_json(self.work / "final_hw_config.json", folding.hw_config(self.model))

    def step_generate_estimate_reports(self) -> None:
        reports = estimate.network(self.model, self.board.family, self.fclk)
        for name, obj in reports.items():
            _write_json(self.work / "report" / f"{name}.json", obj, name)
        perf = reports["estimate_network_performance"]
        tied = estimate.bottlenecks(reports["estimate_layer_cycles"])[1:]
        self.say(f"estimated {perf['estimated_throughput_fps']:.0f} fps (bottleneck {perf['max_cycles_node_name']}"
                 + (f", tied with {', '.join(tied)}" if tied else "") + f", {perf['max_cycles']} cycles), total "
                 + ", ".join(f"{k} {v:g}" for k, v in reports["estimate_layer_resources"]["total"].items()))
        self.result["performance"] = perf
        self.result["resources"] = reports["estimate_layer_resources"]
        over = estimate.over_capacity(reports["estimate_layer_resources"]["total"], self.board.capacity)
        if over and self.cfg.strict:
            raise BoardError(f"board '{self.board.key}'", _over_text(over, self.board.capacity),
                             "fold less (fewer PE/SIMD) or pick a larger board")
        for warning in estimate_warnings(reports, self.board):
            self.result["warnings"].append(warning)
            self.say(f"warning: {warning}")
        self.write_html_report()

    def write_html_report(self) -> None:
        """report/build_report.html from the estimate reports in DIR, the inserted FIFOs
        and width converters, and rtlsim_performance.json once measured."""
        report = self.work / "report"
        reports = {name: json.loads((report / f"{name}.json").read_text()) for name in report_schemas.ESTIMATE_REPORTS}
        measured = report / "rtlsim_performance.json"
        rtlsim = json.loads(measured.read_text()) if measured.exists() else None
        warnings = estimate_warnings(reports, self.board) + rtlsim_warnings(rtlsim)
        html_report.write(_html_data(self.cfg, self.board, self.fclk, self.model, reports, rtlsim, warnings), report)

    def step_hw_codegen(self) -> None:
        from qnn2fpga import codegen, stitch  # noqa: PLC0415
        from qnn2fpga.layers.base import get_layer  # noqa: PLC0415
        self.model = insert_streams(self.model, self.cfg.folding_config)
        template = _rtl_template(0)
        for node in stitch.hw_chain(self.model):
            codegen.generate(get_layer(node), stitch.layer_params(self.model, node), "check", template, "")
        n = sum(1 for x in self.model.graph.node if x.op_type in STREAM_OPS)
        self.say(f"  {n} FIFOs and width converters inserted")

    def step_set_fifo_depths(self) -> None:
        from qnn2fpga import fifo_sizing  # noqa: PLC0415

        if not self.cfg.auto_fifo_depths:
            self.say("  kept the configured FIFO depths (auto_fifo_depths off)")
            return
        with tempfile.TemporaryDirectory(prefix="qnn2fpga-fifo-") as tmp:
            self.model, sizing = fifo_sizing.size_fifos(self.model, tmp, log=lambda m: self.say("  " + m))
        self.sizing_seconds = sizing.seconds
        self.say(f"  sized {len(sizing.depths)} FIFOs in {sizing.seconds:.1f} s: "
                 + ", ".join(f"{k}={v}" for k, v in sizing.depths.items()))
        _write_json(self.work / "final_hw_config.json", folding.hw_config(self.model))

    def step_create_stitched_ip(self) -> None:
        from qnn2fpga import rtlsim  # noqa: PLC0415

        target = self.work / "stitched_ip"
        if target.exists():
            shutil.rmtree(target)
        self.design = rtlsim.write_design(self.model, target)
        self.say(f"  {target.name}/{self.design.verilog.name}: {len(self.design.nodes)} layers")

    def _design(self):
        from qnn2fpga import rtlsim  # noqa: PLC0415

        if getattr(self, "design", None) is None:
            self.step_create_stitched_ip()
        return self.design, rtlsim.compile_design(self.design, log=lambda m: self.say("  " + m))

    def step_measure_rtlsim_performance(self) -> None:
        from qnn2fpga import rtlsim, stitch  # noqa: PLC0415

        design, sim = self._design()
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
        r = res.report
        slowest, est = design.bottleneck()
        perf = {
            "N": r["frames"], "cycles": r["cycles"], "runtime[ms]": r["cycles"] / (self.fclk * 1e3),
            "throughput[images/s]": r["frames"] / (r["cycles"] / (self.fclk * 1e6)),
            "stable_throughput[images/s]": self.fclk * 1e6 / r["cycles_per_frame"] if r["cycles_per_frame"] else 0.0,
            "latency_cycles": r["latency"], "fclk[MHz]": self.fclk, "cycles_per_frame": r["cycles_per_frame"],
            "estimated_bottleneck_cycles": est, "estimated_bottleneck_node": slowest,
            "cycles_per_frame_over_estimate": round(r["cycles_per_frame"] / est, 4),
            "fifo_depths": {n: d for n, _, _, d in design.fifos}, "fifo_max_occupancy": r["fifo_max"],
            "sim_cycles_per_second": round(r["cycles"] / wall, 1) if wall > 0 else 0.0,
        }
        if self.sizing_seconds is not None:
            perf["fifo_sizing_seconds"] = self.sizing_seconds
        _write_json(self.work / "report" / "rtlsim_performance.json", perf, "rtlsim_performance")
        self.say(f"  rtlsim: {perf['cycles_per_frame']:g} cycles per frame (estimate {est}, "
                 f"x{perf['cycles_per_frame_over_estimate']:g}), latency {perf['latency_cycles']} cycles")
        self.result["rtlsim"] = perf

    def verify(self, stitched: bool) -> None:
        """Runs --verify_input through the whole network (rtlsim once the design is
        stitched, python before) and compares with --verify_expected."""
        from qnn2fpga import execute  # noqa: PLC0415

        cfg = self.cfg
        x = execute.check_batch(self.model, load_npy(cfg.verify_input, "--verify_input"),
                                f"--verify_input file '{cfg.verify_input}'")
        expected = load_npy(cfg.verify_expected, "--verify_expected")
        mode = "rtlsim" if stitched else "python"
        design, sim = self._design() if stitched else (None, None)
        y = execute.execute(self.model, x, mode, design, sim)
        ok = y.shape == expected.shape and match(y, expected)
        (self.work / "verification_output").mkdir(exist_ok=True)
        np.save(self.work / "verification_output" / f"verify_{mode}_0_{'SUCCESS' if ok else 'FAIL'}.npy", y)
        detail = "" if ok else (f": shape {y.shape} vs {expected.shape}" if y.shape != expected.shape else
                                f": max difference {float(np.max(np.abs(y - expected))):.3g}")
        self.say(f"verification ({mode}, {len(x)} inputs): {'SUCCESS' if ok else 'FAIL'}{detail}")
        self.result["verification"] = {"mode": mode, "ok": ok}


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


def _rtl_template(k: int) -> str:
    from qnn2fpga import rtlsim  # noqa: PLC0415

    return (rtlsim.rtl_root() / rtlsim.TEMPLATES[k]).read_text()


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


def rtlsim_warnings(perf: dict | None) -> list[str]:
    """A simulated design slower than its estimate (beyond 5 %)."""
    if not perf or perf["cycles_per_frame_over_estimate"] <= 1.05:
        return []
    return [f"the stitched design took {perf['cycles_per_frame']:g} cycles per frame in simulation, "
            f"{perf['cycles_per_frame_over_estimate']:g} times the estimate of its bottleneck "
            f"{perf['estimated_bottleneck_node']}"]


def _streams(model, family: str) -> list[dict]:
    """The FIFOs and width converters hw_codegen inserted, with their estimated resources."""
    from qnn2fpga import packing  # noqa: PLC0415
    from qnn2fpga.layers.base import get_layer  # noqa: PLC0415

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
    from qnn2fpga.layers.base import get_layer  # noqa: PLC0415

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
