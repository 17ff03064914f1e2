"""Whole-design RTL simulation: a folded model's hardware layers stitched into one design
(qnn2fpga.stitch), compiled with Verilator against the C++ harness
rtl/common/tb/stitched_sim.cpp, and run on packed input frames.

    design = rtlsim.write_design(model, directory)      # <top>.sv, memory files, design.txt
    sim = rtlsim.compile_design(design)                  # cached by content
    result = rtlsim.simulate(sim, design, x)             # x: the first layer's input values

The simulator binary depends only on the Verilog text and the harness (weights are read
from the memory files at start-up), so it is cached under `cache_dir()` by a hash of
those and reused across runs; the Verilator runtime's objects, the same for every design,
are kept there too and linked into each new build instead of being compiled again. The
RTL library is found in the package's data/ (an installed wheel), beside the package
(source tree or Bazel runfiles) or at $QNN2FPGA_RTL_ROOT.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper

from qnn2fpga import errors, packing, stitch
from qnn2fpga.files import umask_mode

TOP = "qnn2fpga_accel"
# The simulator's source (first) and the rtl/common/tb headers it includes.
HARNESS = ("rtl/common/tb/stitched_sim.cpp", "rtl/common/tb/axilite.hpp", "rtl/common/tb/bits.hpp",
           "rtl/common/tb/dut.hpp", "rtl/common/tb/options.hpp", "rtl/common/tb/rng.hpp")
TEMPLATES = ("rtl/common/layer_wrapper.sv.j2", "rtl/common/stitched_top.sv.j2", "rtl/common/shell_top.sv.j2")
# The blocks every layer library may instantiate (AXI-stream skid buffers, RAMs, ...).
COMMON_LIBRARY_GLOB = "rtl/common/*.sv"


def rtl_root() -> pathlib.Path:
    """The directory holding rtl/ (the repository root, the runfiles root under Bazel, or
    the package's data/ in an installed wheel)."""
    env = os.environ.get("QNN2FPGA_RTL_ROOT")
    candidates = [pathlib.Path(env).absolute()] if env else []
    candidates.append(pathlib.Path(__file__).parent / "data")
    candidates.append(pathlib.Path(__file__).resolve().parents[2])
    candidates.append(pathlib.Path(__file__).parents[2])
    for c in candidates:
        if all((c / f).is_file() for f in HARNESS + TEMPLATES):
            return c
    raise errors.InputFileError("the RTL library (rtl/)", "was not found beside the qnn2fpga package",
                                "reinstall the package (pip install ./python), run from the repository "
                                "(./bazelw run //:qnn2fpga -- ...) or set QNN2FPGA_RTL_ROOT to the repository root")


def label_package(label: str) -> str:
    """The package directory of a Bazel label: //rtl/dwc:stream_dwc -> rtl/dwc."""
    if not label.startswith("//"):
        raise ValueError(f"not an absolute Bazel label: {label!r}")
    return label[2:].split(":", 1)[0]


def library_globs() -> list[str]:
    """The RTL library sources, from the layer registry: the .sv files of every
    registered layer's `rtl_library` package and of the top's AXI-lite split, plus
    rtl/common (what the layer modules instantiate)."""
    from qnn2fpga.layers import LAYERS  # noqa: PLC0415

    labels = {cls.rtl_library for cls in LAYERS.values() if cls.rtl_library} | {stitch.AXIL_SPLIT_LIBRARY}
    return sorted({COMMON_LIBRARY_GLOB} | {f"{label_package(label)}/*.sv" for label in labels})


def library_files(root: pathlib.Path) -> list[pathlib.Path]:
    return sorted({p for g in library_globs() for p in root.glob(g)})


def cache_dir() -> pathlib.Path:
    base = os.environ.get("QNN2FPGA_CACHE") or os.environ.get("TEST_TMPDIR") or "~/.cache/qnn2fpga"
    return pathlib.Path(base).expanduser() / "rtlsim"


@dataclass
class Design:
    directory: pathlib.Path
    top: str
    stitched: stitch.Stitched
    nodes: list  # node names in graph order
    streams: list  # (name, producer, consumer)
    fifos: list  # (name, in stream, out stream, depth)
    in_words: int  # per frame
    out_words: int

    @property
    def verilog(self) -> pathlib.Path:
        return self.directory / f"{self.top}.sv"

    @property
    def first(self):
        """The layer reading the design's input stream."""
        return self.stitched.input_layer

    @property
    def last(self):
        """The layer writing the design's output stream."""
        return self.stitched.output_layer

    def stall_bound(self) -> int:
        """Cycles without any stream moving after which a run is a deadlock
        (Stitched.stall_bound)."""
        return self.stitched.stall_bound()

    def bottleneck(self) -> tuple[str, int]:
        """The slowest layer's node name and estimated cycles per frame."""
        from qnn2fpga import estimate  # noqa: PLC0415

        cycles = {node: layer.cycles() for node, layer in zip(self.nodes, self.stitched.layers)}
        node = estimate.bottlenecks(cycles)[0]
        return node, cycles[node]

    def bottleneck_cycles(self) -> int:
        return self.bottleneck()[1]

    def random_frames(self, frames: int, seed: int = 0) -> np.ndarray:
        """Random input frames of the first layer's datatype and shape."""
        from qnn2fpga.layers import numerics  # noqa: PLC0415

        first = self.first
        return numerics.random_values(first.get_input_datatype(0), (frames, *first.get_normal_input_shape(0)[1:]),
                                      np.random.default_rng(seed))


def write_design(model: ModelWrapper, directory, top: str = TOP) -> Design:
    """Stitches the model's hardware chain (after InsertDWC/InsertFIFO) into `directory`:
    `<top>.sv`, the memory files (found relative to the simulator's working directory)
    and design.txt, the harness's description of streams and FIFOs."""
    root = rtl_root()
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    st = stitch.stitch(model, top, (root / TEMPLATES[0]).read_text(), (root / TEMPLATES[1]).read_text(), "")
    (directory / f"{top}.sv").write_text(st.verilog)
    for name, text in st.memory_files.items():
        (directory / name).write_text(text)
    nodes = [layer.onnx_node.name for layer in st.layers]
    producer = {"s0": "input"} | {s: n for n, outs in zip(nodes, st.outs) for s in outs}
    consumer = {st.output_stream: "output"} | {s: n for n, ins in zip(nodes, st.ins) for s in ins}
    streams = [(s, producer[s], consumer[s]) for s in sorted(producer, key=lambda s: int(s[1:]))]
    fifos = [(n, ins[0], outs[0], layer.depth) for n, layer, ins, outs in zip(nodes, st.layers, st.ins, st.outs)
             if layer.op_type == "StreamingFIFO"]
    first, last = st.input_layer, st.output_layer
    d = Design(directory, top, st, nodes, streams, fifos, st.in_words, st.out_words)
    lines = [f"top {top}", f"in_width {first.get_instream_width()}", f"out_width {last.get_outstream_width()}",
             f"in_words {d.in_words}", f"out_words {d.out_words}"]
    lines += [f"stream {' '.join(s)}" for s in streams]
    lines += [f"fifo {n} {a} {b} {depth}" for n, a, b, depth in fifos]
    for w in st.weight_streams:  # mem_mode "external": one frame's weight words, sent once per frame
        (directory / f"{w.name}.bin").write_bytes(packing.words_bytes(w.words, w.width).tobytes())
        lines.append(f"wstream {w.name} {w.node} {w.width} {w.offset} {len(w.words)} {w.name}.bin")
    (directory / "design.txt").write_text("\n".join(lines) + "\n")
    return d


def _verilator() -> str:
    exe = shutil.which("verilator")
    if not exe:
        raise errors.InputFileError("verilator", "is not installed (needed for --mode rtlsim and the rtlsim "
                                    "build steps)", "run ./bazelw once (it installs verilator) or apt-get install "
                                    "verilator")
    return exe


def build_jobs() -> int:
    """Parallel compile jobs of a Verilator build: $QNN2FPGA_JOBS, else 1 inside a Bazel
    test or action (Bazel runs one per core already), else every core."""
    if os.environ.get("QNN2FPGA_JOBS", "").isdigit() and int(os.environ["QNN2FPGA_JOBS"]) > 0:
        return int(os.environ["QNN2FPGA_JOBS"])
    if "TEST_TMPDIR" in os.environ:
        return 1
    return os.cpu_count() or 1


def compile_design(design: Design, jobs: int | None = None, log=None, what: str = "the stitched design",
                   harness: tuple = HARNESS, top: str | None = None, extra_verilog: tuple = ()) -> pathlib.Path:
    """The simulator binary for `design`, built with Verilator unless cached; `what` names
    the design in the log line. `harness` (its C++ source first, then the headers it
    includes), `top` (default: the stitched top) and `extra_verilog` (files around the
    stitched top) build other testbenches of the same design (qnn2fpga.shell)."""
    root = rtl_root()
    exe = _verilator()
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip()
    files = library_files(root)
    top = top or design.top
    h = hashlib.sha256(version.encode())
    if top != design.top:
        h.update(b"\0top " + top.encode())
    for p in [design.verilog, *map(pathlib.Path, extra_verilog), *[root / f for f in harness], *files]:
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    target = cache_dir() / h.hexdigest()[:20]
    binary = target / "sim"
    if binary.is_file():
        return binary
    if log:
        log(f"compiling {what} with Verilator ({top}, {len(design.nodes)} layers)")
    obj_flags = ["--cc", "--exe", "--prefix", "Vdut", "-O3", "--x-assign", "fast", "--x-initial", "fast",
                 "-Wno-fatal", "-Wno-lint", "-Wno-style", "-CFLAGS", f"-O1 -std=c++17 -I{root}"]
    with _staged(target, ".build-") as work:
        obj = work / "obj"
        # Verilate, then make: between the two, the Verilator runtime's objects (the same for
        # every design) come from an earlier build, so only the design and harness compile.
        _run_build(design, [exe, *obj_flags, "--top-module", top, "-Mdir", str(obj), "-o", "sim",
                            str(design.verilog), *map(str, extra_verilog), *map(str, files), str(root / harness[0])])
        runtime = _runtime_objects_dir(version, obj_flags)
        names = _runtime_object_names(obj)
        reused = runtime.is_dir() and all((runtime / n).is_file() for n in names)
        if reused:
            for n in names:
                shutil.copyfile(runtime / n, obj / n)  # newer than the makefiles: not rebuilt
        _run_build(design, ["make", "-s", "-C", str(obj), "-f", "Vdut.mk", "-j", str(jobs or build_jobs())])
        if not reused and names:
            with _staged(runtime, ".verilated-") as keep:
                for n in names:
                    shutil.copyfile(obj / n, keep / n)
        (obj / "sim").rename(work / "sim")
        shutil.rmtree(obj)
    return binary


@contextlib.contextmanager
def _staged(target: pathlib.Path, prefix: str):
    """A new directory beside `target` that becomes `target` when the block completes
    (unless another run made it first); removed if the block fails."""
    target.parent.mkdir(parents=True, exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))
    work.chmod(umask_mode(directory=True))
    try:
        yield work
        try:
            os.replace(work, target)
        except OSError:  # made concurrently by another run
            pass
    finally:
        if work.exists():
            shutil.rmtree(work)


