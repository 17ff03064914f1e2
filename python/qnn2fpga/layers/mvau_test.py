"""MVAU against an independent reference: ONNX MatMul (onnxruntime) followed by qonnx's
MultiThreshold, executed through qonnx."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.util.basic import qonnx_make_model

from qnn2fpga.errors import DataTypeError, FoldingError, ModelError
from qnn2fpga.layers import numerics
from qnn2fpga.layers.testing import execute_single_node, single_node_model, the_layer


def reference(x, w, thresholds=None, odt="INT32", act_val=0):
    """MatMul [+ MultiThreshold] as plain qonnx, channels last."""
    layout = "NHWC" if x.ndim == 4 else "NC"
    nodes = [helper.make_node("MatMul", ["x", "w"], ["acc"])]
    out = "acc"
    if thresholds is not None:
        scale, bias = (2.0, -1.0) if odt == "BIPOLAR" else (1.0, float(act_val))
        nodes.append(helper.make_node("MultiThreshold", ["acc", "t"], ["y"], domain="qonnx.custom_op.general",
                                      out_dtype=odt, out_scale=scale, out_bias=bias, data_layout=layout))
        out = "y"
    oshape = list(x.shape[:-1]) + [w.shape[1]]
    graph = helper.make_graph(nodes, "ref", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
                              [helper.make_tensor_value_info(out, TensorProto.FLOAT, oshape)])
    model = ModelWrapper(qonnx_make_model(graph))
    model.set_initializer("w", w)
    if thresholds is not None:
        model.set_initializer("t", thresholds)
    return execute_onnx(model.transform(InferShapes()), {"x": x})[out]


CONFIGS = [
    # idt, wdt, odt, MW, MH, SIMD, PE, numInputVectors, T, shared thresholds, ActVal
    ("INT4", "INT4", "UINT4", 16, 8, 4, 2, [1], 15, False, 0),
    ("UINT8", "INT2", "INT4", 9, 6, 3, 3, [1], 15, False, -8),
    ("INT3", "INT3", "INT2", 27, 4, 9, 4, [1, 4, 4], 3, True, -2),
    ("BIPOLAR", "BIPOLAR", "BIPOLAR", 32, 16, 8, 4, [1], 1, False, 0),
    ("UINT2", "BIPOLAR", "BIPOLAR", 12, 5, 12, 5, [1, 2, 3], 1, False, 0),
    ("BIPOLAR", "INT4", "UINT2", 10, 3, 5, 1, [2], 3, False, 0),
]


@pytest.mark.parametrize("idt,wdt,odt,mw,mh,simd,pe,niv,t,shared,act_val", CONFIGS)
def test_matches_matmul_then_multithreshold(idt, wdt, odt, mw, mh, simd, pe, niv, t, shared, act_val):
    rng = np.random.default_rng(mw * mh)
    w = numerics.random_values(DataType[wdt], (mw, mh), rng)
    lo, hi = numerics.matmul_acc_range(DataType[idt], w)
    thr = np.sort(rng.integers(lo, hi + 1, size=(1 if shared else mh, t)), axis=1).astype(np.float32)
    model = single_node_model("MVAU", dict(MW=mw, MH=mh, SIMD=simd, PE=pe, inputDataType=idt, weightDataType=wdt,
                                           outputDataType=odt, accDataType=numerics.smallest_int_datatype(lo, hi),
                                           numInputVectors=niv, ActVal=act_val), (w, thr))
    for _ in range(5):
        x = numerics.random_values(DataType[idt], (*niv, mw), rng)
        (y,) = execute_single_node(model, [x])
        np.testing.assert_array_equal(y, reference(x, w, thr, odt, act_val))


@pytest.mark.parametrize("idt,wdt,mw,mh,niv", [("INT8", "INT8", 20, 7, [1]), ("UINT4", "BIPOLAR", 8, 8, [1, 3, 2])])
def test_no_activation_matches_matmul(idt, wdt, mw, mh, niv):
    rng = np.random.default_rng(3)
    w = numerics.random_values(DataType[wdt], (mw, mh), rng)
    acc = numerics.smallest_int_datatype(*numerics.matmul_acc_range(DataType[idt], w))
    model = single_node_model("MVAU", dict(MW=mw, MH=mh, inputDataType=idt, weightDataType=wdt, outputDataType=acc,
                                           accDataType=acc, noActivation=1, numInputVectors=niv), (w,))
    x = numerics.random_values(DataType[idt], (*niv, mw), rng)
    (y,) = execute_single_node(model, [x])
    np.testing.assert_array_equal(y, reference(x, w))


def test_accumulates_exactly_where_float32_would_round():
    # 4097 * 4097 + 4097 = 16789506 > 2**24: a float32 accumulator lands on 16789504.
    x = np.array([[4097, 4097]], np.float32)
    w = np.array([[4097], [1]], np.float32)
    model = single_node_model("MVAU", dict(MW=2, MH=1, inputDataType="UINT13", weightDataType="UINT13",
                                           outputDataType="UINT2", accDataType="UINT27"),
                              (w, np.array([[16789505, 16789506, 16789507]], np.float32)))
    (y,) = execute_single_node(model, [x])
    assert y[0, 0] == 2


def test_typed_attributes_and_derived_quantities():
    w = np.ones((16, 8), np.float32)
    model = single_node_model("MVAU", dict(MW=16, MH=8, SIMD=4, PE=2, inputDataType="INT4", weightDataType="INT2",
                                           outputDataType="INT9", accDataType="INT9", noActivation=1,
                                           numInputVectors=[1, 5, 5]), (w,))
    layer = the_layer(model)
    assert layer.inputDataType == DataType["INT4"] and layer.get_nodeattr("inputDataType") == "INT4"
    assert layer.mem_mode == "internal_decoupled" and layer.ram_style == "auto"
    assert layer.param_names() == ["weights"]
    assert layer.calc_wmem() == 16 and layer.calc_tmem() == 0
    assert layer.get_weightstream_width() == 4 * 2 * 2
    assert layer.get_instream_width() == 16 and layer.get_outstream_width() == 18
    assert layer.get_instream_width_padded() == 16 and layer.get_outstream_width_padded() == 24
    assert layer.get_folded_input_shape() == (1, 5, 5, 4, 4)
    assert layer.get_folded_output_shape() == (1, 5, 5, 4, 2)
    assert layer.cycles() == 25 * 4 * 4
    layer.SIMD, layer.PE = 16, 8
    assert layer.cycles() == 25 and layer.get_nodeattr("SIMD") == 16
    layer.inputDataType = DataType["UINT2"]
    assert layer.get_nodeattr("inputDataType") == "UINT2"


def test_bad_folding_names_node_and_divisors():
    model = single_node_model("MVAU", dict(MW=12, MH=8, SIMD=5, inputDataType="INT4", weightDataType="INT4",
                                           outputDataType="INT32", noActivation=1),
                              (np.zeros((12, 8), np.float32),), name="fc1")
    with pytest.raises(FoldingError) as e:
        the_layer(model).verify_node()
    assert str(e.value) == ("folding error: MVAU node 'fc1': SIMD=5 does not divide MW=12; "
                            "fix: set SIMD to a divisor of 12: 1, 2, 3, 4, 6, 12")
    the_layer(model).SIMD = 6
    the_layer(model).PE = 3
    with pytest.raises(FoldingError, match="PE=3 does not divide MH=8"):
        the_layer(model).check_folding()


def _attrs(**kw):
    a = dict(MW=4, MH=2, inputDataType="INT4", weightDataType="INT4", outputDataType="UINT2", accDataType="INT8")
    a.update(kw)
    return a


W = np.array([[1, -1], [2, 0], [-3, 1], [0, 7]], np.float32)
T = np.array([[0, 1, 2], [-5, 0, 5]], np.float32)


@pytest.mark.parametrize("attrs,params,error,match", [
    (_attrs(accDataType="INT6"), (W, T), DataTypeError, r"accumulator range \[-71, 64\].*accDataType=INT8"),
    (_attrs(weightDataType="INT2"), (W, T), DataTypeError, "weights hold"),
    (_attrs(), (W.T, T), ModelError, r"weights have shape \(2, 4\)"),
    (_attrs(), (W, T[:, ::-1]), ModelError, "ascending"),
    (_attrs(), (W, np.zeros((3, 3), np.float32)), ModelError, r"shape \(3, 3\)"),
    (_attrs(outputDataType="UINT1"), (W, T), DataTypeError, r"outputs \[0, 3\]"),
    (_attrs(outputDataType="BIPOLAR"), (W, T), DataTypeError, "one threshold"),
])
def test_inconsistent_parameters_raise_typed_errors_at_shape_inference(attrs, params, error, match):
    model = single_node_model("MVAU", attrs, params, name="fc")
    with pytest.raises(error, match=match) as e:
        model.transform(InferShapes())
    assert "MVAU node 'fc'" in str(e.value)
    with pytest.raises(error, match=match):
        execute_single_node(model, [np.zeros((1, 4), np.float32)])


@pytest.mark.parametrize("attrs,error,match", [
    (_attrs(mem_mode="ddr"), ModelError, "mem_mode='ddr' is not one of"),
    (_attrs(ram_style="flipflops"), ModelError, "ram_style='flipflops' is not one of"),
    (_attrs(ram_style="ultra"), ModelError, "set runtime_writeable_weights=1"),
    (_attrs(runtime_writeable_weights=1, mem_mode="internal_embedded"), ModelError,
     "needs the weight streamer"),
    (_attrs(runtime_writeable_weights=1, mem_mode="external"), ModelError, "needs the weight streamer"),
    (_attrs(inputDataType="FLOAT32"), DataTypeError, "not an integer datatype"),
    (_attrs(inputDataType="INT4X"), DataTypeError, "not a qonnx datatype"),
    (_attrs(numInputVectors=[1.5]), ModelError, "not a list of integers"),
    (_attrs(simd=2), ModelError, "unknown attribute"),
    (_attrs(outputDataType="BIPOLAR", ActVal=-1), ModelError, "set ActVal=0"),
    (_attrs(noActivation=1), DataTypeError, "set outputDataType=INT8"),
])
def test_malformed_attributes_are_refused_when_the_node_is_made(attrs, error, match):
    with pytest.raises(error, match=match) as e:
        single_node_model("MVAU", attrs, (W, T), name="fc")
    assert "MVAU node 'fc'" in str(e.value)


def test_wrong_input_count_is_a_model_error():
    model = single_node_model("MVAU", _attrs(), (W, T), name="fc")
    model.graph.node[0].input.pop()
    with pytest.raises(ModelError, match=r"2 inputs, expected 3 \(stream0, weights, thresholds\)"):
        the_layer(model).verify_node()
