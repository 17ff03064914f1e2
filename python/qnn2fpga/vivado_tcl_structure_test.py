"""Structure test of the generated Vivado project Tcl, without Vivado: make_project.tcl
runs in tclsh against vivado_stub.tcl, which records every Vivado command it calls;
the checks below read that log as a block design (cells, nets, interface nets, address
map) and check it for every Zynq board, also with weight streams (one MM2S-only DMA
per stream, mem_mode "external"). They do not prove Vivado accepts the design
(IP configuration names and values are only as right as the tables in vivado.py); they
do catch unconnected or misnamed pins, unknown IP, a wrong part, clock or address range,
a missing flow step, and any command the stub does not know (a template typo).
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess

import pytest

from qnn2fpga import vivado
from qnn2fpga.boards import load_board
from qnn2fpga.errors import BoardError, InputFileError
from qnn2fpga.shell import AXIL_PORTS

STUB = pathlib.Path(__file__).parent / "vivado_stub.tcl"
ZYNQ_BOARDS = ["kv260", "pynq-z1", "pynq-z2", "ultra96-v2", "zcu102", "zcu104"]

# Written out here, not taken from vivado.py, so that a wrong table there is caught.
KNOWN_VLNV = {
    "xilinx.com:ip:processing_system7:5.5": "processing_system7",
    "xilinx.com:ip:zynq_ultra_ps_e": "zynq_ultra_ps_e",
    "xilinx.com:ip:axi_dma:7.1": "axi_dma",
    "xilinx.com:ip:smartconnect:1.0": "smartconnect",
    "xilinx.com:ip:proc_sys_reset:5.0": "proc_sys_reset",
    "xilinx.com:ip:axis_dwidth_converter:1.1": "axis_dwidth_converter",
}
# Pins each kind of cell must have connected: (nets, interface nets).
REQUIRED = {
    "processing_system7": (["FCLK_CLK0", "FCLK_RESET0_N", "M_AXI_GP0_ACLK", "S_AXI_HP0_ACLK"],
                           ["M_AXI_GP0", "S_AXI_HP0"]),
    "zynq_ultra_ps_e": (["pl_clk0", "pl_resetn0", "maxihpm0_fpd_aclk", "saxihp0_fpd_aclk"],
                        ["M_AXI_HPM0_FPD", "S_AXI_HP0_FPD"]),
    "axi_dma": (["s_axi_lite_aclk", "m_axi_mm2s_aclk", "m_axi_s2mm_aclk", "axi_resetn"],
                ["S_AXI_LITE", "M_AXI_MM2S", "M_AXI_S2MM", "M_AXIS_MM2S", "S_AXIS_S2MM"]),
    "proc_sys_reset": (["slowest_sync_clk", "ext_reset_in"], []),
    "axis_dwidth_converter": (["aclk", "aresetn"], ["S_AXIS", "M_AXIS"]),
    "smartconnect": (["aclk", "aresetn"], []),  # + S<i>_AXI / M<i>_AXI from NUM_SI / NUM_MI
    "accel": (["ap_clk", "ap_rst_n"], ["s_axis_0", "m_axis_0", "s_axi_control"]),
}
AXI_DMA_S2MM = (["m_axi_s2mm_aclk"], ["M_AXI_S2MM", "S_AXIS_S2MM"])  # absent with c_include_s2mm 0
PS_CLOCK_KEY = {"processing_system7": "PCW_FPGA0_PERIPHERAL_FREQMHZ",
                "zynq_ultra_ps_e": "PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ"}
PS_PORTS_ON = {"processing_system7": ["PCW_USE_M_AXI_GP0", "PCW_USE_S_AXI_HP0"],
               "zynq_ultra_ps_e": ["PSU__USE__M_AXI_GP0", "PSU__USE__S_AXI_GP2"]}
CLOCK_PIN = re.compile(r"(aclk|ap_clk|slowest_sync_clk|_ACLK)$")

SHELLS = {
    # 3-byte input (a width converter to the DMA's 32 bits), 1-byte output, 64-byte register file
    "dwc_in": {"top": "qnn2fpga_accel", "in_bytes": 3, "out_bytes": 1, "axilite_addr_bits": 6},
    # widths AXI DMA has, a 64 KiB register file
    "direct": {"top": "qnn2fpga_accel", "in_bytes": 8, "out_bytes": 2, "axilite_addr_bits": 16},
    # a 5-byte output: a width converter to 64 bits on the way back
    "dwc_out": {"top": "qnn2fpga_accel", "in_bytes": 1, "out_bytes": 5, "axilite_addr_bits": 12},
    # two weight streams (mem_mode "external"): 3 bytes (a converter from 32 bits), 8 bytes
    "weights": {"top": "qnn2fpga_accel", "in_bytes": 3, "out_bytes": 1, "axilite_addr_bits": 9,
                "weight_streams": [
                    {"index": 0, "node": "MVAU_0", "width": 20, "bytes": 3, "byte_offset": 0, "words_per_frame": 12,
                     "port": "s_axis_w0", "dma": "idma0"},
                    {"index": 1, "node": "MVAU_1", "width": 64, "bytes": 8, "byte_offset": 3, "words_per_frame": 4,
                     "port": "s_axis_w1", "dma": "idma1"}]},
}
# What each weight DMA must be (the driver sends one MM2S transfer per batch).
WEIGHT_DMA = {"c_include_mm2s": "1", "c_include_s2mm": "0", "c_include_sg": "0", "c_sg_length_width": "26"}


def generate(tmp: pathlib.Path, board: str, shell: dict, fclk_mhz: float = 125.0) -> pathlib.Path:
    sv = tmp / "qnn2fpga_accel.sv"
    sv.write_text("module qnn2fpga_accel_shell; endmodule\n")
    return vivado.write_project(tmp / "project", load_board(board), shell, [sv], fclk_mhz)


def run_stub(tcl: pathlib.Path, no_board_parts: bool = False) -> list[dict]:
    """Runs make_project.tcl against the stub; returns the recorded calls (fails on a
    non-zero tclsh exit)."""
    log, scratch = tcl.parent / "calls.jsonl", tcl.parent / "stub"
    scratch.mkdir(exist_ok=True)
    env = dict(os.environ, QNN_STUB_LOG=str(log), QNN_STUB_DIR=str(scratch))
    if no_board_parts:
        env["QNN_STUB_NO_BOARD_PARTS"] = "1"
    script = f"source {{{STUB}}}\nsource {{{tcl}}}\n"
    proc = subprocess.run([shutil.which("tclsh") or "tclsh"], input=script, text=True, capture_output=True,
                          env=env, cwd=tcl.parent, timeout=60)
    if proc.returncode != 0:
        raise AssertionError(f"tclsh exit {proc.returncode}: {proc.stderr.strip()}")
    return [json.loads(line) for line in log.read_text().splitlines()]


def _opt(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def design_of(calls: list[dict]) -> dict:
    """The block design the calls build."""
    d = {"part": None, "cells": {}, "props": {}, "nets": [], "intf": [], "addresses": [], "automation": [],
         "order": [c["cmd"] for c in calls], "calls": calls}
    for c in calls:
        cmd, args = c["cmd"], c["args"]
        if cmd == "create_project":
            d["part"] = _opt(args, "-part")
        elif cmd == "create_bd_cell":
            d["cells"][args[-1]] = {"type": _opt(args, "-type"), "vlnv": _opt(args, "-vlnv"),
                                    "reference": _opt(args, "-reference")}
        elif cmd == "set_property" and "props" in c:
            for cell in args[-1].split():
                d["props"].setdefault(cell, {}).update({k.removeprefix("CONFIG."): v for k, v in c["props"].items()})
        elif cmd == "connect_bd_net":
            d["nets"].append([a for a in args[2:]] if args[:1] == ["-net"] else list(args))
        elif cmd == "connect_bd_intf_net":
            d["intf"].append(list(args))
        elif cmd == "assign_bd_address":
            d["addresses"].append({"space": _opt(args, "-target_address_space"), "range": _opt(args, "-range"),
                                   "segs": args[-1]})
        elif cmd == "apply_bd_automation":
            d["automation"].append({"rule": _opt(args, "-rule"), "config": _opt(args, "-config")})
    return d


def _bytes(text: str | None) -> int:
    m = re.fullmatch(r"(\d+)([KMG]?)", text or "")
    return int(m.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[m.group(2)] if m else 0


def check_design(d: dict, board: str, shell: dict, fclk_mhz: float) -> list[str]:
    """Everything wrong with the recorded design, one line each (empty: all good)."""
    problems = []
    b = load_board(board)
    if d["part"] != b.part:
        problems.append(f"project part {d['part']} is not the board's {b.part}")
    kinds = {}
    for name, cell in d["cells"].items():
        if cell["type"] == "module":
            if cell["reference"] != vivado.shell_module(shell) + "_ipi" or name != "accel":
                problems.append(f"module cell {name} references {cell['reference']}")
            kinds[name] = "accel"
        elif cell["vlnv"] not in KNOWN_VLNV:
            problems.append(f"cell {name}: unknown IP {cell['vlnv']}")
        else:
            kinds[name] = KNOWN_VLNV[cell["vlnv"]]
    if "accel" not in kinds:
        problems.append("no accelerator module cell")
    net_pins = [p for net in d["nets"] for p in net]
    intf_pins = [p for net in d["intf"] for p in net]
    for pin in net_pins + intf_pins + [a["segs"] for a in d["addresses"]]:
        if pin.split("/")[0] not in d["cells"]:
            problems.append(f"{pin} names no cell")
    for pin in set(intf_pins):
        if intf_pins.count(pin) > 1:
            problems.append(f"interface {pin} connected {intf_pins.count(pin)} times")
    for net in d["intf"]:
        if len(net) != 2:
            problems.append(f"interface net {net} does not join two pins")
    weights = shell.get("weight_streams", [])
    for name, kind in kinds.items():
        pins, intfs = REQUIRED[kind]
        if kind == "accel":
            intfs = intfs + [w["port"] for w in weights]
        if kind == "axi_dma" and d["props"].get(name, {}).get("c_include_s2mm") == "0":
            pins = [p for p in pins if p not in AXI_DMA_S2MM[0]]
            intfs = [p for p in intfs if p not in AXI_DMA_S2MM[1]]
        if kind == "smartconnect":
            props = d["props"].get(name, {})
            intfs = [f"S{i:02d}_AXI" for i in range(int(props.get("NUM_SI", 1)))] + \
                    [f"M{i:02d}_AXI" for i in range(int(props.get("NUM_MI", 1)))]
        problems += [f"{name}/{p} is not connected" for p in pins if f"{name}/{p}" not in net_pins]
        problems += [f"{name}/{p} is not connected" for p in intfs if f"{name}/{p}" not in intf_pins]

    ps = next((n for n, k in kinds.items() if k in PS_CLOCK_KEY), None)
    if ps is None:
        return problems + ["no processing system"]
    ps_kind = kinds[ps]
    ps_clk, ps_rst = (f"{ps}/{p}" for p in REQUIRED[ps_kind][0][:2])
    clock_net = next((net for net in d["nets"] if ps_clk in net), [])
    for pin in net_pins:
        if CLOCK_PIN.search(pin) and pin not in clock_net:
            problems.append(f"clock pin {pin} is not on the PS clock {ps_clk}")
    reset_net = next((net for net in d["nets"] if "rst/peripheral_aresetn" in net), [])
    for pin in ["accel/ap_rst_n"] + [f"{n}/axi_resetn" for n, k in kinds.items() if k == "axi_dma"] + \
            [f"{n}/aresetn" for n, k in kinds.items() if k == "axis_dwidth_converter"]:
        if pin not in reset_net:
            problems.append(f"{pin} is not reset by rst/peripheral_aresetn")
    if not any(ps_rst in net and "rst/ext_reset_in" in net for net in d["nets"]):
        problems.append(f"rst/ext_reset_in is not driven by {ps_rst}")
    props = d["props"].get(ps, {})
    if props.get(PS_CLOCK_KEY[ps_kind]) not in (str(fclk_mhz), f"{fclk_mhz:g}"):
        problems.append(f"PS clock {PS_CLOCK_KEY[ps_kind]} = {props.get(PS_CLOCK_KEY[ps_kind])}, not {fclk_mhz}")
    problems += [f"PS port {k} is not enabled" for k in PS_PORTS_ON[ps_kind] if props.get(k) != "1"]
    for auto in d["automation"]:
        if not auto["rule"].endswith(":" + ps_kind) or ("Master" in auto["config"] and
                                                         'Master "Disable"' not in auto["config"]):
            problems.append(f"connection automation {auto} may connect pins the checks do not see")

    problems += _check_streams(d, kinds, shell)
    problems += _check_addresses(d, ps, shell)
    problems += _check_flow(d)
    return problems


def _follow(d: dict, start: str, kinds: dict) -> tuple[str | None, list[str]]:
    """Where an AXI-stream interface ends, through width converters; and the converters."""
    peers = {a: b for a, b in d["intf"]} | {b: a for a, b in d["intf"]}
    pin, dwcs = start, []
    while pin in peers:
        other = peers[pin]
        cell = other.split("/")[0]
        if kinds.get(cell) != "axis_dwidth_converter":
            return other, dwcs
        dwcs.append(cell)
        pin = f"{cell}/{'M_AXIS' if other.endswith('S_AXIS') else 'S_AXIS'}"
    return None, dwcs


def _check_streams(d: dict, kinds: dict, shell: dict) -> list[str]:
    problems = []
    weights = shell.get("weight_streams", [])
    dmas = sorted(n for n, k in kinds.items() if k == "axi_dma")
    if dmas != sorted(["dma", *(w["dma"] for w in weights)]):
        problems.append(f"AXI DMA cells {dmas} for {len(weights)} weight streams")
    paths = [("dma", "dma/M_AXIS_MM2S", "accel/s_axis_0", "c_m_axis_mm2s_tdata_width", shell["in_bytes"], "M"),
             ("dma", "dma/S_AXIS_S2MM", "accel/m_axis_0", "c_s_axis_s2mm_tdata_width", shell["out_bytes"], "S")]
    for w in weights:
        paths.append((w["dma"], f"{w['dma']}/M_AXIS_MM2S", f"accel/{w['port']}", "c_m_axis_mm2s_tdata_width",
                      w["bytes"], "M"))
        props = d["props"].get(w["dma"], {})
        problems += [f"weight DMA {w['dma']}: {k} = {props.get(k)}, not {v}" for k, v in WEIGHT_DMA.items()
                     if props.get(k) != v]
    for dma_name, dma_pin, accel_pin, width_key, nbytes, dwc_side in paths:
        dma = d["props"].get(dma_name, {})
        end, dwcs = _follow(d, dma_pin, kinds)
        if end != accel_pin:
            problems.append(f"{dma_pin} reaches {end}, not {accel_pin}")
            continue
        bits = int(dma.get(width_key, 0))
        if bits not in (8, 16, 32, 64, 128, 256, 512, 1024) or bits < 8 * min(nbytes, 128):
            problems.append(f"DMA {width_key} = {bits} bits for a {nbytes}-byte stream")
        if (bits != 8 * nbytes) != bool(dwcs):
            problems.append(f"{accel_pin}: {len(dwcs)} width converters between {bits} and {8 * nbytes} bits")
        for dwc in dwcs:
            p = d["props"].get(dwc, {})
            other = "S" if dwc_side == "M" else "M"
            if (int(p.get(f"{dwc_side}_TDATA_NUM_BYTES", 0)), int(p.get(f"{other}_TDATA_NUM_BYTES", 0))) != \
                    (nbytes, bits // 8):
                problems.append(f"{dwc} converts {p} for {nbytes} <-> {bits // 8} bytes")
    return problems


def _check_addresses(d: dict, ps: str, shell: dict) -> list[str]:
    problems = []
    by_seg = {a["segs"]: a for a in d["addresses"]}
    control = by_seg.get("accel/s_axi_control/*")
    need = max(4096, 1 << shell["axilite_addr_bits"])  # the whole register file; IP integrator's minimum 4 KiB
    if control is None:
        problems.append("accel/s_axi_control has no address")
    elif control["space"] != f"{ps}/Data" or _bytes(control["range"]) < need:
        problems.append(f"accel/s_axi_control mapped {control} (needs {need} bytes in {ps}/Data)")
    dmas = ["dma", *(w["dma"] for w in shell.get("weight_streams", []))]
    for dma in dmas:
        lite = by_seg.get(f"{dma}/S_AXI_LITE/*")
        if lite is None:
            problems.append(f"{dma}/S_AXI_LITE has no address")
        elif lite["space"] != f"{ps}/Data" or _bytes(lite["range"]) < 4096:
            problems.append(f"{dma}/S_AXI_LITE mapped {lite}")
    for space in ("dma/Data_MM2S", "dma/Data_S2MM", *(f"{dma}/Data_MM2S" for dma in dmas[1:])):
        if not any(a["space"] == space and a["segs"].startswith(f"{ps}/") for a in d["addresses"]):
            problems.append(f"{space} is not mapped to the processing system's memory")
    return problems


def _check_flow(d: dict) -> list[str]:
    order = d["order"]
    problems = [f"{cmd} is never called" for cmd in
                ("validate_bd_design", "make_wrapper", "launch_runs", "report_utilization", "report_timing_summary")
                if cmd not in order]
    if problems:
        return problems
    last_connect = max(i for i, cmd in enumerate(order) if cmd.startswith(("connect_", "assign_bd")))
    if order.index("validate_bd_design") < last_connect:
        problems.append("validate_bd_design runs before the design is complete")
    runs = [c["args"] for c in d["calls"] if c["cmd"] == "launch_runs"]
    if not any(a[0] == "impl_1" and _opt(a, "-to_step") == "write_bitstream" for a in runs):
        problems.append("no launch_runs impl_1 -to_step write_bitstream")
    files = {pathlib.Path(_opt(c["args"], "-file") or "").name for c in d["calls"] if c["cmd"].startswith("report_")}
    problems += [f"report {f} is not written" for f in
                 ("post_synth_utilization.rpt", "post_route_utilization.rpt", "post_route_timing_summary.rpt")
                 if f not in files]
    return problems


# --- the tests --------------------------------------------------------------------------------

@pytest.mark.parametrize("shell_name", sorted(SHELLS))
@pytest.mark.parametrize("board", ZYNQ_BOARDS)
def test_every_zynq_board(tmp_path, board, shell_name):
    shell = SHELLS[shell_name]
    tcl = generate(tmp_path, board, shell, fclk_mhz=125.0)
    assert check_design(design_of(run_stub(tcl)), board, shell, 125.0) == []
    out = tcl.parent / "output"
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == ["qnn2fpga_accel.bit", "qnn2fpga_accel.hwh"]


def test_all_zynq_boards_covered():
    assert sorted(vivado.zynq_boards()) == ZYNQ_BOARDS


@pytest.mark.parametrize("board", ["pynq-z1", "zcu104"])
def test_without_board_files(tmp_path, board):
    """No board files: no preset; the 7-series PS's DDR and FIXED_IO are made external."""
    shell = SHELLS["direct"]
    d = design_of(run_stub(generate(tmp_path, board, shell), no_board_parts=True))
    assert check_design(d, board, shell, 125.0) == []
    assert d["automation"] == []
    external = [c["args"][0] for c in d["calls"] if c["cmd"] == "make_bd_intf_pins_external"]
    assert external == (["ps/DDR", "ps/FIXED_IO"] if board == "pynq-z1" else [])


