"""MixNet: a small hand-written Brevitas CNN that mixes what the bnn_pynq models lack.

Unsigned 8-bit input, 3- and 4-bit weights with per-output-channel float scales, learned
per-tensor float ReLU scales, a convolution without padding and one with, max pooling and
a bias-less classifier:

  x (1,3,16,16) in [0,1]
  QuantIdentity   uint8, per-tensor float scale (max 1.0 -> 1/255)
  QuantConv2d     3->16, k3, no padding, 4-bit weights, per-channel scales -> 14x14
  BatchNorm2d, QuantReLU 4-bit, MaxPool2d(2)                             -> 7x7
  QuantConv2d     16->32, k3, padding 1, 3-bit weights, per-channel scales -> 7x7
  BatchNorm2d, QuantReLU 4-bit, flatten                                   -> 1568
  QuantLinear     1568->10, 4-bit weights, per-channel scales, no bias
"""

from brevitas.nn import QuantConv2d
from brevitas.nn import QuantIdentity
from brevitas.nn import QuantLinear
from brevitas.nn import QuantReLU
from brevitas.quant import Int8WeightPerChannelFloat
from brevitas.quant import Uint8ActPerTensorFloatMaxInit
from torch import nn

INPUT_SHAPE = (3, 16, 16)
NUM_CLASSES = 10


class MixNet(nn.Module):
    def __init__(self):
        super().__init__()
        # Int8WeightPerChannelFloat: narrow signed int, scale = max|w| per output channel
        # (from the weights, not learned); bit_width overrides the 8.
        wq = dict(weight_quant=Int8WeightPerChannelFloat, weight_scaling_per_output_channel=True)
        # Learned per-tensor scale initialized from max_val (ParameterScaling): exports as a
        # plain Quant node. The Uint8ActPerTensorFloat default would collect runtime
        # statistics during training steps, which an untrained model never takes.
        aq = dict(act_quant=Uint8ActPerTensorFloatMaxInit)
        self.inp = QuantIdentity(bit_width=8, max_val=1.0, **aq)
        self.conv1 = QuantConv2d(3, 16, kernel_size=3, padding=0, bias=False, weight_bit_width=4, **wq)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu1 = QuantReLU(bit_width=4, max_val=2.0, **aq)
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = QuantConv2d(16, 32, kernel_size=3, padding=1, bias=False, weight_bit_width=3, **wq)
        self.bn2 = nn.BatchNorm2d(32)
        self.relu2 = QuantReLU(bit_width=4, max_val=2.0, **aq)
        self.fc = QuantLinear(32 * 7 * 7, NUM_CLASSES, bias=False, weight_bit_width=4, **wq)

    def forward(self, x):
        x = self.inp(x)
        x = self.pool1(self.relu1(self.bn1(self.conv1(x))))
        x = self.relu2(self.bn2(self.conv2(x)))
        x = x.reshape(x.shape[0], -1)
        return self.fc(x)


Net = MixNet  # the class export_net.py builds
