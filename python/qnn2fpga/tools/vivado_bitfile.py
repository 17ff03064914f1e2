"""The actions of vivado_bitfile (bazel/private/vivado.bzl):

    vivado_bitfile project --board=B --shell=shell.json [--fclk_mhz=F] --out=DIR SRC|DIR ...
    vivado_bitfile build   --project=DIR --vivado=PATH --out_bit=X.bit --out_hwh=X.hwh
                           --out_reports=DIR --without_vivado=TARGET,...

`project` writes the Vivado project script and sources (qnn2fpga.vivado.write_project;
no Vivado needed). `build` runs `vivado -mode batch -source make_project.tcl` on a copy
of it and parses the reports. With --vivado empty (Vivado not found when the workspace
was set up) `build` fails with one line naming the variable to set and the targets that
build without Vivado. Errors are one line on stderr (exit 2), as from the qnn2fpga
command; a failed Vivado run prints the ERROR lines of its log.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

from qnn2fpga import vivado
from qnn2fpga.boards import load_board
from qnn2fpga.errors import InputFileError, ToolError, run_cli


def _options(argv: list[str]) -> tuple[dict, list[str]]:
    opts, rest = {}, []
    for a in argv:
        if a.startswith("--") and "=" in a:
            key, value = a[2:].split("=", 1)
            opts[key] = value
        else:
            rest.append(a)
    return opts, rest


def _files(paths: list[str]) -> list[pathlib.Path]:
    """Files and the files inside directories (Bazel tree artifacts), sorted by name."""
    out = []
    for p in map(pathlib.Path, paths):
        out += sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
    return out


def missing_vivado_message(without_vivado: list[str]) -> str:
    return ("qnn2fpga: Vivado is not installed or not found, and this target needs it; set XILINX_VIVADO to the "
            "Vivado install directory (or put vivado on PATH) and build again; without Vivado these build: "
            + ", ".join(without_vivado))


def step_project(opts: dict, sources: list[str]) -> None:
    try:
        shell = json.loads(pathlib.Path(opts["shell"]).read_text())
    except (OSError, ValueError) as e:
        raise InputFileError(f"shell file '{opts['shell']}'", f"is unreadable ({e})", "pass the stitched shell.json")
    board = load_board(opts["board"])
    fclk_mhz = float(opts.get("fclk_mhz") or board.default_clock_mhz)
    vivado.write_project(opts["out"], board, shell, _files(sources), fclk_mhz)


def step_build(opts: dict) -> None:
    exe = opts.get("vivado", "")
    if not exe or not os.access(exe, os.X_OK):
        print(missing_vivado_message([t for t in opts.get("without_vivado", "").split(",") if t]), file=sys.stderr)
        sys.exit(1)
    with tempfile.TemporaryDirectory(prefix="vivado_bitfile.") as tmp:
        work = pathlib.Path(tmp) / "project"
        shutil.copytree(opts["project"], work)
        env = dict(os.environ, HOME=tmp)
        log = work / "vivado.log"
        proc = subprocess.run([exe, "-mode", "batch", "-nojournal", "-log", str(log), "-source", vivado.PROJECT_TCL],
                              cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            errors = [line for line in log.read_text(errors="replace").splitlines() if line.startswith("ERROR")] \
                if log.is_file() else []
            print("\n".join(errors[-20:]), file=sys.stderr)
            raise ToolError("vivado", f"exited with status {proc.returncode} building the bitfile",
                            "read the ERROR lines above (the project is make_project.tcl in this target's "
                            "`project` output group)")
        vivado.parse_reports(work)
        out = work / "output"
        bits, hwhs = sorted(out.glob("*.bit")), sorted(out.glob("*.hwh"))
        if len(bits) != 1 or len(hwhs) != 1:
            raise ToolError("vivado", f"left {len(bits)} .bit and {len(hwhs)} .hwh files", "check make_project.tcl")
        shutil.copyfile(bits[0], opts["out_bit"])
        shutil.copyfile(hwhs[0], opts["out_hwh"])
        reports = pathlib.Path(opts["out_reports"])
        reports.mkdir(parents=True, exist_ok=True)
        for f in [*(work / "report").glob("*.json"), *(out / "report").glob("*.rpt")]:
            shutil.copyfile(f, reports / f.name)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("project", "build"):
        print(__doc__, file=sys.stderr)
        return 1
    opts, rest = _options(argv[1:])
    if argv[0] == "project":
        step_project(opts, rest)
    else:
        step_build(opts)
    return 0


if __name__ == "__main__":
    run_cli(main)
