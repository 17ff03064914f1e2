"""Random graphs (qnn2fpga.random_graphs) through the hardware flow: compiled, folded
automatically for a board and a throughput target, width converters and FIFOs inserted,
stitched, built with Verilator and simulated, between the software head and tail
(qnn2fpga.execute, mode "rtlsim").

The graphs are the first GRAPHS fully connected seeds (no Conv) within the compiler's
documented limits, in seed order, and the first CONV_GRAPHS conv seeds (sliding window,
padding, stride, max-pooling, the Flatten/Reshape before the fully connected layers
removed by to_hw; seeds with a known compiler defect left out); each is folded on
pynq-z1 or zcu104 (alternating) for a cycle budget of its unfolded bottleneck divided by
1, 4 or 16 (by seed), or the fastest budget folding reaches when that is more (a sliding
window or padding moves at most one pixel per cycle, whatever the folding). The FIFOs are
made deep enough never to throttle (one frame of words, as FIFO sizing's deep run; the
sizing simulation itself is covered by //tests/rtlsim), so each graph costs one Verilator
build (a few seconds at these sizes). Then CONV_FORM_GRAPHS random_graphs.generate_conv
graphs on small inputs, chosen so that between them they have every sliding-window form
(conv_form_features: Conv1d, 1 x k, non-square, k >= 5, strides 2 and 3, dilation,
asymmetric and wide padding, overlapping, ceil-mode and 1-D pools). Under Bazel the seeds
of each test are split over the target's shards.

Per graph, on the inputs random_graphs_test uses (a uniform one, a saturating one, one on
the input quantizer's rounding ties) plus more uniform ones, all in one simulation:
- the stitched design's output is bit-identical to python-mode execution of the same
  folded graph (the layers' numpy models);
- against qonnx execution of the graph itself, the comparison rules of
  random_graphs_test: bit for bit when the last layer's export arithmetic is exact,
  otherwise within 1e-5 of the output's magnitude plus twice the export's own float32
  error; inputs on which the export's float32 arithmetic leaves a quantizer level open
  give no verdict and are left out;
- steady-state cycles per frame (10 random frames at full rate) within 5 % of the
  estimated bottleneck, as the network rtlsim tests check.

A failure names the seed, the graph's description and the folding. RANDOM_RTLSIM_GRAPHS
and RANDOM_RTLSIM_CONV_GRAPHS (env) set how many graphs, RANDOM_RTLSIM_SEEDS=1,7 and
RANDOM_RTLSIM_CONV_SEEDS=2,6 pick seeds.
"""

from __future__ import annotations

import functools
import os
import pathlib
import time

import numpy as np
from qonnx.core.onnx_exec import execute_onnx

from qnn2fpga import boards, execute, fifo_sizing, flow, folding, random_graphs, rtlsim
from qnn2fpga import random_graphs_test as rgt
from qnn2fpga.layers.registry import get_layer, is_hw_layer
from qnn2fpga.transforms.insert_streams import InsertDWC, InsertFIFO

GRAPHS = int(os.environ.get("RANDOM_RTLSIM_GRAPHS", "20"))
CONV_GRAPHS = int(os.environ.get("RANDOM_RTLSIM_CONV_GRAPHS", "6"))
EXTRA_INPUTS = 13  # uniform inputs beyond random_graphs_test's candidates
BOARDS = ("pynq-z1", "zcu104")
SPEEDUPS = (1, 4, 16)  # target: the unfolded bottleneck's cycles divided by this
PERF_FRAMES = 10
CYCLE_SLACK = 1.05


def fc_seeds(count: int) -> list[int]:
    if os.environ.get("RANDOM_RTLSIM_SEEDS"):
        return [int(s) for s in os.environ["RANDOM_RTLSIM_SEEDS"].split(",")]
    return random_graphs.fc_seeds(count)


