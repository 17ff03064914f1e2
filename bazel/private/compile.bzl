"""qnn_compile: a QONNX model compiled to the hardware-layer graph, as a build output."""

def _qnn_compile_impl(ctx):
    onnx_files = [f for f in ctx.files.model if f.basename.endswith(".onnx")]
    if len(onnx_files) != 1:
        fail("qnn2fpga: %s: `model` must provide exactly one .onnx file, got %s" % (ctx.label, [f.path for f in onnx_files]))
    out = ctx.actions.declare_file(ctx.label.name + ".onnx")
    summary = ctx.actions.declare_file(ctx.label.name + "_summary.txt")
    args = ctx.actions.args()
    args.add(ctx.executable._cli)
    args.add(onnx_files[0])
    args.add(out)
    args.add(summary)
    args.add("--topk=%d" % ctx.attr.topk)
    args.add("--input_datatype=" + ctx.attr.input_datatype)
    ctx.actions.run_shell(
        # A writable HOME keeps onnxruntime from warning that it cannot persist an ID.
        command = 'HOME="$(mktemp -d)" "$1" compile "$2" -o "$3" "$5" "$6" > "$4"',
        arguments = [args],
        inputs = ctx.files.model,
        tools = [ctx.executable._cli],
        outputs = [out, summary],
        mnemonic = "QnnCompile",
        progress_message = "Compiling %s to hardware layers" % ctx.attr.model.label,
    )
    return [DefaultInfo(files = depset([out, summary]), runfiles = ctx.runfiles(files = [out]))]

qnn_compile = rule(
    implementation = _qnn_compile_impl,
    doc = """Runs `qnn2fpga compile` on a QONNX export: `<name>.onnx` is the hardware-layer
graph (open it in Netron), `<name>_summary.txt` the per-layer summary. Fails with the
compiler's one-line message when a node cannot be converted.""",
    attrs = {
        "model": attr.label(
            mandatory = True,
            allow_files = [".onnx", ".data"],
            doc = "The QONNX model: an .onnx file or a target providing one (e.g. a qonnx_export).",
        ),
        "topk": attr.int(default = 0, doc = "Append a label select returning the top-k class indices (0: none)."),
        "input_datatype": attr.string(doc = "UINT8: raw pixels in, the first quantizer in hardware (`qnn2fpga compile --input_datatype`)."),
        "_cli": attr.label(default = "//python/qnn2fpga:cli", executable = True, cfg = "exec"),
    },
)
