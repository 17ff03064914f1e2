"""The accelerator shell: the stitched top (qnn2fpga.stitch) wrapped for a Vivado block
design, `<top>_shell` (template rtl/common/shell_top.sv.j2, control block
rtl/common/shell_ctrl.sv), and shell.json, its machine-readable description.

Ports: ap_clk, ap_rst_n (active low); s_axis_0_* and m_axis_0_* (tdata rounded up to whole
bytes, the stream word in the low bits: packing.pack_bytes; m_axis_0_tlast); s_axi_control_*
(AXI4-lite, 32-bit data) through rtl/common/axil_split.sv. Address map: the control block
at [0, 2**CONTROL_BITS) (REGISTERS); from layers_base = 2**S up, S = max(CONTROL_BITS, the
stitched top's s_axilite address bits), the stitched top's AXI-lite space as it is
(Stitched.axilite: runtime-writeable layer k at layers_base + (k << its per-layer bits)).

Weight streams (mem_mode "external", Stitched.weight_streams): s_axis_w_tdata,
s_axis_w_tvalid[n-1:0], s_axis_w_tready[n-1:0]; stream k's word, rounded up to whole bytes
(`bytes`, the word in the low bits: packing.words_bytes), at bits [8 * byte_offset +:
8 * bytes] of s_axis_w_tdata. These stay vectors in the shell so that one simulation
harness drives any number of them; the Vivado wrapper (qnn2fpga.vivado, shell_ipi.v.j2)
splits them into the AXI-stream interfaces s_axis_w<k> that IP integrator connects to the
weight DMAs (deploy.weight_dma_cell(k)). The host sends stream k's `words_per_frame`
words once per frame. A handshake on a weight stream counts as progress for the control
block's stall flag.

    paths = shell.write_shell(design, directory)   # <top>_shell.sv, shell.json
    sim = shell.compile_shell(design)              # Verilator, rtl/common/tb/shell_sim.cpp
    run = shell.run_shell(sim, design, words, script)
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import tempfile
from dataclasses import dataclass, field

import jinja2
import numpy as np

from qnn2fpga import deploy, errors, rtlsim, stitch

TEMPLATE = rtlsim.TEMPLATES[2]
HARNESS = ("rtl/common/tb/shell_sim.cpp", "rtl/common/tb/bits.hpp", "rtl/common/tb/dut.hpp",
           "rtl/common/tb/options.hpp")
MAGIC = 0x51324641
VERSION = 1
CONTROL_BITS = 8  # the control block's window: 256 bytes, 64 registers
REGISTERS = {"MAGIC": 0x00, "VERSION": 0x04, "STATUS": 0x08, "FRAMES_IN": 0x0C, "FRAMES_OUT": 0x10,
             "TLAST_WORDS": 0x14, "BUSY_CYCLES": 0x18, "IN_WORDS": 0x1C, "OUT_WORDS": 0x20}
STATUS_BITS = {"busy": 0, "stalled": 1, "in_waiting": 2, "out_waiting": 3}
AXI_OKAY, AXI_SLVERR = 0, 2
# The AXI4-lite port's signals, s_axi_control_<name>: (name, direction, width; 0 = the
# address width). The Vivado project's wrapper (qnn2fpga.vivado) declares the same.
AXIL_PORTS = (("awaddr", "input", 0), ("awvalid", "input", 1), ("awready", "output", 1), ("wdata", "input", 32),
              ("wstrb", "input", 4), ("wvalid", "input", 1), ("wready", "output", 1), ("bresp", "output", 2),
              ("bvalid", "output", 1), ("bready", "input", 1), ("araddr", "input", 0), ("arvalid", "input", 1),
              ("arready", "output", 1), ("rdata", "output", 32), ("rresp", "output", 2), ("rvalid", "output", 1),
              ("rready", "input", 1))


@dataclass
class WeightPort:
    """Weight stream k (stitch.WeightStream) as the shell passes it through."""
    index: int
    node: str
    width: int  # bits of the layer's word
    bytes: int  # the word rounded up to whole bytes: the DMA's layout
    byte_offset: int  # in the shell's s_axis_w_tdata
    words_per_frame: int

    def description(self) -> dict:
        return {"index": self.index, "node": self.node, "width": self.width, "bytes": self.bytes,
                "byte_offset": self.byte_offset, "words_per_frame": self.words_per_frame,
                "port": f"s_axis_w{self.index}", "dma": deploy.weight_dma_cell(self.index)}


@dataclass
class Shell:
    top: str
    inner_top: str
    in_bytes: int
    out_bytes: int
    in_words: int  # per frame
    out_words: int
    layers_base: int
    addr_bits: int
    stall_cycles: int
    layers: dict = field(default_factory=dict)  # node name -> (base byte address, bytes)
    weight_streams: list = field(default_factory=list)  # WeightPort, in stream order
    verilog: str = ""

    def description(self) -> dict:
        """shell.json's content."""
        return {"top": self.top, "inner_top": self.inner_top, "in_bytes": self.in_bytes, "out_bytes": self.out_bytes,
                "in_words_per_frame": self.in_words, "out_words_per_frame": self.out_words,
                "axilite_addr_bits": self.addr_bits, "layers_base": self.layers_base,
                "stall_cycles": self.stall_cycles, "registers": dict(REGISTERS), "status_bits": dict(STATUS_BITS),
                "magic": MAGIC, "version": VERSION,
                "layers": {n: {"base": b, "bytes": size} for n, (b, size) in self.layers.items()},
                "weight_streams": [w.description() for w in self.weight_streams]}

    def axilite_writes(self, stitched: stitch.Stitched, node: str, params) -> list[tuple[int, int]]:
        """The writes through s_axi_control that load `params` into layer `node`
        (Stitched.axilite_writes moved up by layers_base)."""
        return [(self.layers_base + a, d) for a, d in stitched.axilite_writes(node, params)]


