"""The steps behind the Bazel model rules (bazel/private/accelerator.bzl): one model on
one board, split so that every per-layer action reads only its own layer's spec.

    compile   the build's steps up to the estimate reports (qnn2fpga.steps, the same
              steps as `qnn2fpga build`): the folded hardware graph, the estimate reports,
              the list of hardware layers, and one spec file per layer
    fifos     the steps hw_codegen and set_fifo_depths: width converters and FIFOs
              inserted, FIFOs sized by simulation
    stitch    the stitched design (qnn2fpga.rtlsim.write_design)

A layer spec (`<layer>.npz`) is a zip of `spec.json` ({"name", "op", "attrs"}) and one
`<param>.npy` per parameter, written with fixed timestamps: the same layer gives the
same bytes, so Bazel keeps every action downstream of an unchanged layer cached.
"""

from __future__ import annotations

import io
import json
import os
import pathlib
import shutil
import tempfile
import zipfile
from dataclasses import dataclass

import numpy as np

from qnn2fpga import boards, errors, flow, report_schemas, steps
from qnn2fpga.estimate import SYNTH_FAMILY
from qnn2fpga.layers.resources import yosys_units

# Zip member timestamps: fixed, so equal specs are equal bytes.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
SPEC_JSON = "spec.json"
REPORTS = report_schemas.ESTIMATE_REPORTS


@dataclass(frozen=True)
class LayerSpec:
    name: str
    op: str
    attrs: dict
    params: dict  # param name -> array, in the layer's param_names() order

    def param_list(self, layer) -> list[np.ndarray]:
        return [self.params[p] for p in layer.param_names()]


def _json_value(v):
    if hasattr(v, "get_canonical_name"):  # a qonnx DataType
        return v.get_canonical_name()
    if isinstance(v, (list, tuple)):
        return [_json_value(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    return v


def layer_spec(model, node) -> LayerSpec:
    """The spec of hardware node `node` of `model`: its attributes and parameters."""
    from qnn2fpga import stitch  # noqa: PLC0415
    from qnn2fpga.layers.registry import get_layer  # noqa: PLC0415

    layer = get_layer(node)
    attrs = {a.name: _json_value(layer.attr(a.name)) for a in sorted(node.attribute, key=lambda a: a.name)}
    params = dict(zip(layer.param_names(), stitch.layer_params(model, node)))
    return LayerSpec(node.name, node.op_type, attrs, params)


def write_spec(spec: LayerSpec, path) -> None:
    meta = json.dumps({"name": spec.name, "op": spec.op, "attrs": spec.attrs}, indent=1, sort_keys=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo(SPEC_JSON, date_time=_ZIP_DATE), meta + "\n")
        for name, value in spec.params.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(value), allow_pickle=False)
            zf.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_DATE), buf.getvalue())


