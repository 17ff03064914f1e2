"""Automatic folding against a greedy SIMD-then-PE baseline, by the same estimates.

    ./bazelw run //bench:folding_bench

The baseline folds each layer on its own the way a greedy folder does: raise SIMD
through its divisors until the layer meets the cycle budget (or SIMD is full, or a
decoupled weight stream would exceed mvau_wwidth_max), then PE; memories stay in the
default mode (internal_decoupled, ram_style auto). For every (model, target fps), the
baseline's achieved fps becomes auto-folding's target, so both are compared at the same
throughput. Prints estimated LUTs, BRAM_18K and the board-weighted cost of both and
their ratio (auto / greedy). Auto-folding minimizes the weighted cost, so it may spend
LUTs to save block RAM that is scarcer on the board (the greedy folder leaves memories
on "auto", where deep tables go to block RAM). Exits 1 if auto-folding's weighted cost
is ever higher, or if it uses fewer-or-equal LUTs in fewer than 3 cases. Also reports
how long auto-folding took.
"""

from __future__ import annotations

import os
import sys
import time

from qnn2fpga import boards, estimate, flow, folding
from qnn2fpga.layers import numerics
from qnn2fpga.layers.registry import get_layer

CASES = [  # (model file, board, target fps)
    ("models/tfc/tfc_w1a1.onnx", "pynq-z1", 100_000),
    ("models/tfc/tfc_w1a1.onnx", "pynq-z1", 500_000),
    ("models/tfc/tfc_w1a1.onnx", "pynq-z1", 1_560_000),
    ("models/sfc/sfc_w1a1.onnx", "pynq-z1", 200_000),
    ("models/lfc/lfc_w1a1.onnx", "zcu104", 100_000),
    ("models/tfc/tfc_w2a2.onnx", "pynq-z1", 1_000_000),
]


def greedy(model, board, target_fps: float, wwidth_max: int = folding.DEFAULT_WWIDTH_MAX):
    target = int(board.default_clock_mhz * 1e6 // target_fps)
    for node in folding.hw_nodes(model):
        layer = get_layer(node)
        if layer.folded_by_neighbours:
            continue
        folds = layer.fold_attrs()
        order = [n for n in ("SIMD", "PE") if n in folds] + [n for n in folds if n not in ("SIMD", "PE")]
        for name in order:
            for value in numerics.divisors(layer.attr(folds[name].divides)):
                previous = layer.attr(name)
                layer.set_attr(name, value)
                if name == "SIMD" and layer.weight_stream_width() > wwidth_max:
                    layer.set_attr(name, previous)
                    break
                if layer.cycles() <= target:
                    break
            if layer.cycles() <= target:
                break
    res = estimate.network(model, board.family, board.default_clock_mhz)
    return res["estimate_layer_resources"]["total"], res["estimate_network_performance"]


def main() -> int:
    root = os.environ.get("RUNFILES_DIR", ".")
    base = os.path.join(root, os.environ.get("TEST_WORKSPACE", "__main__"))
    if not os.path.isdir(os.path.join(base, "models")):
        base = "."
    print(f"{'model':14s} {'board':8s} {'target fps':>11s} {'fps':>11s} | {'greedy LUT':>10s} {'BRAM':>5s} "
          f"{'cost':>8s} | {'auto LUT':>8s} {'BRAM':>5s} {'cost':>8s} | LUT ratio  cost ratio  auto time")
    worse, fewer_luts = 0, 0
    for path, board_name, fps in CASES:
        board = boards.load_board(board_name)
        compiled = flow.compile_model(flow.load_model(os.path.join(base, path)))
        g_res, g_perf = greedy(flow.compile_model(flow.load_model(os.path.join(base, path))), board, fps)
        achieved = g_perf["estimated_throughput_fps"]
        t0 = time.perf_counter()
        model, result = folding.auto_fold(compiled, board, achieved)
        seconds = time.perf_counter() - t0
        a_res = result.total()
        g_cost, a_cost = (estimate.weighted_cost(r, board.capacity) for r in (g_res, a_res))
        assert result.fps >= achieved
        lut_ratio, cost_ratio = a_res["LUT"] / g_res["LUT"], a_cost / g_cost
        worse += cost_ratio > 1
        fewer_luts += lut_ratio <= 1
        print(f"{os.path.basename(path)[:-5]:14s} {board_name:8s} {fps:11,.0f} {achieved:11,.0f} | {g_res['LUT']:10,d} "
              f"{g_res['BRAM_18K']:5d} {g_cost:8,.0f} | {a_res['LUT']:8,d} {a_res['BRAM_18K']:5d} {a_cost:8,.0f} | "
              f"{lut_ratio:9.2f}  {cost_ratio:10.2f}  {seconds:7.2f} s")
    print(f"weighted cost: auto-folding {'never worse than greedy' if not worse else f'worse in {worse} case(s)'}; "
          f"LUTs: no more than greedy in {fewer_luts} of {len(CASES)} cases")
    return 1 if worse or fewer_luts < 3 else 0


if __name__ == "__main__":
    sys.exit(main())
