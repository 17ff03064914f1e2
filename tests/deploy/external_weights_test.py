"""Weights streamed from DRAM (mem_mode "external"): TFC-w2a2 for raw pixels, folded
narrow (fast to compile), built twice: with three of its four MVAUs taking their
weights on weight streams, and with every weight inside the design. Both stitched
designs run under Verilator, the external one through the deployment package's driver
over the simulation transport.

- the external build gives exactly the internal build's outputs, and the export's
  (qonnx execution), for 50 uint8 inputs at several batch sizes, at the same cycles per
  frame (FIFO sizing is left out: it is the same for both, and tested elsewhere);
- weights changed at run time (runtime_weights/idma<k>.npy) change the outputs exactly as
  the layers' models with the new weights predict;
- a missing or malformed weight file, or weights for a layer without a stream, is one
  typed error;
- the board's transport (PynqTransport, over a stand-in for pynq whose DMAs feed the
  simulated design) sends each weight DMA its frame's words once per frame of a batch,
  and splits a batch whose transfers pass the DMA's length limit.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import shutil
import sys
import types

import numpy as np
import pytest

from qnn2fpga import deploy, flow, folding, rtlsim, stitch, testing
from qnn2fpga.layers import numerics
from qnn2fpga.transforms.insert_streams import InsertDWC, InsertFIFO

ROOT = pathlib.Path(os.environ.get("TEST_SRCDIR", "")) / os.environ.get("TEST_WORKSPACE", "")
TFC = ROOT / "models/tfc/tfc_w2a2.onnx"
EXTERNAL = {"mem_mode": "external"}
INTERNAL = {"Thresholding_0": {"PE": 16}, "MVAU_0": {"PE": 8, "SIMD": 16}, "MVAU_1": {"PE": 4, "SIMD": 8},
            "MVAU_2": {"PE": 4, "SIMD": 8}, "MVAU_3": {"PE": 2, "SIMD": 8}}
STREAMED = ("MVAU_0", "MVAU_1", "MVAU_3")
INPUTS = 50


def _build(config: dict, tmp: pathlib.Path):
    model = flow.compile_model(flow.load_model(str(TFC)), flow.CompileOptions(input_datatype="UINT8"))
    model, _ = folding.apply_config(model, config, "test config")
    model = model.transform(InsertDWC()).transform(InsertFIFO())  # FIFOs at their default depths
    design = rtlsim.write_design(model, tmp / "design")
    return model, design, rtlsim.compile_design(design)


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    external = {n: {**c, **EXTERNAL} if n in STREAMED else c for n, c in INTERNAL.items()}
    ext = _build(external, tmp_path_factory.mktemp("external"))
    internal = _build(INTERNAL, tmp_path_factory.mktemp("internal"))
    export = flow.load_model(str(TFC))
    x, y = testing.export_golden(export, INPUTS, seed=3, input_datatype="UINT8")
    model, design, _ = ext
    package = deploy.write_package(model, design, tmp_path_factory.mktemp("pkg") / "deploy", "zcu104", 100.0,
                                   export, input_datatype="UINT8")
    return {"external": ext, "internal": internal, "x": x.astype(np.uint8), "y": y, "package": package}


def _accel(builds, batch_size: int = 1):
    _, design, sim = builds["external"]
    return deploy.load_driver(builds["package"] / "driver", deploy.SimTransport(design, sim, 100.0), batch_size)


def test_three_layers_take_their_weights_on_streams(builds):
    _, design, _ = builds["external"]
    streams = design.stitched.weight_streams
    assert [w.node for w in streams] == list(STREAMED)
    # one frame: each layer's whole weight memory once (one input vector per frame)
    assert [len(w.words) for w in streams] == [784 * 64 // (8 * 16), 64 * 64 // (4 * 8), 64 * 10 // (2 * 8)]
    assert [w.width for w in streams] == [8 * 16 * 2, 4 * 8 * 2, 2 * 8 * 2]
    io = json.loads((builds["package"] / "driver" / "io_shape_dict.json").read_text())
    assert [(e["node"], e["dma"], e["file"], e["word_bytes"]) for e in io["external_weights"]] == [
        ("MVAU_0", "idma0", "idma0.npy", 32), ("MVAU_1", "idma1", "idma1.npy", 8),
        ("MVAU_3", "idma2", "idma2.npy", 4)]
    files = sorted(p.name for p in (builds["package"] / "driver" / "runtime_weights").iterdir())
    assert files == ["idma0.npy", "idma1.npy", "idma2.npy"]
    _, internal, _ = builds["internal"]
    assert internal.stitched.weight_streams == [] and "wstream" not in (internal.directory / "design.txt").read_text()
    assert (design.directory / "design.txt").read_text().count("\nwstream ") == 3


@pytest.mark.parametrize("batch_size", [1, 7, 50])
def test_the_external_build_gives_the_internal_builds_outputs(builds, batch_size):
    accel = _accel(builds, batch_size)
    y = accel.execute(builds["x"])
    assert np.array_equal(y, builds["y"].reshape(y.shape))  # the export's outputs
    _, design, sim = builds["internal"]
    hw_in = builds["x"].reshape(INPUTS, -1)
    internal = rtlsim.simulate(sim, design, hw_in)
    assert internal.ok and np.array_equal(accel.execute_hw(hw_in), internal.y.reshape(INPUTS, -1))


def test_streaming_the_weights_keeps_the_rate(builds):
    x = builds["x"].reshape(INPUTS, -1)
    ext = rtlsim.simulate(builds["external"][2], builds["external"][1], x)
    internal = rtlsim.simulate(builds["internal"][2], builds["internal"][1], x)
    assert ext.ok and internal.ok
    # (FIFOs at their default depths)
    assert ext.report["cycles_per_frame"] == internal.report["cycles_per_frame"] > 0


def test_weights_changed_at_run_time_change_outputs_as_the_models_predict(builds, tmp_path):
    _, design, _ = builds["external"]
    st = design.stitched
    k = next(i for i, la in enumerate(st.layers) if la.onnx_node.name == "MVAU_1")
    w, *rest = st.params[k]
    fresh = numerics.random_values(st.layers[k].weightDataType, w.shape, np.random.default_rng(11))
    shutil.copytree(builds["package"] / "driver" / "runtime_weights", tmp_path, dirs_exist_ok=True)
    np.save(tmp_path / "idma1.npy", deploy.external_weight_array(design, "MVAU_1", [fresh, *rest]))
    accel = _accel(builds, batch_size=10)
    x = builds["x"].reshape(INPUTS, -1)[:20]
    before = accel.execute_hw(x)
    assert accel.load_external_weights(str(tmp_path)) == list(STREAMED)
    after = accel.execute_hw(x)
    params = [[fresh, *rest] if i == k else p for i, p in enumerate(st.params)]
    want = stitch.execute_chain(dataclasses.replace(st, params=params), x).reshape(after.shape)
    assert np.array_equal(after, want) and not np.array_equal(after, before)


def _driver_error(accel, directory) -> str:
    with pytest.raises(Exception) as e:
        accel.load_external_weights(str(directory))
    assert type(e.value).__name__ == "DriverError" and "\n" not in str(e.value)
    return str(e.value)


def test_a_bad_external_weight_file_is_one_typed_error(builds, tmp_path):
    accel = _accel(builds)
    shutil.copytree(builds["package"] / "driver" / "runtime_weights", tmp_path, dirs_exist_ok=True)
    (tmp_path / "idma2.npy").unlink()
    assert "idma2.npy': does not exist (layer MVAU_3)" in _driver_error(accel, tmp_path)
    np.save(tmp_path / "idma2.npy", np.zeros((40, 4), np.int32))
    assert "holds int32 (40, 4), layer MVAU_3 takes uint8 (40, 4)" in _driver_error(accel, tmp_path)
    (tmp_path / "idma2.npy").write_text("not numpy")
    assert "is not a .npy array" in _driver_error(accel, tmp_path)
    with pytest.raises(Exception, match="layer 'MVAU_2': takes no weight stream in this design; fix: use one of: "
                       "MVAU_0, MVAU_1, MVAU_3"):
        deploy.external_weight_array(builds["external"][1], "MVAU_2")


class _Buffer(np.ndarray):
    """pynq.allocate's buffer: an array with cache maintenance."""

    def flush(self):
        pass

    def invalidate(self):
        pass


