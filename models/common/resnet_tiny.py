"""ResNetTiny: a small Brevitas residual network (the skip connections of a ResNet).

Unsigned 8-bit input, 4-bit per-channel weights, 4-bit activations, a convolution stem,
two residual blocks and a max-pooled linear classifier:

  x (1,3,8,8) in [0,1]
  QuantIdentity   uint8, per-tensor float scale (max 1.0 -> 1/255)
  QuantConv2d     3->8, k3, padding 1, BatchNorm2d, QuantReLU 4-bit         -> 8x8 (x)
  block (twice):  y = QuantReLU(BN(QuantConv2d 8->8 k3 p1)(x))
                  y = BN(QuantConv2d 8->8 k3 p1)(y)
                  x = QuantReLU(res_q(y) + res_q(x))
  MaxPool2d(2), flatten                                                     -> 128
  QuantLinear     128->10, 4-bit weights, per-channel scales, no bias
  QuantIdentity   int8 scores (per-tensor float scale)

`res_q` is one signed 4-bit QuantIdentity per block, applied to both the branch and the
skip: the two operands of the add are integers times the same scale, so the sum is an
integer times that scale too (how Brevitas users keep a residual add integer).
"""

from brevitas.nn import QuantConv2d
from brevitas.nn import QuantIdentity
from brevitas.nn import QuantLinear
from brevitas.nn import QuantReLU
from brevitas.quant import Int8ActPerTensorFloatMinMaxInit
from brevitas.quant import Int8WeightPerChannelFloat
from brevitas.quant import Uint8ActPerTensorFloatMaxInit
from torch import nn

INPUT_SHAPE = (3, 8, 8)
NUM_CLASSES = 10
CHANNELS = 8

# Int8WeightPerChannelFloat: narrow signed int, scale = max|w| per output channel;
# bit_width overrides the 8. Activation scales are learned parameters initialized from
# max_val (exported as plain Quant nodes, see mixnet.py).
_WQ = dict(weight_quant=Int8WeightPerChannelFloat, weight_scaling_per_output_channel=True, weight_bit_width=4)
_RELU = dict(act_quant=Uint8ActPerTensorFloatMaxInit, bit_width=4, max_val=2.0)


def _conv(cin, cout):
    return QuantConv2d(cin, cout, kernel_size=3, padding=1, bias=False, **_WQ)


class Block(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = _conv(channels, channels)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu1 = QuantReLU(**_RELU)
        self.conv2 = _conv(channels, channels)
        self.bn2 = nn.BatchNorm2d(channels)
        # Shared by the branch and the skip: one scale at the add.
        self.res_q = QuantIdentity(act_quant=Int8ActPerTensorFloatMinMaxInit, bit_width=4, min_val=-2.0,
                                   max_val=2.0)
        self.relu_out = QuantReLU(**_RELU)

    def forward(self, x):
        y = self.relu1(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu_out(self.res_q(y) + self.res_q(x))


class ResNetTiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = QuantIdentity(act_quant=Uint8ActPerTensorFloatMaxInit, bit_width=8, max_val=1.0)
        self.stem = _conv(INPUT_SHAPE[0], CHANNELS)
        self.bn0 = nn.BatchNorm2d(CHANNELS)
        self.relu0 = QuantReLU(**_RELU)
        self.block1 = Block(CHANNELS)
        self.block2 = Block(CHANNELS)
        self.pool = nn.MaxPool2d(2)
        side = INPUT_SHAPE[1] // 2
        self.fc = QuantLinear(CHANNELS * side * side, NUM_CLASSES, bias=False, **_WQ)
        # Quantized scores: the classifier's thresholds run in hardware and software only
        # scales the 8-bit levels, one float multiply, as the export does (bit-exact).
        self.out = QuantIdentity(act_quant=Int8ActPerTensorFloatMinMaxInit, bit_width=8, min_val=-4.0, max_val=4.0)

    def forward(self, x):
        x = self.relu0(self.bn0(self.stem(self.inp(x))))
        x = self.block2(self.block1(x))
        x = self.pool(x)
        return self.out(self.fc(x.reshape(x.shape[0], -1)))


Net = ResNetTiny