def conv_seeds(count: int) -> list[int]:
    """The first `count` seeds whose graph has a Conv, is within the documented limits and
    is not a known compiler defect of random_graphs_test."""
    if os.environ.get("RANDOM_RTLSIM_CONV_SEEDS"):
        return [int(s) for s in os.environ["RANDOM_RTLSIM_CONV_SEEDS"].split(",")]
    seeds, seed = [], 0
    while len(seeds) < count:
        g = random_graphs.generate(seed)
        if g.within_limits and not random_graphs.is_fully_connected(g) and seed not in rgt.KNOWN_DEFECTS:
            seeds.append(seed)
        seed += 1
    return seeds


CONV_FORM_GRAPHS = int(os.environ.get("RANDOM_RTLSIM_CONV_FORM_GRAPHS", "20"))
MAX_INPUT_ELEMENTS = 160  # small images: one Verilator build and simulation each
# Known to fail in python mode (random_conv_graphs_test), left out: none.
CONV_FORM_EXCLUDED: dict[int, str] = {}


def conv_form_features(graph: random_graphs.RandomGraph) -> set[str]:
    """The sliding-window forms a generate_conv graph has (for the seed choice)."""
    feats = set()
    for n in graph.model.graph.node:
        a = {x.name: (list(x.ints) if x.ints else x.i) for x in n.attribute}
        rank = len(graph.model.get_tensor_shape(n.input[0]))
        if n.op_type == "Conv":
            k, st, d, p = a["kernel_shape"], a["strides"], a["dilations"], a["pads"]
            feats |= {f for f, on in (("conv1d", rank == 3), ("1xL", rank == 4 and k[0] == 1 and len(set(k)) > 1),
                                      ("non-square", rank == 4 and k[0] > 1 and len(set(k)) > 1),
                                      ("k>=5", max(k) >= 5), ("stride 2", 2 in st), ("stride 3", 3 in st),
                                      ("dilation", max(d) > 1), ("asymmetric pad", len(set(p)) > 1),
                                      ("pad >= 2", max(p) >= 2)) if on}
        elif n.op_type == "MaxPool":
            feats |= {f for f, on in (("pool k != s", a["kernel_shape"] != a["strides"]),
                                      ("ceil pool", bool(a.get("ceil_mode", 0))), ("pool1d", rank == 3),
                                      ("pool k3", 3 in a["kernel_shape"])) if on}
    return feats


@functools.cache
def conv_form_seeds(count: int) -> list[int]:
    """generate_conv seeds within the limits on small inputs: first, in seed order, each
    that has a form none before it has, then the next small ones, until `count`."""
    if os.environ.get("RANDOM_RTLSIM_CONV_FORM_SEEDS"):
        return [int(s) for s in os.environ["RANDOM_RTLSIM_CONV_FORM_SEEDS"].split(",")]
    small, seed = [], 0
    while len(small) < 2 * count:  # candidates: the first 2 * count small graphs
        g = random_graphs.generate_conv(seed)
        seed += 1
        if g.within_limits and g.seed not in CONV_FORM_EXCLUDED and \
                np.prod(g.model.get_tensor_shape("x")) <= MAX_INPUT_ELEMENTS:
            small.append((g.seed, conv_form_features(g)))
    chosen, covered = [], set()
    for seed, feats in small:
        if feats - covered and len(chosen) < count:
            chosen.append(seed)
            covered |= feats
    chosen += [seed for seed, _ in small if seed not in chosen][:count - len(chosen)]
    return sorted(chosen)


def _inputs(graph: random_graphs.RandomGraph) -> list[np.ndarray]:
    rng = np.random.default_rng(2_000_003 + graph.seed)
    shape = graph.model.get_tensor_shape("x")
    return rgt._inputs(graph) + [rng.uniform(-1, 1, size=shape).astype(np.float32) for _ in range(EXTRA_INPUTS)]


