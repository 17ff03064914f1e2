"""Whole networks in rtlsim: a model export compiled, folded for a fast and a small
target on a board, width converters and FIFOs inserted, FIFOs sized by simulation, the
stitched design measured and run on 100 random inputs (--inputs) through the software
head and tail (the build's steps, qnn2fpga.steps: import to to_hw once, then fold to
measure_rtlsim_performance per folding).

Checks per folding: the hardware chain's output is bit-identical to the layers' numpy
models (python mode on the same folded graph, same inputs); the network's output is
bit-identical to qonnx execution of the original export (the software tail replays the
export's own float ops: qnn2fpga.transforms.export_tail); measured steady-state
cycles per frame <= 1.05 x the estimated bottleneck; and (fast folding) with every FIFO
at depth 1 the design still completes (a chain cannot deadlock), only slower or equal,
or, in a design with residual branches, stalls and is reported as stalled.

    --model_file=<runfiles path> | tiny_mlp | tiny_gap_cnn | tiny_avg_pool_cnn  --board=B  --fps=FAST,SMALL
    [--float_tail] [--inputs=N]

(Networks of qnn2fpga.testing, built in process: `tiny_mlp`, the custom FC test network
with fixed-point (power-of-two) scales on its last layer and a batch-norm tail;
`tiny_gap_cnn`, conv -> relu quant -> global average pooling -> quant -> linear, 16
channels; `tiny_avg_pool_cnn`, the same with 2x2 average pooling, 32 channels.)
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from qnn2fpga import boards, execute, fifo_sizing, flow, folding, rtlsim, steps, testing

INPUTS = 100  # --inputs overrides

BUILT_IN = {
    "tiny_mlp": lambda: testing.tiny_mlp(fixed_point_out=True, bn_tail=True),
    "tiny_gap_cnn": lambda: testing.tiny_gap_cnn(channels=16),
    "tiny_avg_pool_cnn": lambda: testing.tiny_gap_cnn(channels=32, img=10, pool_op="AveragePool"),
}


@pytest.fixture(scope="module")
def args(request):
    cfg = request.config
    root = os.path.join(os.environ["TEST_SRCDIR"], os.environ["TEST_WORKSPACE"])
    name = cfg.getoption("model_file")
    return {"model": name if name in BUILT_IN else os.path.join(root, name), "board": cfg.getoption("board"),
            "fps": [float(f) for f in cfg.getoption("fps").split(",")], "float_tail": cfg.getoption("float_tail"),
            "inputs": int(cfg.getoption("inputs") or INPUTS)}


@pytest.fixture(scope="module")
def export(args):
    original = BUILT_IN[args["model"]]() if args["model"] in BUILT_IN else flow.load_model(args["model"])
    x, y = testing.export_golden(original, args["inputs"])
    return original, steps.run(original, steps.StepConfig(), last="to_hw"), x, y


@pytest.fixture(scope="module", params=["fast", "small"])
def run(request, args, export, tmp_path_factory):
    original, compiled, x, y = export
    board = boards.load_board(args["board"])
    fps = args["fps"][0 if request.param == "fast" else 1]
    work = tmp_path_factory.mktemp(request.param)
    cfg = steps.StepConfig(board=board, target_fps=fps, out_dir=work)
    # measure_rtlsim_performance: 10 random frames at full rate, the outputs checked
    # against the layers' models, cycles per frame against the estimated bottleneck.
    model = steps.run(compiled, cfg, "fold", "measure_rtlsim_performance")
    design, sim = steps.simulator(model, cfg)
    y_hw = execute.execute(model, x, "rtlsim", design, sim)
    perf = cfg.state.rtlsim
    print(request.param, json.dumps(folding.hw_config(model)), json.dumps(perf["fifo_max_occupancy"]),
          f"cycles/frame {perf['cycles_per_frame']} bottleneck {perf['estimated_bottleneck_cycles']} "
          f"sizing {perf['fifo_sizing_seconds']} s")
    return {"model": model, "design": design, "sim": sim, "y_hw": y_hw, "perf": perf, "work": work}


def test_bit_identical_to_the_layer_models(export, run):
    _, _, x, _ = export
    assert np.array_equal(run["y_hw"], execute.execute(run["model"], x, "python"))


def test_matches_qonnx_execution_of_the_export(args, export, run):
    """Bit-identical; with --float_tail (an export whose last layer has no output quantizer
    and float scales: its float32 sum depends on the order of the additions, the hardware's
    integer sum is exact) to 1e-5 of the output's magnitude with the same argmax, the
    README's rule for such exports."""
    _, _, _, y = export
    assert run["y_hw"].shape == y.shape
    err = float(np.max(np.abs(run["y_hw"] - y)))
    if not args["float_tail"]:
        assert np.array_equal(run["y_hw"], y), err
        return
    assert err <= 1e-5 * float(np.max(np.abs(y))), err
    assert np.array_equal(np.argmax(run["y_hw"], axis=-1), np.argmax(y, axis=-1))


def test_cycles_per_frame_within_5_percent_of_the_estimate(run):
    perf, design = run["perf"], run["design"]
    assert perf["estimated_bottleneck_cycles"] == design.bottleneck_cycles()
    assert perf["cycles_per_frame"] <= 1.05 * design.bottleneck_cycles(), perf


def test_depth_1_fifos_still_complete_no_faster(run):
    """A chain has no cycle to deadlock in: minimal FIFOs only cost throughput. A design
    that forks and joins (DuplicateStreams, AddStreams) may instead stall with them, and
    the simulator must then say so rather than finish with wrong or missing frames. At the
    fast folding only (conftest.py)."""
    branched = any(n.op_type == "DuplicateStreams" for n in run["model"].graph.node)
    depths = {n: 1 for n, *_ in run["design"].fifos}
    tiny = fifo_sizing.set_depths(run["model"], depths)
    design = rtlsim.write_design(tiny, run["work"] / "tiny")
    sim = rtlsim.compile_design(design)
    report = rtlsim.simulate(sim, design, design.random_frames(10)).report
    if branched and report["status"] == "stall":
        assert report["frames_done"] < 10
        return
    assert report["status"] == "ok"
    assert report["cycles_per_frame"] >= run["perf"]["cycles_per_frame"]
