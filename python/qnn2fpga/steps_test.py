"""The build's steps (qnn2fpga.steps): one tuple naming exactly the steps the build
documents, composed in process, and no import cycle between the modules that run them."""

from __future__ import annotations

import ast
import json
import pathlib
import re

import pytest

import qnn2fpga
from qnn2fpga import boards, build, flow, steps, testing

PACKAGE = pathlib.Path(qnn2fpga.__file__).parent
# The modules that run the steps: none may (even from inside a function) import one
# that imports it back.
DRIVERS = ("qnn2fpga.steps", "qnn2fpga.build", "qnn2fpga.execute", "qnn2fpga.flow", "qnn2fpga.accelerator")


def _documented_steps() -> list[str]:
    """The step names listed in qnn2fpga.build's docstring, in order."""
    doc = build.__doc__
    block = doc[doc.index("Steps, in order"):].split("\n\n")[1]
    return [m.group(1) for m in re.finditer(r"^    (\w+)", block, re.MULTILINE)]


def test_the_step_tuple_names_exactly_the_documented_steps():
    assert list(steps.STEP_NAMES) == _documented_steps()
    assert steps.STEP_NAMES[:len(flow.STEP_NAMES)] == flow.STEP_NAMES
    assert all(callable(fn) and fn.__name__ == f"step_{name}" for name, fn in steps.STEPS)
    # FINN's names for the folding step are accepted where the build takes a step name
    assert steps.index("target_fps_parallelization") == steps.index("apply_folding_config") == steps.index("fold")
    assert steps.index("nope") is None


def _imports() -> dict[str, set[str]]:
    """Module -> the qnn2fpga modules it imports anywhere in its source (top level or
    inside functions), from the package's own files."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        if not path.name.endswith("_test.py"):
            parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
            modules[".".join(parts).removesuffix(".__init__")] = path
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names)
        graph[name] = {m for m in found if m in modules and m != name and m != "qnn2fpga"}
    return graph


def _reachable(graph: dict, start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for m in graph[todo.pop()]:
            if m not in seen:
                seen.add(m)
                todo.append(m)
    return seen


@pytest.mark.parametrize("module", DRIVERS)
def test_no_import_cycle_through_the_step_drivers(module):
    graph = _imports()
    assert module in graph
    assert module not in _reachable(graph, module), f"{module} imports itself back"


def test_execute_needs_neither_build_nor_steps():
    reached = _reachable(_imports(), "qnn2fpga.execute")
    assert not reached & {"qnn2fpga.build", "qnn2fpga.steps", "qnn2fpga.flow"}, reached


def test_steps_compose_in_process_like_the_build(tmp_path):
    """The steps up to the estimates, run by hand, give the model and reports the build
    saves; a build resumed at a compile step (to_hw needs the export) gives the same."""
    testing.tiny_mlp().save(str(tmp_path / "mlp.onnx"))
    cfg = build.BuildConfig(model=str(tmp_path / "mlp.onnx"), output_dir=str(tmp_path / "out"), board="pynq-z1",
                            target_fps=1e6, stop_step="generate_estimate_reports")
    build.build(cfg, log=lambda m: None)
    own = steps.StepConfig(board=boards.load_board("pynq-z1"), target_fps=1e6, out_dir=tmp_path / "own")
    model = steps.run(flow.load_model(cfg.model), own, last="generate_estimate_reports")
    out = tmp_path / "out"
    model.save(str(tmp_path / "own.onnx"))
    saved = out / "intermediate_models" / "7_generate_estimate_reports.onnx"
    assert (tmp_path / "own.onnx").read_bytes() == saved.read_bytes()
    for rel in ("auto_folding_config.json", "final_hw_config.json", "report/estimate_layer_cycles.json",
                "report/estimate_layer_resources.json"):
        assert (tmp_path / "own" / rel).read_text() == (out / rel).read_text(), rel
    assert own.state.performance == json.loads((out / "report" / "estimate_network_performance.json").read_text())
    to_hw = (out / "intermediate_models" / "5_to_hw.onnx").read_bytes()
    resumed = build.BuildConfig(**{**cfg.__dict__, "start_step": "to_hw", "stop_step": "to_hw"})
    build.build(resumed, log=lambda m: None)
    assert (out / "intermediate_models" / "5_to_hw.onnx").read_bytes() == to_hw
    assert not (out / "intermediate_models" / "6_target_fps_parallelization.onnx").exists()


def test_values_without_a_backend_for_inserted_streams_are_reported(tmp_path):
    """A folding config entry for a FIFO the build inserts is applied after the fold step;
    a value no backend implements there is reported like the layers' own."""
    config = tmp_path / "f.json"
    config.write_text(json.dumps({"MVAU_0": {"PE": 4}, "StreamingFIFO_0": {"preferred_impl_style": "hls"}}))
    own = steps.StepConfig(board=boards.load_board("pynq-z1"), folding_config=str(config))
    model = steps.run(testing.tiny_mlp(), own, last="fold")
    warnings = []
    model = steps.insert_streams(model, str(config), warnings.append)
    assert [n.name for n in model.graph.node if n.op_type == "StreamingFIFO"][0] == "StreamingFIFO_0"
    assert len(warnings) == 1
    assert warnings[0].startswith("ignored configuration: StreamingFIFO node 'StreamingFIFO_0': "
                                  "preferred_impl_style='hls' is not implemented")


def test_a_folding_config_with_a_target_overrides_the_automatic_choices(tmp_path):
    """target_fps and folding_config together (qnn_accelerator's per-layer overrides):
    automatic folding first, then the config's entries; other layers keep the automatic
    choice, and an override naming no node is refused."""
    from qnn2fpga import folding  # noqa: PLC0415
    from qnn2fpga.errors import FoldingError  # noqa: PLC0415
    from qnn2fpga.layers.registry import get_layer  # noqa: PLC0415

    board = boards.load_board("pynq-z1")
    model = steps.run(testing.tiny_mlp(), steps.StepConfig(), last="to_hw")
    auto = steps.run(model, steps.StepConfig(board=board, target_fps=1e7), "fold", "fold")
    chosen = {n.name: get_layer(n).PE for n in folding.hw_nodes(auto)}
    pe = 1 if chosen["MVAU_1"] != 1 else 5
    config = tmp_path / "overrides.json"
    config.write_text(json.dumps({"MVAU_1": {"PE": pe}}))
    both = steps.run(model, steps.StepConfig(board=board, target_fps=1e7, folding_config=str(config)), "fold", "fold")
    got = {n.name: get_layer(n).PE for n in folding.hw_nodes(both)}
    assert got == {**chosen, "MVAU_1": pe}
    config.write_text(json.dumps({"MVAU_9": {"PE": 1}}))
    with pytest.raises(FoldingError, match="MVAU_9"):
        steps.run(model, steps.StepConfig(board=board, target_fps=1e7, folding_config=str(config)), "fold", "fold")
