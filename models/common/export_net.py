"""Exports a small hand-written Brevitas network of this folder to QONNX with seeded,
non-trivial parameters.

  export_net.py --net resnet_tiny --seed 0 --out resnet_tiny.onnx [--dynamo]

`--net` names a module here that defines `Net` and `INPUT_SHAPE` (without the batch
axis). Weights come from the seeded default initialization; activation scales (but the
input quantizer's) and BatchNorm parameters are randomized (export_lib); the export is
checked against PyTorch with qonnx execute_onnx. Runs in @qnn_torch_python.
"""

import argparse
import importlib

import torch

import export_lib

NUM_CHECK_INPUTS = 4
NUM_CALIB_INPUTS = 16


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--net", required=True, help="module defining Net and INPUT_SHAPE")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dynamo", action="store_true", help="torch's dynamo exporter (default: classic)")
    p.add_argument("--out", required=True, help="output .onnx (dynamo: also OUT.data)")
    a = p.parse_args()

    net = importlib.import_module(a.net)
    export_lib.seed_everything(a.seed)
    model = net.Net().eval()
    gen = torch.Generator().manual_seed(a.seed + 1)
    shape = (1,) + tuple(net.INPUT_SHAPE)
    calib = torch.rand((NUM_CALIB_INPUTS,) + tuple(net.INPUT_SHAPE), generator=gen)
    scales = export_lib.randomize_act_scales(model, gen, skip=("inp.",))
    norms = export_lib.randomize_norms(model, calib, gen)
    inputs = [torch.rand(shape, generator=gen) for _ in range(NUM_CHECK_INPUTS)]

    export_lib.export(model, inputs[0], a.out, a.dynamo)
    worst = export_lib.check_against_torch(model, a.out, inputs)
    print("randomized %d norms, activation scales %s" % (norms, scales))
    print(export_lib.describe(model, a.out, inputs + [calib[i : i + 1] for i in range(len(calib))]))
    print("qonnx == torch (max abs diff %.3g)" % worst)


if __name__ == "__main__":
    main()
