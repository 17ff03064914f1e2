"""Runtime-writeable weights in a stitched design: the layers' AXI-lite ports behind one
s_axilite port on the top (rtl/common/axil_split.sv), weights loaded through it before
the first frame change the outputs exactly as the layers' models say; a write outside
every layer's range is answered SLVERR and the run fails with that."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from qnn2fpga import errors, rtlsim, stitch, testing
from qnn2fpga.layers import numerics

WRITEABLE = {"runtime_writeable_weights": 1, "mem_mode": "internal_decoupled"}
CONFIG = {"Thresholding_0": {"PE": 4}, "MVAU_0": {"PE": 4, "SIMD": 4, **WRITEABLE},
          "MVAU_1": {"PE": 5, "SIMD": 12, **WRITEABLE}}  # one 240-bit word: a smaller range than MVAU_0


@pytest.fixture(scope="module")
def design(tmp_path_factory):
    _, d = testing.tiny_mlp_design(CONFIG, tmp_path_factory)
    return d, rtlsim.compile_design(d)


def test_top_has_one_axilite_port_for_both_layers(design):
    d, _ = design
    st = d.stitched
    assert set(st.axilite) == {"MVAU_0", "MVAU_1"}
    assert st.axilite["MVAU_0"][0] == 0 and st.axilite["MVAU_1"][0] == 1 << st.axilite_slave_bits
    text = d.verilog.read_text()
    assert text.count("axil_split #(") == 1 and "input  wire                     s_axilite_awvalid" in text


def _new_params(st: stitch.Stitched, node: str, seed: int) -> list:
    k = next(i for i, la in enumerate(st.layers) if la.onnx_node.name == node)
    w, *rest = st.params[k]
    layer = st.layers[k]
    fresh = numerics.random_values(layer.weightDataType, w.shape, np.random.default_rng(seed))
    assert not np.array_equal(fresh, w)
    return [fresh, *rest]


def test_weights_written_at_run_time_are_used_bit_exactly(design):
    d, sim = design
    st = d.stitched
    x = d.random_frames(8, seed=3)
    before = rtlsim.simulate(sim, d, x)
    assert before.ok and np.array_equal(before.y, stitch.execute_chain(st, x).reshape(before.y.shape))

    new = {n: _new_params(st, n, seed) for seed, n in enumerate(["MVAU_0", "MVAU_1"])}
    writes = [w for n, p in new.items() for w in st.axilite_writes(n, p)]
    after = rtlsim.simulate(sim, d, x, axilite_writes=writes, in_p=0.7, out_p=0.8)
    params = [new.get(la.onnx_node.name, p) for la, p in zip(st.layers, st.params)]
    want = stitch.execute_chain(dataclasses.replace(st, params=params), x)
    assert after.ok and np.array_equal(after.y, want.reshape(after.y.shape))
    assert not np.array_equal(after.y, before.y)


def test_a_write_past_a_layers_memory_fails_the_run(design):
    """MVAU_0 holds 12 weight words in an address space for 16: word 12 is a hole."""
    from qnn2fpga import packing  # noqa: PLC0415

    d, sim = design
    st = d.stitched
    k = next(i for i, la in enumerate(st.layers) if la.onnx_node.name == "MVAU_0")
    words, width = st.layers[k].rtl(st.params[k]).memories["WEIGHT_FILE"]
    assert len(words) == 12
    hole = st.axilite["MVAU_0"][0] + len(words) * packing.axilite_stride(width) * 4
    with pytest.raises(errors.QnnError, match="AXI-lite: write 0 answered bresp 2"):
        rtlsim.simulate(sim, d, d.random_frames(1), axilite_writes=[(hole, 1)])


def test_writes_beyond_a_layers_range_or_the_port_are_refused(design):
    d, sim = design
    st = d.stitched
    base, _, bits = st.axilite["MVAU_1"]
    assert bits < st.axilite_slave_bits  # MVAU_1's window has room the layer does not decode
    with pytest.raises(errors.QnnError, match="AXI-lite: write 0 answered bresp 2"):
        rtlsim.simulate(sim, d, d.random_frames(1), axilite_writes=[(base + (1 << bits), 1)])
    with pytest.raises(errors.InputFileError, match=r"falls outside the s_axilite port \(\d+ bytes"):
        rtlsim.simulate(sim, d, d.random_frames(1), axilite_writes=[(1 << st.axilite_addr_bits, 1)])


def test_writes_for_a_layer_without_axilite_are_refused(design):
    d, _ = design
    with pytest.raises(errors.ModelError, match="layer 'Thresholding_0': has no runtime-writeable parameters "
                                                "in this design; fix: use one of: MVAU_0, MVAU_1"):
        d.stitched.axilite_writes("Thresholding_0", [])
