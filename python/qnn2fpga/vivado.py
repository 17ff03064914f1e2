"""The Vivado project of a Zynq bitfile, as Tcl generated from templates, and its reports.

`write_project(directory, board, shell, verilog_files, fclk_mhz)` writes
`directory/make_project.tcl` (template `templates/make_project.tcl.j2`), a Verilog face
of the accelerator for IP integrator (`templates/shell_ipi.v.j2`) and copies of the
sources into `directory/src/`. `vivado -mode batch -source make_project.tcl` then builds
`directory/output/<top>.bit`, `<top>.hwh` and the reports in `output/report/`, which
`parse_reports(directory)` turns into `report/post_synth_resources.json` and
`report/post_route_timing.json`.

The block design: the processing system (processing_system7 on 7-series boards,
zynq_ultra_ps_e on UltraScale+), an AXI DMA in simple mode (MM2S feeds the accelerator's
`s_axis_0`, S2MM takes its `m_axis_0`), a width converter where the accelerator's stream
is not a width AXI DMA supports, one SmartConnect from the PS master to the DMA's and the
accelerator's AXI-lite ports, one from the DMA's memory ports to the PS's HP0 slave, and
a proc_sys_reset; everything on one clock, FCLK0 / pl_clk0 at `fclk_mhz`. Every
connection is explicit (no connection automation), so `vivado_tcl_structure_test.py`
can check the netlist from the Tcl alone.

Weight streams (mem_mode "external"; shell.json "weight_streams"): weight stream k gets
its own AXI DMA `idma<k>` (deploy.weight_dma_cell; MM2S only, simple mode, 26-bit length
register) with its AXI-lite port on the control SmartConnect and its memory master on the
memory SmartConnect, its stream (through a width converter where its bytes are not an AXI
DMA width; wider than 128 bytes: from a 128-byte DMA stream) to the wrapper's
`s_axis_w<k>`. The host sends one transfer per batch: the frame's weight words repeated
once per frame. The shell has the weight streams as vectors (s_axis_w_tdata with stream
k's bytes at its byte_offset, s_axis_w_tvalid[k], s_axis_w_tready[k]); the wrapper splits
them into the AXI-stream interfaces IP integrator connects.

`shell` is the stitched design's shell.json: {"top", "in_bytes", "out_bytes",
"axilite_addr_bits", "weight_streams" (optional: [{"index", "bytes", "byte_offset"}, ...]),
...}. The accelerator module is `<top>_shell` (or `top` itself when
it already ends in `_shell`), with ports ap_clk, ap_rst_n, s_axis_0_{tdata,tvalid,tready},
m_axis_0_{tdata,tvalid,tready,tlast} and the AXI4-Lite slave s_axi_control_* (32-bit
data, `axilite_addr_bits` address; the signal names in qnn2fpga.shell.AXIL_PORTS).
"""

from __future__ import annotations

import json
import pathlib
import re
import shutil

import jinja2

from qnn2fpga.boards import Board, all_boards
from qnn2fpga.errors import BoardError, InputFileError
from qnn2fpga.shell import AXIL_PORTS

TEMPLATE_DIR = pathlib.Path(__file__).parent / "templates"
PROJECT_TCL = "make_project.tcl"
BD_NAME = "qnn2fpga_bd"
JOBS = 4

# Catalog IPs the generated Tcl may instantiate (VLNV as in the Vivado IP catalog). The
# UltraScale+ PS is named without a version: it is 3.3 to 3.5 across Vivado 2020-2024,
# and create_bd_cell takes the catalog's current one; the others are unchanged since 2016.
IP_VLNV = {
    "processing_system7": "xilinx.com:ip:processing_system7:5.5",
    "zynq_ultra_ps_e": "xilinx.com:ip:zynq_ultra_ps_e",
    "axi_dma": "xilinx.com:ip:axi_dma:7.1",
    "smartconnect": "xilinx.com:ip:smartconnect:1.0",
    "proc_sys_reset": "xilinx.com:ip:proc_sys_reset:5.0",
    "axis_dwidth_converter": "xilinx.com:ip:axis_dwidth_converter:1.1",
}

# Stream data widths (bits) AXI DMA supports on M_AXIS_MM2S / S_AXIS_S2MM.
DMA_STREAM_BITS = (8, 16, 32, 64, 128, 256, 512, 1024)

