#!/bin/sh
echo "qnn2fpga: 'bazel coverage' is not supported offline; measure Python coverage with coverage.py" >&2
exit 1
