"""What a qnn_accelerator is, in one screen (`bazel run //<pkg>:<name>_summary`, see
bazel/private/accelerator.bzl): per layer its folding, estimated cycles and resources
next to Yosys's counts; the whole design's estimated throughput; then the Bazel-built
simulator of the stitched design run on seeded random inputs, its outputs checked bit
for bit against qonnx execution of the export, and its measured cycles per frame.

Exits 1 when an output differs or the simulation stops; nothing is written.
"""

from __future__ import annotations

import json
import pathlib
import sys
import tempfile

import numpy as np
from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("board", None, "board key (boards/<board>.json)")
flags.DEFINE_string("label", "", "the accelerator's Bazel label, for the report path")
flags.DEFINE_integer("inputs", 20, "random inputs to simulate")
flags.DEFINE_string("input_datatype", "", "UINT8: the accelerator takes raw pixels (the export gets x / 255)")

COLUMNS = ("layer", "op", "folding", "cycles", "LUT est", "LUT Yosys", "BRAM est", "BRAM Yosys", "DSP")


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  " + "  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
                     for r in rows)


def layer_rows(model, reports: dict) -> list[list[str]]:
    from qnn2fpga import folding  # noqa: PLC0415
    from qnn2fpga.layers.registry import get_layer  # noqa: PLC0415

    est, cyc = reports["estimate_layer_resources"], reports["estimate_layer_cycles"]
    synth = reports["synth_layer_resources"]["layers"]
    rows = [list(COLUMNS)]
    for node in folding.hw_nodes(model):
        if node.name not in cyc:
            continue  # FIFOs and width converters are counted below
        layer = get_layer(node)
        fold = " ".join(f"{k}={layer.attr(k)}" for k in layer.fold_attrs()) or "-"
        y = synth.get(node.name, {}).get("synthesized", {})
        e = est[node.name]
        rows.append([node.name, node.op_type, fold, f"{cyc[node.name]:,}", f"{e['LUT']:,}",
                     f"{y['LUT_ALL']:,}" if y else "-", f"{e['BRAM_18K']:g}", f"{y['BRAM_18K']:g}" if y else "-",
                     f"{e['DSP']:g}"])
    t, ty = est["total"], reports["synth_layer_resources"]["total"]
    rows.append(["total", "", "", "", f"{t['LUT']:,}", f"{ty['LUT_ALL']:,}" if ty else "-", f"{t['BRAM_18K']:g}",
                 f"{ty['BRAM_18K']:g}" if ty else "-", f"{t['DSP']:g}"])
    return rows


def main(argv):
    from qnn2fpga import boards, estimate, execute, flow, rtlsim, steps, testing  # noqa: PLC0415

    # Positional: the files of the export, the FIFO step, the simulator and the report.
    paths = [pathlib.Path(p).absolute() for p in argv[1:]]
    reports = {p.stem: json.loads(p.read_text()) for p in paths if p.suffix == ".json" and p.parent.name == "report"}
    hw = next(p for p in paths if p.name == "hw_fifos.onnx")
    sim = next(p for p in paths if p.name.endswith("_rtlsim"))
    export_path = next(p for p in paths if p.suffix == ".onnx" and p != hw)
    export, export_name = flow.load_model(str(export_path)), export_path.stem
    model = flow.load_model(str(hw))
    perf = reports["estimate_network_performance"]
    board = boards.load_board(FLAGS.board)
    print(f"{export_name} on {board.name} ({board.part}) at {perf['fclk_mhz']:g} MHz")
    print(_table(layer_rows(model, reports)))
    streams = [n for n in model.graph.node if n.op_type in steps.STREAM_OPS]
    fifos = [n for n in streams if n.op_type == "StreamingFIFO"]
    print(f"  + {len(fifos)} FIFOs and {len(streams) - len(fifos)} width converters between the layers")
    tied = estimate.bottlenecks(reports["estimate_layer_cycles"])
    print(f"estimated:  {perf['estimated_throughput_fps']:,.0f} frames/s (bottleneck {', '.join(tied)}, "
          f"{perf['max_cycles']:,} cycles per frame), latency {perf['critical_path_cycles']:,} cycles")

    with tempfile.TemporaryDirectory(prefix="qnn2fpga-summary-") as tmp:
        design = rtlsim.write_design(model, pathlib.Path(tmp) / "design")
        res = rtlsim.simulate(sim, design, design.random_frames(10))
        if not res.ok:
            print(f"simulated:  stopped: {res.report.get('diagnosis')}")
            return 1
        cpf, fclk = res.report["cycles_per_frame"], perf["fclk_mhz"]
        print(f"simulated:  {fclk * 1e6 / cpf:,.0f} frames/s in Verilator ({cpf:,} cycles per frame, "
              f"{cpf / perf['max_cycles']:.2f} x the estimate), latency {res.report['latency']:,} cycles")
        x, want = testing.export_golden(export, FLAGS.inputs, input_datatype=FLAGS.input_datatype)
        got = execute.execute(model, x, "rtlsim", design, sim)
    same = int(sum(np.array_equal(g, w) for g, w in zip(got, want)))
    print(f"checked:    {same} of {len(x)} random inputs give outputs bit-identical to qonnx execution "
          "of the export (software head and tail around the simulated design)")
    if FLAGS.label:
        pkg, name = FLAGS.label.lstrip("/").split(":")
        print(f"reports:    bazel-bin/{pkg}/{name}/report/ (estimates, FIFO depths, Yosys per layer); "
              f"the stitched design: bazel-bin/{pkg}/{name}/stitched_ip/")
    return 0 if same == len(x) else 1


if __name__ == "__main__":
    flags.mark_flags_as_required(["board"])
    sys.exit(app.run(main))