def _run_build(design: Design, cmd: list[str]) -> None:
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        tail = "\n".join((p.stdout + p.stderr).strip().splitlines()[-20:])
        raise errors.QnnError(f"Verilator build of {design.verilog.name}", f"failed:\n{tail}",
                              "report this with the design directory")


def _runtime_objects_dir(version: str, flags: list[str]) -> pathlib.Path:
    """Where the Verilator runtime objects built with `flags` by this Verilator and C++
    compiler are kept (they depend on nothing else)."""
    cxx = subprocess.run([os.environ.get("CXX", "g++"), "--version"], capture_output=True, text=True).stdout
    key = hashlib.sha256("\0".join([version, cxx, *flags]).encode()).hexdigest()[:20]
    return cache_dir() / f"verilated-{key}"


def _runtime_object_names(obj: pathlib.Path) -> list[str]:
    """The runtime's object files the generated makefile builds (VM_GLOBAL_FAST/SLOW)."""
    names = []
    for line in (obj / "Vdut_classes.mk").read_text().replace("\\\n", " ").splitlines():
        key, _, value = line.partition("+=")
        if key.strip() in ("VM_GLOBAL_FAST", "VM_GLOBAL_SLOW"):
            names += [f"{n}.o" for n in value.split()]
    return names


@dataclass
class SimResult:
    y: np.ndarray  # the last layer's output values (frames, *shape[1:])
    report: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.report.get("status") == "ok"


