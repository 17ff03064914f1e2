"""Identity against plain numpy: the output equals the input."""

from __future__ import annotations

import numpy as np

from qnn2fpga.layers.testing import execute_single_node, random_inputs, single_node_model


def test_identity_passes_values_through():
    model = single_node_model("Identity", dict(NumChannels=8, PE=2, dataType="INT4", numInputVectors=[3]))
    (x,) = random_inputs(model, np.random.default_rng(0))
    (y,) = execute_single_node(model, [x])
    assert np.array_equal(y, x)