# Vivado board files per board key (get_board_parts pattern; the newest version is used).
BOARD_PARTS = {
    "pynq-z1": "*:pynq-z1:*",
    "pynq-z2": "*:pynq-z2:*",
    "ultra96-v2": "*:ultra96v2:*",
    "zcu102": "*:zcu102:*",
    "zcu104": "*:zcu104:*",
    "kv260": "*:kv260_som:*",
}

# The processing system per device family: IP, the preset rule, the pins the shell uses,
# the address spaces, and the configuration (FCLK0 / pl_clk0 frequency filled in later).
PS_PROFILES = {
    "7series": {
        "ip": "processing_system7",
        "rule": "xilinx.com:bd_rule:processing_system7",
        "automation": 'make_external "FIXED_IO, DDR" apply_board_preset "1" Master "Disable" Slave "Disable"',
        "external": ["DDR", "FIXED_IO"],
        "master": "M_AXI_GP0", "master_clk": "M_AXI_GP0_ACLK",
        "slave": "S_AXI_HP0", "slave_clk": "S_AXI_HP0_ACLK",
        "clk": "FCLK_CLK0", "resetn": "FCLK_RESET0_N",
        "memory_segs": "ps/S_AXI_HP0/HP0_DDR_LOWOCM",
        "dma_addr_bits": 32,
        "clock_key": "PCW_FPGA0_PERIPHERAL_FREQMHZ",
        "config": {"PCW_USE_M_AXI_GP0": 1, "PCW_USE_S_AXI_HP0": 1, "PCW_S_AXI_HP0_DATA_WIDTH": 64,
                   "PCW_EN_CLK0_PORT": 1, "PCW_EN_RST0_PORT": 1},
    },
    "ultrascale_plus": {
        "ip": "zynq_ultra_ps_e",
        "rule": "xilinx.com:bd_rule:zynq_ultra_ps_e",
        "automation": 'apply_board_preset "1"',
        "external": [],
        "master": "M_AXI_HPM0_FPD", "master_clk": "maxihpm0_fpd_aclk",
        "slave": "S_AXI_HP0_FPD", "slave_clk": "saxihp0_fpd_aclk",
        "clk": "pl_clk0", "resetn": "pl_resetn0",
        "memory_segs": "ps/SAXIGP2/HP0_DDR_*",
        "dma_addr_bits": 64,
        "clock_key": "PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ",
        # HPM0_FPD (GP0) is the control master; HPM1_FPD and HPM0_LPD are switched off so
        # that no master port is left with an unconnected clock. HP0_FPD is S_AXI_GP2.
        "config": {"PSU__USE__M_AXI_GP0": 1, "PSU__USE__M_AXI_GP1": 0, "PSU__USE__M_AXI_GP2": 0,
                   "PSU__MAXIGP0__DATA_WIDTH": 32, "PSU__USE__S_AXI_GP2": 1, "PSU__SAXIGP2__DATA_WIDTH": 64,
                   "PSU__FPGA_PL0_ENABLE": 1},
    },
}

ACCEL_INTERFACES = ("s_axis_0", "m_axis_0", "s_axi_control")
# A SmartConnect has at most 16 slave and 16 master interfaces; the control and memory
# interconnects use 2 of them for the accelerator and its input/output DMA.
MAX_WEIGHT_STREAMS = 14
# The widest AXI DMA stream, and the widest axis_dwidth_converter side (bytes).
DMA_MAX_BYTES, DWC_MAX_BYTES = 128, 512


def zynq_boards() -> list[str]:
    """Keys of the boards a bitfile can be built for (shell 'zynq')."""
    return [key for key, b in all_boards().items() if b.shell == "zynq"]


def check_board(board: Board) -> None:
    """Raises a BoardError unless `board` has a Zynq shell this module knows."""
    if board.shell != "zynq":
        raise BoardError(f"board '{board.key}'", f"has a '{board.shell}' shell; bitfiles are Zynq-only in this version",
                         f"build for one of {', '.join(zynq_boards())}")
    if board.key not in BOARD_PARTS or board.family not in PS_PROFILES:
        raise BoardError(f"board '{board.key}'", "has no Vivado board-part pattern or PS profile in qnn2fpga.vivado",
                         "add it to BOARD_PARTS (and PS_PROFILES for a new family)")


