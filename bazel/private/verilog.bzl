"""verilog_library: a set of Verilog/SystemVerilog files and their dependencies."""

load(":providers.bzl", "VerilogInfo", "collect_verilog")

def _verilog_library_impl(ctx):
    info = collect_verilog(ctx.files.srcs, ctx.files.hdrs, ctx.attr.deps)
    return [
        info,
        DefaultInfo(files = depset(transitive = [info.srcs, info.hdrs])),
    ]

verilog_library = rule(
    implementation = _verilog_library_impl,
    doc = "Groups (System)Verilog sources; simulation and synthesis rules consume its VerilogInfo.",
    attrs = {
        "srcs": attr.label_list(
            allow_files = [".v", ".sv"],
            doc = "Source files, one module per file, dependencies of this library listed in `deps`.",
        ),
        "hdrs": attr.label_list(
            allow_files = [".vh", ".svh"],
            doc = "Files pulled in with `include.",
        ),
        "deps": attr.label_list(
            providers = [VerilogInfo],
            doc = "Other verilog_library targets whose modules these sources instantiate.",
        ),
    },
    provides = [VerilogInfo],
)