def test_clock_and_part(tmp_path):
    d = design_of(run_stub(generate(tmp_path, "zcu102", SHELLS["direct"], fclk_mhz=187.5)))
    assert check_design(d, "zcu102", SHELLS["direct"], 187.5) == []
    assert check_design(d, "zcu102", SHELLS["direct"], 100.0) == \
        ["PS clock PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ = 187.5, not 100.0"]
    assert d["part"] == "xczu9eg-ffvb1156-2-e"


# Each mutation of the generated Tcl, and the problem the checks must report.
MUTATIONS = {
    "stream_unconnected": (r"connect_bd_intf_net \[get_bd_intf_pins dwc_in/M_AXIS\][^\n]*\n", "",
                           "accel/s_axis_0 is not connected"),
    "clock_pin_dropped": (r" \[get_bd_pins accel/ap_clk\]", "", "accel/ap_clk is not connected"),
    "reset_on_wrong_net": (r" \[get_bd_pins accel/ap_rst_n\]", "",
                           "accel/ap_rst_n is not reset by rst/peripheral_aresetn"),
    "range_too_small": (r"-range 4K \[get_bd_addr_segs accel", "-range 1K [get_bd_addr_segs accel",
                        "accel/s_axi_control mapped"),
    "unknown_ip": (r"axi_dma:7\.1", "axi_dma:9.9", "cell dma: unknown IP"),
    "misnamed_cell": (r"get_bd_intf_pins ctrl_ic/M00_AXI", "get_bd_intf_pins ctrl/M00_AXI",
                      "ctrl/M00_AXI names no cell"),
    "no_bitstream": (r" -to_step write_bitstream", "", "no launch_runs impl_1 -to_step write_bitstream"),
    "dma_width": (r"c_m_axis_mm2s_tdata_width \{32\}", "c_m_axis_mm2s_tdata_width {16}",
                  "DMA c_m_axis_mm2s_tdata_width = 16 bits"),
}


