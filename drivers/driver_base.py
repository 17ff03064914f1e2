"""The accelerator's runtime: the same class on a PYNQ board and in tests.

    accel = Accelerator.from_package("deploy/driver")          # on the board: PYNQ + the bitfile
    y = accel.execute(x)          # the network: export-shaped input -> the export's outputs
    y_hw = accel.execute_hw(x_hw)  # the accelerator alone (FINN's `execute`): hardware shapes
    accel.batch_size = 50; accel.throughput_test()
    accel.load_runtime_weights("runtime_weights")       # AXI-lite layer memories (<layer>.dat)
    accel.load_external_weights("runtime_weights")      # weights streamed from DRAM (idma<k>.npy)

What the accelerator takes and returns is read from `io_shape_dict.json`, written by the
build beside this file (FINN's keys: idt/odt, ishape/oshape normal, folded and packed).
Inputs are packed into the DMA's bytes and outputs unpacked with `packing` (the
compiler's own packing library, copied into the package), so the bytes are the ones the
simulators were checked with. The software head and tail of the network (shape changes
before the first hardware layer, the export's float ops after the last) are the
package's head.onnx and tail.onnx, run with qonnx.

Layers built with mem_mode "external" keep no weights on the chip: weight stream k
(io_shape_dict's "external_weights") takes one frame's weight words per frame from DRAM,
through its own DMA. The package holds them as runtime_weights/idma<k>.npy (uint8, one
row of little-endian bytes per word: FINN's file names), loaded when the driver starts
and again by `load_external_weights`.

Transport: how packed frames reach the accelerator, behind three methods (`run`,
`write_weights`, `set_external_weights`): PynqTransport (AXI DMA and the shell's AXI-lite registers, on a
board) or the simulated design (qnn2fpga.deploy.SimTransport, in tests). Nothing else
differs between the two.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import time

import numpy as np

IO_FILE = "io_shape_dict.json"


def _packing():
    """The package's packing.py beside this file (a deployment package), else the
    installed compiler's (this file in the source tree)."""
    here = pathlib.Path(__file__).with_name("packing.py")
    if not here.is_file():
        from qnn2fpga import packing  # noqa: PLC0415

        return packing
    spec = importlib.util.spec_from_file_location(f"_qnn2fpga_driver_packing_{abs(hash(str(here)))}", here)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


packing = _packing()


class DriverError(Exception):
    """Bad input to the driver: one line naming what is wrong and the fix."""

    def __init__(self, where: str, problem: str, fix: str):
        super().__init__(" ".join(f"driver error: {where}: {problem}; fix: {fix}".split()))


def _datatype(name: str):
    from qonnx.core.datatype import DataType  # noqa: PLC0415

    return DataType[name]


def run_cli(main) -> int:
    """Runs a command-line entry point: a DriverError is one line on stderr, exit status 2."""
    import sys  # noqa: PLC0415

    try:
        return main()
    except DriverError as e:
        print(e, file=sys.stderr)
        return 2


