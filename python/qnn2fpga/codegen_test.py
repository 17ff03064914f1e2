"""Generated wrappers and memory files: deterministic, headed, bound to the layer."""

import numpy as np

from qnn2fpga import codegen
from qnn2fpga.layers import LAYERS, testing

def _mvau():
    rng = np.random.default_rng(0)
    attrs = dict(MW=8, MH=4, SIMD=2, PE=2, inputDataType="UINT2", weightDataType="INT2", outputDataType="UINT2",
                 accDataType="INT8")

    probe = LAYERS["MVAU"](LAYERS["MVAU"].make_node([], [], name="MVAU_0", **attrs))
    params = probe.random_params(rng)
    model = testing.single_node_model("MVAU", attrs, params, name="MVAU_0")
    return testing.the_layer(model), params


TEMPLATE_TEXT = ("// {{ header }}\nmodule {{ top }}; {{ module }} "
                 "#({% for k, v in params %}.{{ k }}({{ v }}){{ ',' if not loop.last }}{% endfor %}) u(); "
                 "// {{ in_ports[0].width }} {{ out_ports[0].width }}\nendmodule\n")


def test_wrapper_is_deterministic_and_binds_memories():
    layer, params = _mvau()
    a = codegen.generate(layer, params, "mvau_0", TEMPLATE_TEXT, "mem")
    b = codegen.generate(layer, params, "mvau_0", TEMPLATE_TEXT, "mem")
    assert a.wrapper == b.wrapper and a.memory_files == b.memory_files
    assert a.wrapper.startswith("// generated from layer MVAU_0 (MVAU); do not edit\n")
    assert '.WEIGHT_FILE("mem/mvau_0_weight_file.hex")' in a.wrapper
    assert ".SIMD(2)" in a.wrapper and "// 4 4" in a.wrapper  # 2 x UINT2 in, 2 x UINT2 out
    assert len(a.memory_files["mvau_0_weight_file.hex"].split()) == (8 // 2) * (4 // 2)
