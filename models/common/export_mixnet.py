"""Exports MixNet (mixnet.py) to QONNX with seeded, non-trivial parameters.

  export_mixnet.py --seed 0 --out mixnet.onnx [--dynamo]

Weights come from the seeded default initialization; the ReLU clipping values and the
BatchNorm parameters are randomized (export_lib); the export is checked against PyTorch
with qonnx execute_onnx. Runs in @qnn_torch_python.
"""

import argparse

import torch

import export_lib
import mixnet

NUM_CHECK_INPUTS = 4
NUM_CALIB_INPUTS = 16


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dynamo", action="store_true", help="torch's dynamo exporter (default: classic)")
    p.add_argument("--out", required=True, help="output .onnx (dynamo: also OUT.data)")
    a = p.parse_args()

    export_lib.seed_everything(a.seed)
    model = mixnet.MixNet().eval()
    gen = torch.Generator().manual_seed(a.seed + 1)
    shape = (1,) + mixnet.INPUT_SHAPE
    calib = torch.rand((NUM_CALIB_INPUTS,) + mixnet.INPUT_SHAPE, generator=gen)
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
