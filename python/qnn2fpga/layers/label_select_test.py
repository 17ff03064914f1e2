"""LabelSelect against ONNX TopK run by onnxruntime, including ties."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.transformation.infer_datatypes import InferDataTypes
from qonnx.transformation.infer_shapes import InferShapes

from qnn2fpga.errors import DataTypeError, FoldingError, ModelError
from qnn2fpga.layers import numerics
from qnn2fpga.layers.testing import execute_single_node, single_node_model, the_layer


def topk_indices(x, k):
    node = helper.make_node("TopK", ["x", "k"], ["v", "i"], axis=-1, largest=1, sorted=1)
    graph = helper.make_graph([node], "ref", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
                              [helper.make_tensor_value_info("v", TensorProto.FLOAT, None),
                               helper.make_tensor_value_info("i", TensorProto.INT64, None)],
                              [helper.make_tensor("k", TensorProto.INT64, [1], [k])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(["i"], {"x": x})[0]


@pytest.mark.parametrize("labels,pe,k,dt,niv", [
    (10, 2, 3, "INT8", [1]),
    (10, 10, 10, "UINT2", [1]),  # many ties
    (16, 4, 1, "BIPOLAR", [4]),  # ties everywhere
    (7, 7, 5, "INT4", [1, 3]),
])
def test_matches_onnx_topk_including_ties(labels, pe, k, dt, niv):
    rng = np.random.default_rng(labels * k)
    model = single_node_model("LabelSelect", dict(Labels=labels, PE=pe, K=k, inputDataType=dt,
                                                  numInputVectors=niv))
    for _ in range(10):
        x = numerics.random_values(DataType[dt], (*niv, labels), rng)
        (y,) = execute_single_node(model, [x])
        np.testing.assert_array_equal(y, topk_indices(x, k))


def test_ties_go_to_the_lower_index():
    model = single_node_model("LabelSelect", dict(Labels=5, K=3, inputDataType="INT4"))
    (y,) = execute_single_node(model, [np.array([[1, 3, 3, -2, 3]], np.float32)])
    np.testing.assert_array_equal(y, [[1, 2, 4]])


def test_output_datatype_defaults_to_the_smallest_uint_for_the_indices():
    model = single_node_model("LabelSelect", dict(Labels=10, K=2, inputDataType="INT8"))
    model = model.transform(InferShapes()).transform(InferDataTypes())
    assert model.get_tensor_datatype("out0") == DataType["UINT4"]
    layer = the_layer(model)
    assert layer.get_outstream_width() == 4 and layer.get_folded_output_shape() == (1, 2, 1)
    assert layer.cycles() == 10 + 2


def test_integer_index_container_is_kept():
    """When the graph declares the output as INT64 (as TopK's indices are), shape
    inference and execution keep that container type."""
    model = single_node_model("LabelSelect", dict(Labels=6, K=2, inputDataType="INT4"))
    model.graph.output[0].type.tensor_type.elem_type = TensorProto.INT64
    model = model.transform(InferShapes())
    (y,) = execute_single_node(model, [np.array([[0, 5, 1, 7, 7, 2]], np.float32)])
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, [[3, 4]])


@pytest.mark.parametrize("change,error,match", [
    (dict(K=11), ModelError, "1 <= K <= Labels"),
    (dict(outputDataType="UINT3"), DataTypeError, "cannot hold indices 0..9"),
    (dict(outputDataType="INT8"), DataTypeError, "cannot hold"),
    (dict(PE=4), FoldingError, "PE=4 does not divide Labels=10"),
])
def test_bad_configurations(change, error, match):
    attrs = {**dict(Labels=10, K=3, inputDataType="INT8"), **change}
    with pytest.raises(error, match=match) as e:
        the_layer(single_node_model("LabelSelect", attrs, name="top")).verify_node()
    assert "LabelSelect node 'top'" in str(e.value)
