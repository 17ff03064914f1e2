"""Width converters and FIFOs between folded layers: placed exactly where needed, with
matching folds, and the network computes the same."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx

from qnn2fpga import boards, flow, folding, testing
from qnn2fpga.layers.registry import get_layer, is_hw_layer
from qnn2fpga.transforms.insert_streams import InsertDWC, InsertFIFO, hw_streams


def folded(cfg):
    model, _ = folding.apply_config(flow.compile_model(testing.tiny_mlp()), cfg)
    return model


def run(model, x):
    name = model.graph.input[0].name
    return execute_onnx(model, {name: x})[model.graph.output[0].name]


def hw_ops(model):
    return [n.op_type for n in model.graph.node if is_hw_layer(n)]


def test_dwc_only_where_folds_differ_and_streams_then_match():
    same = folded({"MVAU_0": {"PE": 4}, "MVAU_1": {"SIMD": 4}}).transform(InsertDWC())
    assert hw_ops(same) == ["MVAU", "MVAU"]
    model = folded({"MVAU_0": {"PE": 3}, "MVAU_1": {"SIMD": 4}}).transform(InsertDWC())
    assert hw_ops(model) == ["MVAU", "StreamingDataWidthConverter", "MVAU"]
    dwc = get_layer(model.get_node_from_name("StreamingDataWidthConverter_0"))
    assert (dwc.inFold, dwc.outFold, dwc.NumChannels, dwc.dataType.name) == (3, 4, 12, "INT4")
    for prod, i, cons, j, _ in hw_streams(model):
        assert get_layer(prod).get_outstream_width(i) == get_layer(cons).get_instream_width(j)


def test_fifo_depths_come_from_the_layers_and_results_do_not_change():
    plain = folded({"MVAU_0": {"PE": 3, "outFIFODepths": [32]}, "MVAU_1": {"SIMD": 4, "inFIFODepths": [8]}})
    model = folded({"MVAU_0": {"PE": 3, "outFIFODepths": [32]}, "MVAU_1": {"SIMD": 4, "inFIFODepths": [8]}})
    model = model.transform(InsertDWC()).transform(InsertFIFO())
    assert hw_ops(model) == ["MVAU", "StreamingFIFO", "StreamingDataWidthConverter", "StreamingFIFO", "MVAU"]
    fifos = [get_layer(n) for n in model.graph.node if n.op_type == "StreamingFIFO"]
    # MVAU_0's output depth before the converter, MVAU_1's input depth after it
    assert [(f.onnx_node.name, f.depth, f.PE) for f in fifos] == [("StreamingFIFO_0", 32, 3), ("StreamingFIFO_1", 8, 4)]
    # inserting again adds nothing
    again = model.transform(InsertDWC()).transform(InsertFIFO())
    assert hw_ops(again) == hw_ops(model)
    for x in np.random.default_rng(0).uniform(0, 1, size=(3, 1, 16)).astype(np.float32):
        np.testing.assert_array_equal(run(model, x), run(plain, x))


@pytest.mark.parametrize("fps", [1e5, 2e6])
def test_after_auto_folding(fps):

    model, _ = folding.auto_fold(flow.compile_model(testing.tiny_mlp()), boards.load_board("pynq-z1"), fps)
    model = model.transform(InsertDWC()).transform(InsertFIFO())
    for prod, i, cons, j, _ in hw_streams(model):
        assert get_layer(prod).get_outstream_width(i) == get_layer(cons).get_instream_width(j)
    assert "StreamingFIFO" in hw_ops(model)


def test_streams_through_a_removed_flatten_take_a_view_both_folds_divide():
    """Random graph 0: a 1x1 conv's (1, 4, 8, 6) output is the next layer's 192 inputs
    (the Flatten between them removed by to_hw). With PE 3 on one side and SIMD 4 on the
    other, no converter fits 6 channels: it takes the consumer's (1, 192) view; the FIFOs
    take the view of the fold they carry. Python execution does not change."""
    from qnn2fpga import random_graphs  # noqa: PLC0415

    compiled = flow.compile_model(random_graphs.generate(0).model)
    assert [n.op_type for n in compiled.graph.node if n.op_type in ("Flatten", "Reshape")] == []
    plain, _ = folding.apply_config(compiled, {"MVAU_0": {"PE": 3}, "MVAU_1": {"SIMD": 4}})
    model = ModelWrapper(copy.deepcopy(plain.model)).transform(InsertDWC()).transform(InsertFIFO())
    assert hw_ops(model) == ["MVAU", "StreamingFIFO", "StreamingDataWidthConverter", "StreamingFIFO", "MVAU"]
    fifo0, dwc, fifo1 = (get_layer(model.get_node_from_name(n)) for n in (
        "StreamingFIFO_0", "StreamingDataWidthConverter_0", "StreamingFIFO_1"))
    assert (dwc.numInputVectors, dwc.NumChannels, dwc.inFold, dwc.outFold) == ([1], 192, 3, 4)
    assert (fifo0.numInputVectors, fifo0.NumChannels, fifo0.PE) == ([1, 4, 8], 6, 3)
    assert (fifo1.numInputVectors, fifo1.NumChannels, fifo1.PE) == ([1], 192, 4)
    for prod, i, cons, j, _ in hw_streams(model):
        assert get_layer(prod).get_outstream_width(i) == get_layer(cons).get_instream_width(j)
    for x in np.random.default_rng(1).uniform(-1, 1, size=(3, 1, 1, 4, 8)).astype(np.float32):
        np.testing.assert_array_equal(run(model, x), run(plain, x))
