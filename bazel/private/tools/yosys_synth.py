"""Runs Yosys out-of-context synthesis for a Xilinx family and writes a resource report.

The report is deterministic JSON: {"top", "family", "params", "resources": {category:
count}, "cells": {cell type: count}}. The Yosys log goes to a separate file (it holds
timings, so it is not reproducible).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

# Xilinx primitive -> report category.
_CATEGORIES = [
    (re.compile(r"^(LUT[1-6](_2)?|INV)$"), "LUT"),  # Yosys emits INV where Vivado has LUT1
    (re.compile(r"^(FD[RSCP]E|FD[RSCP]E_1|LD[CP]E)$"), "FF"),
    (re.compile(r"^(SRL16E|SRLC16E|SRLC32E)$"), "SRL"),
    (re.compile(r"^RAM(16|32|64|128|256|512)[XM]"), "LUTRAM"),
    (re.compile(r"^RAMB18E[12]$"), "BRAM18"),
    (re.compile(r"^RAMB36E[12]$"), "BRAM36"),
    (re.compile(r"^URAM288(_BASE)?$"), "URAM"),
    (re.compile(r"^DSP48E[12]$"), "DSP"),
    (re.compile(r"^CARRY(4|8)$"), "CARRY"),
    (re.compile(r"^MUXF[789]$"), "MUXF"),
]
CATEGORIES = ["LUT", "FF", "LUTRAM", "SRL", "BRAM18", "BRAM36", "URAM", "DSP", "CARRY", "MUXF"]


def categorize(cells: dict) -> dict:
    """Sums a Yosys cell histogram into report categories; unknown cells go to OTHER."""
    out = {c: 0 for c in CATEGORIES}
    other = 0
    for cell, n in cells.items():
        name = cell.lstrip("\\$")
        for pattern, cat in _CATEGORIES:
            if pattern.match(name):
                out[cat] += n
                break
        else:
            if name not in ("VCC", "GND", "IBUF", "OBUF", "BUFG"):
                other += n
    out["OTHER"] = other
    return out


def _param_value(v: str) -> str:
    return v if re.fullmatch(r"-?\d+|\d+'[bdhoBDHO][0-9a-fA-FxXzZ_]+", v) else json.dumps(v)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--yosys", required=True)
    ap.add_argument("--top", required=True)
    ap.add_argument("--family", required=True)
    ap.add_argument("--report", required=True)
    ap.add_argument("--netlist", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--param", action="append", default=[])
    ap.add_argument("--include_dir", action="append", default=[])
    ap.add_argument("srcs", nargs="+")
    a = ap.parse_args(argv)

    if not a.yosys or not os.access(a.yosys, os.X_OK):
        print("qnn2fpga: yosys is not installed; install it with 'apt-get install -y yosys' "
              "(./bazelw does this)", file=sys.stderr)
        return 127

    params = dict(p.split("=", 1) for p in a.param)
    incs = " ".join(f"-I{d}" for d in a.include_dir)
    chparams = "".join(f" -set {k} {_param_value(v)}" for k, v in sorted(params.items()))
    with tempfile.TemporaryDirectory() as tmp:
        stat_path = os.path.join(tmp, "stat.json")
        # chparam after a full read: Yosys 0.23's hierarchy -chparam cannot decode strings.
        script = [f"read_verilog -sv {incs} {' '.join(a.srcs)}"]
        if chparams:
            script.append(f"chparam{chparams} {a.top}")
        script += [f"hierarchy -check -top {a.top}",
                  f"synth_xilinx -family {a.family} -top {a.top} -flatten -noiopad -noclkbuf",
                  # One inverter per inverted net: synth_xilinx leaves an INV of rst_n per
                  # group of reset pins (Vivado folds them into the flip-flops). Only INV:
                  # merging every identical LUT would also undo ABC's duplications, a
                  # different count altogether.
                  "opt_merge -share_all t:INV",
                  "opt_clean",
                  f"tee -q -o {stat_path} stat -json",
                  f"write_verilog -noattr {a.netlist}"]
        # A script file, not -p: only there does Yosys keep the quotes of string parameters.
        script_path = os.path.join(tmp, "synth.ys")
        with open(script_path, "w") as f:
            f.write("\n".join(script) + "\n")
        proc = subprocess.run([a.yosys, "-q", "-l", a.log, "-s", script_path],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if proc.returncode != 0:
            errors = [line for line in proc.stdout.splitlines() if "ERROR" in line] or proc.stdout.splitlines()[-5:]
            print(f"qnn2fpga: yosys failed on {a.top} ({a.family}): " + " | ".join(errors), file=sys.stderr)
            return 1
        with open(stat_path) as f:
            stat = json.load(f)
    design = stat.get("design") or next(iter(stat["modules"].values()))
    cells = dict(sorted(design.get("num_cells_by_type", {}).items()))
    report = {
        "top": a.top,
        "family": a.family,
        "params": dict(sorted(params.items())),
        "tool": "yosys",
        "resources": categorize(cells),
        "cells": cells,
    }
    with open(a.report, "w") as f:
        json.dump(report, f, indent=2, sort_keys=False)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
