"""Workspace dependencies of qnn2fpga. Call `qnn2fpga_dependencies()` from WORKSPACE."""

load(
    "//bazel/private:repositories.bzl",
    _ap_types_headers = "ap_types_headers",
    _eda_tools = "eda_tools",
    _layer_test_manifests = "layer_test_manifests",
    _python_venv = "python_venv",
)

python_venv = _python_venv
eda_tools = _eda_tools
ap_types_headers = _ap_types_headers

def qnn2fpga_dependencies():
    """Declares every external repository the build needs; none downloads from a Bazel mirror."""
    _python_venv(
        name = "qnn_python",
        lock = "//third_party/python:requirements_lock.txt",
    )

    # Heavy venv (PyTorch CPU, Brevitas) used only by qonnx_export actions, which read
    # its path from @qnn_torch_python//:venv_path.txt. Not registered as a toolchain.
    _python_venv(
        name = "qnn_torch_python",
        lock = "//third_party/python:export_requirements_lock.txt",
    )
    _eda_tools(name = "eda_tools")

    # Every rtl/<x>/ package's layer test manifest (the layer conformance test reads them).
    _layer_test_manifests(name = "qnn2fpga_layer_tests")
    _ap_types_headers(
        name = "ap_types",
        lock = "//third_party/ap_types:requirements_lock.txt",
    )