def simulate(binary, design: Design, x: np.ndarray, in_p: float = 1.0, out_p: float = 1.0, seed: int = 1,
             frame_interval: int = 0, stall_bound: int | None = None, axilite_writes=(),
             weight_streams=None) -> SimResult:
    """Streams the frames of `x` ((frames, *first layer input shape[1:]), channels last,
    values of the first layer's input datatype) through the design. Returns the output
    values and the harness report (status, cycles_per_frame, latency, fifo_max, ...).
    `axilite_writes`: (address, data) pairs written through the top's AXI-lite port
    before the first frame (design.stitched.axilite_writes makes them). `weight_streams`:
    {node: one frame's words} replacing the design's weights on those layers' weight
    streams (mem_mode "external"; design.stitched.weight_stream_words makes them)."""
    first, last = design.first, design.last
    shape = tuple(first.get_normal_input_shape(0)[1:])
    x = np.asarray(x)
    if tuple(x.shape[1:]) != shape:
        raise errors.InputFileError("the input batch", f"has shape {x.shape}, the first layer expects "
                                    f"(frames, {', '.join(map(str, shape))})", "reshape the input")
    data = packing.pack_bytes(x, first.get_input_datatype(0), first.input_folds()[0])
    out, report = simulate_packed(binary, design, data, in_p=in_p, out_p=out_p, seed=seed,
                                  frame_interval=frame_interval, stall_bound=stall_bound,
                                  axilite_writes=axilite_writes, weight_streams=weight_streams)
    dt, fold = last.get_output_datatype(0), last.output_folds()[0]
    y = packing.unpack_bytes(out, dt, fold)
    return SimResult(y.reshape(report["frames_done"], *last.get_normal_output_shape(0)[1:]), report)