def write_missing_spec(path, name: str, why: str) -> None:
    """A spec for a declared layer the compiled graph does not have: reading it fails
    with `why` (the layer list is stale)."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo(SPEC_JSON, date_time=_ZIP_DATE), json.dumps({"name": name, "stale": why}) + "\n")


def read_spec(path) -> LayerSpec:
    where = f"layer spec '{path}'"
    try:
        with zipfile.ZipFile(path) as zf:
            meta = json.loads(zf.read(SPEC_JSON))
            if "stale" in meta:
                raise errors.ModelError(f"layer {meta['name']}", meta["stale"], "refresh the layer list")
            params = {}
            for member in zf.namelist():
                if member.endswith(".npy"):
                    params[member[:-4]] = np.lib.format.read_array(io.BytesIO(zf.read(member)), allow_pickle=False)
    except (OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError, ValueError) as e:
        raise errors.InputFileError(where, f"cannot be read ({e})",
                                    "rebuild it (a qnn_accelerator compile target)") from None
    return LayerSpec(meta["name"], meta["op"], meta["attrs"], params)


def hw_layers(model) -> list[tuple[str, str]]:
    """(node name, op) of every hardware layer, in graph order."""
    from qnn2fpga import folding  # noqa: PLC0415

    return [(n.name, n.op_type) for n in folding.hw_nodes(model)]


def compile_for_board(model_path: str, board: str, out: pathlib.Path, folding_config: str | None = None,
                      target_fps: float | None = None, fclk_mhz: float | None = None, topk: int = 0,
                      declared: list[tuple[str, str]] = (), update_hint: str = "",
                      input_datatype: str = "") -> list[tuple[str, str]]:
    """Runs the build's steps up to the estimate reports and writes into `out`: hw.onnx (the
    folded hardware graph), final_hw_config.json, report/<FINN report>.json,
    layers.json ({"board", "synth_family", "layers": [[name, op, rtl library], ...],
    "stitched_rtl": [labels]}, see `layer_list`) and
    layers/<name>.npz for each `declared` layer (a stale-list spec where the graph
    differs). Returns the compiled graph's layers."""
    b = boards.load_board(board)
    (out / "report").mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="qnn2fpga-accel-") as tmp:
        # The steps write more than the action declares (auto_folding_config.json): the
        # declared files are copied from their directory.
        work = pathlib.Path(tmp)
        cfg = steps.StepConfig(board=b, target_fps=target_fps, folding_config=folding_config, fclk_mhz=fclk_mhz,
                               topk=topk, input_datatype=input_datatype, out_dir=work)
        model = steps.run(flow.load_model(model_path), cfg, last="generate_estimate_reports")
        shutil.copyfile(work / "final_hw_config.json", out / "final_hw_config.json")
        for name in REPORTS:
            shutil.copyfile(work / "report" / f"{name}.json", out / "report" / f"{name}.json")
    model.save(str(out / "hw.onnx"))
    layers = hw_layers(model)
    family = {v: k for k, v in SYNTH_FAMILY.items()}.get(b.family, "")
    (out / "layers.json").write_text(json.dumps({"board": board, "synth_family": family, **layer_list(layers)},
                                                indent=1) + "\n")
    actual = dict(layers)
    (out / "layers").mkdir(exist_ok=True)
    for name, op in declared:
        path = out / "layers" / f"{name}.npz"
        if actual.get(name) != op:
            now = f"is now {actual[name]}" if name in actual else "no longer exists"
            write_missing_spec(path, name, f"was declared as {op} but {now} in the compiled graph; the layer "
                               f"list is stale{': ' + update_hint if update_hint else ''}")
        else:
            write_spec(layer_spec(model, model.get_node_from_name(name)), path)
    return layers


def write_package(hw_fifos: str, model_path: str, board: str, fclk_mhz: float, input_datatype: str,
                  out: pathlib.Path) -> None:
    """The deployment package of the sized design in `out` (qnn2fpga.deploy.write_package;
    no bitfile: that needs Vivado)."""
    from qnn2fpga import deploy, rtlsim  # noqa: PLC0415

    model = flow.load_model(hw_fifos)
    with tempfile.TemporaryDirectory(prefix="qnn2fpga-package-") as tmp:
        design = rtlsim.write_design(model, tmp)
        deploy.write_package(model, design, out, board, fclk_mhz, flow.load_model(model_path),
                             input_datatype=input_datatype, name=pathlib.Path(model_path).stem)


def size_fifos(hw_onnx: str, out: pathlib.Path, folding_config: str | None = None) -> None:
    """Width converters and FIFOs between the layers of `hw_onnx`, FIFOs sized by one
    simulation: writes out/hw_fifos.onnx and out/final_hw_config.json (depths included)."""
    out.mkdir(parents=True, exist_ok=True)
    cfg = steps.StepConfig(folding_config=folding_config, out_dir=out)
    model = steps.run(flow.load_model(hw_onnx), cfg, "hw_codegen", "set_fifo_depths")
    model.save(str(out / "hw_fifos.onnx"))


def layer_list(layers: list[tuple[str, str]]) -> dict:
    """The Verilog libraries of a compiled graph's layers, from the layer registry (each
    class's `rtl_library`, "" for a layer without RTL): {"layers": [[name, op, label],
    ...], "stitched_rtl": [label, ...]}, where stitched_rtl is what the stitched design
    may instantiate: the layers' libraries, those of the stream layers the FIFO step
    inserts (steps.STREAM_OPS) and the top's AXI-lite split (stitch.AXIL_SPLIT_LIBRARY)."""
    from qnn2fpga import stitch  # noqa: PLC0415
    from qnn2fpga.layers import LAYERS  # noqa: PLC0415

    listed = [[name, op, LAYERS[op].rtl_library] for name, op in layers]
    stitched = {label for _, _, label in listed} | {LAYERS[op].rtl_library for op in steps.STREAM_OPS}
    return {"layers": listed, "stitched_rtl": sorted((stitched | {stitch.AXIL_SPLIT_LIBRARY}) - {""})}


