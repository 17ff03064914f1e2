"""qonnx_export: a Brevitas model exported to QONNX as a build output."""

def _qonnx_export_impl(ctx):
    onnx = ctx.actions.declare_file(ctx.label.name + ".onnx")
    outputs = [onnx]
    if ctx.attr.dynamo:
        # The dynamo exporter keeps large initializers in a side file that the .onnx
        # names by its basename (`<name>.onnx.data`), so the pair resolves wherever it lies.
        outputs.append(ctx.actions.declare_file(ctx.label.name + ".onnx.data"))

    script = ctx.file.script
    py_files = [script] + ctx.files.srcs
    pythonpath = ":".join(sorted({f.dirname: None for f in py_files}.keys()))
    targets = ctx.attr.srcs + ctx.attr.data

    args = ctx.actions.args()
    args.add(ctx.file._venv_path)
    args.add(pythonpath)
    args.add(script)
    args.add_all([ctx.expand_location(a, targets) for a in ctx.attr.args])
    args.add("--out", onnx)
    if ctx.attr.dynamo:
        args.add("--dynamo")

    ctx.actions.run(
        executable = ctx.executable._runner,
        arguments = [args],
        inputs = depset([ctx.file._venv_path] + py_files + ctx.files.data),
        outputs = outputs,
        mnemonic = "QonnxExport",
        progress_message = "Exporting %s to QONNX%s" % (ctx.label, " (dynamo)" if ctx.attr.dynamo else ""),
        # The interpreter lives in a host virtualenv (absolute path), not in the inputs:
        # cacheable, but not for remote execution.
        execution_requirements = {"no-remote-exec": "1"},
    )
    return [DefaultInfo(files = depset(outputs), runfiles = ctx.runfiles(files = outputs))]

qonnx_export = rule(
    implementation = _qonnx_export_impl,
    doc = """Runs a Brevitas export script in the @qnn_torch_python virtualenv (PyTorch CPU,
Brevitas) and declares its QONNX as `<name>.onnx`, plus `<name>.onnx.data` (external
initializer data, referenced by basename) when `dynamo = True`.

The script is called as `python3 SCRIPT ARGS... --out <name>.onnx [--dynamo]` with the
directories of `script` and `srcs` on PYTHONPATH, PYTHONHASHSEED=0, one thread and a
private HOME; it must write exactly those files, deterministically and without network.
Its output is shown only when it fails. Loaders of the dynamo pair must open the real
file (os.path.realpath), since onnx refuses external data reached through a symlink.""",
    attrs = {
        "script": attr.label(
            mandatory = True,
            allow_single_file = [".py"],
            doc = "Python export script; receives `args`, then `--out PATH` and, if `dynamo`, `--dynamo`.",
        ),
        "srcs": attr.label_list(
            allow_files = [".py"],
            doc = "Python modules the script imports (their directories go on PYTHONPATH).",
        ),
        "data": attr.label_list(
            allow_files = True,
            doc = "Other files the script reads (e.g. a trained checkpoint); `$(location)` works in `args`.",
        ),
        "args": attr.string_list(
            doc = "Arguments for the script, before `--out`; `$(location)` of `srcs`/`data` is expanded.",
        ),
        "dynamo": attr.bool(
            default = False,
            doc = "Use torch's dynamo exporter (pass `--dynamo`; also declare `<name>.onnx.data`). " +
                  "False: the classic TorchScript-based exporter, a single self-contained `.onnx`.",
        ),
        "_runner": attr.label(
            default = "//bazel/private/tools:qonnx_export",
            executable = True,
            cfg = "exec",
        ),
        "_venv_path": attr.label(
            default = "@qnn_torch_python//:venv_path.txt",
            allow_single_file = True,
        ),
    },
)
