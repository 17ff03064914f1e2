"""One-node models of a hardware layer, for tests and per-layer simulation.

    model = single_node_model("MVAU", attrs, params=(weights, thresholds))
    xs = random_inputs(model, rng)
    (y,) = execute_single_node(model, xs)
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from onnx import TensorProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.util.basic import qonnx_make_model

from qnn2fpga.layers import numerics
from qnn2fpga.layers.base import HwLayer
from qnn2fpga.layers.registry import DOMAIN, LAYERS, get_layer


def single_node_model(op_type: str, attrs: dict[str, Any], params: Sequence[np.ndarray] = (),
                      name: str = "layer0") -> ModelWrapper:
    """A model with one `op_type` node: graph inputs in0.. for the streamed inputs (normal
    shapes, annotated with the input datatypes), initializers for `params` (in
    param_names() order), outputs out0.. with the normal output shapes. Shapes and
    datatypes are not inferred; run InferShapes/InferDataTypes as the test needs."""
    cls = LAYERS[op_type]
    probe = cls(cls.make_node([], [], name=name, **attrs))
    probe.check_attributes()
    n_in, n_out = len(probe.normal_input_shapes()), len(probe.normal_output_shapes())
    if len(params) != len(probe.param_names()):
        raise ValueError(f"{op_type} takes parameters {probe.param_names()}, got {len(params)} arrays")
    ins = [f"in{i}" for i in range(n_in)]
    pnames = [f"{name}_{p}" for p in probe.param_names()]
    outs = [f"out{i}" for i in range(n_out)]
    node = cls.make_node(ins + pnames, outs, name=name, **attrs)
    layer = cls(node)
    graph = helper.make_graph(
        [node], f"{op_type}_single",
        [helper.make_tensor_value_info(t, TensorProto.FLOAT, list(layer.get_normal_input_shape(i)))
         for i, t in enumerate(ins)],
        [helper.make_tensor_value_info(t, TensorProto.FLOAT, list(layer.get_normal_output_shape(i)))
         for i, t in enumerate(outs)])
    model = ModelWrapper(qonnx_make_model(graph, producer_name="qnn2fpga",
                                          opset_imports=[helper.make_opsetid("", 13),
                                                         helper.make_opsetid(DOMAIN, 1)]))
    for t, value in zip(pnames, params):
        model.set_initializer(t, np.asarray(value, dtype=np.float32))
    for i, t in enumerate(ins):
        model.set_tensor_datatype(t, layer.get_input_datatype(i))
    return model


def the_layer(model: ModelWrapper) -> HwLayer:
    """The (first) hardware layer of a model."""
    return get_layer(model.graph.node[0])


def random_inputs(model: ModelWrapper, rng: np.random.Generator, batch: int | None = None) -> list[np.ndarray]:
    """Random values of each streamed input's datatype, in its normal shape (leading axis
    replaced by `batch` when given)."""
    layer = the_layer(model)
    xs = []
    for i in range(len(layer.normal_input_shapes())):
        shape = layer.get_normal_input_shape(i)
        if batch is not None:
            shape = (batch,) + tuple(shape[1:])
        xs.append(numerics.random_values(layer.get_input_datatype(i), shape, rng))
    return xs


def execute_single_node(model: ModelWrapper, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Runs the model through qonnx's execute_onnx; returns the outputs in order."""
    feed = {vi.name: x for vi, x in zip(model.graph.input, inputs)}
    result = execute_onnx(model, feed)
    return [result[o.name] for o in model.graph.output]
