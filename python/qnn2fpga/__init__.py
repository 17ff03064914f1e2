"""qnn2fpga: compiles quantized neural networks (QONNX) into FPGA dataflow accelerators."""

__version__ = "0.1.0"
