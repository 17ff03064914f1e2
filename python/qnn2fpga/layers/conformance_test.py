"""Conformance of every registered layer to the HwLayer contract.

Parametrized over the whole registry and each layer's `examples()`, so a new layer is
tested here the moment it registers: it builds, qonnx finds it, shape and datatype
inference work, execute_onnx agrees with the layer's numpy reference, folded shapes and
stream widths are consistent, and bad folding or attributes raise typed errors naming
the node.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import tempfile

import numpy as np
import pytest
from onnx import helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp, is_custom_op
from qonnx.transformation.infer_datatypes import InferDataTypes
from qonnx.transformation.infer_shapes import InferShapes

import qnn2fpga.layers as layers
from qnn2fpga.errors import DataTypeError, FoldingError, ModelError
from qnn2fpga.layers import DOMAIN, LAYERS, numerics
from qnn2fpga.layers.testing import execute_single_node, random_inputs, single_node_model, the_layer


def _seed(op: str) -> int:
    return sum(map(ord, op))


CASES = [pytest.param(op, i, ex, id=f"{op}-{i}-{ex.label or 'example'}")
         for op in sorted(LAYERS)
         for i, ex in enumerate(LAYERS[op].examples(np.random.default_rng(_seed(op))))]


def _model(op, ex, name="layer0"):
    return single_node_model(op, ex.attrs, ex.params, name=name)


def _with_attrs(model: ModelWrapper, **attrs) -> ModelWrapper:
    layer = the_layer(model)
    for k, v in attrs.items():
        layer.set_attr(k, v)
    return model


def test_registry_is_not_empty_and_examples_exist():
    assert {"MVAU", "Thresholding", "ConvolutionInputGenerator", "StreamingMaxPool", "FMPadding", "LabelSelect",
            "AddStreams", "ChannelwiseOp"} <= set(LAYERS)
    for op, cls in LAYERS.items():
        assert cls.examples(np.random.default_rng(0)), f"{op} has no conformance example"


# Where each layer's own tests are: Verilator tests listed by the `layer_tests` target
# (a hw_layer_test_manifest) of each rtl/<x>/ package, which the layer_test_manifests
# repository rule finds and Bazel passes as $HW_TEST_MANIFESTS (runfiles paths); unit
# test modules next to the layer modules.
MISSING_HW_TEST = ("{op} has RTL but no hw_layer_test (add hw_layer_test targets and "
                   "hw_layer_test_manifest(name = \"layer_tests\") to rtl/<x>/BUILD.bazel)")


def hw_test_manifests() -> list[str]:
    return sorted(os.environ.get("HW_TEST_MANIFESTS", "").split())


def _runfile(path: str) -> str:
    root = os.path.join(os.environ.get("TEST_SRCDIR", ""), os.environ.get("TEST_WORKSPACE", ""))
    return os.path.join(root, path)


def untested_layers(registry, hw_tests: dict, unit_test_modules) -> list[str]:
    """Layers without tests of their own: a layer with RTL (its first example's `rtl()`)
    needs a Verilator test (hw_layer_test); one without RTL a unit test module
    `<module>_test.py` against an independent reference."""
    problems = []
    for op, cls in sorted(registry.items()):
        ex = cls.examples(np.random.default_rng(0))[0]
        layer = the_layer(single_node_model(op, ex.attrs, ex.params))
        if layer.rtl(list(ex.params)) is not None:
            if not hw_tests.get(op):
                problems.append(MISSING_HW_TEST.format(op=op))
        elif cls.__module__.rsplit(".", 1)[-1] + "_test" not in unit_test_modules:
            problems.append(f"{op} has neither RTL tests nor a unit test module")
    return problems


def _hw_tests() -> dict:
    merged = {}
    for path in hw_test_manifests():
        with open(_runfile(path)) as f:
            for op, tests in json.load(f).items():
                merged.setdefault(op, []).extend(tests)
    return merged


def _unit_test_modules() -> set:
    here = os.path.dirname(os.path.abspath(__file__))
    return {f[:-3] for f in os.listdir(here) if f.endswith("_test.py")}


def test_every_layer_has_tests_of_its_own():
    assert untested_layers(LAYERS, _hw_tests(), _unit_test_modules()) == []


def test_a_layer_without_tests_is_reported(monkeypatch):
    mvau = LAYERS["MVAU"]
    hw = _hw_tests()
    assert hw["MVAU"] and untested_layers({"MVAU": mvau}, hw, set()) == []
    assert untested_layers({"MVAU": mvau}, {}, set(_unit_test_modules())) == [MISSING_HW_TEST.format(op="MVAU")]
    # A layer without RTL needs its unit test module (every layer has RTL now: one
    # stands in with its rtl() hook taken away, back to the base class's None).
    op, cls = "ChannelwiseOp", LAYERS["ChannelwiseOp"]
    monkeypatch.setattr(cls, "rtl", lambda self, params: None)
    module = cls.__module__.rsplit(".", 1)[-1] + "_test"
    assert untested_layers({op: cls}, hw, {module}) == []
    assert untested_layers({op: cls}, hw, set()) == [f"{op} has neither RTL tests nor a unit test module"]


def test_manifests_are_found_by_convention():
    """Every rtl/<x>/ package with a `layer_tests` target is found (none listed by hand)."""
    found = hw_test_manifests()
    assert {"rtl/layer_tests/layer_tests.json", "rtl/streaming_fifo/layer_tests.json",
            "rtl/streams/layer_tests.json"} <= set(found)
    assert all(path.startswith("rtl/") and path.endswith(".json") for path in found)


@pytest.mark.parametrize("op", sorted(LAYERS))
def test_rtl_comes_from_the_declared_library(op):
    """A layer's rtl() instantiates from its class's rtl_library (which qnn_accelerator and
    rtlsim read), and a layer declaring a library has RTL."""
    cls = LAYERS[op]
    ex = cls.examples(np.random.default_rng(0))[0]
    inst = the_layer(single_node_model(op, ex.attrs, ex.params)).rtl(list(ex.params))
    assert (inst.library if inst is not None else "") == cls.rtl_library
    assert cls.rtl_library == "" or cls.rtl_library.startswith("//rtl/")


def test_every_layer_module_registers_a_layer():
    modules = {cls.__module__.rsplit(".", 1)[-1] for cls in LAYERS.values()}
    assert set(layers.layer_module_names()) == modules


@pytest.mark.parametrize("op", sorted(LAYERS))
def test_qonnx_resolves_the_domain_to_the_layer(op):
    node = helper.make_node(op, [], [], domain=DOMAIN)
    assert is_custom_op(DOMAIN, op)
    assert type(getCustomOp(node)) is LAYERS[op]
    assert getattr(layers, op) is LAYERS[op] and op in layers.custom_op and op in layers.__all__
    declared = LAYERS[op].declared_attrs()
    assert set(getCustomOp(node).get_nodeattr_types()) == set(declared)
    assert all(a.doc for a in declared.values()), "every attribute documents itself"


@pytest.mark.parametrize("op,i,ex", CASES)
def test_builds_infers_and_executes_like_its_reference(op, i, ex):
    rng = np.random.default_rng(100 + i)
    model = _model(op, ex).transform(InferShapes()).transform(InferDataTypes())
    layer = getCustomOp(model.graph.node[0])
    assert isinstance(layer, LAYERS[op])
    assert layer.verify_node()
    for j, out in enumerate(model.graph.output):
        assert tuple(model.get_tensor_shape(out.name)) == layer.get_normal_output_shape(j)
        assert model.get_tensor_datatype(out.name) == layer.get_output_datatype(j)
    for _ in range(3):
        xs = random_inputs(model, rng)
        ys = execute_single_node(model, xs)
        ref = layer.execute(*[x.copy() for x in xs], *ex.params)
        ref = (ref,) if isinstance(ref, np.ndarray) else ref
        assert len(ys) == len(ref)
        for j, (y, r) in enumerate(zip(ys, ref)):
            assert y.dtype == np.float32
            assert y.shape == layer.get_normal_output_shape(j)
            np.testing.assert_array_equal(y, r)
            assert np.all(layer.get_output_datatype(j).allowed(y))


@pytest.mark.parametrize("op,i,ex", CASES)
def test_survives_serialization(op, i, ex):
    model = _model(op, ex).transform(InferShapes())
    xs = random_inputs(model, np.random.default_rng(i))
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.onnx")
        model.save(path)
        again = ModelWrapper(path)
    for a, b in zip(execute_single_node(model, xs), execute_single_node(again, xs)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("op,i,ex", CASES)
def test_executes_a_batch_sample_by_sample(op, i, ex):
    model = _model(op, ex)
    layer = the_layer(model)
    xs = random_inputs(model, np.random.default_rng(7 + i), batch=3)
    ctx = {name: x for name, x in zip(model.graph.node[0].input, xs)}
    ctx.update({t: model.get_initializer(t) for t in model.graph.node[0].input[len(xs):]})
    layer.execute_node(ctx, model.graph)
    for s in range(3):
        single = {name: x[s:s + 1] for name, x in zip(model.graph.node[0].input, xs)}
        single.update({t: model.get_initializer(t) for t in model.graph.node[0].input[len(xs):]})
        layer.execute_node(single, model.graph)
        for out in model.graph.node[0].output:
            np.testing.assert_array_equal(ctx[out][s:s + 1], single[out])


def _fold_settings(layer):
    """Every combination of legal fold values (capped), as {attr: value} dicts."""
    folds = layer.fold_attrs()
    choices = [numerics.divisors(layer.attr(f.divides)) for f in folds.values()]
    return [dict(zip(folds, combo)) for combo in itertools.islice(itertools.product(*choices), 64)]


@pytest.mark.parametrize("op,i,ex", CASES)
def test_folded_shapes_multiply_out_and_stream_widths_agree(op, i, ex):
    model = _model(op, ex)
    layer = the_layer(model)
    unfolded_cycles = None
    for setting in _fold_settings(layer):
        _with_attrs(model, **setting)
        layer.check_folding()
        streams = [(layer.get_normal_input_shape(j), layer.get_folded_input_shape(j), layer.input_folds()[j],
                    layer.get_input_datatype(j), layer.get_instream_width(j), layer.get_instream_width_padded(j),
                    layer.get_number_input_values(j))
                   for j in range(len(layer.normal_input_shapes()))]
        streams += [(layer.get_normal_output_shape(j), layer.get_folded_output_shape(j), layer.output_folds()[j],
                     layer.get_output_datatype(j), layer.get_outstream_width(j), layer.get_outstream_width_padded(j),
                     layer.get_number_output_values(j))
                    for j in range(len(layer.normal_output_shapes()))]
        for normal, folded, fold, dt, width, padded, words in streams:
            assert math.prod(folded) == math.prod(normal)
            assert folded[:-2] == normal[:-1] and folded[-1] == fold
            assert folded[-2] * folded[-1] == normal[-1]
            assert width == fold * dt.bitwidth()
            assert padded % 8 == 0 and width <= padded < width + 8
            assert words == math.prod(folded[:-1])
        cycles = layer.cycles()
        assert isinstance(cycles, int) and cycles >= max(s[-1] for s in streams) > 0
        if all(v == 1 for v in setting.values()):
            unfolded_cycles = cycles
    assert unfolded_cycles is not None
    _with_attrs(model, **{k: v for k, v in ex.attrs.items() if k in layer.fold_attrs()})
    assert layer.cycles() <= unfolded_cycles, "folding never makes a layer slower"


@pytest.mark.parametrize("op,i,ex", CASES)
def test_bad_folding_raises_folding_error_naming_the_node(op, i, ex):
    model = _model(op, ex, name=f"my_{op.lower()}")
    layer = the_layer(model)
    assert layer.fold_attrs(), f"{op} declares no fold attribute"
    for name, fold in layer.fold_attrs().items():
        dim = layer.attr(fold.divides)
        bad = next(v for v in range(2, dim + 2) if dim % v)
        original = layer.attr(name)
        layer.set_attr(name, bad)
        with pytest.raises(FoldingError) as e:
            layer.verify_node()
        assert f"my_{op.lower()}" in str(e.value) and name in str(e.value) and fold.divides in str(e.value)
        with pytest.raises(FoldingError):
            layer.get_folded_input_shape(0)
        layer.set_attr(name, original)
    layer.verify_node()


@pytest.mark.parametrize("op,i,ex", CASES)
def test_unknown_and_missing_attributes_are_model_errors(op, i, ex):
    model = _model(op, ex, name="n1")
    layer = the_layer(model)
    node = model.graph.node[0]
    node.attribute.append(helper.make_attribute("Simd", 2))
    with pytest.raises(ModelError, match="Simd"):
        layer.verify_node()
    del node.attribute[-1]
    for name, a in layer.declared_attrs().items():
        if a.required:
            saved = [x for x in node.attribute if x.name == name]
            node.attribute.remove(saved[0])
            with pytest.raises((ModelError, DataTypeError), match=name):
                layer.verify_node()
            node.attribute.append(saved[0])
    layer.verify_node()


@pytest.mark.filterwarnings("ignore:The values of tensor")  # qonnx's own sanitizer notices too
@pytest.mark.parametrize("op,i,ex", CASES)
def test_input_values_outside_the_input_datatype_are_rejected(op, i, ex):
    model = _model(op, ex)
    layer = the_layer(model)
    xs = random_inputs(model, np.random.default_rng(i))
    xs[0].reshape(-1)[0] = layer.get_input_datatype(0).max() + 1
    with pytest.raises(DataTypeError, match="in0"):
        execute_single_node(model, xs)


@pytest.mark.parametrize("op,i,ex", CASES)
def test_input_annotation_must_match_the_layer(op, i, ex):
    model = _model(op, ex)
    dt = the_layer(model).get_input_datatype(0)
    other = "INT16" if dt.name != "INT16" else "INT8"
    model.set_tensor_datatype("in0", numerics.datatype(other))
    with pytest.raises(DataTypeError, match=other):
        model.transform(InferDataTypes())