def simulate_packed(binary, design: Design, data: np.ndarray, in_p: float = 1.0, out_p: float = 1.0, seed: int = 1,
                    frame_interval: int = 0, stall_bound: int | None = None,
                    axilite_writes=(), weight_streams=None) -> tuple[np.ndarray, dict]:
    """`simulate` on packed bytes, as a DMA moves them: `data` holds the input words in
    stream order (any shape whose bytes are whole frames of in_words words of
    packing.word_bytes bytes). Returns the output words the design sent, uint8
    (frames_done * out_words, out word bytes), and the harness report. The weight
    streams (mem_mode "external") carry the design's weights, or those of
    `weight_streams` ({node: one frame's words}), once per frame."""
    first, last = design.first, design.last
    data = np.ascontiguousarray(data, dtype=np.uint8)
    frame_bytes = design.in_words * packing.word_bytes(first.get_input_datatype(0), first.input_folds()[0])
    if data.size % frame_bytes:
        raise errors.InputFileError("the input batch", f"has {data.size} bytes, not whole frames of {frame_bytes}",
                                    "pack whole frames (qnn2fpga.packing.pack_bytes)")
    with tempfile.TemporaryDirectory(prefix="qnn2fpga-rtlsim-") as tmp:
        t = pathlib.Path(tmp)
        (t / "in.bin").write_bytes(data.tobytes())
        extra = []
        if axilite_writes and not design.stitched.axilite:
            raise errors.InputFileError("the AXI-lite writes", "target a design without an s_axilite port",
                                        "make the layer runtime-writeable (runtime_writeable_weights=1)")
        limit = 1 << design.stitched.axilite_addr_bits
        bad = next(((a, d) for a, d in axilite_writes if not (0 <= a < limit and 0 <= d < 1 << 32)), None)
        if bad:
            raise errors.InputFileError("the AXI-lite writes", f"write ({bad[0]:#x}, {bad[1]:#x}) falls outside the "
                                        f"s_axilite port ({limit} bytes, 32-bit data)",
                                        "write to the layers' ranges (Stitched.axilite_writes)")
        if weight_streams:
            extra.append(f"--wstream_dir={t}")
            streams = {w.node: w for w in design.stitched.weight_streams}
            for w in design.stitched.weight_streams:
                words = weight_streams.get(w.node, w.words)
                if len(words) != len(w.words):
                    raise errors.InputFileError(f"the weight stream of '{w.node}'", f"has {len(words)} words per "
                                                f"frame, the layer takes {len(w.words)}",
                                                "make them with Stitched.weight_stream_words")
                (t / f"{w.name}.bin").write_bytes(packing.words_bytes(words, w.width).tobytes())
            unknown = sorted(set(weight_streams) - set(streams))
            if unknown:
                raise errors.InputFileError("the weight streams", f"name {', '.join(unknown)}, which take no weight "
                                            "stream in this design",
                                            f"use one of: {', '.join(streams) or 'none (no mem_mode external layer)'}")
        if axilite_writes:
            (t / "axilite.txt").write_text("".join(f"{a:x} {d:x}\n" for a, d in axilite_writes))
            extra.append(f"--axilite={t / 'axilite.txt'}")
        # the harness runs in the design directory (its memory files are relative to it)
        cmd = [os.path.abspath(binary), "--design=design.txt", f"--input={t / 'in.bin'}",
               f"--output={t / 'out.bin'}", f"--report={t / 'report.json'}", f"--in_p={in_p}",
               f"--out_p={out_p}", f"--seed={seed}", f"--frame_interval={frame_interval}",
               f"--stall_bound={stall_bound or design.stall_bound()}", *extra]
        p = subprocess.run(cmd, cwd=design.directory, capture_output=True, text=True)
        if p.returncode not in (0, 3) or not (t / "report.json").exists():
            raise errors.QnnError(f"the simulation of {design.top}", f"failed: {p.stderr.strip()[-2000:]}",
                                  "report this with the design directory")
        report = json.loads((t / "report.json").read_text())
        out = np.frombuffer((t / "out.bin").read_bytes(), dtype=np.uint8)
    wb = packing.word_bytes(last.get_output_datatype(0), last.output_folds()[0])
    words = report["frames_done"] * design.out_words
    return out[: words * wb].reshape(words, wb), report
