"""qnn2fpga: compiles quantized neural networks (QONNX) into FPGA dataflow accelerators.

The version is the one in python/pyproject.toml (`qnn2fpga --version`)."""