def layer_list_bzl(accelerators: dict) -> str:
    """The checked-in layer list of a package: HW_LAYERS = {accelerator: {"board",
    "synth_family", "layers": [(name, op, rtl library), ...], "stitched_rtl": [...]}},
    one entry per layers.json (see `layer_list`)."""
    lines = ["HW_LAYERS = {"]
    for name in sorted(accelerators):
        a = accelerators[name]
        lines += [f'    "{name}": {{', f'        "board": "{a["board"]}",', '        "layers": [']
        lines += [f'            ("{n}", "{op}", "{label}"),' for n, op, label in a["layers"]]
        lines += ["        ],", '        "stitched_rtl": [']
        lines += [f'            "{label}",' for label in a["stitched_rtl"]]
        lines += ["        ],", f'        "synth_family": "{a["synth_family"]}",', "    },"]
    return "\n".join(lines + ["}"]) + "\n"


def synth_streams(hw_fifos: str, libraries: dict, yosys: str, family: str, out: pathlib.Path) -> None:
    """Out-of-context Yosys synthesis of the width converters and FIFOs the FIFO step
    inserted into `hw_fifos` (their sized depths), one run per distinct module and
    parameters: writes `out`, {"layers": {node name: yosys report}}. `libraries`: each
    stream layer's rtl_library label -> its Verilog sources (dependencies first)."""
    import yosys_synth  # noqa: PLC0415  (//bazel/private/tools:yosys_synth_lib)

    from qnn2fpga.layers.registry import get_layer  # noqa: PLC0415

    model = flow.load_model(hw_fifos)
    runs, layers = {}, {}
    with tempfile.TemporaryDirectory(prefix="streams_synth.") as tmp:
        for node in model.graph.node:
            if node.op_type not in steps.STREAM_OPS:
                continue
            inst = get_layer(node).rtl({})
            if inst.library not in libraries:
                raise errors.InputFileError("--lib", f"no Verilog sources given for {inst.library} ({node.name})",
                                            "pass the stitched design's libraries")
            key = json.dumps([inst.module, inst.params], sort_keys=True)
            if key not in runs:
                report = os.path.join(tmp, f"{len(runs)}.json")
                stem = os.path.join(tmp, str(len(runs)))
                argv = ["--yosys", yosys, "--top", inst.module, "--family", family, "--report", report,
                        "--netlist", stem + ".v", "--log", stem + ".log"]
                argv += [f"--param={k}={v}" for k, v in sorted(inst.params.items())] + list(libraries[inst.library])
                if yosys_synth.main(argv) != 0:
                    raise errors.ToolError("yosys", f"synthesis of {node.name} ({inst.module}) failed",
                                           "see the message above")
                runs[key] = json.loads(pathlib.Path(report).read_text())
            layers[node.name] = runs[key]
    out.write_text(json.dumps({"layers": layers}, indent=2, sort_keys=True) + "\n")


def write_report(compile_dir: pathlib.Path, fifos_dir: pathlib.Path, synth: dict, out: pathlib.Path,
                 streams_synth: pathlib.Path | None = None) -> None:
    """The accelerator's report directory: the estimate reports and final_hw_config.json
    (FIFO depths included) under FINN's names, and synth_layer_resources.json: each
    layer's out-of-context Yosys counts (with LUT_ALL and BRAM_18K, the estimates' units)
    next to its estimate, the inserted FIFOs' and width converters' counts
    (`streams_synth`, from `synth_streams`), and the totals of both."""
    out.mkdir(parents=True, exist_ok=True)
    for name in REPORTS:
        shutil.copyfile(compile_dir / "report" / f"{name}.json", out / f"{name}.json")
    shutil.copyfile(fifos_dir / "final_hw_config.json", out / "final_hw_config.json")
    estimates = json.loads((compile_dir / "report" / "estimate_layer_resources.json").read_text())
    layers, total = {}, {}
    reports = {name: json.loads(pathlib.Path(path).read_text()) for name, path in synth.items()}
    if streams_synth is not None:
        reports.update(json.loads(streams_synth.read_text())["layers"])
    for name in sorted(reports):
        report = reports[name]
        counts = {**report["resources"], **yosys_units(report["resources"], report.get("cells", {}))}
        layers[name] = {"family": report["family"], "synthesized": counts, "estimated": estimates.get(name, {})}
        for k, v in counts.items():
            total[k] = total.get(k, 0) + v
    (out / "synth_layer_resources.json").write_text(json.dumps({"layers": layers, "total": total}, indent=2) + "\n")