class _Channel:
    """One DMA channel: `transfer` starts (records the buffer), `wait` finishes it."""

    def __init__(self, on_wait=None):
        self.buffer, self.transfers, self.sent, self.on_wait = None, 0, None, on_wait

    def transfer(self, buffer):
        assert self.buffer is None, "a transfer started before the last one was waited for"
        self.buffer, self.sent, self.transfers = buffer, np.array(buffer), self.transfers + 1

    def wait(self):
        if self.on_wait:
            self.on_wait(self.buffer)
        self.buffer = None


class _Dma:
    def __init__(self, on_receive=None):
        self.sendchannel, self.recvchannel = _Channel(), _Channel(on_receive)


class _FakeBoard:
    """What PynqTransport drives, without hardware: pynq.Overlay's cells (the DMAs record
    their buffers, the accelerator answers MMIO) where waiting for the output DMA runs the
    simulated design on what the input and weight DMAs were given; each weight buffer must
    hold one frame's words once per frame."""

    def __init__(self, design, sim, io):
        self.design, self.sim, self.io = design, sim, io
        self.registers = {io["shell"]["registers"]["MAGIC"]: io["shell"]["magic"]}
        self.cells = {e["dma"]: _Dma() for e in io["external_weights"]}
        self.cells[io["shell"]["dma"]] = _Dma(on_receive=self.run)
        self.cells[io["shell"]["accelerator"]] = self
        self.batches = []

    def run(self, out):
        data = self.cells[self.io["shell"]["dma"]].sendchannel.sent
        frames = len(data) // self.io["in_words_per_frame"]
        weights = {}
        for e in self.io["external_weights"]:
            sent = self.cells[e["dma"]].sendchannel.sent.reshape(frames, e["words_per_frame"], e["word_bytes"])
            assert (sent == sent[:1]).all(), "a weight buffer must repeat one frame's words"
            weights[e["node"]] = [int.from_bytes(r.tobytes(), "little") for r in sent[0]]
        assert self.registers[self.io["shell"]["registers"]["TLAST_WORDS"]] == len(out)
        y, report = rtlsim.simulate_packed(self.sim, self.design, data, weight_streams=weights)
        assert report["status"] == "ok"
        out[:] = y
        self.batches.append(frames)

    def overlay(self, bitfile, download=True):
        cells = self.cells
        return type("Overlay", (), {"__getattr__": lambda _, name: cells[name]})()

    def read(self, address):
        return self.registers.get(address, 0)

    def write(self, address, value):
        self.registers[address] = value


