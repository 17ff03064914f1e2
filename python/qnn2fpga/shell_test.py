"""The accelerator shell (qnn2fpga.shell) around a small stitched design with one
runtime-writeable layer, in Verilator (rtl/common/tb/shell_sim.cpp): outputs bit-exact
against the layers' models and the stitched top's own simulation, tlast at the programmed
TLAST_WORDS, the control block's registers, stall detection, a layer memory written through
the shell, SLVERR for unmapped addresses; a design with two external-weight layers (mem_mode
"external") fed per frame through the shell's weight streams; and Yosys elaborating the
shells with their interface attributes."""

from __future__ import annotations

import dataclasses
import json
import subprocess

import numpy as np
import pytest

from qnn2fpga import errors, flow, folding, packing, rtlsim, shell, stitch, testing, vivado
from qnn2fpga.layers import numerics
from qnn2fpga.transforms.insert_streams import InsertDWC, InsertFIFO

CONFIG = {"Thresholding_0": {"PE": 4},
          "MVAU_0": {"PE": 4, "SIMD": 4, "runtime_writeable_weights": 1, "mem_mode": "internal_decoupled"},
          "MVAU_1": {"PE": 1, "SIMD": 12}}  # 5 output words per frame
# Both MVAUs take their weights on streams: 64-bit words, and 12-bit words padded to 2 bytes.
EXTERNAL = {"Thresholding_0": {"PE": 4}, "MVAU_0": {"PE": 4, "SIMD": 4, "mem_mode": "external"},
            "MVAU_1": {"PE": 1, "SIMD": 3, "mem_mode": "external"}}
R = shell.REGISTERS
OKAY, SLVERR = shell.AXI_OKAY, shell.AXI_SLVERR


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    _, d = testing.tiny_mlp_design(CONFIG, tmp_path_factory)
    binary = shell.compile_shell(d)
    return d, binary, json.loads((d.directory / "shell.json").read_text())


@pytest.fixture(scope="module")
def wsim(tmp_path_factory):
    _, d = testing.tiny_mlp_design(EXTERNAL, tmp_path_factory)
    binary = shell.compile_shell(d)
    return d, binary, json.loads((d.directory / "shell.json").read_text())


def _words(d, x) -> np.ndarray:
    first = d.first
    data = packing.pack_bytes(x, first.get_input_datatype(0), first.input_folds()[0])
    return data.reshape(-1, data.shape[-1])


def _values(d, run: shell.ShellRun) -> np.ndarray:
    last = d.last
    y = packing.unpack_bytes(run.outputs, last.get_output_datatype(0), last.output_folds()[0])
    return y.reshape(-1, *last.get_normal_output_shape(0)[1:])


def _reads(run, addr) -> list[tuple[int, int]]:
    return [(resp, data) for a, resp, data in run.reads if a == addr]


