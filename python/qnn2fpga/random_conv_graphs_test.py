"""Randomized testing of the sliding-window forms: random conv stacks
(random_graphs.generate_conv: non-square kernels up to 5 and sometimes 7, strides 1-3,
dilation, asymmetric padding, kernel != stride and ceil-mode max-pools, 1-D stacks as
(1, C, L) and (1, C, 1, L)) compiled step by step; after every compile step
(flow.run_steps) the model runs next to qonnx execution of the export, by
random_graphs_test's rules (bit for bit when the last layer's export arithmetic is
exact, otherwise 1e-5 of the output's magnitude plus twice the export's own float32
error; inputs the export's float32 rounding leaves open give no verdict).

Seeds 0..N-1 (RANDOM_CONV_GRAPHS, default 240) are split over Bazel's test shards
(seed i in shard i mod shards). A graph within the limits must compile and match; one
outside them (a recorded defect, see KNOWN_DEFECTS in random_graphs.py's conv builder)
may instead be refused with a typed QnnError. Failures are collected and reported with
seed and description; rerun some with RANDOM_CONV_GRAPHS_SEEDS=17,42.

The depthwise and residual forms (random_graphs.EXTRA_FORMS: depthwise convolutions, and
residual blocks whose add takes both operands through one quantizer) run on their own
seeds (RANDOM_CONV_EXTRA_GRAPHS, default 40, graphs holding at least one of them), by the
same rules.
"""

from __future__ import annotations

import collections
import os
import time

import numpy as np
import pytest
from qonnx.core.onnx_exec import execute_onnx

from qnn2fpga import random_graphs
from qnn2fpga import random_graphs_test as rgt

GRAPHS = int(os.environ.get("RANDOM_CONV_GRAPHS", "240"))
EXTRA_GRAPHS = int(os.environ.get("RANDOM_CONV_EXTRA_GRAPHS", "40"))
MIN_COMPILED = 0.9

# Seeds whose graph exposes a compiler defect not fixed yet: seed -> (why, signature). Each
# must still fail with its signature in the failure (remove a seed when its defect is fixed).
ZERO_POINT_TAIL_PRECISION = (
    "the software tail after the last linear layer scales the integer sum and then adds a large float offset "
    "(a zero point times the weights' column sums plus the batch norm's shift: 0.159 * acc + 106.35 giving -0.644) "
    "in float32, nearly cancelling; the error (8.9e-6) exceeds the 1e-5 relative tolerance (the export's own: "
    "2.9e-7). Folding the zero point's part into the integer accumulator would keep it exact")
KNOWN_DEFECTS: dict[int, tuple[str, str]] = {
    97: (ZERO_POINT_TAIL_PRECISION, "after step to_hw: differs beyond 1e-05 relative"),
}


def _seeds() -> list[int]:
    if os.environ.get("RANDOM_CONV_GRAPHS_SEEDS"):
        return [int(s) for s in os.environ["RANDOM_CONV_GRAPHS_SEEDS"].split(",")]
    return rgt.shard(list(range(GRAPHS)))


def _run(kind: str, graphs: list[random_graphs.RandomGraph], capsys,
         known: dict[int, tuple[str, str]] | None = None) -> dict[int, rgt.Result]:
    start = time.monotonic()
    results = {g.seed: rgt.check_graph(g, per_step=True) for g in graphs}
    counts = collections.Counter(r.status for r in results.values())
    lines = [f"\nrandom {kind} graphs: {len(results)} in {time.monotonic() - start:.1f} s: "
             f"{counts['compiled'] + counts['undecided']} compiled ({counts['undecided']} without an input with a "
             f"verdict), {counts['refused']} refused, {counts['failed']} failed; "
             f"{sum(r.checked for r in results.values())} inputs compared after every step, "
             f"{sum(r.exact for r in results.values() if r.status == 'compiled')} graphs bit-exact; the lowered "
             f"model of {sum(bool(r.unexecutable) for r in results.values())} not executable in qonnx (a window "
             f"across an image 1 high or wide)"]
    lines += [f"  refused x{n}: {why}" for why, n in collections.Counter(
        r.detail.split(" -> ")[0] for r in results.values() if r.status == "refused").most_common()]
    with capsys.disabled():
        print("\n".join(lines))
    known = {seed: k for seed, k in (known or {}).items() if seed in results}
    failed = [r.detail for seed, r in results.items() if r.status == "failed" and seed not in known]
    failed += [f"seed {seed} is listed in KNOWN_DEFECTS ({why}) but no longer fails that way: remove or update it; "
               f"now: {results[seed].status} {results[seed].detail}"
               for seed, (why, signature) in known.items() if signature not in results[seed].detail]
    assert not failed, f"{len(failed)} of {len(results)} random {kind} graphs failed:\n" + "\n".join(failed)
    return results


def _first_shard_only() -> None:
    if not rgt.shard([True]):
        pytest.skip("runs in the first shard")


