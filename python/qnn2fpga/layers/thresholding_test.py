"""Thresholding against qonnx's MultiThreshold op (channels last), executed through qonnx."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.util.basic import qonnx_make_model

from qnn2fpga.errors import DataTypeError, FoldingError, ModelError
from qnn2fpga.layers import numerics
from qnn2fpga.layers.testing import execute_single_node, single_node_model, the_layer


def multithreshold(x, t, odt, act_val):
    layout = {2: "NC", 3: "NWC", 4: "NHWC"}[x.ndim]
    scale, bias = (2.0, -1.0) if odt == "BIPOLAR" else (1.0, float(act_val))
    node = helper.make_node("MultiThreshold", ["x", "t"], ["y"], domain="qonnx.custom_op.general", out_dtype=odt,
                            out_scale=scale, out_bias=bias, data_layout=layout)
    graph = helper.make_graph([node], "ref", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(x.shape))])
    model = ModelWrapper(qonnx_make_model(graph))
    model.set_initializer("t", t)
    return execute_onnx(model, {"x": x})["y"]


@pytest.mark.parametrize("idt,odt,c,pe,niv,t,shared,act_val", [
    ("INT8", "UINT4", 8, 4, [1], 15, False, 0),
    ("INT8", "INT4", 6, 2, [1, 5, 5], 15, False, -8),
    ("UINT6", "INT2", 5, 5, [1, 3], 3, True, -2),
    ("INT4", "BIPOLAR", 12, 3, [1, 2, 2], 1, False, 0),
    ("BIPOLAR", "UINT2", 4, 1, [3], 2, False, 1),
])
def test_matches_qonnx_multithreshold(idt, odt, c, pe, niv, t, shared, act_val):
    rng = np.random.default_rng(c * t)
    dt = DataType[idt]
    thr = np.sort(rng.integers(dt.min(), dt.max() + 1, size=(1 if shared else c, t)), axis=1).astype(np.float32)
    model = single_node_model("Thresholding", dict(NumChannels=c, PE=pe, inputDataType=idt, outputDataType=odt,
                                                   numInputVectors=niv, ActVal=act_val,
                                                   shared_thresholds=int(shared)), (thr,))
    for _ in range(5):
        x = numerics.random_values(dt, (*niv, c), rng)
        (y,) = execute_single_node(model, [x])
        np.testing.assert_array_equal(y, multithreshold(x, thr, odt, act_val))


def test_fractional_thresholds_count_like_multithreshold():
    thr = np.array([[-0.5, 0.5, 1.5]], np.float32)
    model = single_node_model("Thresholding", dict(NumChannels=3, inputDataType="INT3", outputDataType="UINT2",
                                                   shared_thresholds=1), (thr,))
    x = np.array([[-1, 0, 2]], np.float32)
    (y,) = execute_single_node(model, [x])
    np.testing.assert_array_equal(y, [[0, 1, 3]])


def test_shapes_widths_cycles():
    model = single_node_model("Thresholding", dict(NumChannels=8, PE=2, inputDataType="INT8", outputDataType="UINT2",
                                                   numInputVectors=[1, 4, 4]), (np.zeros((8, 3), np.float32),))
    layer = the_layer(model)
    assert layer.get_folded_input_shape() == (1, 4, 4, 4, 2)
    assert layer.get_instream_width() == 16 and layer.get_outstream_width() == 4
    assert layer.cycles() == 16 * 4


@pytest.mark.parametrize("attrs,thr,error,match", [
    (dict(PE=3), np.zeros((4, 3)), FoldingError, "PE=3 does not divide NumChannels=4"),
    (dict(), np.zeros((3, 3)), ModelError, "shape"),
    (dict(), np.array([[2.0, 1.0, 0.0]] * 4), ModelError, "ascending"),
    (dict(outputDataType="UINT1"), np.zeros((4, 3)), DataTypeError, "outside BINARY"),
    (dict(outputDataType="BIPOLAR", ActVal=1), np.zeros((4, 1)), ModelError, "ActVal=0"),
    (dict(ram_style="bram"), np.zeros((4, 3)), ModelError, "ram_style='bram' is not one of"),
    (dict(ram_style="ultra"), np.zeros((4, 3)), ModelError, "set runtime_writeable_weights=1"),
    (dict(depth_trigger_uram=4), np.zeros((4, 3)), ModelError, "depth 4 >= depth_trigger_uram=4"),
    (dict(), np.zeros((1, 3)), ModelError, "one threshold row for 4 channels, but shared_thresholds=0"),
    (dict(shared_thresholds=1), np.zeros((4, 3)), ModelError, "shared_thresholds=1 but the thresholds have 4 rows"),
])
def test_bad_configurations(attrs, thr, error, match):
    base = dict(NumChannels=4, inputDataType="INT4", outputDataType="UINT2")
    with pytest.raises(error, match=match) as e:
        model = single_node_model("Thresholding", {**base, **attrs}, (thr.astype(np.float32),), name="act3")
        the_layer(model).verify_node()
        execute_single_node(model, [np.zeros((1, 4), np.float32)])
    assert "Thresholding node 'act3'" in str(e.value)


def test_memory_style_follows_the_depth_triggers():
    def style(**attrs):
        base = dict(NumChannels=64, inputDataType="INT4", outputDataType="UINT2", runtime_writeable_weights=1)
        return the_layer(single_node_model("Thresholding", {**base, **attrs}, (np.zeros((64, 3), np.float32),))
                         ).memory_style()

    assert style() == "block"  # depth 64 >= depth_trigger_bram 64
    assert style(PE=2) == "distributed"
    assert style(depth_trigger_bram=16, PE=2) == "block"
    assert style(depth_trigger_uram=64) == "ultra"
    assert style(depth_trigger_uram=65) == "block"
    assert style(ram_style="distributed", depth_trigger_uram=1) == "distributed"


def _layer(**attrs):
    base = dict(NumChannels=3, inputDataType="UINT8", outputDataType="UINT8")
    return the_layer(single_node_model("Thresholding", {**base, **attrs}, (np.zeros((1, 255), np.float32),)))


def test_table_by_the_cost_rule():
    assert _layer(shared_thresholds=1).threshold_table()  # 8-bit pixels, 255 thresholds: 32 LUTs vs 765
    assert not _layer(shared_thresholds=1, runtime_writeable_weights=1).threshold_table()  # not constant
    assert _layer(shared_thresholds=1, outputDataType="BIPOLAR").threshold_table()  # one threshold: 4 vs 5
    assert _layer(shared_thresholds=1, inputDataType="UINT7", outputDataType="UINT2").threshold_table()  # 4 vs 15
    assert _layer(shared_thresholds=1, inputDataType="INT4", outputDataType="UINT4").threshold_table()
    assert not _layer(shared_thresholds=1, inputDataType="INT9", outputDataType="UINT4").threshold_table()
    assert not the_layer(single_node_model("Thresholding", dict(NumChannels=3, inputDataType="UINT8",
                                                                outputDataType="UINT8"),
                                           (np.zeros((3, 255), np.float32),))).threshold_table()


def test_shared_rows_are_constants_for_the_estimate():
    """A shared row is no memory: comparators against constants, or the table's LUTs."""
    table = _layer(shared_thresholds=1)
    assert table.memories() == [] and table.resource_features()["table_luts"] == 2 + 7 * 4
    assert table.resource_features()["cmp_bits"] == table.resource_features()["count_bits"] == 0
    cmp = _layer(shared_thresholds=1, inputDataType="INT10", outputDataType="BIPOLAR", NumChannels=784, PE=4)
    feats = cmp.resource_features()
    assert cmp.memories() == [] and feats["cmp_bits"] == 0 and feats["cmp_const_bits"] == 4 * 10
    per_channel = the_layer(single_node_model("Thresholding", dict(NumChannels=784, PE=4, inputDataType="UINT8",
                                                                   outputDataType="BIPOLAR"),
                                              (np.zeros((784, 1), np.float32),)))
    assert per_channel.memories()[0].depth == 196 and per_channel.resource_features()["cmp_bits"] == 4 * 8