def _stitched(design_or_stitched) -> stitch.Stitched:
    return getattr(design_or_stitched, "stitched", design_or_stitched)


def shell(design_or_stitched, template: str | None = None) -> Shell:
    """The shell of a stitched design (an rtlsim.Design or a stitch.Stitched)."""
    st = _stitched(design_or_stitched)
    if template is None:
        template = (rtlsim.rtl_root() / TEMPLATE).read_text()
    first, last = st.input_layer, st.output_layer
    in_width, out_width = first.get_instream_width(), last.get_outstream_width()
    split_bits = max(CONTROL_BITS, st.axilite_addr_bits)
    sh = Shell(top=f"{st.top}_shell", inner_top=st.top, in_bytes=-(-in_width // 8), out_bytes=-(-out_width // 8),
               in_words=st.in_words, out_words=st.out_words, layers_base=1 << split_bits,
               addr_bits=split_bits + 1, stall_cycles=st.stall_bound())  # axil_split of 2 slaves: 1 bit more
    for node, (base, _, bits) in st.axilite.items():
        sh.layers[node] = (sh.layers_base + base, 1 << bits)
    offset = 0
    for w in st.weight_streams:
        sh.weight_streams.append(WeightPort(w.index, w.node, w.width, -(-w.width // 8), offset, len(w.words)))
        offset += sh.weight_streams[-1].bytes
    axilite = {"addr_bits": st.axilite_addr_bits} if st.axilite else None
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
    sh.verilog = env.from_string(template).render(
        header=f"generated around {st.top} ({len(st.layers)} layers); do not edit", top=sh.top, inner=st.top,
        in_width=in_width, out_width=out_width, in_bytes=sh.in_bytes, out_bytes=sh.out_bytes,
        in_words=sh.in_words, out_words=sh.out_words, stall_cycles=sh.stall_cycles, addr_bits=sh.addr_bits,
        control_bits=CONTROL_BITS, split_bits=split_bits, layers_base=f"0x{sh.layers_base:x}", axilite=axilite,
        axil_ports=[(s, f"{d:<6}", w or sh.addr_bits) for s, d, w in AXIL_PORTS],
        weight_streams=[(w, st.weight_streams[i]) for i, w in enumerate(sh.weight_streams)], weight_bytes=offset)
    return sh


def write_shell(design_or_stitched, directory) -> dict:
    """Writes `<top>_shell.sv` and shell.json into `directory`; returns {"verilog": path,
    "json": path, "description": shell.json's content}."""
    sh = shell(design_or_stitched)
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    verilog, desc = directory / f"{sh.top}.sv", directory / "shell.json"
    verilog.write_text(sh.verilog)
    description = sh.description()
    desc.write_text(json.dumps(description, indent=1, sort_keys=True) + "\n")
    return {"verilog": verilog, "json": desc, "description": description}


# --- simulation ---------------------------------------------------------------------------------
def compile_shell(design: rtlsim.Design, log=None) -> pathlib.Path:
    """The Verilator build of the shell around `design` with the script-driven testbench
    rtl/common/tb/shell_sim.cpp (writes the shell into the design directory)."""
    paths = write_shell(design, design.directory)
    return rtlsim.compile_design(design, log=log, what="the accelerator shell", harness=HARNESS,
                                 top=paths["description"]["top"], extra_verilog=(paths["verilog"],))


@dataclass
class ShellRun:
    outputs: np.ndarray  # (words, out_bytes) uint8, in order
    tlast: list  # per output word
    writes: list  # (address, bresp) per script write, in order
    reads: list  # (address, rresp, rdata) per script read, in order
    weights_taken: list = field(default_factory=list)  # words taken per weight stream


def run_shell(binary, design: rtlsim.Design, words: np.ndarray, script: list[str], weights=()) -> ShellRun:
    """Runs `script` (shell_sim.cpp's commands, one per line) with the input stream words
    `words` ((n, in_bytes) uint8: packing.pack_bytes' layout) offered as `feed` allows,
    and weight stream k's words `weights[k]` ((n, its bytes) uint8: packing.words_bytes'
    layout; every weight stream of the shell needs them) as `wfeed k` allows."""
    sh = json.loads((design.directory / "shell.json").read_text())
    words = np.asarray(words, dtype=np.uint8).reshape(-1, sh["in_bytes"])
    if len(weights) != len(sh["weight_streams"]):
        raise errors.QnnError(f"the shell simulation of {design.top}", f"got words for {len(weights)} weight "
                              f"streams, the shell has {len(sh['weight_streams'])}", "give one array per stream")
    with tempfile.TemporaryDirectory(prefix="qnn2fpga-shell-") as tmp:
        t = pathlib.Path(tmp)
        (t / "in.bin").write_bytes(words.tobytes())
        (t / "script.txt").write_text("\n".join(script) + "\n")
        args = [os.path.abspath(binary), f"--input={t / 'in.bin'}", f"--in_bytes={sh['in_bytes']}",
                f"--out_bytes={sh['out_bytes']}", f"--script={t / 'script.txt'}", f"--log={t / 'log.txt'}"]
        if weights:
            lines = []
            for w, data in zip(sh["weight_streams"], weights):
                path = t / f"w{w['index']}.bin"
                path.write_bytes(np.asarray(data, dtype=np.uint8).reshape(-1, w["bytes"]).tobytes())
                lines.append(f"{w['bytes']} {path}\n")
            (t / "weights.txt").write_text("".join(lines))
            args.append(f"--weights={t / 'weights.txt'}")
        p = subprocess.run(args, cwd=design.directory, capture_output=True, text=True)
        if p.returncode != 0:
            raise errors.QnnError(f"the shell simulation of {design.top}", f"failed: {p.stderr.strip()[-2000:]}",
                                  "check the script")
        lines = (t / "log.txt").read_text().split("\n")
    outputs, tlast, writes, reads, taken = [], [], [], [], []
    for line in filter(None, lines):
        kind, *f = line.split()
        if kind == "out":
            outputs.append(int(f[0], 16).to_bytes(sh["out_bytes"], "little"))
            tlast.append(f[1] == "1")
        elif kind == "write":
            writes.append((int(f[0], 16), int(f[1])))
        elif kind == "read":
            reads.append((int(f[0], 16), int(f[1]), int(f[2], 16)))
        elif kind == "wtaken":
            taken.append(int(f[1]))
    out = np.frombuffer(b"".join(outputs), dtype=np.uint8).reshape(-1, sh["out_bytes"])
    return ShellRun(out, tlast, writes, reads, taken)