# Mutations of a script with weight streams (SHELLS["weights"]).
WEIGHT_MUTATIONS = {
    "weight_dma_unconnected": (r"connect_bd_intf_net \[get_bd_intf_pins idma1/M_AXIS_MM2S\][^\n]*\n", "",
                               "accel/s_axis_w1 is not connected"),
    "weight_dma_control_unmapped": (r"assign_bd_address[^\n]*idma0/S_AXI_LITE[^\n]*\n", "",
                                    "idma0/S_AXI_LITE has no address"),
    "weight_dma_memory_unmapped": (r"assign_bd_address[^\n]*idma1/Data_MM2S[^\n]*\n", "",
                                   "idma1/Data_MM2S is not mapped"),
    "weight_dma_with_s2mm": (r"(CONFIG\.c_include_s2mm \{)0(\}[^\]]*\] \[get_bd_cells idma0\])", r"\g<1>1\2",
                             "weight DMA idma0: c_include_s2mm = 1, not 0"),
    "weight_dma_narrow_length": (r"(CONFIG\.c_sg_length_width \{)26(\}[^\]]*\] \[get_bd_cells idma1\])", r"\g<1>14\2",
                                 "weight DMA idma1: c_sg_length_width = 14, not 26"),
    "weight_dma_missing": (r"create_bd_cell -type ip -vlnv \S+ idma1\n", "",
                           "AXI DMA cells ['dma', 'idma0'] for 2 weight streams"),
    "weight_dma_unclocked": (r" \[get_bd_pins idma0/m_axi_mm2s_aclk\]", "", "idma0/m_axi_mm2s_aclk is not connected"),
}