def _deep_fifos(model):
    """Every FIFO one frame of its stream's words deep (no FIFO throttles the design)."""
    depths = {}
    for n in fifo_sizing.fifo_nodes(model):
        layer = get_layer(n)
        depths[n.name] = int(np.prod(layer.numInputVectors)) * (layer.NumChannels // layer.PE) + fifo_sizing.MIN_DEPTH
    return fifo_sizing.set_depths(model, depths)


def check_seed(seed: int, workdir: pathlib.Path) -> tuple[str | None, str]:
    """(failure or None, one summary line) for one seed."""
    return check_graph(random_graphs.generate(seed), workdir)


def check_graph(graph: random_graphs.RandomGraph, workdir: pathlib.Path) -> tuple[str | None, str]:
    """(failure or None, one summary line) for one graph."""
    import qnn2fpga.layers  # noqa: F401,PLC0415  (hardware layers must be registered to execute)

    seed = graph.seed
    board = boards.load_board(BOARDS[seed % len(BOARDS)])
    speedup = SPEEDUPS[seed % len(SPEEDUPS)]
    where = f"{graph.description}\n    board {board.name}"
    try:
        model = flow.compile_model(graph.model)
        unfolded = max(get_layer(n).cycles() for n in model.graph.node if is_hw_layer(n))
        target_cycles = max(1, unfolded // speedup, folding.fastest_cycles(model, board))
        fps = board.default_clock_mhz * 1e6 / target_cycles
        model, fold = folding.auto_fold(model, board, fps)
        where += f", {target_cycles} cycles per frame: {folding.hw_config(model)}"
        model = _deep_fifos(model.transform(InsertDWC()).transform(InsertFIFO()))
        design = rtlsim.write_design(model, workdir / f"seed{seed}")
        t0 = time.perf_counter()
        sim = rtlsim.compile_design(design)
        build_s = time.perf_counter() - t0
        decided, skipped = [], 0
        ctx32s, ctx64s = [], []
        for x in _inputs(graph):
            ctx32 = execute_onnx(graph.model, {"x": x}, return_full_exec_context=True)
            ctx64 = rgt._float64_context(graph.model, x)
            if rgt._undecided(graph.model, ctx32, ctx64) is not None:
                skipped += 1
                continue
            decided.append(x)
            ctx32s.append(ctx32["y"].astype(np.float64))
            ctx64s.append(ctx64["y"])
        if not decided:
            return None, f"seed {seed}: no input with a verdict ({skipped} left open by the export's rounding)"
        xs = np.concatenate(decided)
        got = execute.execute(model, xs, "rtlsim", design, sim).astype(np.float64)
        python = execute.execute(model, xs, "python").astype(np.float64)
        if not np.array_equal(got, python):
            return f"{where}\n    rtlsim differs from python mode: {rgt._diff(got, python)}", ""
        for i, (y, ref, exact_ref) in enumerate(zip(got, ctx32s, ctx64s)):
            y = y.reshape(ref.shape)
            if graph.exact:
                if not np.array_equal(y, ref):
                    return f"{where}\n    input {i}: not bit-exact (power-of-two last layer): {rgt._diff(y, ref)}", ""
            elif np.any(np.abs(y - ref) > rgt.REL_TOLERANCE * np.max(np.abs(ref)) + 2 * np.abs(ref - exact_ref)):
                return (f"{where}\n    input {i}: differs beyond 1e-5 relative (plus twice the export's own float32 "
                        f"error): {rgt._diff(y, ref)}"), ""
        perf = rtlsim.simulate(sim, design, design.random_frames(PERF_FRAMES, seed)).report
        node, bottleneck = design.bottleneck()
        if perf["status"] != "ok" or perf["cycles_per_frame"] > CYCLE_SLACK * bottleneck:
            return (f"{where}\n    cycles per frame {perf.get('cycles_per_frame')} against the estimated bottleneck "
                    f"{bottleneck} ({node}): {perf.get('status')} {perf.get('diagnosis', '')}"), ""
    except Exception as e:  # any exception is a finding for this seed
        return f"{where}\n    raised {type(e).__name__}: {e}\n{rgt._short_trace()}", ""
    return None, (f"seed {seed}: {len(decided)} inputs {'bit-exact' if graph.exact else 'within tolerance'} "
                  f"({skipped} skipped), {len(design.nodes)} layers on {board.name}, cycles/frame "
                  f"{perf['cycles_per_frame']} (bottleneck {bottleneck}), Verilator build {build_s:.1f} s")


def test_seed_list_is_fully_connected_and_deterministic():
    seeds = fc_seeds(GRAPHS)
    assert len(seeds) == GRAPHS and seeds == fc_seeds(GRAPHS)
    assert all(random_graphs.is_fully_connected(random_graphs.generate(s)) for s in seeds)


def test_conv_seed_list_has_the_image_layers():
    """The conv seeds are conv graphs, deterministic, and between them have padding,
    stride and max-pooling (so the sliding window, FMPadding and StreamingMaxPool RTL
    all run stitched)."""
    seeds = conv_seeds(CONV_GRAPHS)
    assert len(seeds) == CONV_GRAPHS and seeds == conv_seeds(CONV_GRAPHS)
    graphs = [random_graphs.generate(s) for s in seeds]
    assert not any(random_graphs.is_fully_connected(g) for g in graphs)
    if not os.environ.get("RANDOM_RTLSIM_CONV_SEEDS") and CONV_GRAPHS >= 6:
        ops = {n.op_type for g in graphs for n in g.model.graph.node}
        attrs = [dict((a.name, list(a.ints)) for a in n.attribute) for g in graphs for n in g.model.graph.node
                 if n.op_type == "Conv"]
        assert "MaxPool" in ops
        assert any(max(a["pads"]) > 0 for a in attrs) and any(max(a["strides"]) > 1 for a in attrs)


def _run_seeds(kind: str, seeds: list[int], tmp_path, capsys, generate=random_graphs.generate) -> None:
    start = time.monotonic()
    failures, lines = [], []
    for seed in seeds:
        failure, line = check_graph(generate(seed), tmp_path)
        if failure:
            failures.append(failure)
            line = f"seed {seed}: FAILED"
        lines.append(line)
    with capsys.disabled():
        print(f"\nrandom {kind} graphs in stitched rtlsim: {len(lines)} in {time.monotonic() - start:.1f} s, "
              f"{len(failures)} failed\n  " + "\n  ".join(lines))
    assert not failures, (f"{len(failures)} of {len(lines)} random {kind} graphs failed in rtlsim:\n"
                          + "\n".join(failures))


def test_random_fc_graphs_in_stitched_rtlsim(tmp_path, capsys):
    _run_seeds("FC", rgt.shard(fc_seeds(GRAPHS)), tmp_path, capsys)


def test_random_conv_graphs_in_stitched_rtlsim(tmp_path, capsys):
    _run_seeds("conv", rgt.shard(conv_seeds(CONV_GRAPHS)), tmp_path, capsys)


def test_conv_form_seed_list_covers_the_sliding_window_forms():
    seeds = conv_form_seeds(CONV_FORM_GRAPHS)
    assert len(seeds) == CONV_FORM_GRAPHS and seeds == conv_form_seeds.__wrapped__(CONV_FORM_GRAPHS)
    if not os.environ.get("RANDOM_RTLSIM_CONV_FORM_SEEDS"):
        covered = set().union(*(conv_form_features(random_graphs.generate_conv(s)) for s in seeds))
        assert covered >= {"conv1d", "1xL", "non-square", "k>=5", "stride 2", "stride 3", "dilation",
                           "asymmetric pad", "pad >= 2", "pool k != s", "ceil pool", "pool1d"}, covered


def test_random_conv_form_graphs_in_stitched_rtlsim(tmp_path, capsys):
    """generate_conv graphs (kernels to 7, strides to 3, dilation, asymmetric padding,
    ceil-mode and overlapping pools, 1-D stacks) stitched and simulated."""
    _run_seeds("conv-form", rgt.shard(conv_form_seeds(CONV_FORM_GRAPHS)), tmp_path, capsys,
               random_graphs.generate_conv)


if __name__ == "__main__":  # RANDOM_RTLSIM_SEEDS=3 python random_graphs_rtlsim_test.py
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        for s in fc_seeds(GRAPHS) + conv_seeds(CONV_GRAPHS):
            f, line = check_seed(s, pathlib.Path(d))
            print(f or line)
        for s in conv_form_seeds(CONV_FORM_GRAPHS):
            f, line = check_graph(random_graphs.generate_conv(s), pathlib.Path(d))
            print(f or line)
