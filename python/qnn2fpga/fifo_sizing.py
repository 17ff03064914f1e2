"""FIFO sizing from one simulation: every FIFO of the stitched design is made deep enough
never to fill (all the words its stream carries in the run), frames enter at the
bottleneck's rate (one every `bottleneck cycles`, each at full speed), the output is
always ready, and each FIFO gets the largest occupancy the harness observed plus one
word (a full FIFO must still take a word in the cycle one leaves), at least 2. With
those depths no FIFO fills in the same schedule, so the sized design keeps the deep
design's throughput; `qnn2fpga.build` proves it with a second simulation at full input
rate (rtlsim_performance.json).
"""

from __future__ import annotations

import math
import pathlib
import time
from dataclasses import dataclass, field

from qonnx.core.modelwrapper import ModelWrapper

from qnn2fpga import errors, rtlsim
from qnn2fpga.layers.registry import get_layer

FRAMES = 4
MIN_DEPTH = 2


@dataclass
class Sizing:
    depths: dict  # FIFO node name -> depth
    observed: dict  # FIFO node name -> largest occupancy in the deep run
    frames: int
    seconds: float  # wall time: stitching, Verilator build (unless cached), simulation
    report: dict = field(default_factory=dict)  # the deep run's harness report
    build_seconds: float = 0.0  # of `seconds`: the deep design's Verilator build (0 when cached)
    sim_seconds: float = 0.0  # of `seconds`: the sizing simulation


def fifo_nodes(model: ModelWrapper) -> list:
    return [n for n in model.graph.node if n.op_type == "StreamingFIFO"]


def set_depths(model: ModelWrapper, depths: dict) -> ModelWrapper:
    """A copy of `model` with the StreamingFIFO nodes named in `depths` at those depths."""
    model = ModelWrapper(model.model.__deepcopy__())
    for n in fifo_nodes(model):
        if n.name in depths:
            get_layer(n).set_attr("depth", int(depths[n.name]))
    return model


def size_fifos(model: ModelWrapper, workdir, frames: int = FRAMES, seed: int = 0,
               log=None) -> tuple[ModelWrapper, Sizing]:
    """Sizes every StreamingFIFO of `model` (folded, InsertDWC/InsertFIFO applied)."""
    t0 = time.perf_counter()
    fifos = fifo_nodes(model)
    if not fifos:
        return model, Sizing({}, {}, frames, 0.0)
    deep = {}
    for n in fifos:
        layer = get_layer(n)
        words = math.prod(layer.numInputVectors) * (layer.NumChannels // layer.PE)
        deep[n.name] = words * frames + MIN_DEPTH
    probe = set_depths(model, deep)
    for n in fifo_nodes(probe):  # the deep FIFOs are simulation-only; keep them cheap to build
        get_layer(n).set_attr("fifo_impl", "ram")
    design = rtlsim.write_design(probe, pathlib.Path(workdir) / "fifo_sizing")
    t_build = time.perf_counter()
    sim = rtlsim.compile_design(design, log=log, what="the deep-FIFO design for FIFO sizing")
    t_sim = time.perf_counter()
    result = rtlsim.simulate(sim, design, design.random_frames(frames, seed), frame_interval=design.bottleneck_cycles())
    t_end = time.perf_counter()
    if not result.ok:
        raise errors.QnnError("FIFO sizing", f"the design with deep FIFOs did not finish: "
                              f"{result.report['diagnosis']}", "report this with the model and folding")
    observed = {k: int(v) for k, v in result.report["fifo_max"].items()}
    depths = {k: max(MIN_DEPTH, v + 1) for k, v in observed.items()}
    sized = set_depths(model, depths)
    return sized, Sizing(depths, observed, frames, round(time.perf_counter() - t0, 3), result.report,
                         round(t_sim - t_build, 3), round(t_end - t_sim, 3))
