"""The PYNQ driver and the deployment package of a stitched design, and the simulation
transport that runs the same driver against the Verilator-built design.

    write_driver(model, design, "out/driver", board, fclk_mhz)     # step make_driver
    write_package(model, design, "out/deploy", board, fclk_mhz, export=export)
    accel = load_driver("out/driver", SimTransport(design, binary, fclk_mhz))
    accel = simulated_driver("out")          # a `qnn2fpga build` directory's package, simulated

driver/ holds the runtime (drivers/*.py), the compiler's packing library (packing.py),
io_shape_dict.json (datatypes, shapes, folds, runtime-writeable layers and the shell's
register map), the network's software head and tail as ONNX (head.onnx, tail.onnx,
when the network has them), runtime_weights/<layer>.dat (the current weights of each
runtime-writeable layer) and runtime_weights/idma<k>.npy (weight stream k's words of one
frame, for layers with mem_mode "external"). Every file is a function of the model and the design: no
timestamps, no absolute paths.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import pathlib
import shutil
import sys
import tempfile
import weakref

import numpy as np
import onnx
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.general import RemoveUnusedTensors

from qnn2fpga import errors, execute, packing, rtlsim
from qnn2fpga.execute import hw_span
from qnn2fpga.graph import real_inputs

DRIVER_SOURCES = ("driver_base.py", "driver.py", "validate.py")
IO_FILE = "io_shape_dict.json"
BITFILE = "qnn2fpga_accel.bit"
# Block design cell names the Vivado project gives the DMA and the accelerator
# (qnn2fpga.vivado; PYNQ exposes them as attributes of the Overlay).
DMA_CELL, ACCEL_CELL = "dma", "accel"


def weight_dma_cell(k: int) -> str:
    """The block design cell (an AXI DMA, MM2S only) feeding weight stream k (mem_mode
    "external"; Stitched.weight_streams[k]) from DRAM: FINN's name for it."""
    return f"idma{k}"


def drivers_root() -> pathlib.Path:
    """The directory holding the driver sources (drivers/ in the repository or runfiles,
    the package's data/drivers in an installed wheel, or $QNN2FPGA_DRIVERS_ROOT)."""
    env = os.environ.get("QNN2FPGA_DRIVERS_ROOT")
    candidates = [pathlib.Path(env)] if env else []
    candidates += [pathlib.Path(__file__).parent / "data" / "drivers", rtlsim.rtl_root() / "drivers",
                   pathlib.Path(__file__).resolve().parents[2] / "drivers"]
    for c in candidates:
        if all((c / f).is_file() for f in DRIVER_SOURCES):
            return c
    raise errors.InputFileError("the driver sources (drivers/)", "were not found beside the qnn2fpga package",
                                "reinstall the package (pip install ./python) or set QNN2FPGA_DRIVERS_ROOT")


def software_part(model: ModelWrapper, nodes: list, inp: str, out: str) -> ModelWrapper | None:
    """The nodes (a slice of the graph in order) from tensor `inp` to tensor `out` as a
    model of their own, or None when there are none."""
    if not nodes:
        return None
    proto = onnx.ModelProto()
    proto.CopyFrom(model.model)
    graph = proto.graph
    keep = [n.name for n in nodes]
    kept = [n for n in graph.node if n.name in keep]
    del graph.node[:]
    graph.node.extend(kept)
    vi = {v.name: v for v in [*graph.input, *graph.value_info, *graph.output]}
    del graph.input[:]
    del graph.output[:]
    graph.input.append(vi[inp])
    graph.output.append(vi[out])
    inner = [v for v in graph.value_info if v.name not in (inp, out)]
    del graph.value_info[:]
    graph.value_info.extend(inner)
    part = ModelWrapper(proto).transform(RemoveUnusedTensors())
    part.set_tensor_datatype(inp, model.get_tensor_datatype(inp))
    return part


def _head_and_tail(model: ModelWrapper) -> tuple[ModelWrapper | None, ModelWrapper | None]:
    a, b = hw_span(model)
    nodes = list(model.graph.node)
    head = software_part(model, nodes[:a], real_inputs(model)[0], nodes[a].input[0])
    tail = software_part(model, nodes[b + 1:], nodes[b].output[0], model.graph.output[0].name)
    return head, tail


