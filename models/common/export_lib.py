"""Shared helpers of the example-model export scripts (run in the @qnn_torch_python venv).

Untrained example networks make poor compiler tests: fresh BatchNorms are identities and
fresh activation scales are round numbers, so every derived threshold is trivial. These
helpers give a model non-trivial, seeded parameters, export it to QONNX, normalize the file
so two builds are byte-identical, and prove that qonnx executes it exactly like PyTorch.
"""

import os
import sys

import numpy as np
import onnx
import torch
from torch import nn

# brevitas_examples' TensorNorm: scalar BatchNorm-like layer ending the bnn_pynq models.
try:
    from brevitas_examples.bnn_pynq.models.tensor_norm import TensorNorm
except ImportError:  # pragma: no cover - brevitas_examples ships with brevitas
    TensorNorm = ()

# Side-file threshold of torch's dynamo exporter: larger initializers go to `.onnx.data`.
EXTERNAL_DATA_THRESHOLD = 1024
# Node metadata of the dynamo exporter that holds absolute source paths (host- and
# sandbox-dependent); the rest (module names, fx nodes) is kept.
_PATH_METADATA_KEYS = {"pkg.torch.onnx.stack_trace"}


def seed_everything(seed):
    """Seeds torch and numpy and makes torch single-threaded and deterministic."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


def _signed_uniform(gen, n, low, high):
    """n values with |v| in [low, high) and a random sign."""
    mag = low + (high - low) * torch.rand(n, generator=gen)
    sign = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0)
    return mag * sign


def _is_norm(m):
    return isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) or (TensorNorm and isinstance(m, TensorNorm))


def _channel_stats(x, num):
    """Per-channel mean and std of a BatchNorm input (num == 1: over the whole tensor)."""
    if num == 1:
        return x.mean().reshape(1), x.std().reshape(1)
    dims = [d for d in range(x.dim()) if d != 1]
    return x.mean(dim=dims), x.std(dim=dims)


@torch.no_grad()
def randomize_act_scales(model, gen, low=0.5, high=3.0, skip=()):
    """Redraws every learned activation scale parameter from uniform(low, high).

    Brevitas' ParameterScaling keeps the clipping value (max_val), scale = value / int_max;
    a parameter whose module path does not contain 'act_quant' (weight scales follow from
    the weights) or starts with a prefix in `skip` (e.g. the input quantizer, whose range
    is the input's) is left alone. Values stay positive. Returns the names changed.
    """
    touched = []
    for name, p in model.named_parameters():
        if "act_quant" in name and name.endswith("scaling_impl.value") and not name.startswith(tuple(skip)):
            p.copy_(low + (high - low) * torch.rand(p.shape, generator=gen))
            touched.append(name)
    return touched


@torch.no_grad()
def randomize_norms(model, calib, gen):
    """Gives every BatchNorm/TensorNorm non-trivial parameters, layer by layer.

    weight: |w| in [0.1, 1.5) with random sign; bias: uniform(-1, 1);
    running_mean: the channel mean of the layer's real input (on `calib`) plus
    uniform(-0.5, 0.5) of its std, so it has the accumulator's scale; running_var: the
    input variance times uniform(0.5, 2) (positive). Layers are done in order, each seeing
    the already randomized layers before it.
    """
    model.eval()
    norms = [m for m in model.modules() if _is_norm(m)]
    for norm in norms:
        seen = {}
        handle = norm.register_forward_pre_hook(lambda m, inp: seen.setdefault("x", inp[0].detach()))
        model(calib)
        handle.remove()
        num = norm.running_mean.numel()
        mean, std = _channel_stats(seen["x"].float(), num)
        std = torch.clamp(std, min=1e-2)
        norm.weight.copy_(_signed_uniform(gen, num, 0.1, 1.5))
        norm.bias.copy_(2.0 * torch.rand(num, generator=gen) - 1.0)
        norm.running_mean.copy_(mean + (torch.rand(num, generator=gen) - 0.5) * std)
        norm.running_var.copy_((std * std) * (0.5 + 1.5 * torch.rand(num, generator=gen)))
    return len(norms)


def _strip_host_paths(model):
    for node in model.graph.node:
        keep = [(p.key, p.value) for p in node.metadata_props if p.key not in _PATH_METADATA_KEYS]
        del node.metadata_props[:]
        for k, v in keep:
            node.metadata_props.add(key=k, value=v)


def _check_no_host_paths(out, blob):
    here = os.path.dirname(os.path.abspath(__file__))
    for path in {sys.prefix, os.getcwd(), here, os.path.expanduser("~")}:
        if len(path) > 1 and path.encode() in blob:
            raise SystemExit("%s: the export contains the host path %s" % (out, path))


def export(model, example, out, dynamo):
    """Exports with brevitas.export.export_qonnx and normalizes the file(s).

    Classic (dynamo=False): one self-contained `out`. Dynamo: `out` plus `out + ".data"`
    holding initializers larger than 1 KiB, referenced by basename (as torch writes it).
    Brevitas re-saves the dynamo model inline and leaves torch's side file behind unused,
    and the dynamo exporter records stack traces with absolute paths: both are undone here.
    """
    from brevitas.export import export_qonnx

    model.eval()
    data = out + ".data"
    for f in (out, data):
        if os.path.exists(f):
            os.remove(f)
    export_qonnx(model, example, out, dynamo=dynamo)
    m = onnx.load(out)  # with any external data
    _strip_host_paths(m)
    os.remove(out)
    if os.path.exists(data):
        os.remove(data)  # onnx.save appends to an existing side file
    if dynamo:
        onnx.save(
            m,
            out,
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=os.path.basename(data),
            size_threshold=EXTERNAL_DATA_THRESHOLD,
        )
        if not os.path.exists(data):  # tiny model: keep the declared output anyway
            open(data, "wb").close()
        os.chmod(data, 0o644)
    else:
        onnx.save(m, out)
    with open(out, "rb") as f:
        _check_no_host_paths(out, f.read())


@torch.no_grad()
def check_against_torch(model, out, inputs):
    """qonnx execute_onnx of `out` must equal the PyTorch model on every input."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.transformation.infer_shapes import InferShapes

    model.eval()
    # Classic exports carry no intermediate shapes, which execute_onnx needs (in memory only).
    wrapper = ModelWrapper(out).transform(InferShapes())
    inits = {i.name for i in wrapper.graph.initializer}
    real_inputs = [i.name for i in wrapper.graph.input if i.name not in inits]
    if len(real_inputs) != 1:
        raise SystemExit("%s: expected one graph input, found %s" % (out, real_inputs))
    oname = wrapper.graph.output[0].name
    worst = 0.0
    outs = []
    for x in inputs:
        expected = model(x).detach().numpy()
        got = execute_onnx(wrapper, {real_inputs[0]: x.numpy()})[oname]
        if got.shape != expected.shape or not np.allclose(got, expected, rtol=1e-5, atol=1e-6):
            raise SystemExit(
                "%s: qonnx execution differs from PyTorch\n torch: %s\n qonnx: %s"
                % (out, expected.ravel()[:10], got.ravel()[:10])
            )
        worst = max(worst, float(np.max(np.abs(got - expected))))
        outs.append(got)
    if all(np.array_equal(outs[0], o) for o in outs[1:]):
        raise SystemExit("%s: degenerate model, the output does not depend on the input" % out)
    return worst


def describe(model, out, inputs):
    """One-line summary for the action log."""
    outs = np.stack([model(x).detach().numpy().ravel() for x in inputs])
    top1 = sorted({int(np.argmax(o)) for o in outs})
    return "%s: %d inputs, output std %.3g, distinct top-1 %s" % (out, len(inputs), outs.std(), top1)
