"""Checks the QONNX exports in this test's runfiles (data = a package's :exports).

Runs in the light @qnn_python venv (qonnx/onnx, no torch): every export loads with
ModelWrapper, has one real graph input of the model's shape (initializers that are also
listed as inputs are ignored), contains Quant/BipolarQuant nodes and executes with qonnx.
"""

import glob
import os

import numpy as np
import onnx
import pytest
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.transformation.infer_shapes import InferShapes

# Input shape by file-name prefix (the package name).
INPUT_SHAPES = {
    "tfc": (1, 1, 28, 28),
    "sfc": (1, 1, 28, 28),
    "lfc": (1, 1, 28, 28),
    "cnv": (1, 3, 32, 32),
    "mixnet": (1, 3, 16, 16),
    "resnet": (1, 3, 8, 8),
    "mobilenet": (1, 3, 16, 16),
    "conv1d": (1, 2, 64),
}
OUTPUT_SHAPE = (1, 10)

EXPORTS = sorted(glob.glob("models/*/*.onnx"))


def _shape(value_info):
    return tuple(d.dim_value for d in value_info.type.tensor_type.shape.dim)


def _load(path):
    # onnx refuses external data reached through a symlink (runfiles are symlinks):
    # open the real file, next to which the `.onnx.data` side file really lies.
    return ModelWrapper(os.path.realpath(path))


def _real_inputs(model):
    inits = {i.name for i in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in inits]


def test_exports_present():
    assert EXPORTS, "no .onnx in the runfiles: data = [':exports'] missing?"


@pytest.mark.parametrize("path", EXPORTS, ids=os.path.basename)
def test_export(path):
    name = os.path.basename(path)[: -len(".onnx")]
    expected_shape = INPUT_SHAPES[name.split("_")[0]]

    raw = onnx.load(os.path.realpath(path), load_external_data=False)
    external = {
        e.value for t in raw.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL
        for e in t.external_data if e.key == "location"
    }
    if name.endswith("_dynamo"):
        # The side file is referenced by basename, so it resolves next to the .onnx.
        assert external == {name + ".onnx.data"}
    else:
        assert not external, "classic exports are self-contained"

    model = _load(path)
    inputs = _real_inputs(model)
    assert len(inputs) == 1, [i.name for i in inputs]
    assert _shape(inputs[0]) == expected_shape
    assert [_shape(o) for o in model.graph.output] == [OUTPUT_SHAPE]
    ops = {n.op_type for n in model.graph.node}
    assert ops & {"Quant", "BipolarQuant"}, sorted(ops)

    model = model.transform(InferShapes())
    rng = np.random.default_rng(0)
    outs = []
    for _ in range(2):
        x = rng.random(expected_shape, dtype=np.float32)
        y = execute_onnx(model, {inputs[0].name: x})[model.graph.output[0].name]
        assert y.shape == OUTPUT_SHAPE and np.all(np.isfinite(y))
        outs.append(y)
    assert not np.array_equal(outs[0], outs[1]), "output does not depend on the input"
