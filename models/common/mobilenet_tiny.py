"""MobileNetTiny: a small Brevitas depthwise-separable network (the MobileNet block).

Unsigned 8-bit input, an 8-bit first layer, then 4-bit per-channel weights and 4-bit
activations; two depthwise-separable blocks, global average pooling and a linear
classifier:

  x (1,3,16,16) in [0,1]
  QuantIdentity   uint8, per-tensor float scale (max 1.0 -> 1/255)
  QuantConv2d     3->16, k3, stride 2, padding 1, 8-bit weights, BN, QuantReLU 4-bit  -> 8x8
  block 1:        depthwise QuantConv2d 16->16 (groups 16) k3 p1, BN, QuantReLU 4-bit
                  pointwise QuantConv2d 16->32 k1, BN, QuantReLU 4-bit                -> 8x8
  block 2:        depthwise QuantConv2d 32->32 (groups 32) k3 stride 2 p1, BN, ReLU
                  pointwise QuantConv2d 32->32 k1, BN, QuantReLU 4-bit                -> 4x4
  AdaptiveAvgPool2d(1) -> QuantIdentity uint4 (the mean requantized), flatten        -> 32
  QuantLinear     32->10, 4-bit weights, per-channel scales, no bias
  QuantIdentity   int8 scores (per-tensor float scale)
"""

from brevitas.nn import QuantConv2d
from brevitas.nn import QuantIdentity
from brevitas.nn import QuantLinear
from brevitas.nn import QuantReLU
from brevitas.quant import Int8ActPerTensorFloatMinMaxInit
from brevitas.quant import Int8WeightPerChannelFloat
from brevitas.quant import Uint8ActPerTensorFloatMaxInit
from torch import nn

INPUT_SHAPE = (3, 16, 16)
NUM_CLASSES = 10

# Narrow signed per-output-channel weights (bit_width overrides the 8) and learned
# per-tensor activation scales initialized from max_val, as in mixnet.py.
_WQ = dict(weight_quant=Int8WeightPerChannelFloat, weight_scaling_per_output_channel=True, weight_bit_width=4)
_RELU = dict(act_quant=Uint8ActPerTensorFloatMaxInit, bit_width=4, max_val=2.0)


def _conv_bn_relu(cin, cout, kernel, stride=1, groups=1, weight_bits=4):
    wq = dict(_WQ, weight_bit_width=weight_bits)
    return nn.Sequential(
        QuantConv2d(cin, cout, kernel_size=kernel, stride=stride, padding=kernel // 2, groups=groups, bias=False,
                    **wq),
        nn.BatchNorm2d(cout),
        QuantReLU(**_RELU),
    )


def _separable(cin, cout, stride):
    """Depthwise 3x3 (one filter per channel) then pointwise 1x1."""
    return nn.Sequential(_conv_bn_relu(cin, cin, 3, stride=stride, groups=cin), _conv_bn_relu(cin, cout, 1))


class MobileNetTiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = QuantIdentity(act_quant=Uint8ActPerTensorFloatMaxInit, bit_width=8, max_val=1.0)
        self.stem = _conv_bn_relu(INPUT_SHAPE[0], 16, 3, stride=2, weight_bits=8)
        self.block1 = _separable(16, 32, stride=1)
        self.block2 = _separable(32, 32, stride=2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.pool_q = QuantIdentity(act_quant=Uint8ActPerTensorFloatMaxInit, bit_width=4, max_val=2.0)
        self.fc = QuantLinear(32, NUM_CLASSES, bias=False, **_WQ)
        # Quantized scores: the classifier's thresholds run in hardware, software only
        # scales the 8-bit levels (one float multiply, as the export does).
        self.out = QuantIdentity(act_quant=Int8ActPerTensorFloatMinMaxInit, bit_width=8, min_val=-4.0, max_val=4.0)

    def forward(self, x):
        x = self.block2(self.block1(self.stem(self.inp(x))))
        x = self.pool_q(self.pool(x))
        return self.out(self.fc(x.reshape(x.shape[0], -1)))


Net = MobileNetTiny
