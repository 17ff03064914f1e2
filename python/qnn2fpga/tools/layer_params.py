"""Writes one hardware node's parameters (weights, thresholds, ...) as a .npz, named by
the layer's param_names(), for generating and synthesizing that exact layer:

    layer_params --model=tfc_w1a1_hw.onnx --node=MVAU_0 --out=MVAU_0.npz
"""

from __future__ import annotations

import zipfile

import numpy as np
from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("model", None, "compiled model (hardware layers)", required=True)
flags.DEFINE_string("node", None, "node name", required=True)
flags.DEFINE_string("out", None, "output .npz", required=True)


def main(argv):
    del argv
    from qnn2fpga import errors, flow  # noqa: PLC0415
    from qnn2fpga.layers.registry import get_layer  # noqa: PLC0415

    model = flow.load_model(FLAGS.model)
    node = model.get_node_from_name(FLAGS.node)
    if node is None:
        raise errors.ModelError(f"model '{FLAGS.model}'", f"has no node '{FLAGS.node}'", "name a hardware node")
    layer = get_layer(node)
    n_streams = len(layer.normal_input_shapes())
    params = {name: model.get_initializer(t) for name, t in zip(layer.param_names(), node.input[n_streams:])}
    # np.savez stamps the current time into the archive; a fixed date keeps the output
    # byte-identical between builds.
    with zipfile.ZipFile(FLAGS.out, "w") as zf:
        for name in sorted(params):
            with zf.open(zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0)), "w") as f:
                np.lib.format.write_array(f, np.asarray(params[name]), allow_pickle=False)


if __name__ == "__main__":
    app.run(main)
