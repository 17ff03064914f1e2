"""verilog_library: a set of Verilog/SystemVerilog files and their dependencies."""

load(":providers.bzl", "VerilogInfo", "collect_verilog")

def _verilog_library_impl(ctx):
    info = collect_verilog(ctx.files.srcs, ctx.files.hdrs, ctx.attr.deps, ctx.files.data)
    return [
        info,
        DefaultInfo(files = depset(transitive = [info.srcs, info.hdrs, info.data])),
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
            doc = "Files pulled in with `include (their directories go on the include path).",
        ),
        "data": attr.label_list(
            allow_files = True,
            doc = "Memory init files read with $readmemh/$readmemb. Every Verilator and Yosys " +
                  "action on this library (or a dependent) takes them as inputs; a parameter " +
                  "names one by its path from the execution root, e.g. \"rtl/x/testdata/w.hex\".",
        ),
        "deps": attr.label_list(
            providers = [VerilogInfo],
            doc = "Other verilog_library targets whose modules these sources instantiate.",
        ),
    },
    provides = [VerilogInfo],
)