def test_the_board_transport_tiles_the_weights_per_batch_and_splits_long_batches(builds, monkeypatch, tmp_path):
    _, design, sim = builds["external"]
    io = json.loads((builds["package"] / "driver" / "io_shape_dict.json").read_text())
    board = _FakeBoard(design, sim, io)
    pynq = types.ModuleType("pynq")
    pynq.Overlay = board.overlay
    pynq.allocate = lambda shape, dtype: np.zeros(shape, dtype).view(_Buffer)
    monkeypatch.setitem(sys.modules, "pynq", pynq)
    shutil.copytree(builds["package"] / "driver", tmp_path / "driver")
    (tmp_path / "bitfile").mkdir()
    (tmp_path / "bitfile" / io["bitfile"]).write_bytes(b"")
    driver = deploy.load_driver(tmp_path / "driver", deploy.SimTransport(design, sim, 100.0)).__class__
    accel = driver.from_package(str(tmp_path / "driver"), batch_size=20)  # PYNQ's transport
    assert type(accel.transport).__name__ == "PynqTransport"
    weight_frame = max(e["words_per_frame"] * e["word_bytes"] for e in io["external_weights"])
    accel.transport.MAX_TRANSFER = 7 * weight_frame  # a batch of 20 goes as 7 + 7 + 6 frames
    y = accel.execute(builds["x"][:20])
    assert np.array_equal(y, builds["y"][:20].reshape(y.shape))
    assert board.batches == [7, 7, 6]
    assert all(board.cells[e["dma"]].sendchannel.transfers == 3 for e in io["external_weights"])
