"""rtl_mutant: a copy of one source file with one deliberate bug, for mutation tests."""

def _rtl_mutant_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + "/" + ctx.file.src.basename)
    ctx.actions.run(
        executable = ctx.executable._mutate,
        arguments = [ctx.file.src.path, out.path, ctx.attr.find, ctx.attr.replace],
        inputs = [ctx.file.src],
        outputs = [out],
        mnemonic = "RtlMutant",
        progress_message = "Mutating %s" % ctx.file.src.short_path,
    )
    return [DefaultInfo(files = depset([out]))]

rtl_mutant = rule(
    implementation = _rtl_mutant_impl,
    doc = "Copies `src`, replacing the first occurrence of `find` by `replace`; fails if `find` is absent.",
    attrs = {
        "src": attr.label(allow_single_file = True, mandatory = True, doc = "File to mutate."),
        "find": attr.string(mandatory = True, doc = "Exact text to replace (first occurrence)."),
        "replace": attr.string(mandatory = True, doc = "Replacement text."),
        "_mutate": attr.label(default = "//bazel/private/tools:mutate", executable = True, cfg = "exec"),
    },
)