def _mutated_problems(tmp_path, shell: dict, mutation: tuple) -> list[str]:
    tcl = generate(tmp_path, "pynq-z1", shell)
    pattern, replacement, expected = mutation
    text, n = re.subn(pattern, replacement, tcl.read_text())
    assert n >= 1, f"mutation {mutation} matched nothing"
    tcl.write_text(text)
    return check_design(design_of(run_stub(tcl)), "pynq-z1", shell, 125.0)


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_checks_catch_a_broken_script(tmp_path, mutation):
    """The checks can fail: each mutation of a good script is reported."""
    expected = MUTATIONS[mutation][2]
    problems = _mutated_problems(tmp_path, SHELLS["dwc_in"], MUTATIONS[mutation])
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize("mutation", sorted(WEIGHT_MUTATIONS))
def test_checks_catch_a_broken_weight_path(tmp_path, mutation):
    expected = WEIGHT_MUTATIONS[mutation][2]
    problems = _mutated_problems(tmp_path, SHELLS["weights"], WEIGHT_MUTATIONS[mutation])
    assert any(expected in p for p in problems), problems


def test_weight_dmas(tmp_path):
    """One MM2S-only DMA per weight stream, on the control and memory interconnects, its
    stream widened where AXI DMA has no width of the stream's bytes; the wrapper's clock
    lists every interface."""
    shell = SHELLS["weights"]
    tcl = generate(tmp_path, "zcu104", shell)
    d = design_of(run_stub(tcl))
    assert check_design(d, "zcu104", shell, 125.0) == []
    assert d["props"]["idma0"]["c_m_axis_mm2s_tdata_width"] == "32" and "dwc_w0" in d["cells"]
    assert d["props"]["idma1"]["c_m_axis_mm2s_tdata_width"] == "64" and "dwc_w1" not in d["cells"]
    assert (d["props"]["ctrl_ic"]["NUM_MI"], d["props"]["mem_ic"]["NUM_SI"]) == ("4", "4")
    assert ["ctrl_ic/M03_AXI", "idma1/S_AXI_LITE"] in d["intf"] and ["idma1/M_AXI_MM2S", "mem_ic/S03_AXI"] in d["intf"]
    wrapper = (tcl.parent / "src" / "qnn2fpga_accel_shell_ipi.v").read_text()
    assert "ASSOCIATED_BUSIF s_axis_0:m_axis_0:s_axi_control:s_axis_w0:s_axis_w1," in wrapper
    assert ".s_axis_w_tdata({s_axis_w1_tdata, s_axis_w0_tdata})" in wrapper


