"""Every example model, compiled step by step, computes what its export computes.

For each step (import, to_integer, streamline, lower, to_hw) the graph runs on random
and real-looking inputs next to qonnx execution of the original export: every
activation quantizer's integer levels must be identical, the final output must agree
to 1e-5 relative with the same argmax. The compiled graph must convert completely
(hardware layers between a small software head and tail), also with a label select.
"""

from __future__ import annotations

import gzip
import os

import numpy as np

from qnn2fpga import flow, report, verify
from qnn2fpga.graph import real_inputs

FASHION_MNIST = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"


def _fashion_mnist(n: int) -> np.ndarray:
    """The first `n` Fashion-MNIST test images in [0, 1] (Debian's dataset-fashion-mnist)."""
    with gzip.open(FASHION_MNIST) as f:
        data = np.frombuffer(f.read(), np.uint8, offset=16)
    return data[: n * 784].reshape(n, 1, 1, 28, 28).astype(np.float32) / 255.0


def _smooth_images(rng, n: int, shape) -> np.ndarray:
    """Images with natural-looking low-frequency structure: upsampled coarse noise in [0, 1]."""
    _, c, h, w = shape
    coarse = rng.random((n, 1, c, 4, 4))
    img = coarse.repeat(-(-h // 4), axis=3).repeat(-(-w // 4), axis=4)[..., :h, :w]
    return np.clip(img + 0.05 * rng.normal(size=img.shape), 0, 1).astype(np.float32)


def model_inputs(model, random_n: int, real_n: int) -> list[np.ndarray]:
    shape = model.get_tensor_shape(real_inputs(model)[0])
    rng = np.random.default_rng(0)
    xs = [rng.random(shape).astype(np.float32) for _ in range(random_n)]
    if tuple(shape[1:]) == (1, 28, 28):
        assert os.path.exists(FASHION_MNIST), "install dataset-fashion-mnist (./bazelw does)"
        xs += list(_fashion_mnist(real_n))
    else:
        xs += list(_smooth_images(rng, real_n, shape))
    return xs


def test_every_step_is_equivalent_to_the_export(model_file, request):
    original = flow.load_model(model_file)
    inputs = model_inputs(original, request.config.getoption("random_inputs"),
                          request.config.getoption("real_inputs"))
    steps = []
    for name, model in flow.run_steps(original):
        c = verify.compare(original, model, inputs)
        steps.append(name)
        assert c.level_count[0] > 0
        assert c.level_count[0] == c.level_count[1], f"{name}: quantizer count changed {c.level_count}"
        assert not c.level_mismatches, f"{name}: integer levels differ at (quantizer, #values) {c.level_mismatches}"
        assert c.max_rel_error <= 1e-5, f"{name}: output differs by {c.max_rel_error:.3g} relative"
        assert c.argmax_equal, f"{name}: argmax differs"
    assert steps == list(flow.STEP_NAMES)
    part = report.check_converted(model)
    assert len(part.hw) >= 3
    # The tail: an output scale, or the export's own ops after the last hardware output
    # (a batch norm's Sub, Div, Mul, Add, behind a per-channel sign factor); those give
    # the export's outputs bit for bit.
    assert len(part.head) <= 4 and len(part.tail) <= 5, (part.head, part.tail)
    if any(n.name.startswith("ExportTail") for n in part.tail):
        assert c.max_rel_error == 0, f"{c.max_rel_error:.3g}"
    hw_ops = {n.op_type for n in part.hw}
    assert "MVAU" in hw_ops
    assert not any(n.op_type in ("MatMul", "Conv", "Quant", "BipolarQuant", "Im2Col") for n in model.graph.node)


def test_label_select_returns_the_export_argmax(model_file, request):
    original = flow.load_model(model_file)
    inputs = model_inputs(original, 2, request.config.getoption("real_inputs"))
    compiled = flow.compile_model(original, flow.CompileOptions(topk=1))
    # Label selection moves into hardware when the scores' tail scales every class alike
    # (bnn_pynq's TensorNorm); per-class output scales (mixnet's per-channel weight
    # scales) keep it in the software tail, where it is still exact.
    last = compiled.graph.node[-1]
    if os.path.basename(model_file).startswith("mixnet"):
        assert last.op_type == "TopK" and last in report.check_converted(compiled).tail
    else:
        assert last.op_type == "LabelSelect"

    def top1(ref, got):
        return 0.0, bool((got.reshape(-1).astype(int) == ref.argmax(-1).reshape(-1)).all())

    c = verify.compare(original, compiled, inputs, output_fn=top1)
    assert c.ok, c
