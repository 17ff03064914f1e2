"""Stitched designs with a fork and a join (a residual block), in the whole-design
simulator: DuplicateStreams -> (MVAU | FIFO) -> AddStreams, bit-exact against the
layers' numpy models under back-pressure; FIFO sizing makes it run at the bottleneck;
and the short branch's FIFO made shallower than sized deadlocks the design, which the
simulator stops within its bound, naming that FIFO as full.

Why it deadlocks: the MVAU (SIMD=1) takes all MW input words of a frame before its first
output word, and the fork hands each word to both branches at once; the words the
short branch must hold until the sums can start are more than a shallow FIFO takes, so
the fork stops, the MVAU never completes its input, and the join never gets a pair.
"""

from __future__ import annotations

import numpy as np
import pytest
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.infer_datatypes import InferDataTypes
from qonnx.transformation.infer_shapes import InferShapes

from qnn2fpga import execute, fifo_sizing, rtlsim, stitch, testing
from qnn2fpga.layers import AddStreams, DuplicateStreams, MVAU, numerics
from qnn2fpga.transforms.insert_streams import InsertFIFO

N = 16


def residual_block() -> ModelWrapper:
    rng = np.random.default_rng(0)
    w = numerics.random_values(DataType["INT2"], (N, N), rng)
    nodes = [
        DuplicateStreams.make_node(["x"], ["a", "b"], name="DuplicateStreams_0", NumChannels=N, PE=1,
                                   inputDataType="UINT4"),
        MVAU.make_node(["a", "w"], ["m"], name="MVAU_0", MW=N, MH=N, SIMD=1, PE=1, inputDataType="UINT4",
                       weightDataType="INT2", accDataType="INT9", noActivation=1, ActVal=0,
                       outputDataType="INT9", numInputVectors=[1]),
        AddStreams.make_node(["m", "b"], ["y"], name="AddStreams_0", NumChannels=N, PE=1,
                             inputDataTypes=["INT9", "UINT4"]),
    ]
    model = testing.make_model(nodes, ("x", [1, N]), ("y", [1, N]), {"w": w}, dtypes={"x": "UINT4", "w": "INT2"})
    return model.transform(InsertFIFO()).transform(InferShapes()).transform(InferDataTypes())


def short_branch_fifo(design: rtlsim.Design) -> str:
    """The FIFO from the fork's second output to the join's second input."""
    producer = {s: p for s, p, _ in design.streams}
    consumer = {s: c for s, _, c in design.streams}
    (name,) = [n for n, a, b, _ in design.fifos
               if producer[a] == "DuplicateStreams_0" and consumer[b] == "AddStreams_0"]
    return name


@pytest.fixture(scope="module")
def sized(tmp_path_factory):
    model, sizing = fifo_sizing.size_fifos(residual_block(), tmp_path_factory.mktemp("sizing"))
    design = rtlsim.write_design(model, tmp_path_factory.mktemp("design"))
    return model, sizing, design, rtlsim.compile_design(design)


def test_the_design_forks_and_joins(sized):
    _, _, design, _ = sized
    ops = [layer.op_type for layer in design.stitched.layers]
    assert ops.count("DuplicateStreams") == ops.count("AddStreams") == 1 and ops.count("StreamingFIFO") == 3
    assert design.first.op_type == "DuplicateStreams" and design.last.op_type == "AddStreams"
    text = design.verilog.read_text()
    assert ".m_axis_1_tdata(" in text and ".s_axis_1_tdata(" in text


@pytest.mark.parametrize("in_p, out_p", [(1.0, 1.0), (0.4, 1.0), (1.0, 0.3), (0.7, 0.6)])
def test_bit_exact_under_back_pressure(sized, in_p, out_p):
    model, _, design, sim = sized
    x = design.random_frames(10, seed=4)
    res = rtlsim.simulate(sim, design, x, in_p=in_p, out_p=out_p, seed=9)
    assert res.ok, res.report
    want = stitch.execute_chain(design.stitched, x)
    assert np.array_equal(res.y, want.reshape(res.y.shape))
    # the same through qonnx execution of the graph
    assert np.array_equal(res.y.reshape(10, N), execute.execute(model, x.astype(np.float32), "python"))


def test_sized_design_runs_at_the_bottleneck(sized):
    _, sizing, design, sim = sized
    r = rtlsim.simulate(sim, design, design.random_frames(12)).report
    print(sizing.depths, sizing.observed, r["cycles_per_frame"], r["fifo_max"])
    assert design.bottleneck() == ("MVAU_0", N * N)
    assert r["status"] == "ok" and r["cycles_per_frame"] <= 1.05 * N * N
    # the short branch holds (nearly) a whole frame while the MVAU reads it
    assert sizing.depths[short_branch_fifo(design)] > N // 2


def test_a_too_shallow_branch_fifo_deadlocks_and_is_named(sized, tmp_path):
    model, sizing, design, _ = sized
    fifo = short_branch_fifo(design)
    depth = 4
    assert depth < sizing.depths[fifo]
    shallow = fifo_sizing.set_depths(model, {fifo: depth})
    d = rtlsim.write_design(shallow, tmp_path)
    bound = d.stall_bound()
    res = rtlsim.simulate(rtlsim.compile_design(d), d, d.random_frames(3))
    r = res.report
    assert r["status"] == "stall" and not res.ok and r["frames_done"] == 0
    assert f"no stream moved for {bound} cycles" in r["diagnosis"]
    # stopped one bound after the last movement, which happened in the first frame's input
    assert r["cycles"] <= bound + N * 4
    full = r["diagnosis"].split("full FIFOs: ")[1].split(";")[0]
    assert full == f"{fifo} ({depth}/{depth})"
    refusing = r["diagnosis"].split("layers refusing offered input: ")[1].split(";")[0]
    assert fifo in refusing  # the fork offers its next word to the full FIFO


def test_two_readers_of_one_stream_are_refused():
    from qnn2fpga.errors import UnsupportedOpError  # noqa: PLC0415

    model = residual_block()
    dup = next(n for n in model.graph.node if n.op_type == "DuplicateStreams")
    fifo = next(n for n in model.graph.node if n.op_type == "StreamingFIFO" and n.input[0] == dup.output[0])
    fifo.input[0] = dup.output[1]  # both branches read the fork's second output
    with pytest.raises(UnsupportedOpError, match="reads stream s2 that 'StreamingFIFO_.' also reads; fix: copy "
                                                 "the stream with a DuplicateStreams layer"):
        stitch.stream_graph(model)


def test_a_layer_output_also_read_by_software_is_refused():
    from onnx import helper  # noqa: PLC0415

    from qnn2fpga.errors import UnsupportedOpError  # noqa: PLC0415

    model = residual_block()
    mvau = next(n for n in model.graph.node if n.op_type == "MVAU")
    model.graph.node.append(helper.make_node("Identity", [mvau.output[0]], ["peek"], name="peek"))
    with pytest.raises(UnsupportedOpError, match="MVAU node 'MVAU_0': feeds the next layer and also software node "
                                                 "'peek'"):
        stitch.stream_graph(model)
