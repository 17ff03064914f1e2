"""rtl_mutant: a copy of one source file with one deliberate bug, for mutation tests;
verilator_mutant_test: that copy run through a testbench that must catch the bug."""

load(":verilator.bzl", "verilator_test")
load(":verilog.bzl", "verilog_library")

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

def verilator_mutant_test(name, src, find, replace, top, tb_srcs, verilog_deps = [], tb_deps = [], params = {}, args = [], **kwargs):
    """A mutation test: `src` with `find` replaced by `replace`, simulated with the
    testbench run with --expect_failure, so the test passes only if the testbench
    catches the deliberate bug.

    Args:
      name: test name.
      src: the Verilog file to mutate.
      find: exact text to replace (must occur).
      replace: replacement text.
      top: top module.
      tb_srcs: testbench sources.
      verilog_deps: verilog_library targets the mutated file instantiates.
      tb_deps: cc deps of the testbench.
      params: top-level parameter overrides.
      args: testbench arguments (--expect_failure is added).
      **kwargs: passed to verilator_test (size, tags, ...).
    """
    rtl_mutant(
        name = name + "_src",
        src = src,
        find = find,
        replace = replace,
    )
    verilog_library(
        name = name + "_lib",
        srcs = [":" + name + "_src"],
        deps = verilog_deps,
    )
    verilator_test(
        name = name,
        args = args + ["--expect_failure"],
        params = params,
        tb_deps = tb_deps,
        tb_srcs = tb_srcs,
        top = top,
        verilog = ":" + name + "_lib",
        **kwargs
    )
