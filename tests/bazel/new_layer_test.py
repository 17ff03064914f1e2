"""A hardware layer is its own files: in a copy of this workspace, adding only
python/qnn2fpga/layers/identity.py (a pass-through layer with a conversion hook),
its test module and rtl/identity/ (Verilog, BUILD with its Verilator grid) puts the layer
in the registry (conformance test), in its own test targets, and in a qnn_accelerator
built in a scratch package from a model with the op it converts: listed with its Verilog
library, simulated alone and stitched into the whole design, bit for bit against qonnx
execution. No other file of the workspace is edited. The layer's files are in
new_layer/.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import re
import shutil
import xml.etree.ElementTree as ET

from nested import Workspace

HERE = pathlib.Path(__file__).resolve().parent / "new_layer"
# fixture -> where the new layer's files go
LAYER_FILES = {
    "identity.py": "python/qnn2fpga/layers/identity.py",
    "identity_test.py": "python/qnn2fpga/layers/identity_test.py",
    "rtl/identity.sv": "rtl/identity/identity.sv",
    "rtl/BUILD.bazel.in": "rtl/identity/BUILD.bazel",
}
# The accelerator's scratch package: a model using the layer, not part of the layer.
PACKAGE = "scratch_identity"
BUILD = """\
load("//bazel:defs.bzl", "qnn_accelerator", "qnn_accelerator_layers")
load(":hw_layers.bzl", "HW_LAYERS")

qnn_accelerator(
    name = "pynq-z1",
    board = "pynq-z1",
    layers = HW_LAYERS.get("pynq-z1"),
    model = "model.onnx",
    rtlsim_inputs = 10,
    target_fps = 100000,
)

qnn_accelerator_layers()
"""


def _files(root: pathlib.Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


def _testcases(ws: Workspace, target: str) -> list[str]:
    package, name = target[2:].split(":")
    xml = ws.dir / "bazel-testlogs" / package / name / "test.xml"
    return [c.get("name") for c in ET.parse(xml).iter("testcase")]


def test_a_new_layer_is_only_its_own_files(tmp_path):
    from qnn2fpga import testing  # noqa: PLC0415

    ws = Workspace(tmp_path, "new_layer")
    before = _files(ws.dir)
    for src, dst in LAYER_FILES.items():
        (ws.dir / dst).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(HERE / src, ws.dir / dst)
    pkg = ws.dir / PACKAGE
    pkg.mkdir()
    # A model whose shape-keeping Flatten between two linear layers stays in the graph
    # (today's layers do not convert it): the new layer's conversion makes it hardware.
    # Power-of-two output scales: its software tail is the export's own, bit for bit.
    testing.tiny_mlp(middle_op="Flatten", fixed_point_out=True).save(str(pkg / "model.onnx"))
    (pkg / "BUILD.bazel").write_text(BUILD)
    (pkg / "hw_layers.bzl").write_text("HW_LAYERS = {}\n")
    # The disk cache ./bazelw gives the outer build (QNN2FPGA_DISK_CACHE, empty: none).
    disk = "--disk_cache=" + os.environ.get("QNN2FPGA_DISK_CACHE",
                                            str(pathlib.Path.home() / ".cache/qnn2fpga/disk-cache"))

    # The generated layer list names the layer and its Verilog library, read from the class.
    ws.bazel("run", disk, f"//{PACKAGE}:hw_layers_update")
    listed = (pkg / "hw_layers.bzl").read_text()
    assert re.search(r'\("Identity_0", "Identity", "//rtl/identity"\),', listed), listed
    assert re.search(r'"stitched_rtl": \[[^\]]*"//rtl/identity",', listed), listed

    tests = ["//python/qnn2fpga:layers_conformance_test", "//python/qnn2fpga:layers_identity_test",
             "//rtl/identity:all", f"//{PACKAGE}:hw_layers_test", f"//{PACKAGE}:pynq-z1_identity_0_test",
             f"//{PACKAGE}:pynq-z1_rtlsim_test"]
    p = ws.bazel("test", disk, *tests)
    assert "9 tests pass" in p.stdout, p.stdout
    # The layer's own Verilator grid (rtl/identity/BUILD.bazel) ran.
    for test in ("identity_bipolar_pe1", "identity_bipolar_pe6", "identity_int4_pe1", "identity_int4_pe6"):
        assert (ws.dir / "bazel-testlogs/rtl/identity" / test / "test.log").is_file(), test
    # In the registry: the conformance test ran its checks on the layer, its RTL tests
    # were found, and its unit test module is a test target of its own.
    cases = _testcases(ws, "//python/qnn2fpga:layers_conformance_test")
    assert [c for c in cases if "Identity" in c], cases
    assert _testcases(ws, "//python/qnn2fpga:layers_identity_test") == ["test_identity_passes_values_through"]
    # The whole design simulated bit for bit against qonnx execution of the model.
    assert "test_bit_identical_to_qonnx_execution_of_the_export" in _testcases(ws, f"//{PACKAGE}:pynq-z1_rtlsim_test")

    after = _files(ws.dir)
    added = {dst for dst in LAYER_FILES.values()}
    changed = sorted(k for k in after.keys() | before.keys()
                     if before.get(k) != after.get(k) and k not in added and not k.startswith(PACKAGE + "/"))
    assert changed == []