def io_shape_dict(model: ModelWrapper, design: rtlsim.Design, board: str, fclk_mhz: float,
                  parts: tuple | None = None) -> dict:
    """What the driver needs to know of the accelerator (FINN's io_shape_dict keys, one
    input and one output, plus the network's own shapes, the runtime-writeable layers'
    sizes and the shell's register map and address map, shell.json's content). `parts`:
    the network's software (head, tail), when already cut out."""
    from qnn2fpga import shell as shells  # noqa: PLC0415

    shell = shells.shell(design).description()
    first, last = design.first, design.last
    idt, odt = first.get_input_datatype(0), last.get_output_datatype(0)
    fin, fout = first.input_folds()[0], last.output_folds()[0]
    ishape, oshape = list(first.get_normal_input_shape(0)), list(last.get_normal_output_shape(0))
    ib, ob = packing.word_bytes(idt, fin), packing.word_bytes(odt, fout)
    head, tail = parts or _head_and_tail(model)
    x = real_inputs(model)[0]
    return {
        "board": board, "board_aliases": _aliases(board), "fclk_mhz": fclk_mhz, "bitfile": BITFILE,
        "network_idt": model.get_tensor_datatype(x).name,
        "network_ishape": list(model.get_tensor_shape(x)),
        "network_oshape": list(model.get_tensor_shape(model.graph.output[0].name)),
        "idt": [idt.get_canonical_name()], "odt": [odt.get_canonical_name()],
        "ishape_normal": [ishape], "oshape_normal": [oshape],
        "ishape_folded": [[*ishape[:-1], ishape[-1] // fin, fin]],
        "oshape_folded": [[*oshape[:-1], oshape[-1] // fout, fout]],
        "ishape_packed": [[*ishape[:-1], ishape[-1] // fin, ib]],
        "oshape_packed": [[*oshape[:-1], oshape[-1] // fout, ob]],
        "input_fold": [fin], "output_fold": [fout],
        "in_words_per_frame": design.in_words, "out_words_per_frame": design.out_words,
        "head": "head.onnx" if head is not None else None, "tail": "tail.onnx" if tail is not None else None,
        "runtime_weights": {node: {"bytes": 1 << bits} for node, (_, _, bits) in design.stitched.axilite.items()},
        "external_weights": [{"node": w.node, "stream": w.name, "dma": weight_dma_cell(w.index),
                              "file": f"{weight_dma_cell(w.index)}.npy", "width": w.width,
                              "words_per_frame": len(w.words), "word_bytes": -(-w.width // 8)}
                             for w in design.stitched.weight_streams],
        "shell": {"dma": DMA_CELL, "accelerator": ACCEL_CELL, **shell},
    }


def _aliases(board: str) -> list[str]:
    from qnn2fpga import boards  # noqa: PLC0415

    b = boards.load_board(board)
    return sorted({b.name, *b.aliases} - {board})


def runtime_weight_text(design: rtlsim.Design, node: str, params) -> str:
    """A runtime_weights/<layer>.dat file: the writes that load `params` (the layer's
    parameter arrays) into runtime-writeable layer `node`, `OFFSET DATA` in hex, one per
    line, offsets relative to the layer's range."""
    writes = design.stitched.axilite_writes(node, params)  # refuses a layer that is not writeable
    base = design.stitched.axilite[node][0]
    return "".join(f"{a - base:x} {d:08x}\n" for a, d in writes)


def external_weight_array(design: rtlsim.Design, node: str, params=None) -> np.ndarray:
    """A runtime_weights/idma<k>.npy array: one frame's words on the weight stream of layer
    `node` (mem_mode "external") for its parameter arrays `params` (default: the
    design's), uint8 (words, word bytes)."""
    st = design.stitched
    ws = next((w for w in st.weight_streams if w.node == node), None)
    if ws is None or params is not None:
        words = st.weight_stream_words(node, params)  # refuses a layer without a weight stream
    else:
        words = ws.words
    return packing.words_bytes(words, ws.width)


def write_driver(model: ModelWrapper, design: rtlsim.Design, directory, board: str,
                 fclk_mhz: float) -> pathlib.Path:
    """driver/ (module doc) in `directory`, replaced as a whole."""
    directory = pathlib.Path(directory)
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    root = drivers_root()
    for f in DRIVER_SOURCES:
        shutil.copyfile(root / f, directory / f)
    shutil.copyfile(pathlib.Path(packing.__file__), directory / "packing.py")
    head, tail = _head_and_tail(model)
    io = io_shape_dict(model, design, board, fclk_mhz, (head, tail))
    for name, part in (("head.onnx", head), ("tail.onnx", tail)):
        if part is not None:
            onnx.save(part.model, str(directory / name))
    st = design.stitched
    if st.axilite:
        (directory / "runtime_weights").mkdir()
        for k, layer in enumerate(st.layers):
            node = layer.onnx_node.name
            if node in st.axilite:
                (directory / "runtime_weights" / f"{node}.dat").write_text(runtime_weight_text(design, node,
                                                                                              st.params[k]))
    if st.weight_streams:
        (directory / "runtime_weights").mkdir(exist_ok=True)
        for w in st.weight_streams:
            with open(directory / "runtime_weights" / f"{weight_dma_cell(w.index)}.npy", "wb") as f:
                np.save(f, external_weight_array(design, w.node))
    (directory / IO_FILE).write_text(json.dumps(io, indent=1) + "\n")
    return directory


PACKAGE_README = """# {name} on {board}

driver/      the PYNQ runtime: `python3 driver.py --exec_mode=execute --inputfile=../example_input.npy`
             (`--exec_mode=throughput_test --batchsize=N` times a batch); validate.py reports
             accuracy on .npy images and labels; io_shape_dict.json lists datatypes and shapes
bitfile/     {bitfile}
example_input.npy, expected_output.npy
             {n} network inputs ({idt}, shape {ishape}) and the compiled network's outputs
             for them (its layers' models; equal to the export's up to float rounding in
             a software tail); driver.py --exec_mode=execute must write exactly these

On the board: copy this directory, install qonnx (`pip3 install qonnx`), then run the
command above from driver/ as root (PYNQ needs it to load the bitfile).
"""


def write_package(model: ModelWrapper, design: rtlsim.Design, directory, board: str, fclk_mhz: float,
                  export: ModelWrapper | None, input_datatype: str = "",
                  bitfile_dir=None, examples: int = 4, name: str = "the network") -> pathlib.Path:
    """deploy/ in `directory` (replaced as a whole): driver/, bitfile/ (the .bit and .hwh
    from `bitfile_dir` when Vivado built them), example_input.npy and expected_output.npy
    (`examples` seeded network inputs of the export's shape and the compiled network's
    outputs for them, the layers' models in python: what the accelerator and the driver
    give bit for bit, the export's outputs up to float rounding in a software tail; none
    without `export`),
    README.md."""
    from qnn2fpga import testing  # noqa: PLC0415

    directory = pathlib.Path(directory)
    if directory.exists():
        shutil.rmtree(directory)
    write_driver(model, design, directory / "driver", board, fclk_mhz)
    built = []
    if bitfile_dir:
        (directory / "bitfile").mkdir()
        for f in sorted(pathlib.Path(bitfile_dir).glob("*")):
            if f.suffix in (".bit", ".hwh"):
                shutil.copyfile(f, directory / "bitfile" / f.name)
                built.append(f.name)
    shape = tuple(model.get_tensor_shape(real_inputs(model)[0])[1:])
    if export is not None:
        x = testing.golden_inputs(export, examples, input_datatype=input_datatype)
        np.save(directory / "example_input.npy", x.astype(np.uint8) if input_datatype else x)
        np.save(directory / "expected_output.npy", execute.execute(model, x))
    (directory / "README.md").write_text(PACKAGE_README.format(
        name=name, board=board, n=examples, idt=model.get_tensor_datatype(real_inputs(model)[0]).name,
        ishape=shape,
        bitfile=", ".join(built) if built else "(not built: the <board>_bitfile target needs Vivado)"))
    return directory


def load_driver(directory, transport, batch_size: int = 1):
    """The package's Accelerator (drivers/driver_base.py as copied into `directory`) over
    `transport`: what `driver.py` does on a board, with any transport."""
    directory = pathlib.Path(directory)
    path = directory / "driver_base.py"
    if not path.is_file():
        raise errors.InputFileError(f"'{directory}'", "holds no driver_base.py", "point to a package's driver/")
    name = f"_qnn2fpga_driver_{hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    module = sys.modules[name]
    return module.Accelerator.from_package(str(directory), transport=transport, batch_size=batch_size)


def simulated_driver(build_dir, batch_size: int = 1, stall_bound: int | None = None):
    """The deployment package's driver of a `qnn2fpga build` output directory over the
    simulation transport: the package tried without a board. The design is the model the
    build saved at its deployment_package step, stitched again into a temporary directory
    and built with Verilator (cached like every simulator)."""
    build_dir = pathlib.Path(build_dir)
    driver = build_dir / "deploy" / "driver"
    if not (driver / IO_FILE).is_file():
        raise errors.InputFileError(f"'{build_dir}'", "holds no deploy/driver/ (not a build directory, or a build "
                                    "stopped before its deployment_package step)",
                                    "run qnn2fpga build to the end with --output_dir pointing there")
    saved = sorted((build_dir / "intermediate_models").glob("*_deployment_package.onnx"))
    if not saved:
        raise errors.InputFileError(f"'{build_dir}'", "holds no intermediate_models/<i>_deployment_package.onnx",
                                    "run qnn2fpga build to the end with --output_dir pointing there")
    model = ModelWrapper(str(saved[-1]))
    design = rtlsim.write_design(model, tempfile.mkdtemp(prefix="qnn2fpga-driver-"))
    weakref.finalize(design, shutil.rmtree, design.directory, True)
    io = json.loads((driver / IO_FILE).read_text())
    transport = SimTransport(design, rtlsim.compile_design(design), io["fclk_mhz"], stall_bound)
    return load_driver(driver, transport, batch_size)


class SimTransport:
    """The driver's transport over the Verilator-built stitched design (rtl/common/tb
    harness): each `run` is one simulation of the batch, with every weight written so
    far replayed through the AXI-lite port first (the design keeps no state between
    runs) and the external weights set last sent once per frame on their streams. The
    accelerator's time is the simulated cycles at `fclk_mhz`. A run that stalls stops at
    the harness's stall bound with its diagnosis (a typed error)."""

    def __init__(self, design: rtlsim.Design, binary, fclk_mhz: float, stall_bound: int | None = None):
        self.design, self.binary, self.fclk_mhz = design, binary, fclk_mhz
        self.stall_bound = stall_bound
        self.writes: list[tuple[int, int]] = []
        self.weight_streams: dict = {}  # node -> one frame's words
        self.report: dict = {}

    def run(self, data: np.ndarray, frames: int) -> tuple[np.ndarray, float]:
        out, report = rtlsim.simulate_packed(self.binary, self.design, data, stall_bound=self.stall_bound,
                                             axilite_writes=self.writes, weight_streams=self.weight_streams)
        self.report = report
        if report.get("status") != "ok" or report.get("frames_done") != frames:
            raise errors.QnnError("the simulated accelerator", f"stopped after {report.get('frames_done')} of "
                                  f"{frames} frames: {report.get('diagnosis', report.get('status'))}",
                                  "check the batch and the runtime weights written before it")
        return out, report["cycles"] / (self.fclk_mhz * 1e6)

    def write_weights(self, layer: str, writes: list[tuple[int, int]]) -> None:
        if layer not in self.design.stitched.axilite:
            raise errors.ModelError(f"layer '{layer}'", "has no runtime-writeable parameters in this design",
                                    f"use one of: {', '.join(self.design.stitched.axilite) or 'none'}")
        base = self.design.stitched.axilite[layer][0]
        self.writes += [(base + a, d) for a, d in writes]

    def set_external_weights(self, k: int, words: np.ndarray) -> None:
        streams = self.design.stitched.weight_streams
        if not 0 <= k < len(streams):
            raise errors.ModelError(f"weight stream {k}", f"does not exist (the design has {len(streams)})",
                                    "use the index of io_shape_dict's external_weights")
        words = np.asarray(words, dtype=np.uint8)
        self.weight_streams[streams[k].node] = [int.from_bytes(row.tobytes(), "little") for row in words]
