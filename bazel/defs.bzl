"""Public Starlark API of qnn2fpga. Implementations live in //bazel/private.

Rules:
  verilog_library        (System)Verilog sources -> VerilogInfo
  verilator_cc_library   VerilogInfo -> Verilated C++ model (CcInfo, VerilatedModelInfo)
  verilator_sim          Verilated model + C++ testbench -> simulator binary
  verilator_test         same, run as a test (JUnit via $XML_OUTPUT_FILE)
  yosys_synth            out-of-context synth_xilinx -> resource JSON (SynthInfo, VerilogInfo)
  hls_csim_test          C++ against the ap_int/ap_fixed headers, compiled with g++
  pytest_test            py_test running pytest, JUnit to Bazel
  rtl_mutant             a copy of a source with one deliberate bug, for mutation tests
  verilator_mutant_test  that copy through a testbench that must fail on it (--expect_failure)
  qonnx_export           Brevitas export script, run in the PyTorch venv -> <name>.onnx (+ .onnx.data)
  qnn_compile            QONNX model -> hardware-layer graph <name>.onnx + <name>_summary.txt
  hw_layer_test          one hardware layer's generated RTL vs its numpy golden model, in Verilator
  hw_layer_mutant_test   a layer's RTL with one deliberate bug: the stream testbench must catch it
  hw_layer_synth         one hardware layer's generated RTL through yosys_synth (xc7, xcup)
  hw_layer_params        a compiled model's node parameters as .npz (real weights for hw_layer_synth)
  hw_layer_test_manifest which layers a package's hw_layer_tests cover (for the conformance test)
  hw_layer_resource_report  a package's per-layer Yosys counts as one JSON + Markdown report
  qnn_accelerator        a model on a board as per-layer targets: compile, per-layer RTL, Verilator
                         test and Yosys synthesis, FIFO sizing, stitched design, whole-design
                         rtlsim test against qonnx, reports (see bazel/private/accelerator.bzl)
  qnn_accelerator_layers a package's generated layer list (hw_layers.bzl), its update and staleness test
  checked_in_file        a generated file kept in the source tree: <name>_update (bazel run), <name>_test
  tagged_test_suite      the package's tests with a tag (e.g. the manual `exhaustive` sweeps)
  vivado_bitfile         a stitched accelerator in the Zynq shell through Vivado -> .bit, .hwh, reports
                         (the project Tcl in output group `project` builds without Vivado)
"""

load(
    "//bazel/private:accelerator.bzl",
    _qnn_accelerator = "qnn_accelerator",
    _qnn_accelerator_layers = "qnn_accelerator_layers",
)

load("//bazel/private:checked_in.bzl", _checked_in_file = "checked_in_file")
load("//bazel/private:compile.bzl", _qnn_compile = "qnn_compile")
load("//bazel/private:hls.bzl", _hls_csim_test = "hls_csim_test")
load(
    "//bazel/private:layer_test.bzl",
    _hw_layer_params = "hw_layer_params",
    _hw_layer_synth = "hw_layer_synth",
    _hw_layer_mutant_test = "hw_layer_mutant_test",
    _hw_layer_test = "hw_layer_test",
    _hw_layer_resource_report = "hw_layer_resource_report",
    _hw_layer_test_manifest = "hw_layer_test_manifest",
)
load("//bazel/private:models.bzl", _qonnx_export = "qonnx_export")
load("//bazel/private:mutant.bzl", _rtl_mutant = "rtl_mutant", _verilator_mutant_test = "verilator_mutant_test")
load(
    "//bazel/private:providers.bzl",
    _SynthInfo = "SynthInfo",
    _VerilatedModelInfo = "VerilatedModelInfo",
    _VerilogInfo = "VerilogInfo",
)
load("//bazel/private:pytest.bzl", _pytest_test = "pytest_test")
load("//bazel/private:suites.bzl", _tagged_test_suite = "tagged_test_suite")
load(
    "//bazel/private:verilator.bzl",
    _verilator_cc_library = "verilator_cc_library",
    _verilator_sim = "verilator_sim",
    _verilator_test = "verilator_test",
)
load("//bazel/private:verilog.bzl", _verilog_library = "verilog_library")
load("//bazel/private:vivado.bzl", _vivado_bitfile = "vivado_bitfile")
load("//bazel/private:yosys.bzl", _yosys_synth = "yosys_synth")

VerilogInfo = _VerilogInfo
VerilatedModelInfo = _VerilatedModelInfo
SynthInfo = _SynthInfo

verilog_library = _verilog_library
verilator_cc_library = _verilator_cc_library
verilator_sim = _verilator_sim
verilator_test = _verilator_test
yosys_synth = _yosys_synth
hls_csim_test = _hls_csim_test
pytest_test = _pytest_test
rtl_mutant = _rtl_mutant
qonnx_export = _qonnx_export
qnn_compile = _qnn_compile
hw_layer_test = _hw_layer_test
hw_layer_mutant_test = _hw_layer_mutant_test
hw_layer_synth = _hw_layer_synth
hw_layer_params = _hw_layer_params
hw_layer_test_manifest = _hw_layer_test_manifest
hw_layer_resource_report = _hw_layer_resource_report
verilator_mutant_test = _verilator_mutant_test
qnn_accelerator = _qnn_accelerator
checked_in_file = _checked_in_file
tagged_test_suite = _tagged_test_suite
qnn_accelerator_layers = _qnn_accelerator_layers
vivado_bitfile = _vivado_bitfile
