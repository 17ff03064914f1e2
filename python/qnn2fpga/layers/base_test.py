"""The HwLayer machinery: registration rules, typed attributes, qonnx integration."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.infer_datatypes import InferDataTypes

from qnn2fpga.errors import DataTypeError, ModelError, UnsupportedOpError
from qnn2fpga.layers import DOMAIN, LAYERS, get_layer, is_hw_layer
from qnn2fpga.layers.attrs import DTypeAttr, FoldAttr, IntAttr, StrAttr
from qnn2fpga.layers.base import Example, HwLayer
from qnn2fpga.layers.registry import register_layer
from qnn2fpga.layers.testing import execute_single_node, single_node_model, the_layer


class _Complete(HwLayer):
    """Defines every hook; subclasses below each break one registration rule."""

    C = IntAttr(doc="channels")
    PE = FoldAttr(divides="C")
    dt = DTypeAttr(doc="datatype")

    def normal_input_shapes(self):
        return [(1, self.C)]

    def normal_output_shapes(self):
        return [(1, self.C)]

    def input_datatypes(self):
        return [self.dt]

    def output_datatypes(self):
        return [self.dt]

    def input_folds(self):
        return [self.PE]

    def output_folds(self):
        return [self.PE]

    def cycles(self):
        return self.stream_bound_cycles()

    def execute(self, x):
        return x

    def resource_features(self):
        return {"one": 1}

    @classmethod
    def examples(cls, rng):
        return [Example(dict(C=4, dt="INT4"))]


def test_a_layer_missing_a_hook_is_refused_at_registration():
    class NoCycles(HwLayer):
        def normal_input_shapes(self):
            return []

    with pytest.raises(TypeError, match=r"does not define the hook\(s\).*'cycles'.*'examples'.*'execute'"):
        register_layer("NoCycles")(NoCycles)
    assert "NoCycles" not in LAYERS


def test_registration_rules():
    class Misnamed(_Complete):
        pass

    with pytest.raises(TypeError, match="must be named 'Other'"):
        register_layer("Other")(Misnamed)

    class MVAU(_Complete):  # shadows the real one on purpose
        pass

    with pytest.raises(TypeError, match="already registered"):
        register_layer("MVAU")(MVAU)

    class BadFold(_Complete):
        SIMD = FoldAttr(divides="Width")

    with pytest.raises(TypeError, match="SIMD divides 'Width'"):
        register_layer("BadFold")(BadFold)

    with pytest.raises(TypeError, match="not a HwLayer"):
        register_layer("dict")(dict)
    assert not {"Misnamed", "Other", "BadFold", "dict"} & set(LAYERS)


def _thresholding(**kw):
    attrs = dict(NumChannels=4, inputDataType="INT4", outputDataType="UINT2")
    attrs.update(kw)
    return single_node_model("Thresholding", attrs, (np.zeros((4, 3), np.float32),), name="th")


def test_typed_attributes_read_write_and_defaults():
    layer = the_layer(_thresholding())
    assert layer.NumChannels == 4 and layer.PE == 1 and layer.numInputVectors == [1]
    assert layer.inputDataType == DataType["INT4"] and layer.get_nodeattr("inputDataType") == "INT4"
    assert type(layer).PE.divides == "NumChannels" and type(layer).PE.default == 1
    layer.PE = 2
    layer.outputDataType = DataType["UINT3"]
    assert layer.get_nodeattr("PE") == 2 and layer.get_nodeattr("outputDataType") == "UINT3"
    assert layer.fold_attrs() == {"PE": type(layer).PE}
    types = layer.get_nodeattr_types()
    assert types["NumChannels"] == ("i", True, 0) and types["PE"] == ("i", False, 1)
    assert types["ram_style"] == ("s", False, "auto", {"auto", "block", "distributed", "ultra"})
    with pytest.raises(ValueError):
        layer.set_nodeattr("ram_style", "flipflops")  # qonnx enforces the allowed set too
    with pytest.raises(ModelError, match="unknown attribute 'pe'"):
        layer.set_attr("pe", 2)


def test_optional_datatype_reads_as_none():
    layer = the_layer(single_node_model("LabelSelect", dict(Labels=300, K=1, inputDataType="INT8")))
    assert layer.outputDataType is None
    assert layer.get_output_datatype() == DataType["UINT9"]


def test_attribute_with_the_wrong_onnx_type_is_a_model_error():
    model = _thresholding()
    node = model.graph.node[0]
    for a in node.attribute:
        if a.name == "NumChannels":
            node.attribute.remove(a)
            break
    node.attribute.append(helper.make_attribute("NumChannels", 4.0))
    with pytest.raises(ModelError, match="NumChannels has ONNX type FLOAT, expected INT"):
        the_layer(model).verify_node()


def test_errors_name_unnamed_nodes_by_output():
    node = helper.make_node("Thresholding", ["x", "t"], ["act_out"], domain=DOMAIN)
    assert get_layer(node).where == "unnamed Thresholding node (output 'act_out')"
    with pytest.raises(ModelError, match="unnamed Thresholding node \\(output 'act_out'\\).*NumChannels"):
        get_layer(node).verify_node()


def test_get_layer_and_is_hw_layer():
    node = helper.make_node("MVAU", [], [], domain=DOMAIN, name="m")
    assert is_hw_layer(node) and type(get_layer(node)) is LAYERS["MVAU"]
    assert type(getCustomOp(node)) is LAYERS["MVAU"]
    for foreign in (helper.make_node("MatMul", [], [], name="mm"), helper.make_node("Nope", [], [], domain=DOMAIN)):
        assert not is_hw_layer(foreign)
        with pytest.raises(UnsupportedOpError, match="not a registered hardware layer"):
            get_layer(foreign)


def test_unannotated_inputs_are_accepted_and_outputs_annotated():
    model = _thresholding()
    model.set_tensor_datatype("in0", DataType["FLOAT32"])
    model = model.transform(InferDataTypes())
    assert model.get_tensor_datatype("out0") == DataType["UINT2"]


def test_results_not_exact_in_float32_raise_unless_the_container_is_integer():
    # 4097*4097 + 2*4097 = 16793603: odd and beyond 2**24, so float32 cannot hold it.
    attrs = dict(MW=2, MH=1, inputDataType="UINT13", weightDataType="UINT13", outputDataType="UINT27",
                 accDataType="UINT27", noActivation=1)
    x = np.array([[4097, 4097]], np.float32)
    model = single_node_model("MVAU", attrs, (np.array([[4097], [2]], np.float32),), name="big")
    with pytest.raises(DataTypeError, match="MVAU node 'big'.*2\\*\\*24"):
        execute_single_node(model, [x])
    model.graph.output[0].type.tensor_type.elem_type = TensorProto.INT64
    (y,) = execute_single_node(model, [x])
    assert y.dtype == np.int64 and y[0, 0] == 16793603


def test_make_node_sets_domain_and_typed_values():
    node = LAYERS["FMPadding"].make_node(["a"], ["b"], name="p", Padding=[1, 1, 1, 1], ImgDim=[2, 2],
                                         NumChannels=3, inputDataType=DataType["INT2"])
    assert node.domain == DOMAIN and node.op_type == "FMPadding"
    layer = get_layer(node)
    assert layer.inputDataType == DataType["INT2"] and layer.padValue == 0
    assert layer.verify_node()


def test_a_not_implemented_value_must_be_an_allowed_one():
    assert StrAttr("a", allowed=("a", "b"), not_implemented={"b": "why"}).unimplemented_reason("b") == "why"
    with pytest.raises(TypeError, match=r"not_implemented values \['c'\]"):
        StrAttr("a", allowed=("a", "b"), not_implemented={"c": "why"})


def _example_layer(op, i=0):
    ex = LAYERS[op].examples(np.random.default_rng(0))[i]
    return the_layer(single_node_model(op, ex.attrs, ex.params))


def test_random_params_has_one_signature_and_refuses_unknown_variants():
    rng = np.random.default_rng(1)
    for op in sorted(LAYERS):
        layer = _example_layer(op)
        params = layer.random_params(rng, "")
        assert len(params) == len(layer.param_names()), op
        with pytest.raises(ModelError, match="unknown parameter variant 'nonsense'"):
            layer.random_params(rng, "nonsense")
    shared = _example_layer("Thresholding").random_params(rng, "shared_thresholds")
    assert shared[0].shape[0] == 1
    assert _example_layer("ChannelwiseOp").random_params(rng, "shared")[0].shape == (1,)


def test_layers_declare_which_outputs_are_activation_levels():
    examples = {op: LAYERS[op].examples(np.random.default_rng(0)) for op in LAYERS}
    emitting = {op for op, exs in examples.items()
                if any(_example_layer(op, i).emits_activation_levels() for i in range(len(exs)))}
    assert emitting == {"Thresholding", "MVAU", "VVAU"}
    mvau = examples["MVAU"]
    assert [_example_layer("MVAU", i).emits_activation_levels() for i in range(len(mvau))] == \
        [not ex.attrs.get("noActivation", 0) for ex in mvau]
