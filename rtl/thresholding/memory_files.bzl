"""memory_files: $readmemh files as inputs of the Verilog rules.

verilog_library accepts only .v/.sv sources and .vh/.svh headers, so a memory init file
read at elaboration (Yosys) would be missing from the synthesis sandbox. This rule puts
the files into VerilogInfo.hdrs, which every Verilator and Yosys action takes as inputs;
a module parameter then names a file by its path from the execution root (the path of a
source file in the workspace, e.g. "rtl/thresholding/testdata/x.hex").
Candidate for //bazel (a `data` attribute of verilog_library or yosys_synth).
"""

load("//bazel:defs.bzl", "VerilogInfo")

def _memory_files_impl(ctx):
    return [
        VerilogInfo(
            srcs = depset(order = "postorder"),
            hdrs = depset(ctx.files.srcs),
        ),
        DefaultInfo(files = depset(ctx.files.srcs)),
    ]

memory_files = rule(
    implementation = _memory_files_impl,
    doc = "Memory init files ($readmemh/$readmemb) carried as VerilogInfo.hdrs, so Verilog rules see them as inputs.",
    attrs = {
        "srcs": attr.label_list(
            allow_files = [".hex", ".mem", ".dat"],
            mandatory = True,
            doc = "Source files in the workspace; refer to them by their workspace path.",
        ),
    },
    provides = [VerilogInfo],
)
