"""Exports a brevitas_examples bnn_pynq network (TFC/SFC/LFC/CNV) to QONNX.

  export_bnn_pynq.py --model tfc --weight_bits 1 --act_bits 1 --seed 0 --out tfc_w1a1.onnx [--dynamo]

The network is built untrained (pretrained=False: the checkpoints would be downloaded),
its BatchNorm/TensorNorm parameters are randomized from the seed (export_lib), and the
export is checked against PyTorch with qonnx execute_onnx. Runs in @qnn_torch_python.
"""

import argparse

import torch

import export_lib

# (channels, height, width) of one input image; values in [0, 1].
INPUT_SHAPES = {
    "tfc": (1, 28, 28),
    "sfc": (1, 28, 28),
    "lfc": (1, 28, 28),
    "cnv": (3, 32, 32),
}
NUM_CHECK_INPUTS = 4
NUM_CALIB_INPUTS = 16


def build(model, weight_bits, act_bits):
    """model_with_cfg('<model>_<w>w<a>a', pretrained=False).

    brevitas_examples has no configuration for every combination (LFC: only 1w1a and
    1w2a). A missing one is derived from the `<model>_1w<a>a` configuration with
    WEIGHT_BIT_WIDTH replaced, which is exactly how the shipped 2w2a configurations differ
    from the 1w2a ones.
    """
    from brevitas_examples.bnn_pynq import models as bnn

    name = "%s_%dw%da" % (model, weight_bits, act_bits)
    try:
        bnn.get_model_cfg(name)
    except AssertionError:
        cfg = bnn.get_model_cfg("%s_1w%da" % (model, act_bits))
        cfg.set("QUANT", "WEIGHT_BIT_WIDTH", str(weight_bits))
        return bnn.model_impl[cfg.get("MODEL", "ARCH")](cfg)
    net, _ = bnn.model_with_cfg(name, pretrained=False)
    return net


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True, choices=sorted(INPUT_SHAPES))
    p.add_argument("--weight_bits", type=int, required=True)
    p.add_argument("--act_bits", type=int, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dynamo", action="store_true", help="torch's dynamo exporter (default: classic)")
    p.add_argument("--out", required=True, help="output .onnx (dynamo: also OUT.data)")
    a = p.parse_args()

    export_lib.seed_everything(a.seed)
    model = build(a.model, a.weight_bits, a.act_bits).eval()
    gen = torch.Generator().manual_seed(a.seed + 1)
    shape = (1,) + INPUT_SHAPES[a.model]
    calib = torch.rand((NUM_CALIB_INPUTS,) + INPUT_SHAPES[a.model], generator=gen)
    scales = export_lib.randomize_act_scales(model, gen)
    norms = export_lib.randomize_norms(model, calib, gen)
    inputs = [torch.rand(shape, generator=gen) for _ in range(NUM_CHECK_INPUTS)]

    export_lib.export(model, inputs[0], a.out, a.dynamo)
    worst = export_lib.check_against_torch(model, a.out, inputs)
    print("randomized %d norms, %d activation scales" % (norms, len(scales)))
    print(export_lib.describe(model, a.out, inputs + [calib[i : i + 1] for i in range(len(calib))]))
    print("qonnx == torch (max abs diff %.3g)" % worst)


if __name__ == "__main__":
    main()