def test_wide_and_malformed_weight_streams(tmp_path):
    """A 196-byte weight stream takes a 128-byte DMA stream widened by a converter; wider
    than a converter goes, and malformed weight_streams, are refused."""
    wide = dict(SHELLS["direct"], weight_streams=[{"index": 0, "bytes": 196, "byte_offset": 0, "port": "s_axis_w0",
                                                   "dma": "idma0"}])
    d = design_of(run_stub(generate(tmp_path, "zcu104", wide)))
    assert check_design(d, "zcu104", wide, 125.0) == []
    assert d["props"]["idma0"]["c_m_axis_mm2s_tdata_width"] == "1024"
    assert (d["props"]["dwc_w0"]["S_TDATA_NUM_BYTES"], d["props"]["dwc_w0"]["M_TDATA_NUM_BYTES"]) == ("128", "196")
    too_wide = dict(wide, weight_streams=[dict(wide["weight_streams"][0], bytes=600)])
    with pytest.raises(InputFileError, match="600-byte weight stream"):
        generate(tmp_path, "zcu104", too_wide)
    gap = dict(wide, weight_streams=[dict(wide["weight_streams"][0], byte_offset=1)])
    with pytest.raises(InputFileError, match="malformed weight_streams"):
        generate(tmp_path, "zcu104", gap)


