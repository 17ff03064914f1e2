"""The steps behind qnn_accelerator: layer specs (round trip, reproducible bytes, stale
lists), the compile step's outputs, and the generated layer list."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from qnn2fpga import accelerator, errors, flow, testing


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("accel")
    model = tmp / "tiny.onnx"
    testing.tiny_mlp().save(str(model))
    out = tmp / "pynq-z1" / "compile"
    layers = accelerator.compile_for_board(str(model), "pynq-z1", out, target_fps=100000,
                                           declared=[("MVAU_0", "MVAU"), ("MVAU_9", "MVAU"),
                                                     ("MVAU_1", "Thresholding")],
                                           update_hint="run `bazel run //x:hw_layers_update`")
    return out, layers


def test_compile_writes_the_graph_reports_and_layer_list(compiled):
    out, layers = compiled
    assert [op for _, op in layers] == ["MVAU", "MVAU"]
    listed = json.loads((out / "layers.json").read_text())
    assert listed == {"board": "pynq-z1", "synth_family": "xc7",
                      "layers": [[name, op, "//rtl/mvau"] for name, op in layers],
                      "stitched_rtl": ["//rtl/common:axil_split", "//rtl/common:axis_fifo", "//rtl/dwc:stream_dwc",
                                       "//rtl/mvau"]}
    for name in accelerator.REPORTS:
        assert (out / "report" / f"{name}.json").is_file()
    hw = flow.load_model(str(out / "hw.onnx"))
    assert accelerator.hw_layers(hw) == layers


def test_spec_holds_the_layers_attributes_and_parameters(compiled):
    out, _ = compiled
    hw = flow.load_model(str(out / "hw.onnx"))
    spec = accelerator.read_spec(out / "layers" / "MVAU_0.npz")
    want = accelerator.layer_spec(hw, hw.get_node_from_name("MVAU_0"))
    assert (spec.name, spec.op, spec.attrs) == ("MVAU_0", "MVAU", want.attrs)
    assert spec.attrs["PE"] >= 1 and isinstance(spec.attrs["inputDataType"], str)
    assert sorted(spec.params) == sorted(want.params)
    for k in spec.params:
        assert np.array_equal(spec.params[k], want.params[k])


def test_equal_specs_are_equal_bytes(compiled, tmp_path):
    out, _ = compiled
    hw = flow.load_model(str(out / "hw.onnx"))
    spec = accelerator.layer_spec(hw, hw.get_node_from_name("MVAU_0"))
    accelerator.write_spec(spec, tmp_path / "again.npz")
    assert (tmp_path / "again.npz").read_bytes() == (out / "layers" / "MVAU_0.npz").read_bytes()
    with zipfile.ZipFile(tmp_path / "again.npz") as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


@pytest.mark.parametrize("name, why", [("MVAU_9", "no longer exists"), ("MVAU_1", "is now MVAU")])
def test_a_stale_layer_list_fails_naming_the_update(compiled, name, why):
    out, _ = compiled
    with pytest.raises(errors.ModelError) as e:
        accelerator.read_spec(out / "layers" / f"{name}.npz")
    assert why in e.value.one_line() and "bazel run //x:hw_layers_update" in e.value.one_line()


def test_unreadable_spec_is_a_typed_error(tmp_path):
    (tmp_path / "bad.npz").write_text("not a zip")
    with pytest.raises(errors.InputFileError, match="bad.npz"):
        accelerator.read_spec(tmp_path / "bad.npz")


def test_layer_list_is_sorted_starlark():
    pynq = accelerator.layer_list([("MVAU_0", "MVAU"), ("LabelSelect_0", "LabelSelect")])
    text = accelerator.layer_list_bzl({
        "zcu104": {"board": "zcu104", "synth_family": "xcup", **accelerator.layer_list([("MVAU_0", "MVAU")])},
        "pynq-z1": {"board": "pynq-z1", "synth_family": "xc7", **pynq},
    })
    scope = {}
    exec(text, scope)  # Starlark's dict/list/tuple literals are Python's
    assert list(scope["HW_LAYERS"]) == ["pynq-z1", "zcu104"]
    assert scope["HW_LAYERS"]["pynq-z1"]["layers"] == [("MVAU_0", "MVAU", "//rtl/mvau"),
                                                       ("LabelSelect_0", "LabelSelect", "//rtl/label_select")]
    assert scope["HW_LAYERS"]["pynq-z1"]["stitched_rtl"] == [
        "//rtl/common:axil_split", "//rtl/common:axis_fifo", "//rtl/dwc:stream_dwc", "//rtl/label_select",
        "//rtl/mvau"]
    assert scope["HW_LAYERS"]["zcu104"]["synth_family"] == "xcup"


def test_layer_list_labels_come_from_the_layer_registry():
    """Each listed layer's Verilog library is its class's rtl_library; a layer without RTL
    gets "" (qnn_accelerator refuses it by name)."""
    from qnn2fpga.layers import LAYERS  # noqa: PLC0415

    listed = accelerator.layer_list([("X_0", op) for op in sorted(LAYERS)])
    assert [label for _, _, label in listed["layers"]] == [LAYERS[op].rtl_library for op in sorted(LAYERS)]
    labels = dict((op, label) for _, op, label in listed["layers"])
    assert labels["StreamingMaxPool"] == "//rtl/streaming_max_pool"
    assert "" not in listed["stitched_rtl"]


def test_fifo_sizing_output_is_reproducible(compiled, tmp_path):
    """Inserted streams get names from their producers, not random ones: two runs give
    the same bytes (release builds compare them)."""
    out, _ = compiled
    for run in ("a", "b"):
        accelerator.size_fifos(str(out / "hw.onnx"), tmp_path / run)
    hw = flow.load_model(str(tmp_path / "a" / "hw_fifos.onnx"))
    assert any(n.op_type == "StreamingFIFO" for n in hw.graph.node)
    for name in ("hw_fifos.onnx", "final_hw_config.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_rtlsim_library_follows_the_layer_registry():
    """rtlsim compiles the .sv files of every registered layer's library package (and
    rtl/common, which holds the FIFO and the AXI-lite split)."""
    from qnn2fpga import rtlsim  # noqa: PLC0415

    assert rtlsim.library_globs() == ["rtl/channelwise_op/*.sv", "rtl/common/*.sv",
                                      "rtl/convolution_input_generator/*.sv", "rtl/dwc/*.sv",
                                      "rtl/fm_padding/*.sv", "rtl/global_acc_pool/*.sv", "rtl/label_select/*.sv",
                                      "rtl/mvau/*.sv", "rtl/streaming_max_pool/*.sv", "rtl/streams/*.sv",
                                      "rtl/thresholding/*.sv", "rtl/vvau/*.sv"]
    assert rtlsim.label_package("//rtl/dwc:stream_dwc") == "rtl/dwc"
    assert rtlsim.label_package("//rtl/mvau") == "rtl/mvau"
