"""AddStreams: sums, derived output datatype, folding."""

from __future__ import annotations

import numpy as np
import pytest
from qonnx.core.datatype import DataType
from qonnx.transformation.infer_datatypes import InferDataTypes

from qnn2fpga.errors import DataTypeError, FoldingError
from qnn2fpga.layers import numerics
from qnn2fpga.layers.testing import execute_single_node, single_node_model, the_layer


@pytest.mark.parametrize("dts,odt", [(["INT4", "INT4"], "INT5"), (["UINT4", "UINT4"], "UINT5"),
                                     (["UINT3", "INT5"], "INT6"), (["BIPOLAR", "BIPOLAR"], "INT3"),
                                     (["UINT8", "BIPOLAR"], "INT10")])
def test_sums_elementwise_into_the_smallest_datatype(dts, odt):
    rng = np.random.default_rng(1)
    model = single_node_model("AddStreams", dict(NumChannels=6, PE=3, inputDataTypes=dts, numInputVectors=[1, 2, 2]))
    model = model.transform(InferDataTypes())
    assert model.get_tensor_datatype("out0") == DataType[odt]
    a = numerics.random_values(DataType[dts[0]], (1, 2, 2, 6), rng)
    b = numerics.random_values(DataType[dts[1]], (1, 2, 2, 6), rng)
    (y,) = execute_single_node(model, [a, b])
    for idx in np.ndindex(a.shape):
        assert y[idx] == float(int(a[idx]) + int(b[idx]))
    # the extremes are reachable and fit
    lo = np.full((1, 2, 2, 6), 0, np.float32)
    execute_single_node(model, [lo + DataType[dts[0]].max(), lo + DataType[dts[1]].max()])


def test_two_streams_fold_alike():
    layer = the_layer(single_node_model("AddStreams", dict(NumChannels=8, PE=4, inputDataTypes=["INT4", "INT2"])))
    assert layer.get_folded_input_shape(0) == layer.get_folded_input_shape(1) == (1, 2, 4)
    assert layer.get_instream_width(0) == 16 and layer.get_instream_width(1) == 8
    assert layer.get_outstream_width() == 4 * 5
    assert layer.cycles() == 2


def test_checks():
    with pytest.raises(DataTypeError, match="exactly 2"):
        single_node_model("AddStreams", dict(NumChannels=8, inputDataTypes=["INT4"]))
    with pytest.raises(FoldingError, match="PE=3"):
        the_layer(single_node_model("AddStreams", dict(NumChannels=8, PE=3,
                                                       inputDataTypes=["INT4", "INT4"]))).verify_node()
