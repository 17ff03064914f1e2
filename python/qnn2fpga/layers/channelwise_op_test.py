"""ChannelwiseOp against a per-channel loop, and its datatype checks."""

from __future__ import annotations

import numpy as np
import pytest
from qonnx.core.datatype import DataType

from qnn2fpga.errors import DataTypeError, ModelError
from qnn2fpga.layers import numerics
from qnn2fpga.layers.testing import execute_single_node, single_node_model, the_layer


@pytest.mark.parametrize("func,idt,pdt,odt,shared", [
    ("add", "INT4", "INT4", "INT5", False), ("mul", "UINT4", "INT3", "INT7", False),
    ("add", "BIPOLAR", "INT2", "INT3", True), ("mul", "INT8", "UINT2", "INT10", True),
])
def test_matches_a_per_channel_loop(func, idt, pdt, odt, shared):
    rng = np.random.default_rng(4)
    c = 6
    p = numerics.random_values(DataType[pdt], (1,) if shared else (c,), rng)
    model = single_node_model("ChannelwiseOp", dict(Func=func, NumChannels=c, PE=2, inputDataType=idt,
                                                    paramDataType=pdt, outputDataType=odt,
                                                    numInputVectors=[1, 3, 3]), (p,))
    x = numerics.random_values(DataType[idt], (1, 3, 3, c), rng)
    (y,) = execute_single_node(model, [x])
    for idx in np.ndindex(x.shape):
        pc = p[0] if shared else p[idx[-1]]
        want = int(x[idx]) + int(pc) if func == "add" else int(x[idx]) * int(pc)
        assert y[idx] == want


def test_output_range_is_checked_against_the_parameters():
    p = np.array([3, -4], np.float32)
    model = single_node_model("ChannelwiseOp", dict(Func="mul", NumChannels=2, inputDataType="INT4",
                                                    paramDataType="INT3", outputDataType="INT5"), (p,), name="bn")
    with pytest.raises(DataTypeError, match=r"results span \[-28, 32\].*set outputDataType=INT7") as e:
        execute_single_node(model, [np.zeros((1, 2), np.float32)])
    assert "ChannelwiseOp node 'bn'" in str(e.value)
    assert the_layer(model).output_range(p) == (-28, 32)


@pytest.mark.parametrize("attrs,p,error,match", [
    (dict(Func="sub"), [1, 1], ModelError, "Func='sub' is not one of"),
    (dict(), [1, 1, 1], ModelError, r"shape \(3,\)"),
    (dict(), [1, 9], DataTypeError, "outside INT3"),
])
def test_bad_configurations(attrs, p, error, match):
    base = dict(Func="add", NumChannels=2, inputDataType="INT4", paramDataType="INT3", outputDataType="INT8")
    with pytest.raises(error, match=match):
        model = single_node_model("ChannelwiseOp", {**base, **attrs}, (np.array(p, np.float32),))
        execute_single_node(model, [np.zeros((1, 2), np.float32)])