def test_conv_generator_is_deterministic_and_covers_the_forms():
    _first_shard_only()
    graphs = [random_graphs.generate_conv(s) for s in range(60)]
    again = random_graphs.generate_conv(7)
    assert again.model.model.SerializeToString() == graphs[7].model.model.SerializeToString()
    assert all(g.description.startswith(f"seed {g.seed}: in ") and "\n" not in g.description for g in graphs)
    convs = [(len(g.model.get_tensor_shape(n.input[0])), {a.name: list(a.ints) for a in n.attribute if a.ints})
             for g in graphs for n in g.model.graph.node if n.op_type == "Conv"]
    pools = [{a.name: (list(a.ints) if a.ints else a.i) for a in n.attribute}
             for g in graphs for n in g.model.graph.node if n.op_type == "MaxPool"]
    assert any(rank == 3 for rank, _ in convs) and any(a["kernel_shape"][0] == 1 and rank == 4 for rank, a in convs)
    assert any(len(set(a["kernel_shape"])) > 1 for _, a in convs)  # not square
    assert any(max(a["kernel_shape"]) >= 5 for _, a in convs)
    assert any(max(a["dilations"]) > 1 for _, a in convs) and any(max(a["strides"]) == 3 for _, a in convs)
    assert any(len(set(a["pads"])) > 1 for _, a in convs)  # asymmetric
    assert any(p["kernel_shape"] != p["strides"] for p in pools) and any(p.get("ceil_mode") for p in pools)
    # The extra forms only when asked for; a residual add's two operands through one quantizer.
    assert not any(_grouped(g) or _residual(g) for g in graphs)
    extra = [random_graphs.generate_conv(s, random_graphs.CONV_FORMS | random_graphs.EXTRA_FORMS) for s in range(30)]
    assert any(_grouped(g) for g in extra) and any(_residual(g) for g in extra)
    for g in extra:
        for add in (n for n in g.model.graph.node if n.op_type == "Add" and _residual_add(g, n)):
            quants = [g.model.find_producer(t) for t in add.input]
            assert all(q.op_type == "Quant" for q in quants), g.description
            params = [[g.model.get_initializer(t).tolist() for t in q.input[1:]] for q in quants]
            assert params[0] == params[1], g.description


def _grouped(g: random_graphs.RandomGraph) -> bool:
    return any(n.op_type == "Conv" and any(a.name == "group" and a.i > 1 for a in n.attribute)
               for n in g.model.graph.node)


def _residual_add(g: random_graphs.RandomGraph, n) -> bool:
    return all(g.model.get_initializer(t) is None for t in n.input)


def _residual(g: random_graphs.RandomGraph) -> bool:
    return any(n.op_type == "Add" and _residual_add(g, n) for n in g.model.graph.node)


def test_conv_reference_matches_qonnx_execution():
    """The float64 reference of Conv and MaxPool (random_graphs.sim_conv, sim_maxpool)
    against onnxruntime through qonnx, where their inputs agree."""
    _first_shard_only()
    for seed in range(40):
        g = random_graphs.generate_conv(seed, random_graphs.CONV_FORMS | random_graphs.EXTRA_FORMS)
        x = rgt._inputs(g)[0]
        ctx32 = execute_onnx(g.model, {"x": x}, return_full_exec_context=True)
        ctx64 = rgt._float64_context(g.model, x)
        for n in g.model.graph.node:
            if n.op_type in ("Conv", "MaxPool"):
                ref, got = ctx32[n.output[0]], ctx64[n.output[0]]
                # Same inputs (qonnx rounds the quantizers the same way unless a level is left open).
                inp32, inp64 = ctx32[n.input[0]], ctx64[n.input[0]]
                if np.allclose(inp32, inp64, rtol=1e-6, atol=0):
                    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4 * float(np.abs(ref).max() + 1e-30),
                                               err_msg=f"{n.name}: {g.description}")


def test_random_conv_graphs_match_the_export_after_every_step(capsys):
    seeds = _seeds()
    results = _run("conv", [random_graphs.generate_conv(s) for s in seeds], capsys, known=KNOWN_DEFECTS)
    share = sum(r.status in ("compiled", "undecided") for r in results.values()) / max(len(results), 1)
    assert len(results) < 20 or share >= MIN_COMPILED, f"only {share:.0%} of the conv graphs compiled"


def test_depthwise_and_residual_graphs_match_the_export_after_every_step(capsys):
    forms = random_graphs.CONV_FORMS | random_graphs.EXTRA_FORMS
    graphs = [g for g in (random_graphs.generate_conv(s, forms) for s in range(1000, 1000 + 3 * EXTRA_GRAPHS))
              if _grouped(g) or _residual(g)][:EXTRA_GRAPHS]
    assert len(graphs) == EXTRA_GRAPHS
    results = _run("depthwise/residual", rgt.shard(graphs), capsys)
    share = sum(r.status in ("compiled", "undecided") for r in results.values()) / max(len(results), 1)
    assert len(results) < 20 or share >= MIN_COMPILED, f"only {share:.0%} of the depthwise/residual graphs compiled"
