"""Workspace dependencies of qnn2fpga. Call `qnn2fpga_dependencies()` from WORKSPACE."""

load(
    "//bazel/private:repositories.bzl",
    _ap_types_headers = "ap_types_headers",
    _eda_tools = "eda_tools",
    _layer_test_manifests = "layer_test_manifests",
    _npm_tool = "npm_tool",
    _python_venv = "python_venv",
    _vivado_tool = "vivado_tool",
)

python_venv = _python_venv
eda_tools = _eda_tools
ap_types_headers = _ap_types_headers
npm_tool = _npm_tool
vivado_tool = _vivado_tool

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

    # Lint tools (ruff) for //tools/lint, read from @qnn_lint_python//:venv_path.txt.
    # Not registered as a toolchain: a lint tool update changes no build action.
    _python_venv(
        name = "qnn_lint_python",
        lock = "//third_party/python:lint_requirements_lock.txt",
    )

    # buildifier for //tools/lint:buildifier_test: the npm package ships the binaries.
    _npm_tool(
        name = "buildifier",
        package = "@bazel/buildifier",
        version = "8.2.1",
        integrity = "sha512-eZ/Aq+2r4PcJa6LbPCT6ffgIJfTU/gYilqIzoX2OLM4nNkbQC6tTMPZNn7aHHjhGPxbNLv41zm4Xqt1olCLgXw==",
        binary = "buildifier-linux_{arch}",
    )
    _eda_tools(name = "eda_tools")

    # Vivado, optional: only vivado_bitfile targets (tagged manual, requires-vivado) use it.
    _vivado_tool(name = "vivado")

    # Every rtl/<x>/ package's layer test manifest (the layer conformance test reads them).
    _layer_test_manifests(name = "qnn2fpga_layer_tests")
    _ap_types_headers(
        name = "ap_types",
        lock = "//third_party/ap_types:requirements_lock.txt",
    )