def test_stub_rejects_unknown_commands(tmp_path):
    tcl = generate(tmp_path, "pynq-z1", SHELLS["direct"])
    tcl.write_text(tcl.read_text().replace("validate_bd_design", "validate_bd_desing"))
    with pytest.raises(AssertionError, match="unknown command: validate_bd_desing"):
        run_stub(tcl)


@pytest.mark.parametrize("board", ["u50", "u250"])
def test_alveo_refused(tmp_path, board):
    with pytest.raises(BoardError, match="Zynq-only in this version") as e:
        generate(tmp_path, board, SHELLS["direct"])
    assert "\n" not in str(e.value) and all(b in str(e.value) for b in ZYNQ_BOARDS)


def test_unknown_board():
    with pytest.raises(BoardError, match="is unknown"):
        load_board("arty-z7")


@pytest.mark.parametrize("shell_name", ["dwc_in", "weights"])
def test_wrapper_matches_the_shell_contract(tmp_path, shell_name):
    """The Verilog face instantiates a module with the contract's ports (Verilator lint);
    with weight streams, the shell's s_axis_w_* vectors."""
    verilator = shutil.which("verilator")
    if verilator is None:
        pytest.skip("verilator is not installed")
    shell = SHELLS[shell_name]
    tcl = generate(tmp_path, "pynq-z1", shell)
    ports = ["input ap_clk", "input ap_rst_n", "input [23:0] s_axis_0_tdata", "input s_axis_0_tvalid",
             "output s_axis_0_tready", "output [7:0] m_axis_0_tdata", "output m_axis_0_tvalid",
             "input m_axis_0_tready", "output m_axis_0_tlast"]
    weights = shell.get("weight_streams", [])
    if weights:
        ports += [f"input [{8 * sum(w['bytes'] for w in weights) - 1}:0] s_axis_w_tdata",
                  f"input [{len(weights) - 1}:0] s_axis_w_tvalid", f"output [{len(weights) - 1}:0] s_axis_w_tready"]
    for signal, direction, width in AXIL_PORTS:
        w = width or shell["axilite_addr_bits"]
        ports.append(f"{direction} {f'[{w - 1}:0] ' if w > 1 else ''}s_axi_control_{signal}")
    model = tmp_path / "model.sv"
    outputs = [p.split()[-1] for p in ports if p.startswith("output")]
    model.write_text("module qnn2fpga_accel_shell(\n  " + ",\n  ".join(ports) + ");\n" +
                     "".join(f"  assign {o} = '0;\n" for o in outputs) + "endmodule\n")
    wrapper = tcl.parent / "src" / "qnn2fpga_accel_shell_ipi.v"
    proc = subprocess.run([verilator, "--lint-only", "-Wall", "-Wno-UNUSEDSIGNAL", "-Wno-DECLFILENAME",
                           "--top-module", "qnn2fpga_accel_shell_ipi", str(wrapper), str(model)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_sources_copied_once(tmp_path):
    """A file passed twice (the same bytes) is added once; two different files of one name
    are refused."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "top.sv").write_text("module top; endmodule\n")
    (b / "top.sv").write_text("module top; endmodule\n")
    (a / "w.dat").write_text("00\n")
    shell = SHELLS["direct"]
    tcl = vivado.write_project(tmp_path / "p", load_board("kv260"), shell, [a / "top.sv", b / "top.sv", a / "w.dat"],
                               100.0)
    assert re.findall(r"add_files -norecurse \[file join \$here (\S+)\]", tcl.read_text()) == \
        ["src/top.sv", "src/w.dat", "src/qnn2fpga_accel_shell_ipi.v"]
    (b / "top.sv").write_text("module top2; endmodule\n")
    with pytest.raises(InputFileError, match="same file name"):
        vivado.write_project(tmp_path / "q", load_board("kv260"), shell, [a / "top.sv", b / "top.sv"], 100.0)
