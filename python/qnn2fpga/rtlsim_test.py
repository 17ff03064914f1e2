"""The whole-design simulator (qnn2fpga.rtlsim + rtl/common/tb/stitched_sim.cpp) on the
small test network: bit-exact under throttling, steady-state report, FIFO sizing to full
throughput, and a stall stopped within its bound with the full FIFOs named."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

from qnn2fpga import execute, fifo_sizing, flow, folding, rtlsim, stitch, testing
from qnn2fpga.transforms.insert_streams import InsertDWC, InsertFIFO

# MVAU_0 16x12 fast, MVAU_1 12x5 slow: the FIFO between them must hold MVAU_0's burst.
CONFIG = {"Thresholding_0": {"PE": 4}, "MVAU_0": {"PE": 12, "SIMD": 16}, "MVAU_1": {"PE": 1, "SIMD": 3}}


@pytest.fixture(scope="module")
def folded():
    model = flow.compile_model(testing.tiny_mlp())
    model, _ = folding.apply_config(model, CONFIG, "test config")
    return model.transform(InsertDWC()).transform(InsertFIFO())


@pytest.fixture(scope="module")
def sized(folded, tmp_path_factory):
    model, sizing = fifo_sizing.size_fifos(folded, tmp_path_factory.mktemp("sizing"))
    design = rtlsim.write_design(model, tmp_path_factory.mktemp("design"))
    return model, sizing, design, rtlsim.compile_design(design)


def test_design_description_lists_streams_and_fifos(sized):
    _, sizing, design, _ = sized
    text = (design.directory / "design.txt").read_text().splitlines()
    assert text[0] == f"top {rtlsim.TOP}"
    streams = [line.split() for line in text if line.startswith("stream ")]
    assert streams[0][2] == "input" and streams[-1][3] == "output"
    assert [s[2] for s in streams[1:]] == [s[3] for s in streams[:-1]] == design.nodes  # a chain
    fifos = {line.split()[1]: int(line.split()[4]) for line in text if line.startswith("fifo ")}
    assert fifos == sizing.depths and fifos


def test_relative_design_directory_and_binary(sized, tmp_path, monkeypatch):
    """What a user's script does: write_design("sim") and the simulator given by a path
    relative to the working directory (the harness itself runs in the design directory)."""
    model, _, _, sim = sized
    monkeypatch.chdir(tmp_path)
    design = rtlsim.write_design(model, "sim")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "sim").symlink_to(sim)
    x = design.random_frames(3, seed=2)
    res = rtlsim.simulate(pathlib.Path("bin/sim"), design, x)
    assert res.ok and np.array_equal(res.y, stitch.execute_chain(design.stitched, x).reshape(res.y.shape))


@pytest.mark.parametrize("in_p, out_p", [(1.0, 1.0), (0.3, 1.0), (1.0, 0.2), (0.6, 0.5)])
def test_bit_exact_under_throttling(sized, in_p, out_p):
    _, _, design, sim = sized
    x = design.random_frames(12, seed=5)
    res = rtlsim.simulate(sim, design, x, in_p=in_p, out_p=out_p, seed=7)
    assert res.ok, res.report
    assert np.array_equal(res.y, stitch.execute_chain(design.stitched, x).reshape(res.y.shape))
    assert res.report["frames_done"] == 12 and len(res.report["frame_done"]) == 12


def test_steady_state_is_the_bottleneck_after_sizing(sized):
    _, _, design, sim = sized
    r = rtlsim.simulate(sim, design, design.random_frames(16)).report
    assert r["cycles_per_frame"] == design.bottleneck_cycles() == 20  # MVAU_1: 12/3 x 5/1
    assert 0 < r["latency"] < design.stall_bound()
    done = r["frame_done"]
    assert all(b - a == 20 for a, b in zip(done[8:], done[9:]))


def test_fifo_sizing_observes_the_burst(folded, sized):
    _, sizing, _, _ = sized
    assert set(sizing.depths) == {n.name for n in fifo_sizing.fifo_nodes(folded)}
    assert all(d == max(2, sizing.observed[k] + 1) for k, d in sizing.depths.items())
    assert max(sizing.observed.values()) >= 1


def _runtime_objects():
    """{path: mtime} of the Verilator runtime objects kept for reuse between builds."""
    return {p: p.stat().st_mtime_ns for p in rtlsim.cache_dir().glob("verilated-*/*.o")}


def test_undersized_fifos_cost_throughput(sized, tmp_path):
    model, sizing, design, _ = sized
    small = fifo_sizing.set_depths(model, {k: 1 for k in sizing.depths})
    d = rtlsim.write_design(small, tmp_path)
    runtime = _runtime_objects()
    r = rtlsim.simulate(rtlsim.compile_design(d), d, d.random_frames(16)).report
    assert r["status"] == "ok" and r["cycles_per_frame"] > design.bottleneck_cycles()
    # The new design's build took the runtime objects of the earlier builds, unchanged.
    assert {p.name for p in runtime} >= {"verilated.o", "verilated_threads.o"}, runtime
    assert _runtime_objects() == runtime


def test_a_stall_stops_within_the_bound_and_names_the_full_fifos(sized):
    """Output never accepted: every FIFO fills, nothing moves; the run stops after
    exactly stall_bound idle cycles instead of hanging."""
    _, sizing, design, sim = sized
    res = rtlsim.simulate(sim, design, design.random_frames(30), out_p=0.0, stall_bound=500)
    r = res.report
    assert r["status"] == "stall" and not res.ok
    assert "no stream moved for 500 cycles" in r["diagnosis"]
    assert r["cycles"] < 500 + 30 * design.stall_bound()
    full = r["diagnosis"].split("full FIFOs: ")[1].split(";")[0]
    for name, depth in sizing.depths.items():
        assert f"{name} ({depth}/{depth})" in full
    assert "output (offered by" in r["diagnosis"]  # the consumer refusing is the output port


def test_execute_rtlsim_equals_python_through_head_and_tail(sized):
    model, _, design, sim = sized
    x = np.random.default_rng(3).uniform(0, 1, size=(20, 16)).astype(np.float32)
    assert np.array_equal(execute.execute(model, x, "rtlsim", design, sim), execute.execute(model, x, "python"))


def test_bad_batches_are_refused(sized):
    model, *_ = sized
    with pytest.raises(Exception, match=r"has shape \(3, 15\); the model takes a batch of shape \(N, 16\)"):
        execute.check_batch(model, np.zeros((3, 15)), "X")
    with pytest.raises(Exception, match="holds <U1 values"):
        execute.check_batch(model, np.array([["a"] * 16]), "X")


def test_simulator_binary_is_cached(sized):
    _, _, design, sim = sized
    assert rtlsim.compile_design(design) == sim