@pytest.mark.parametrize("idt,odt,act_val", [("UINT8", "UINT8", 0), ("INT4", "INT3", -3), ("INT3", "BIPOLAR", 0),
                                             ("BIPOLAR", "UINT2", 1)])
def test_table_words_are_the_layer_on_every_input(idt, odt, act_val):
    from qnn2fpga import packing  # noqa: PLC0415

    rng = np.random.default_rng(7)
    dt = DataType[idt]
    n = 1 if odt == "BIPOLAR" else 2 if idt == "BIPOLAR" else 5
    lo, hi = (-1, 1) if idt == "BIPOLAR" else (dt.min(), dt.max() + 1)
    thr = np.sort(rng.integers(lo, hi + 1, size=(1, n)), axis=1).astype(np.float32)
    codes = np.arange(2 ** packing.element_bits(dt))
    model = single_node_model("Thresholding", dict(NumChannels=2, inputDataType=idt, outputDataType=odt,
                                                   ActVal=act_val, shared_thresholds=1,
                                                   numInputVectors=[len(codes)]), (thr,))
    layer = the_layer(model)
    words = layer.table_words(thr)
    x = packing.decode(codes, dt)
    (y,) = execute_single_node(model, [np.stack([x, x[::-1]], axis=1)])
    assert [int(v) for v in packing.encode(y[:, 0], DataType[odt])] == words
    inst = layer.rtl([thr])
    assert inst.params["TABLE"] == int(layer.threshold_table()) and inst.params["SHARED"] == 1
