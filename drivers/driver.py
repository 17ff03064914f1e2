"""Runs the accelerator of this deployment package on a PYNQ board.

    python3 driver.py --exec_mode=execute --inputfile=../example_input.npy --outputfile=output.npy
    python3 driver.py --exec_mode=throughput_test --batchsize=1000
    python3 driver.py --exec_mode=execute --runtime_weight_dir=runtime_weights/ ...

execute: the network's inputs (the export's input shape; raw pixels when the build took
--input_datatype) in, the network's outputs out (--hw: the accelerator alone, in its
io_shape_dict.json shapes). throughput_test: one batch of --batchsize frames, timed,
written to nw_metrics.txt. Errors are one line and exit status 2.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from driver_base import Accelerator, DriverError, run_cli  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--exec_mode", choices=("execute", "throughput_test"), default="execute")
    p.add_argument("--batchsize", type=int, default=1, help="frames per DMA transfer")
    p.add_argument("--bitfile", default=None, help="default: ../bitfile/<the package's bitfile>")
    p.add_argument("--inputfile", default="input.npy")
    p.add_argument("--outputfile", default="output.npy")
    p.add_argument("--runtime_weight_dir", default=None, help="load these <layer>.dat files first")
    p.add_argument("--hw", action="store_true", help="execute the accelerator alone (hardware shapes)")
    args = p.parse_args(argv)
    return run_cli(lambda: _run(args))


def _run(args) -> int:
    accel = Accelerator.from_package(str(HERE), batch_size=args.batchsize, bitfile=args.bitfile)
    if args.runtime_weight_dir:
        accel.load_runtime_weights(args.runtime_weight_dir)
    if args.exec_mode == "throughput_test":
        metrics = accel.throughput_test()
        text = "".join(f"{k}: {v}\n" for k, v in metrics.items())
        (HERE / "nw_metrics.txt").write_text(text)
        print(text, end="")
        return 0
    path = pathlib.Path(args.inputfile)
    if not path.is_file():
        raise DriverError(f"--inputfile '{path}'", "does not exist", "give a .npy file of inputs")
    x = np.load(path, allow_pickle=False)
    y = accel.execute_hw(x) if args.hw else accel.execute(x)
    np.save(args.outputfile, y)
    print(f"wrote {args.outputfile} ({len(y)} outputs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
