"""DuplicateStreams: both outputs copy the input exactly; shapes, datatypes and float
containers survive qonnx shape inference; folding."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto
from qonnx.core.datatype import DataType
from qonnx.transformation.infer_datatypes import InferDataTypes
from qonnx.transformation.infer_shapes import InferShapes

from qnn2fpga.errors import FoldingError
from qnn2fpga.layers import AddStreams, DuplicateStreams, numerics
from qnn2fpga.layers.testing import execute_single_node, single_node_model, the_layer
from qnn2fpga.testing import make_model


@pytest.mark.parametrize("dt", ["INT4", "UINT8", "BIPOLAR"])
def test_both_outputs_are_exact_copies(dt):
    model = single_node_model("DuplicateStreams", dict(NumChannels=6, PE=3, inputDataType=dt,
                                                       numInputVectors=[1, 2, 2]))
    model = model.transform(InferShapes()).transform(InferDataTypes())
    assert model.get_tensor_datatype("out0") == model.get_tensor_datatype("out1") == DataType[dt]
    x = numerics.random_values(DataType[dt], (1, 2, 2, 6), np.random.default_rng(2))
    a, b = execute_single_node(model, [x])
    assert np.array_equal(a, x) and np.array_equal(b, x)


def test_copies_inside_a_graph_stay_float_tensors():
    """Shape inference sees Dropout (copy + boolean mask); the mask's type must not stick."""
    nodes = [DuplicateStreams.make_node(["x"], ["a", "b"], name="dup", NumChannels=4, inputDataType="INT3"),
             AddStreams.make_node(["a", "b"], ["y"], name="add", NumChannels=4, inputDataTypes=["INT3", "INT3"])]
    model = make_model(nodes, ("x", [1, 4]), ("y", [1, 4]), {}, dtypes={"x": "INT3"})
    model = model.transform(InferShapes()).transform(InferDataTypes())
    for t in ("a", "b"):
        vi = next(v for v in model.graph.value_info if v.name == t)
        assert vi.type.tensor_type.elem_type == TensorProto.FLOAT
        assert model.get_tensor_shape(t) == [1, 4] and model.get_tensor_datatype(t) == DataType["INT3"]
    x = np.array([[-4, -1, 0, 3]], dtype=np.float32)
    from qonnx.core.onnx_exec import execute_onnx  # noqa: PLC0415

    assert np.array_equal(execute_onnx(model, {"x": x})["y"], 2 * x)


def test_folding_and_cycles():
    layer = the_layer(single_node_model("DuplicateStreams", dict(NumChannels=8, PE=4, inputDataType="INT4",
                                                                 numInputVectors=[1, 3])))
    assert layer.get_instream_width() == layer.get_outstream_width(0) == layer.get_outstream_width(1) == 16
    assert layer.cycles() == 6
    with pytest.raises(FoldingError, match="PE=3"):
        the_layer(single_node_model("DuplicateStreams", dict(NumChannels=8, PE=3,
                                                             inputDataType="INT4"))).verify_node()
