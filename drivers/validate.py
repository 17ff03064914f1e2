"""Accuracy of the accelerator on a dataset in .npy files (on the board).

    python3 validate.py --images=test_images.npy --labels=test_labels.npy [--batchsize=100]

images: the network's inputs, (N, *the export's input shape[1:]) (raw pixels when the
build took --input_datatype); labels: (N,) integer classes. The predicted class is the
argmax of the network's output (or the output itself when the accelerator ends in a
top-1 label select). Prints `accuracy: K/N = P %`.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from driver_base import Accelerator, DriverError, run_cli  # noqa: E402


def accuracy(accel, images: np.ndarray, labels: np.ndarray) -> tuple[int, int]:
    """(correct, total) over the dataset."""
    if len(images) != len(labels):
        raise DriverError("the dataset", f"has {len(images)} images but {len(labels)} labels", "pair them up")
    y = accel.execute(images)
    flat = y.reshape(len(y), -1)
    pred = flat[:, 0] if flat.shape[1] == 1 else flat.argmax(axis=1)
    return int((pred.astype(np.int64) == labels.reshape(-1).astype(np.int64)).sum()), len(labels)


def main(argv=None, transport=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", required=True)
    p.add_argument("--labels", required=True)
    p.add_argument("--batchsize", type=int, default=100)
    p.add_argument("--bitfile", default=None)
    args = p.parse_args(argv)
    return run_cli(lambda: _run(args, transport))


def _run(args, transport) -> int:
    for f in (args.images, args.labels):
        if not pathlib.Path(f).is_file():
            raise DriverError(f"'{f}'", "does not exist", "give .npy files of images and labels")
    accel = Accelerator.from_package(str(HERE), transport=transport, batch_size=args.batchsize,
                                     bitfile=args.bitfile)
    ok, n = accuracy(accel, np.load(args.images, allow_pickle=False), np.load(args.labels, allow_pickle=False))
    print(f"accuracy: {ok}/{n} = {100.0 * ok / max(n, 1):.2f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