def dma_stream_bits(nbytes: int) -> int:
    """The narrowest AXI DMA stream width (bits) holding `nbytes` bytes."""
    for bits in DMA_STREAM_BITS:
        if bits >= nbytes * 8:
            return bits
    raise InputFileError("shell.json", f"has a {nbytes}-byte stream, wider than AXI DMA's 128 bytes",
                         "fold the first/last layer to a narrower stream")


def weight_dma_bits(nbytes: int) -> int:
    """The weight DMA's stream width (bits) for a weight stream of `nbytes` bytes: the
    narrowest AXI DMA width holding it, or the widest one (a converter widens it)."""
    if nbytes > DWC_MAX_BYTES:
        raise InputFileError("shell.json", f"has a {nbytes}-byte weight stream, wider than an axis_dwidth_converter's "
                             f"{DWC_MAX_BYTES} bytes", "fold the external-weight layer to fewer PE * SIMD")
    return dma_stream_bits(min(nbytes, DMA_MAX_BYTES))


def weight_streams(shell: dict) -> list[dict]:
    """shell.json's weight streams, checked: index k in order, bytes, byte_offset."""
    streams = shell.get("weight_streams", [])
    try:
        out, offset = [], 0
        for k, w in enumerate(streams):
            out.append({"index": int(w["index"]), "bytes": int(w["bytes"]), "byte_offset": int(w["byte_offset"])})
            if out[-1] != {"index": k, "bytes": out[-1]["bytes"], "byte_offset": offset} or out[-1]["bytes"] < 1:
                raise ValueError(f"weight stream {k} is {w}")
            offset += out[-1]["bytes"]
    except (KeyError, TypeError, ValueError) as e:
        raise InputFileError("shell.json", f"has malformed weight_streams ({type(e).__name__}: {e})",
                             "regenerate it from the stitched design (qnn2fpga.shell)") from None
    if len(out) > MAX_WEIGHT_STREAMS:
        raise InputFileError("shell.json", f"has {len(out)} weight streams; the block design takes at most "
                             f"{MAX_WEIGHT_STREAMS} (SmartConnect ports)", "use mem_mode external on fewer layers")
    return out


def shell_module(shell: dict) -> str:
    top = shell["top"]
    return top if top.endswith("_shell") else top + "_shell"


def range_text(nbytes: int) -> str:
    """An address range as assign_bd_address takes it ('4K', '64K', '1M', '1G')."""
    for unit, size in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if nbytes >= size and nbytes % size == 0:
            return f"{nbytes // size}{unit}"
    return str(nbytes)


def control_range(addr_bits: int) -> int:
    """Bytes mapped for the accelerator's s_axi_control: its whole address space, at
    least the 4 KiB IP integrator allows."""
    return max(4096, 1 << addr_bits)


def _shell_fields(shell: dict) -> tuple[int, int, int]:
    try:
        fields = int(shell["in_bytes"]), int(shell["out_bytes"]), int(shell["axilite_addr_bits"])
        shell_module(shell)
    except (KeyError, TypeError, ValueError) as e:
        raise InputFileError("shell.json", f"is malformed ({type(e).__name__}: {e})",
                             "give it top, in_bytes, out_bytes and axilite_addr_bits") from None
    if min(fields) < 1:
        raise InputFileError("shell.json", f"has in_bytes, out_bytes, axilite_addr_bits = {fields}",
                             "regenerate it from the stitched design")
    return fields


