"""Conv1dNet: a small Brevitas 1-D convolutional network (radio signal / keyword
spotting style: a few channels of a long sequence).

Signed 8-bit input, 4-bit per-channel weights, 4-bit ReLU activations with learned
per-tensor scales, 1-D convolutions with padding and stride, 1-D max pooling and a
bias-less linear classifier:

  x (1,2,64) in [0,1] (I/Q-like channels)
  QuantIdentity   int8, per-tensor float scale (min -1.0, max 1.0)
  QuantConv1d     2->16, k5, padding 2, BatchNorm1d, QuantReLU 4-bit, MaxPool1d(2) -> 32
  QuantConv1d     16->16, k3, stride 2, padding 1, BatchNorm1d, QuantReLU 4-bit -> 16
  QuantConv1d     16->16, k3, no padding, BatchNorm1d, QuantReLU 4-bit           -> 14
  MaxPool1d(2), flatten                                                          -> 112
  QuantLinear     112->10, 4-bit weights, per-channel scales, no bias
  QuantIdentity   int8 scores (per-tensor float scale)
"""

from brevitas.nn import QuantConv1d
from brevitas.nn import QuantIdentity
from brevitas.nn import QuantLinear
from brevitas.nn import QuantReLU
from brevitas.quant import Int8ActPerTensorFloatMinMaxInit
from brevitas.quant import Int8WeightPerChannelFloat
from brevitas.quant import Uint8ActPerTensorFloatMaxInit
from torch import nn

INPUT_SHAPE = (2, 64)
NUM_CLASSES = 10

# Weight and activation quantizers as in mixnet.py: narrow signed per-channel weights
# (bit_width overrides the 8), learned per-tensor activation scales initialized from max_val.
_WQ = dict(weight_quant=Int8WeightPerChannelFloat, weight_scaling_per_output_channel=True, weight_bit_width=4)
_RELU = dict(act_quant=Uint8ActPerTensorFloatMaxInit, bit_width=4, max_val=2.0)


class Conv1dNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = QuantIdentity(act_quant=Int8ActPerTensorFloatMinMaxInit, bit_width=8, min_val=-1.0, max_val=1.0)
        self.conv1 = QuantConv1d(2, 16, kernel_size=5, padding=2, bias=False, **_WQ)
        self.bn1 = nn.BatchNorm1d(16)
        self.relu1 = QuantReLU(**_RELU)
        self.pool1 = nn.MaxPool1d(2)
        self.conv2 = QuantConv1d(16, 16, kernel_size=3, stride=2, padding=1, bias=False, **_WQ)
        self.bn2 = nn.BatchNorm1d(16)
        self.relu2 = QuantReLU(**_RELU)
        self.conv3 = QuantConv1d(16, 16, kernel_size=3, padding=0, bias=False, **_WQ)
        self.bn3 = nn.BatchNorm1d(16)
        self.relu3 = QuantReLU(**_RELU)
        self.pool3 = nn.MaxPool1d(2)
        self.fc = QuantLinear(16 * 7, NUM_CLASSES, bias=False, **_WQ)
        # Quantized scores: the classifier's thresholds run in hardware and software only
        # scales the 8-bit levels, one float multiply, as the export does (bit-exact).
        self.out = QuantIdentity(act_quant=Int8ActPerTensorFloatMinMaxInit, bit_width=8, min_val=-4.0, max_val=4.0)

    def forward(self, x):
        x = self.inp(x)
        x = self.pool1(self.relu1(self.bn1(self.conv1(x))))
        x = self.relu2(self.bn2(self.conv2(x)))
        x = self.pool3(self.relu3(self.bn3(self.conv3(x))))
        return self.out(self.fc(x.reshape(x.shape[0], -1)))


Net = Conv1dNet