def _board_key(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


def _check_board(io: dict) -> None:
    """Refuses a package built for another board than the one PYNQ names ($BOARD)."""
    here = os.environ.get("BOARD")
    names = [io["board"], *io.get("board_aliases", [])]
    if here and _board_key(here) not in {_board_key(n) for n in names}:
        raise DriverError(f"this board {here!r}", f"the package was built for {io['board']}",
                          f"build the accelerator for {here} (qnn_accelerator board) and deploy that package")


class Transport:
    """How packed frames reach an accelerator."""

    fclk_mhz: float = 100.0

    def run(self, data: np.ndarray, frames: int) -> tuple[np.ndarray, float]:
        """Sends `frames` frames of packed input words (uint8, (frames * in_words, in
        bytes)) and returns the output words (uint8, (frames * out_words, out bytes)) and
        the seconds the accelerator took."""
        raise NotImplementedError

    def write_weights(self, layer: str, writes: list[tuple[int, int]]) -> None:
        """(byte offset in the layer's range, 32-bit data) writes to a runtime-writeable layer."""
        raise NotImplementedError

    def set_external_weights(self, k: int, words: np.ndarray) -> None:
        """Weight stream k's words for every following frame (uint8, (words per frame,
        word bytes)), sent once per frame."""
        raise NotImplementedError


class PynqTransport(Transport):
    """The accelerator on a board: the bitfile loaded with pynq.Overlay, frames moved by
    the AXI DMA (MM2S in, S2MM out), the shell's registers (shell.json's map) through
    MMIO. TLAST_WORDS is set before each batch so the S2MM transfer ends with it. Each
    weight stream has its own DMA (MM2S, cell idma<k>): per batch of N frames it sends
    one buffer holding the frame's weight words N times. A batch whose transfers would
    pass the DMA's length limit (2**26 - 1 bytes) is sent in parts."""

    MAX_TRANSFER = (1 << 26) - 1

    def __init__(self, bitfile: str, io: dict, download: bool = True):
        from pynq import Overlay, allocate  # noqa: PLC0415 (only on a board)

        self._allocate = allocate
        self.io = io
        self.overlay = Overlay(bitfile, download=download)
        self.dma = getattr(self.overlay, io["shell"]["dma"])
        self.regs = getattr(self.overlay, io["shell"]["accelerator"])
        self.fclk_mhz = float(io["fclk_mhz"])
        self._buffers = None
        self._weights: dict = {}  # k -> (words, DMA, buffer for the current batch size or None)
        magic = self.regs.read(io["shell"]["registers"]["MAGIC"])
        if magic != io["shell"]["magic"]:
            raise DriverError(f"bitfile '{bitfile}'", f"the accelerator answers magic {magic:#x}, not "
                              f"{io['shell']['magic']:#x}", "load the bitfile of this package")

    def _buffers_for(self, in_shape, out_shape):
        if self._buffers is None or self._buffers[0].shape != in_shape or self._buffers[1].shape != out_shape:
            self._buffers = (self._allocate(shape=in_shape, dtype=np.uint8),
                             self._allocate(shape=out_shape, dtype=np.uint8))
        return self._buffers

    def run(self, data: np.ndarray, frames: int) -> tuple[np.ndarray, float]:
        frame_bytes = [data.nbytes // frames, self.io["out_words_per_frame"] * self.io["oshape_packed"][0][-1]]
        frame_bytes += [w.nbytes for w, _, _ in self._weights.values()]
        part = max(1, self.MAX_TRANSFER // max(frame_bytes))
        if frames > part:
            per = data.shape[0] // frames
            runs = [self.run(data[i * per:(i + part) * per], min(part, frames - i)) for i in range(0, frames, part)]
            return np.concatenate([o for o, _ in runs]), sum(t for _, t in runs)
        words = frames * self.io["out_words_per_frame"]
        ibuf, obuf = self._buffers_for(data.shape, (words, self.io["oshape_packed"][0][-1]))
        ibuf[:] = data
        ibuf.flush()
        wbufs = [self._weight_buffer(k, frames) for k in sorted(self._weights)]
        self.regs.write(self.io["shell"]["registers"]["TLAST_WORDS"], words)
        t0 = time.perf_counter()
        self.dma.recvchannel.transfer(obuf)
        for dma, buf in wbufs:
            dma.sendchannel.transfer(buf)
        self.dma.sendchannel.transfer(ibuf)
        self.dma.sendchannel.wait()
        for dma, _ in wbufs:
            dma.sendchannel.wait()
        self.dma.recvchannel.wait()
        seconds = time.perf_counter() - t0
        obuf.invalidate()
        return np.array(obuf), seconds

    def _weight_buffer(self, k: int, frames: int):
        words, dma, buf = self._weights[k]
        if buf is None or buf.shape[0] != frames * words.shape[0]:
            buf = self._allocate(shape=(frames * words.shape[0], words.shape[1]), dtype=np.uint8)
            buf[:] = np.tile(words, (frames, 1))
            buf.flush()
            self._weights[k] = (words, dma, buf)
        return dma, buf

    def set_external_weights(self, k: int, words: np.ndarray) -> None:
        dma = getattr(self.overlay, self.io["external_weights"][k]["dma"])
        self._weights[k] = (np.array(words, dtype=np.uint8), dma, None)

    def write_weights(self, layer: str, writes: list[tuple[int, int]]) -> None:
        base = self.io["shell"]["layers"][layer]["base"]
        for offset, value in writes:
            self.regs.write(base + offset, value)


class Accelerator:
    """One accelerator: packing, batching, the software head and tail, runtime weights
    and timing over a Transport (see the module doc)."""

    def __init__(self, io: dict, transport: Transport, batch_size: int = 1, package_dir: str | None = None):
        self.io = io
        self.transport = transport
        self.package_dir = pathlib.Path(package_dir) if package_dir else None
        self.batch_size = batch_size
        self._idt, self._odt = _datatype(io["idt"][0]), _datatype(io["odt"][0])
        self._head = self._load_part("head")
        self._tail = self._load_part("tail")
        if io.get("external_weights"):
            self.load_external_weights()

    @classmethod
    def from_package(cls, directory: str = ".", transport: Transport | None = None, batch_size: int = 1,
                     bitfile: str | None = None) -> "Accelerator":
        """The accelerator of a deployment package's driver directory; without a transport,
        the board's (PynqTransport with the package's bitfile)."""
        directory = pathlib.Path(directory)
        path = directory / IO_FILE
        if not path.is_file():
            raise DriverError(f"'{path}'", "does not exist", "point to the driver directory of a deployment package")
        io = json.loads(path.read_text())
        _check_board(io)
        if transport is None:
            bitfile = bitfile or str(directory.parent / "bitfile" / io["bitfile"])
            if not os.path.isfile(bitfile):
                raise DriverError(f"bitfile '{bitfile}'", "does not exist",
                                  "build the package's <board>_bitfile target (needs Vivado) or pass --bitfile")
            transport = PynqTransport(bitfile, io)
        return cls(io, transport, batch_size, directory)

    # --- shapes and datatypes (FINN's names) ------------------------------------------------
    @property
    def batch_size(self) -> int:
        return self._batch_size

    @batch_size.setter
    def batch_size(self, value: int) -> None:
        if int(value) != value or value < 1:
            raise DriverError("batch_size", f"{value!r} is not a positive integer", "use 1 or more")
        self._batch_size = int(value)

    def idt(self):
        return self._idt

    def odt(self):
        return self._odt

    def ishape_normal(self) -> tuple:
        return (self.batch_size, *self.io["ishape_normal"][0][1:])

    def oshape_normal(self) -> tuple:
        return (self.batch_size, *self.io["oshape_normal"][0][1:])

    def ishape_packed(self) -> tuple:
        return (self.batch_size, *self.io["ishape_packed"][0][1:])

    def oshape_packed(self) -> tuple:
        return (self.batch_size, *self.io["oshape_packed"][0][1:])

    # --- packing ----------------------------------------------------------------------------
    def _check(self, x, shape_tail, what: str) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim != len(shape_tail) + 1 or tuple(x.shape[1:]) != tuple(shape_tail):
            raise DriverError(f"the {what} batch", f"has shape {x.shape}, expected (N, "
                              f"{', '.join(map(str, shape_tail))})", "reshape it (N frames of that shape)")
        if x.dtype.kind not in "iuf" or x.dtype.kind == "f" and not np.isfinite(x).all():
            raise DriverError(f"the {what} batch", f"has dtype {x.dtype}", "pass integer or finite float values")
        return x

    @staticmethod
    def _check_values(x: np.ndarray, dt_name: str, what: str) -> None:
        """Refuses values that are not of an integer datatype (a float datatype takes any)."""
        dt = _datatype(dt_name)
        if not dt.is_integer() or not x.size:
            return
        if x.min() < dt.min() or x.max() > dt.max() or (x.dtype.kind == "f" and not np.array_equal(x, np.round(x))):
            raise DriverError(f"the {what} batch", f"holds values that are not {dt.name} ({dt.min()}..{dt.max()})",
                              f"pass {dt.name} values" + (" (raw pixels, uint8)" if dt.name == "UINT8" else ""))

    def pack_input(self, x) -> np.ndarray:
        """Hardware-shaped values -> the DMA's bytes (frames * in_words, in bytes)."""
        return self._pack(self._check(x, self.io["ishape_normal"][0][1:], "accelerator input"))

    def _pack(self, x: np.ndarray) -> np.ndarray:
        """pack_input of a batch already checked."""
        try:
            data = packing.pack_bytes(x, self._idt, self.io["input_fold"][0])
        except ValueError as e:
            raise DriverError("the accelerator input batch", f"{e} (input datatype {self._idt.name})",
                              "pass values of the input datatype") from None
        return data.reshape(-1, data.shape[-1])

    def unpack_output(self, data: np.ndarray, frames: int) -> np.ndarray:
        y = packing.unpack_bytes(data, self._odt, self.io["output_fold"][0])
        return y.reshape(frames, *self.io["oshape_normal"][0][1:])

    # --- running ----------------------------------------------------------------------------
    def _run_batch(self, x: np.ndarray, times: dict | None = None) -> np.ndarray:
        t0 = time.perf_counter()
        data = self._pack(x)
        t1 = time.perf_counter()
        out, seconds = self.transport.run(data, len(x))
        t2 = time.perf_counter()
        y = self.unpack_output(out, len(x))
        t3 = time.perf_counter()
        if times is not None:
            times.update({"pack_input[ms]": (t1 - t0) * 1e3, "transfer[ms]": (t2 - t1) * 1e3,
                          "unpack_output[ms]": (t3 - t2) * 1e3, "runtime[ms]": seconds * 1e3})
        return y

    def execute_hw(self, x) -> np.ndarray:
        """The accelerator alone: N frames of the hardware input shape (any N, sent in
        batches of batch_size) -> N frames of its output, float32 values."""
        x = self._check(x, self.io["ishape_normal"][0][1:], "accelerator input")
        if len(x) == 0:
            return np.zeros((0, *self.io["oshape_normal"][0][1:]), np.float32)
        return np.concatenate([self._run_batch(x[i:i + self.batch_size]) for i in range(0, len(x), self.batch_size)])

    def execute(self, x) -> np.ndarray:
        """The network: N inputs of the export's input shape (raw pixels when the build
        took --input_datatype) -> the export's N outputs (head, accelerator, tail)."""
        x = self._check(x, self.io["network_ishape"][1:], "network input")
        self._check_values(x, self.io.get("network_idt", "FLOAT32"), "network input")  # before the head rounds them
        hw_in = self._apply(self._head, x, self.io["ishape_normal"][0])
        return self._apply(self._tail, self.execute_hw(hw_in), self.io["network_oshape"])

    def throughput_test(self) -> dict:
        """One batch of batch_size frames through the accelerator, timed: runtime (the
        accelerator's, from the transport), images/s, DRAM bandwidth in and out, fclk,
        and the host's packing and unpacking times."""
        x = np.full(self.ishape_normal(), self._idt.min(), dtype=np.float32)
        times: dict = {}
        self._run_batch(x, times)
        runtime = times["runtime[ms]"] / 1e3
        in_bytes = int(np.prod(self.ishape_packed()))
        out_bytes = int(np.prod(self.oshape_packed()))
        return {"runtime[ms]": runtime * 1e3, "throughput[images/s]": self.batch_size / runtime,
                "DRAM_in_bandwidth[MB/s]": in_bytes / runtime / 1e6,
                "DRAM_out_bandwidth[MB/s]": out_bytes / runtime / 1e6,
                "fclk[mhz]": self.transport.fclk_mhz, "batch_size": self.batch_size,
                "pack_input[ms]": times["pack_input[ms]"], "transfer[ms]": times["transfer[ms]"],
                "unpack_output[ms]": times["unpack_output[ms]"]}

    # --- runtime weights --------------------------------------------------------------------
    def load_runtime_weights(self, directory: str | None = None) -> list[str]:
        """Writes every `<layer>.dat` in `directory` (default: the package's
        runtime_weights/) into that layer's memory; returns the layers written. A line
        is `OFFSET DATA` in hex: a 32-bit write at that byte offset of the layer's range."""
        default = (self.package_dir or pathlib.Path(".")) / "runtime_weights"
        directory = pathlib.Path(directory) if directory else default
        if not directory.is_dir():
            raise DriverError(f"runtime weight directory '{directory}'", "does not exist",
                              "pass the package's runtime_weights/ or a directory of <layer>.dat files")
        known = self.io.get("runtime_weights", {})
        files = sorted(directory.glob("*.dat"))
        if not files:
            raise DriverError(f"runtime weight directory '{directory}'", "holds no <layer>.dat file",
                              f"write one per layer ({', '.join(known) or 'this design has none'})")
        for f in files:
            if f.stem not in known:
                raise DriverError(f"runtime weight file '{f}'", "names no runtime-writeable layer of this "
                                  "accelerator", f"use one of: {', '.join(known) or 'none'}")
        for f in files:
            size = known[f.stem]["bytes"]
            writes = []
            for n, line in enumerate(f.read_text().split("\n"), start=1):
                if not line.strip():
                    continue
                try:
                    offset, value = (int(v, 16) for v in line.split())
                except ValueError:
                    raise DriverError(f"runtime weight file '{f}' line {n}", f"{line!r} is not 'OFFSET DATA' in hex",
                                      "regenerate it with qnn2fpga.deploy.runtime_weight_text") from None
                if not (0 <= offset < size and offset % 4 == 0 and 0 <= value < 1 << 32):
                    raise DriverError(f"runtime weight file '{f}' line {n}", f"write ({offset:#x}, {value:#x}) is "
                                      f"outside the layer's {size} bytes or not a 32-bit word",
                                      "regenerate it with qnn2fpga.deploy.runtime_weight_text")
                writes.append((offset, value))
            self.transport.write_weights(f.stem, writes)
        return [f.stem for f in files]

    def load_external_weights(self, directory: str | None = None) -> list[str]:
        """Sets the weights of every weight stream (mem_mode "external") from
        `directory`'s idma<k>.npy (default: the package's runtime_weights/): uint8, one row
        of little-endian bytes per word, one frame's words. Every stream needs its file.
        Returns the layers set."""
        default = (self.package_dir or pathlib.Path(".")) / "runtime_weights"
        directory = pathlib.Path(directory) if directory else default
        streams = self.io.get("external_weights", [])
        if not streams:
            raise DriverError("load_external_weights", "this accelerator has no external weights",
                              "build layers with mem_mode 'external' to stream weights from DRAM")
        arrays = []
        for k, ws in enumerate(streams):
            f = directory / ws["file"]
            if not f.is_file():
                raise DriverError(f"external weight file '{f}'", f"does not exist (layer {ws['node']})",
                                  "pass the package's runtime_weights/ or a directory with every idma<k>.npy")
            try:
                a = np.load(f, allow_pickle=False)
            except (ValueError, OSError) as e:
                raise DriverError(f"external weight file '{f}'", f"is not a .npy array ({e})",
                                  "write it with numpy.save") from None
            want = (ws["words_per_frame"], ws["word_bytes"])
            if a.dtype != np.uint8 or a.shape != want:
                raise DriverError(f"external weight file '{f}'", f"holds {a.dtype} {a.shape}, layer {ws['node']} "
                                  f"takes uint8 {want} (one frame's weight words as bytes)",
                                  "make it with qnn2fpga.deploy.external_weight_array")
            arrays.append(a)
        for k, a in enumerate(arrays):
            self.transport.set_external_weights(k, a)
        return [ws["node"] for ws in streams]

    # --- software head and tail -------------------------------------------------------------
    def _load_part(self, which: str):
        name = self.io.get(which)
        if not name:
            return None
        import onnx  # noqa: PLC0415
        from qonnx.core.modelwrapper import ModelWrapper  # noqa: PLC0415

        path = (self.package_dir or pathlib.Path(".")) / name
        if not path.is_file():
            raise DriverError(f"'{path}'", "does not exist", "use a complete deployment package")
        return ModelWrapper(onnx.load(str(path)))

    @staticmethod
    def _apply(part, x: np.ndarray, shape) -> np.ndarray:
        """Runs a software part (one frame at a time: exports have batch 1)."""
        if part is None:
            return x.reshape(len(x), *shape[1:]).astype(np.float32)
        from qonnx.core.onnx_exec import execute_onnx  # noqa: PLC0415

        inp, out = part.graph.input[0].name, part.graph.output[0].name
        frames = [execute_onnx(part, {inp: x[i:i + 1].astype(np.float32)})[out] for i in range(len(x))]
        return np.concatenate(frames) if frames else np.zeros((0, *shape[1:]), np.float32)