def block_design(board: Board, shell: dict, fclk_mhz: float) -> dict:
    """The block design as data: cells (with configuration), nets, interface nets and the
    address map; the template only prints it."""
    check_board(board)
    in_bytes, out_bytes, addr_bits = _shell_fields(shell)
    ps = PS_PROFILES[board.family]
    in_bits, out_bits = dma_stream_bits(in_bytes), dma_stream_bits(out_bytes)
    mm_bits = max(32, in_bits, out_bits)
    weights = weight_streams(shell)
    n = len(weights)
    cells = [
        {"name": "dma", "ip": "axi_dma", "config": {
            "c_include_sg": 0, "c_sg_length_width": 26, "c_include_mm2s": 1, "c_include_s2mm": 1,
            "c_m_axis_mm2s_tdata_width": in_bits, "c_s_axis_s2mm_tdata_width": out_bits,
            "c_m_axi_mm2s_data_width": mm_bits, "c_m_axi_s2mm_data_width": mm_bits,
            "c_mm2s_burst_size": 16, "c_s2mm_burst_size": 16, "c_addr_width": ps["dma_addr_bits"]}},
        {"name": "ctrl_ic", "ip": "smartconnect", "config": {"NUM_SI": 1, "NUM_MI": 2 + n}},
        {"name": "mem_ic", "ip": "smartconnect", "config": {"NUM_SI": 2 + n, "NUM_MI": 1}},
        {"name": "rst", "ip": "proc_sys_reset", "config": {}},
    ]
    clocked = [f"ps/{ps['master_clk']}", f"ps/{ps['slave_clk']}", "rst/slowest_sync_clk", "accel/ap_clk",
               "dma/s_axi_lite_aclk", "dma/m_axi_mm2s_aclk", "dma/m_axi_s2mm_aclk", "ctrl_ic/aclk", "mem_ic/aclk"]
    peripheral_resets = ["accel/ap_rst_n", "dma/axi_resetn"]
    # The stream paths, through a width converter where the accelerator's width is not one
    # AXI DMA has (bytes are packed densely in memory either way).
    to_accel, from_accel = ["dma/M_AXIS_MM2S"], ["accel/m_axis_0"]
    for name, nbytes, bits, path, tlast in (("dwc_in", in_bytes, in_bits, to_accel, 0),
                                            ("dwc_out", out_bytes, out_bits, from_accel, 1)):
        if nbytes * 8 == bits:
            continue
        s_bytes, m_bytes = (bits // 8, nbytes) if name == "dwc_in" else (nbytes, bits // 8)
        cells.append({"name": name, "ip": "axis_dwidth_converter", "config": {
            "S_TDATA_NUM_BYTES": s_bytes, "M_TDATA_NUM_BYTES": m_bytes, "HAS_TLAST": tlast, "HAS_TKEEP": tlast}})
        path += [f"{name}/S_AXIS", f"{name}/M_AXIS"]
        clocked.append(f"{name}/aclk")
        peripheral_resets.append(f"{name}/aresetn")
    to_accel.append("accel/s_axis_0")
    from_accel.append("dma/S_AXIS_S2MM")
    # The weight streams: one MM2S-only DMA each, a width converter where needed.
    weight_paths, weight_intf, weight_addresses = [], [], []
    for w in weights:
        k, nbytes = w["index"], w["bytes"]
        dma, bits = f"idma{k}", weight_dma_bits(nbytes)
        cells.append({"name": dma, "ip": "axi_dma", "config": {
            "c_include_sg": 0, "c_sg_length_width": 26, "c_include_mm2s": 1, "c_include_s2mm": 0,
            "c_m_axis_mm2s_tdata_width": bits, "c_m_axi_mm2s_data_width": max(32, bits), "c_mm2s_burst_size": 16,
            "c_addr_width": ps["dma_addr_bits"]}})
        clocked += [f"{dma}/s_axi_lite_aclk", f"{dma}/m_axi_mm2s_aclk"]
        peripheral_resets.append(f"{dma}/axi_resetn")
        path = [f"{dma}/M_AXIS_MM2S"]
        if nbytes * 8 != bits:
            dwc = f"dwc_w{k}"
            cells.append({"name": dwc, "ip": "axis_dwidth_converter", "config": {
                "S_TDATA_NUM_BYTES": bits // 8, "M_TDATA_NUM_BYTES": nbytes, "HAS_TLAST": 0, "HAS_TKEEP": 0}})
            path += [f"{dwc}/S_AXIS", f"{dwc}/M_AXIS"]
            clocked.append(f"{dwc}/aclk")
            peripheral_resets.append(f"{dwc}/aresetn")
        weight_paths.append(path + [f"accel/s_axis_w{k}"])
        weight_intf += [(f"ctrl_ic/M{2 + k:02d}_AXI", f"{dma}/S_AXI_LITE"),
                        (f"{dma}/M_AXI_MM2S", f"mem_ic/S{2 + k:02d}_AXI")]
        weight_addresses += [("ps/Data", f"{dma}/S_AXI_LITE/*", "64K"), (f"{dma}/Data_MM2S", ps["memory_segs"], "")]
    nets = [
        ("clk", [f"ps/{ps['clk']}", *clocked]),
        ("ps_resetn", [f"ps/{ps['resetn']}", "rst/ext_reset_in"]),
        ("peripheral_aresetn", ["rst/peripheral_aresetn", *peripheral_resets]),
        ("interconnect_aresetn", ["rst/interconnect_aresetn", "ctrl_ic/aresetn", "mem_ic/aresetn"]),
    ]
    intf_nets = [
        (f"ps/{ps['master']}", "ctrl_ic/S00_AXI"),
        ("ctrl_ic/M00_AXI", "dma/S_AXI_LITE"),
        ("ctrl_ic/M01_AXI", "accel/s_axi_control"),
        ("dma/M_AXI_MM2S", "mem_ic/S00_AXI"),
        ("dma/M_AXI_S2MM", "mem_ic/S01_AXI"),
        ("mem_ic/M00_AXI", f"ps/{ps['slave']}"),
        *weight_intf,
    ]
    for path in (to_accel, from_accel, *weight_paths):
        intf_nets += list(zip(path[0::2], path[1::2]))
    addresses = [
        ("ps/Data", "accel/s_axi_control/*", range_text(control_range(addr_bits))),
        ("ps/Data", "dma/S_AXI_LITE/*", "64K"),
        ("dma/Data_MM2S", ps["memory_segs"], ""),
        ("dma/Data_S2MM", ps["memory_segs"], ""),
        *weight_addresses,
    ]
    config = dict(ps["config"], **{ps["clock_key"]: _mhz(fclk_mhz)})
    for cell in cells:
        cell["vlnv"] = IP_VLNV[cell.pop("ip")]
        cell["config"] = sorted(cell["config"].items())
    return {
        "ps": {**ps, "vlnv": IP_VLNV[ps["ip"]], "config": sorted(config.items())},
        "cells": cells, "nets": nets, "intf_nets": intf_nets, "addresses": addresses,
        "widths": {"in_bits": in_bits, "out_bits": out_bits},
        "weight_dmas": [f"idma{w['index']}" for w in weights],
    }


def _mhz(fclk_mhz: float) -> str:
    if not 10 <= float(fclk_mhz) <= 500:
        raise BoardError("fclk_mhz", f"is {fclk_mhz}", "give a PL clock between 10 and 500 MHz")
    return f"{float(fclk_mhz):g}"


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR), undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False)


def _wrapper_ports(in_bytes: int, out_bytes: int, addr_bits: int, weights=()) -> list[dict]:
    ports = [
        {"name": "s_axis_0_tdata", "direction": "input", "width": in_bytes * 8, "intf": "s_axis_0", "signal": "TDATA"},
        {"name": "s_axis_0_tvalid", "direction": "input", "width": 1, "intf": "s_axis_0", "signal": "TVALID"},
        {"name": "s_axis_0_tready", "direction": "output", "width": 1, "intf": "s_axis_0", "signal": "TREADY"},
        {"name": "m_axis_0_tdata", "direction": "output", "width": out_bytes * 8, "intf": "m_axis_0",
         "signal": "TDATA"},
        {"name": "m_axis_0_tvalid", "direction": "output", "width": 1, "intf": "m_axis_0", "signal": "TVALID"},
        {"name": "m_axis_0_tready", "direction": "input", "width": 1, "intf": "m_axis_0", "signal": "TREADY"},
        {"name": "m_axis_0_tlast", "direction": "output", "width": 1, "intf": "m_axis_0", "signal": "TLAST"},
    ]
    for w in weights:  # the shell's s_axis_w_* vectors, one interface per stream
        k, nbytes = w["index"], w["bytes"]
        lsb = 8 * w["byte_offset"]
        ports += [
            {"name": f"s_axis_w{k}_tdata", "direction": "input", "width": nbytes * 8, "intf": f"s_axis_w{k}",
             "signal": "TDATA", "shell": "s_axis_w_tdata", "bits": (lsb + nbytes * 8 - 1, lsb)},
            {"name": f"s_axis_w{k}_tvalid", "direction": "input", "width": 1, "intf": f"s_axis_w{k}",
             "signal": "TVALID", "shell": "s_axis_w_tvalid", "bits": (k, k)},
            {"name": f"s_axis_w{k}_tready", "direction": "output", "width": 1, "intf": f"s_axis_w{k}",
             "signal": "TREADY", "shell": "s_axis_w_tready", "bits": (k, k)},
        ]
    for port in ports:
        port.update(bus="xilinx.com:interface:axis:1.0", parameter="")
    for signal, direction, width in AXIL_PORTS:
        ports.append({"name": "s_axi_control_" + signal, "direction": direction,
                      "width": width or addr_bits, "bus": "xilinx.com:interface:aximm:1.0",
                      "intf": "s_axi_control", "signal": signal.upper(), "parameter": ""})
    first_axilite = next(p for p in ports if p["intf"] == "s_axi_control")
    first_axilite["parameter"] = f"PROTOCOL AXI4LITE, DATA_WIDTH 32, ADDR_WIDTH {addr_bits}"
    return ports


def _connections(ports: list[dict]) -> list[tuple[str, str]]:
    """The shell's ports and what the wrapper connects to them: its port of the same name,
    or the concatenation of the per-stream ports (highest bits first) for a vector."""
    out, vectors = [], {}
    for p in ports:
        if "shell" in p:
            vectors.setdefault(p["shell"], []).append(p)
        else:
            out.append((p["name"], p["name"]))
    for name, parts in vectors.items():
        parts = sorted(parts, key=lambda p: p["bits"][1], reverse=True)
        out.append((name, "{" + ", ".join(p["name"] for p in parts) + "}" if len(parts) > 1 else parts[0]["name"]))
    return out


def write_project(directory, board: Board, shell: dict, verilog_files, fclk_mhz: float) -> pathlib.Path:
    """Writes the Vivado project script for `board` into `directory` (created), with the
    accelerator's sources (`verilog_files`: its .v/.sv files and memory init files)
    copied to `directory/src/`. Returns the path of make_project.tcl."""
    design = block_design(board, shell, fclk_mhz)
    in_bytes, out_bytes, addr_bits = _shell_fields(shell)
    weights = weight_streams(shell)
    directory = pathlib.Path(directory)
    src = directory / "src"
    src.mkdir(parents=True, exist_ok=True)
    module = shell_module(shell)
    wrapper = module + "_ipi"
    sources = []
    for f in map(pathlib.Path, verilog_files):
        if not f.is_file():
            raise InputFileError(f"source '{f}'", "does not exist", "pass the stitched design's files")
        if f"src/{f.name}" in sources:
            if (src / f.name).read_bytes() == f.read_bytes():
                continue  # the same file twice (e.g. the stitched top in and beside stitched_ip/)
            raise InputFileError(f"source '{f}'", "has the same file name as another source",
                                 "give every source file of the design a distinct name")
        shutil.copyfile(f, src / f.name)
        sources.append(f"src/{f.name}")
    env = _environment()
    ports = _wrapper_ports(in_bytes, out_bytes, addr_bits, weights)
    busifs = [*ACCEL_INTERFACES, *(f"s_axis_w{w['index']}" for w in weights)]
    (src / f"{wrapper}.v").write_text(env.get_template("shell_ipi.v.j2").render(
        module=module, wrapper=wrapper, busifs=":".join(busifs), ports=ports, connections=_connections(ports)))
    sources.append(f"src/{wrapper}.v")
    tcl = directory / PROJECT_TCL
    tcl.write_text(env.get_template(PROJECT_TCL + ".j2").render(
        board=board, board_part_glob=BOARD_PARTS[board.key], module=module, wrapper=wrapper,
        project="qnn2fpga_" + board.key.replace("-", "_"), bd=BD_NAME, name=shell["top"], jobs=JOBS,
        sources=sources, **design))
    return tcl


# --- reports -------------------------------------------------------------------------------

# report_utilization rows -> resource names (7-series, UltraScale+ spellings).
_UTIL_ROWS = {
    "Slice LUTs": "LUT", "CLB LUTs": "LUT",
    "Slice Registers": "FF", "CLB Registers": "FF",
    "Block RAM Tile": "BRAM_TILE", "URAM": "URAM", "DSPs": "DSP",
}


def parse_utilization(text: str) -> dict:
    """Used and available counts of LUT, FF, BRAM_18K (block RAM tiles x 2), URAM and DSP
    from report_utilization's text tables; a table's columns are read from its header
    row, so the Prohibited column of newer releases does not matter."""
    used, available, header = {}, {}, None
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.lstrip().startswith("|") else None
        if not cells:
            continue
        if "Site Type" in cells:
            header = cells
            continue
        name = _UTIL_ROWS.get(cells[0].rstrip("*").strip())
        if header is None or name is None or name in used or len(cells) != len(header):
            continue
        row = dict(zip(header, cells))
        used[name], available[name] = float(row["Used"]), float(row["Available"])
    if "LUT" not in used:
        raise InputFileError("utilization report", "has no 'Slice LUTs' or 'CLB LUTs' row",
                             "pass the text of Vivado's report_utilization")
    for counts in (used, available):
        counts["BRAM_18K"] = 2 * counts.pop("BRAM_TILE", 0.0)
        counts.setdefault("URAM", 0.0)
        counts.setdefault("DSP", 0.0)
    return {"used": {k: _number(v) for k, v in sorted(used.items())},
            "available": {k: _number(v) for k, v in sorted(available.items())}}


def _number(v: float):
    return int(v) if float(v).is_integer() else v


def parse_timing_summary(text: str) -> dict:
    """WNS/TNS/WHS/THS (ns) and failing endpoints from report_timing_summary's 'Design
    Timing Summary', and the first clock's period and the fmax it implies."""
    lines = text.splitlines()
    result = {}
    for i, line in enumerate(lines):
        if "WNS(ns)" in line and "TNS(ns)" in line:
            names = re.split(r"\s{2,}", line.strip())
            values = lines[i + 2].split() if i + 2 < len(lines) else []
            if len(values) != len(names):
                break
            row = dict(zip(names, values))
            result = {"WNS_ns": float(row["WNS(ns)"]), "TNS_ns": float(row["TNS(ns)"]),
                      "WHS_ns": float(row["WHS(ns)"]), "THS_ns": float(row["THS(ns)"]),
                      "setup_failing_endpoints": int(row["TNS Failing Endpoints"]),
                      "hold_failing_endpoints": int(row["THS Failing Endpoints"])}
            break
    if not result:
        raise InputFileError("timing summary", "has no Design Timing Summary (WNS) table",
                             "pass the text of Vivado's report_timing_summary")
    for i, line in enumerate(lines):
        if line.split()[:1] == ["Clock"] and "Period(ns)" in line:
            first = lines[i + 2].split() if i + 2 < len(lines) else []
            # name {rise fall} period frequency
            if len(first) >= 5:
                period = float(first[3])
                result.update(clock=first[0], period_ns=period,
                              fmax_mhz=round(1000.0 / (period - result["WNS_ns"]), 3))
            break
    result["met"] = result["WNS_ns"] >= 0 and result["WHS_ns"] >= 0
    return result


def parse_reports(directory) -> dict[str, pathlib.Path]:
    """Turns `directory/output/report/*.rpt` (as make_project.tcl writes them) into
    `directory/report/post_synth_resources.json` (and post_route_resources.json) and
    `directory/report/post_route_timing.json`. Returns the written files by name."""
    directory = pathlib.Path(directory)
    rpt, out = directory / "output" / "report", directory / "report"
    out.mkdir(parents=True, exist_ok=True)
    jobs = {"post_synth_resources": ("post_synth_utilization.rpt", parse_utilization),
            "post_route_resources": ("post_route_utilization.rpt", parse_utilization),
            "post_route_timing": ("post_route_timing_summary.rpt", parse_timing_summary)}
    written = {}
    for name, (source, parse) in jobs.items():
        path = rpt / source
        if not path.is_file():
            if name == "post_route_resources":
                continue
            raise InputFileError(f"report '{path}'", "is missing", "run make_project.tcl in Vivado first")
        data = {"source": source, **parse(path.read_text(errors="replace"))}
        written[name] = out / f"{name}.json"
        written[name].write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return written