def test_shell_json_and_ports(sim):
    d, _, desc = sim
    st = d.stitched
    assert desc["top"] == "qnn2fpga_accel_shell" and desc["inner_top"] == "qnn2fpga_accel"
    assert desc["in_bytes"] == -(-d.first.get_instream_width() // 8)
    assert desc["out_bytes"] == -(-d.last.get_outstream_width() // 8)
    assert (desc["in_words_per_frame"], desc["out_words_per_frame"]) == (d.in_words, d.out_words)
    assert d.out_words > 1 and d.last.get_outstream_width() % 8  # tlast inside a frame; padded tdata
    assert desc["registers"] == R and desc["magic"] == 0x51324641 and desc["version"] == 1
    split = max(shell.CONTROL_BITS, st.axilite_addr_bits)
    assert desc["layers"] == {"MVAU_0": {"base": 1 << split, "bytes": 1 << st.axilite["MVAU_0"][2]}}
    assert desc["layers_base"] == 1 << split and desc["axilite_addr_bits"] == split + 1
    text = (d.directory / "qnn2fpga_accel_shell.sv").read_text()
    assert f"input  wire [{desc['in_bytes'] * 8 - 1}:0]  s_axis_0_tdata" in text
    assert "XIL_INTERFACENAME s_axi_control, PROTOCOL AXI4LITE, DATA_WIDTH 32" in text
    # Deterministic: the same design gives the same bytes.
    again = shell.write_shell(d, d.directory / "again")
    assert again["verilog"].read_text() == text
    assert again["json"].read_bytes() == (d.directory / "shell.json").read_bytes()


def test_control_registers_and_unmapped_addresses(sim):
    d, binary, desc = sim
    base, size = desc["layers"]["MVAU_0"]["base"], desc["layers"]["MVAU_0"]["bytes"]
    beyond = base + (1 << d.stitched.axilite_slave_bits)  # the stitched top's window after the layer's
    run = shell.run_shell(binary, d, np.zeros((1, desc["in_bytes"]), np.uint8),
                          [f"read {a:x}" for a in R.values()]
                          + ["read 24", "read fc", f"read {base:x}", "write 0 1", "write 24 1", f"write {beyond:x} 1",
                             f"write {base + size:x} 1", "write 14 1", "read 14"])
    got = {a: (resp, data) for a, resp, data in run.reads[:len(R)]}
    want = {"MAGIC": 0x51324641, "VERSION": 1, "STATUS": 0, "FRAMES_IN": 0, "FRAMES_OUT": 0,
            "TLAST_WORDS": d.out_words, "BUSY_CYCLES": 0, "IN_WORDS": d.in_words, "OUT_WORDS": d.out_words}
    assert got == {R[k]: (OKAY, v) for k, v in want.items()}
    assert [r[1:] for r in run.reads[len(R):]] == [(SLVERR, 0), (SLVERR, 0), (SLVERR, 0), (OKAY, 1)]
    assert [resp for _, resp in run.writes] == [SLVERR, SLVERR, SLVERR, SLVERR, OKAY]


def test_frames_are_computed_with_tlast_where_programmed(sim):
    d, binary, desc = sim
    st, ow = d.stitched, d.out_words
    x = d.random_frames(7, seed=5)
    words = _words(d, x)
    iw = d.in_words
    # A frame but its last word: not counted, not busy.
    script = ["ready 1", f"feed {iw - 1}", "cycles 20", f"read {R['FRAMES_IN']:x}", f"read {R['STATUS']:x}"]
    script += [f"feed {2 * iw + 1}", f"until_out {3 * ow}", "cycles 20"]
    script += [f"read {R[k]:x}" for k in ("FRAMES_IN", "FRAMES_OUT", "STATUS", "BUSY_CYCLES")]
    # A batch of 4 frames ends on one tlast.
    script += [f"write {R['TLAST_WORDS']:x} {4 * ow:x}", f"feed {4 * iw}", f"until_out {7 * ow}", "cycles 20",
               f"read {R['FRAMES_IN']:x}", f"read {R['FRAMES_OUT']:x}", f"read {R['TLAST_WORDS']:x}"]
    run = shell.run_shell(binary, d, words, script)
    y = _values(d, run)
    assert np.array_equal(y, stitch.execute_chain(st, x).reshape(y.shape))
    ref = rtlsim.simulate(rtlsim.compile_design(d), d, x)
    assert ref.ok and np.array_equal(y, ref.y)
    assert [i for i, t in enumerate(run.tlast) if t] == [ow - 1, 2 * ow - 1, 3 * ow - 1, 7 * ow - 1]
    r = [data for _, _, data in run.reads]
    assert [resp for _, resp, _ in run.reads] == [OKAY] * 9
    assert r[:2] == [0, 0]
    assert r[2:5] == [3, 3, 0] and r[5] > 0
    assert r[6:] == [7, 7, 4 * ow]


def test_stall_is_flagged_and_cleared(sim):
    d, binary, desc = sim
    stall = desc["stall_cycles"]
    iw, ow = d.in_words, d.out_words
    status = f"read {R['STATUS']:x}"
    script = ["ready 0", f"feed {2 * iw}", f"cycles {stall // 2}", status, f"cycles {2 * stall}", status,
              f"write {R['STATUS']:x} 2", status,  # still stalled: set again at once
              "ready 1", f"until_out {2 * ow}", "cycles 20", status,  # drained: sticky
              f"write {R['STATUS']:x} 1", status,  # bit 1 not written: kept
              f"write {R['STATUS']:x} 2", status, f"read {R['FRAMES_OUT']:x}"]
    run = shell.run_shell(binary, d, _words(d, d.random_frames(2, seed=2)), script)
    s = [data for _, _, data in run.reads]
    busy, stalled, out_waiting = 1, 2, 8
    assert s[0] & (busy | stalled) == busy
    assert s[1] == busy | stalled | out_waiting
    assert s[2] & stalled
    assert s[3:6] == [stalled, stalled, 0] and s[6] == 2
    assert [resp for _, resp in run.writes] == [OKAY] * 3


def test_layer_memory_written_through_the_shell(sim):
    d, binary, desc = sim
    st = d.stitched
    k = next(i for i, la in enumerate(st.layers) if la.onnx_node.name == "MVAU_0")
    w, *rest = st.params[k]
    fresh = numerics.random_values(st.layers[k].weightDataType, w.shape, np.random.default_rng(9))
    sh = shell.shell(d)
    writes = sh.axilite_writes(st, "MVAU_0", [fresh, *rest])
    base, size = desc["layers"]["MVAU_0"]["base"], desc["layers"]["MVAU_0"]["bytes"]
    assert all(base <= a < base + size for a, _ in writes)
    x = d.random_frames(3, seed=4)
    script = [f"write {a:x} {v:x}" for a, v in writes] + ["ready 1", f"feed {3 * d.in_words}",
                                                           f"until_out {3 * d.out_words}"]
    run = shell.run_shell(binary, d, _words(d, x), script)
    assert [resp for _, resp in run.writes] == [OKAY] * len(writes)
    params = [[fresh, *rest] if i == k else p for i, p in enumerate(st.params)]
    want = stitch.execute_chain(dataclasses.replace(st, params=params), x)
    y = _values(d, run)
    assert np.array_equal(y, want.reshape(y.shape))
    assert not np.array_equal(y, stitch.execute_chain(st, x).reshape(y.shape))


def _yosys_ports(d, top: str, tmp_path) -> dict:
    """Yosys reads the shell, the stitched top and the libraries of its layers, elaborates
    and checks the shell (no undriven or multiply driven nets); its JSON netlist's top."""
    root = rtlsim.rtl_root()
    packages = {rtlsim.label_package(type(la).rtl_library) for la in d.stitched.layers} | {"rtl/common"}
    files = [d.directory / f"{top}.sv", d.verilog, *sorted(p for g in packages for p in root.glob(f"{g}/*.sv"))]
    out = tmp_path / "netlist.json"
    script = (f"read_verilog -sv {' '.join(map(str, files))}; hierarchy -check -top {top}; proc; "
              f"check -assert; write_json {out}")
    p = subprocess.run(["yosys", "-q", "-p", script], cwd=d.directory, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(out.read_text())["modules"][top]


def test_yosys_elaborates_the_shell_with_its_interface_attributes(sim, tmp_path):
    d, _, desc = sim
    top = _yosys_ports(d, desc["top"], tmp_path)
    assert "ap_clk" in top["ports"] and "s_axi_control_rready" in top["ports"]
    attrs = {n: net["attributes"] for n, net in top["netnames"].items()}
    assert attrs["ap_clk"]["X_INTERFACE_INFO"] == "xilinx.com:signal:clock:1.0 ap_clk CLK"
    assert "ASSOCIATED_BUSIF s_axis_0:m_axis_0:s_axi_control" in attrs["ap_clk"]["X_INTERFACE_PARAMETER"]
    assert "POLARITY ACTIVE_LOW" in attrs["ap_rst_n"]["X_INTERFACE_PARAMETER"]
    assert attrs["m_axis_0_tlast"]["X_INTERFACE_INFO"] == "xilinx.com:interface:axis:1.0 m_axis_0 TLAST"
    assert attrs["s_axi_control_awaddr"]["X_INTERFACE_INFO"] == "xilinx.com:interface:aximm:1.0 s_axi_control AWADDR"


def test_a_design_without_writeable_layers_has_the_control_block_only(tmp_path):
    model = flow.compile_model(testing.tiny_mlp())
    model, _ = folding.apply_config(model, {"MVAU_0": {"PE": 4, "SIMD": 4}}, "test config")
    d = rtlsim.write_design(model.transform(InsertDWC()).transform(InsertFIFO()), tmp_path / "design")
    desc = shell.write_shell(d, d.directory)["description"]
    assert desc["layers"] == {} and desc["axilite_addr_bits"] == shell.CONTROL_BITS + 1
    assert "s_axilite" not in (d.directory / f"{desc['top']}.sv").read_text().split("u_accel (")[1]  # inner port
    assert "s_axi_control_araddr" in _yosys_ports(d, desc["top"], tmp_path)["ports"]


# --- weight streams (mem_mode "external") -------------------------------------------------------
def _weight_bytes(st, frames: int, words=None) -> list[np.ndarray]:
    """What the weight DMAs send for `frames` frames: each stream's frame of words (or
    `words[node]`) repeated, packing.words_bytes' layout."""
    words = words or {}
    return [np.tile(packing.words_bytes(words.get(w.node, w.words), w.width), (frames, 1)) for w in st.weight_streams]


def test_shell_json_lists_the_weight_streams(wsim):
    d, _, desc = wsim
    st = d.stitched
    assert [w.node for w in st.weight_streams] == ["MVAU_0", "MVAU_1"]
    want, offset = [], 0
    for k, w in enumerate(st.weight_streams):
        nbytes = -(-w.width // 8)
        want.append({"index": k, "node": w.node, "width": w.width, "bytes": nbytes, "byte_offset": offset,
                     "words_per_frame": len(w.words), "port": f"s_axis_w{k}", "dma": f"idma{k}"})
        offset += nbytes
    assert desc["weight_streams"] == want
    assert [w["bytes"] * 8 for w in want] == [64, 16] and st.weight_streams[1].width == 12  # one padded
    text = (d.directory / f"{desc['top']}.sv").read_text()
    assert f"input  wire [{offset * 8 - 1}:0]  s_axis_w_tdata" in text
    assert "output wire [1:0]   s_axis_w_tready" in text
    assert desc["layers"] == {}
    # The Vivado project takes them as they are (one weight DMA and interface each).
    assert vivado.weight_streams(desc) == [{k: w[k] for k in ("index", "bytes", "byte_offset")} for w in want]


def test_frames_are_computed_with_the_weights_sent_per_frame(wsim):
    d, binary, desc = wsim
    st, iw, ow, n = d.stitched, d.in_words, d.out_words, 5
    x = d.random_frames(n, seed=8)
    weights = _weight_bytes(st, n)
    wfeed = [f"wfeed {k} {len(w)}" for k, w in enumerate(weights)]
    # Inputs without weights: the first frame stops before all of it is taken in (input
    # waiting, not busy); the weights let it go on.
    script = ["ready 1", f"feed {iw}", f"cycles {2 * desc['stall_cycles']}", f"read {R['STATUS']:x}",
              f"read {R['FRAMES_OUT']:x}", *wfeed, f"feed {(n - 1) * iw}", f"until_out {n * ow}", "cycles 20",
              f"write {R['STATUS']:x} 2"]
    script += [f"read {R[k]:x}" for k in ("FRAMES_IN", "FRAMES_OUT", "STATUS", "IN_WORDS", "OUT_WORDS")]
    run = shell.run_shell(binary, d, _words(d, x), script, weights)
    y = _values(d, run)
    assert np.array_equal(y, stitch.execute_chain(st, x).reshape(y.shape))
    assert run.weights_taken == [n * len(w.words) for w in st.weight_streams]  # each frame's words, no more
    assert [i for i, t in enumerate(run.tlast) if t] == [(f + 1) * ow - 1 for f in range(n)]
    r = [data for _, _, data in run.reads]
    assert r[0] == 4 and r[1] == 0  # input waiting; nothing out
    assert r[2:] == [n, n, 0, iw, ow]


def test_weights_from_the_stream_are_the_ones_used(wsim):
    """Other weights sent on the streams change the outputs as the layers' models say: the
    shell's byte layout reaches the layers."""
    d, binary, _ = wsim
    st, n = d.stitched, 3
    rng = np.random.default_rng(11)
    params, words = [list(p) for p in st.params], {}
    for k, la in enumerate(st.layers):
        node = la.onnx_node.name
        if node in ("MVAU_0", "MVAU_1"):
            params[k][0] = numerics.random_values(la.weightDataType, params[k][0].shape, rng)
            words[node] = st.weight_stream_words(node, params[k])
    x = d.random_frames(n, seed=3)
    weights = _weight_bytes(st, n, words)
    run = shell.run_shell(binary, d, _words(d, x), ["ready 1", f"feed {n * d.in_words}"] +
                          [f"wfeed {k} {len(w)}" for k, w in enumerate(weights)] + [f"until_out {n * d.out_words}"],
                          weights)
    y = _values(d, run)
    assert np.array_equal(y, stitch.execute_chain(dataclasses.replace(st, params=params), x).reshape(y.shape))
    assert not np.array_equal(y, stitch.execute_chain(st, x).reshape(y.shape))


def test_weight_words_are_progress_for_the_stall_flag(wsim):
    """Weights sent slowly: the last layer takes a word every stall_cycles / 2 cycles and
    sends an output word only every SF words, longer than stall_cycles without a handshake
    on the input or output; not a stall. Weights withheld: a stall."""
    d, binary, desc = wsim
    st, stall, n = d.stitched, desc["stall_cycles"], 1
    weights = _weight_bytes(st, n)
    w1 = len(st.weight_streams[1].words)
    status = f"read {R['STATUS']:x}"
    slow = [step for _ in range(8) for step in ("wfeed 1 1", f"cycles {stall // 2}")]
    script = ["ready 1", f"feed {d.in_words}", f"wfeed 0 {len(weights[0])}", *slow, status,
              f"cycles {2 * stall}", status, f"wfeed 1 {w1 - 8}", f"until_out {d.out_words}", "cycles 20", status]
    run = shell.run_shell(binary, d, _words(d, d.random_frames(n, seed=6)), script, weights)
    busy, stalled = 1, 2
    assert [data & (busy | stalled) for _, _, data in run.reads] == [busy, busy | stalled, stalled]
    assert run.weights_taken == [len(w) for w in weights]


def test_the_weight_streams_must_be_given(wsim):
    d, binary, desc = wsim
    with pytest.raises(errors.QnnError, match="for 0 weight streams, the shell has 2"):
        shell.run_shell(binary, d, np.zeros((1, desc["in_bytes"]), np.uint8), ["cycles 1"])


def test_yosys_elaborates_a_shell_with_weight_streams(wsim, tmp_path):
    d, _, desc = wsim
    top = _yosys_ports(d, desc["top"], tmp_path)
    total = sum(w["bytes"] for w in desc["weight_streams"])
    assert len(top["ports"]["s_axis_w_tdata"]["bits"]) == 8 * total
    assert len(top["ports"]["s_axis_w_tvalid"]["bits"]) == 2
    assert top["ports"]["s_axis_w_tready"]["direction"] == "output"
