"""The compile flow as data: an ordered list of named steps, each a transformation.

    import -> to_integer -> streamline -> lower -> to_hw

`run_steps` yields the model after every step, so tests (and `--save_intermediate`)
can execute each stage against the original export.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Iterator

import onnx
from onnx.external_data_helper import ExternalDataInfo, load_external_data_for_model, uses_external_data
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation

from qnn2fpga import errors
from qnn2fpga.transforms.base import Pass


@dataclass(frozen=True)
class CompileOptions:
    """What the user chooses. `topk`: append a label select with this k (0 = none).
    `input_datatype`: 'UINT8' takes raw pixels, the first quantizer (and the input's
    scaling by 1/255) in hardware (qnn2fpga.transforms.input_quant); '' keeps the export's
    float input and quantizes it in the software head."""

    topk: int = 0
    input_datatype: str = ""


@dataclass(frozen=True)
class Step:
    name: str
    make: Callable[[CompileOptions, ModelWrapper], Transformation]  # (options, the original export)
    doc: str


def _steps() -> tuple[Step, ...]:
    from qnn2fpga.transforms.cleanup import ImportAndClean  # noqa: PLC0415
    from qnn2fpga.transforms.export_tail import RestoreExportTail  # noqa: PLC0415
    from qnn2fpga.transforms.input_quant import InputInHardware  # noqa: PLC0415
    from qnn2fpga.transforms.integer import ToIntegerDataflow  # noqa: PLC0415
    from qnn2fpga.transforms.lower import Lower  # noqa: PLC0415
    from qnn2fpga.transforms.streamline import Streamline  # noqa: PLC0415
    from qnn2fpga.transforms.to_hw import ToHardwareLayers  # noqa: PLC0415

    return (
        Step("import", lambda o, e: ImportAndClean(), "clean up the export, infer shapes and datatypes"),
        Step("to_integer", lambda o, e: ToIntegerDataflow(), "integer weights, quantizers to MultiThreshold"),
        Step("streamline", lambda o, e: Streamline(), "absorb scales and biases into thresholds"),
        Step("lower", lambda o, e: Lower(topk=o.topk), "Conv to sliding window + MatMul, NHWC, optional TopK"),
        Step("to_hw", lambda o, e: _Chain(ToHardwareLayers(), RestoreExportTail(e),
                                          *((InputInHardware(o.input_datatype), ToHardwareLayers())
                                            if o.input_datatype else ())),
             "abstract hardware layers; software head (or the first quantizer in hardware), "
             "and the export's own ops as the tail"),
    )


class _Chain(Pass):
    """Several transformations as one step."""

    def __init__(self, *passes: Transformation):
        super().__init__()
        self.passes = passes

    def apply(self, model: ModelWrapper):
        for p in self.passes:
            model = model.transform(p)
        return model, False


STEP_NAMES = ("import", "to_integer", "streamline", "lower", "to_hw")


def _check_external_data(proto, path: str, base: str) -> None:
    """Every external-data file the model names (the dynamo exporter writes
    `<model>.onnx.data` beside the model) exists, else one InputFileError naming it."""
    for tensor in proto.graph.initializer:
        if uses_external_data(tensor):
            location = ExternalDataInfo(tensor).location
            if not os.path.isfile(os.path.join(base, location)):
                raise errors.InputFileError(
                    f"file '{path}'", f"keeps its weights in '{location}', which is not beside it",
                    f"copy '{location}' into the model's directory (the exporter writes the two files together)")


def load_model(path: str) -> ModelWrapper:
    """Loads an ONNX file (with external data beside it), or raises InputFileError/ModelError."""
    where = f"file '{path}'"
    if not os.path.exists(path):
        raise errors.InputFileError(where, "does not exist",
                                    "check the path (relative paths start where you ran the command)")
    if os.path.isdir(path):
        raise errors.InputFileError(where, "is a directory", "pass the .onnx file")
    real = os.path.realpath(path)  # onnx refuses external data reached through a symlink
    unreadable = "export the model again with brevitas.export.export_qonnx"
    try:
        proto = onnx.load(real, load_external_data=False)
    except Exception as e:  # onnx raises DecodeError, OSError, ValueError... for bad files
        raise errors.ModelError(where, f"is not a readable ONNX model ({type(e).__name__}: {str(e)[:120]})",
                                unreadable) from None
    _check_external_data(proto, path, os.path.dirname(real))
    try:
        load_external_data_for_model(proto, os.path.dirname(real))
    except Exception as e:
        raise errors.ModelError(where, f"has unreadable external weights ({type(e).__name__}: {str(e)[:120]})",
                                unreadable) from None
    if len(proto.graph.node) == 0:
        raise errors.ModelError(where, "holds no graph nodes",
                                "export the model again with brevitas.export.export_qonnx")
    try:
        onnx.checker.check_model(proto)
    except onnx.checker.ValidationError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else "validation failed"
        raise errors.ModelError(where, f"is not a valid ONNX model ({first[:160]})",
                                "export the model again with brevitas.export.export_qonnx") from None
    return ModelWrapper(proto)


def apply_step(name: str, model: ModelWrapper, options: CompileOptions, export: ModelWrapper) -> ModelWrapper:
    """The step `name` applied to `model`; `export` is the model the first step started from."""
    from qonnx.transformation.general import GiveReadableTensorNames  # noqa: PLC0415

    from qnn2fpga.transforms.cleanup import NameNodes  # noqa: PLC0415

    step = next(s for s in _steps() if s.name == name)
    # Tensors made by passes get random names; renaming them after their producers
    # makes every step's output deterministic.
    return model.transform(step.make(options, export)).transform(NameNodes()).transform(GiveReadableTensorNames())


def run_steps(model: ModelWrapper, options: CompileOptions = CompileOptions()) -> Iterator[tuple[str, ModelWrapper]]:
    """Applies the steps in order, yielding (step name, model after it)."""
    export = model
    for name in STEP_NAMES:
        model = apply_step(name, model, options, export)
        yield name, model


def compile_model(model: ModelWrapper, options: CompileOptions = CompileOptions()) -> ModelWrapper:
    """All steps; raises a QnnError naming every node that could not be converted."""
    from qnn2fpga.report import check_converted  # noqa: PLC0415

    for _, model in run_steps(model, options):
        pass
    check_converted(model)
    return model
