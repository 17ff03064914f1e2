"""yosys_synth: out-of-context Xilinx synthesis with Yosys, reporting resource counts."""

load("@eda_tools//:tools.bzl", "TOOLS")
load(":providers.bzl", "SynthInfo", "VerilogInfo", "collect_verilog")

FAMILIES = ["xc7", "xcu", "xcup"]

def _yosys_synth_impl(ctx):
    vinfo = ctx.attr.verilog[VerilogInfo]
    report = ctx.actions.declare_file(ctx.label.name + ".json")
    netlist = ctx.actions.declare_file(ctx.label.name + "_netlist.v")
    log = ctx.actions.declare_file(ctx.label.name + ".log")

    args = ctx.actions.args()
    args.add("--yosys", TOOLS["yosys"])
    args.add("--top", ctx.attr.top)
    args.add("--family", ctx.attr.family)
    args.add("--report", report)
    args.add("--netlist", netlist)
    args.add("--log", log)
    for k, v in sorted(ctx.attr.params.items()):
        args.add("--param", "%s=%s" % (k, v))
    args.add_all(sorted({f.dirname: None for f in vinfo.hdrs.to_list()}.keys()), before_each = "--include_dir")
    args.add_all(vinfo.srcs)

    ctx.actions.run(
        executable = ctx.executable._tool,
        arguments = [args],
        inputs = depset(
            [ctx.file._fingerprint] + ctx.files.data,
            transitive = [vinfo.srcs, vinfo.hdrs, vinfo.data],
        ),
        outputs = [report, netlist, log],
        mnemonic = "YosysSynth",
        progress_message = "Synthesizing %s for %s (%s)" % (ctx.attr.top, ctx.attr.family, ctx.label),
    )
    return [
        DefaultInfo(files = depset([report])),
        OutputGroupInfo(logs = depset([log]), netlist = depset([netlist])),
        SynthInfo(top = ctx.attr.top, family = ctx.attr.family, report = report, netlist = netlist),
        # The netlist composes: it can be simulated or synthesized further like any source.
        collect_verilog([netlist], [], []),
    ]

yosys_synth = rule(
    implementation = _yosys_synth_impl,
    doc = """Out-of-context `synth_xilinx -flatten -noiopad -noclkbuf` of one top module, identical inverters merged (`opt_merge -share_all t:INV`).

Default output: `<name>.json` with resource counts by category (LUT, FF, LUTRAM, SRL,
BRAM18, BRAM36, URAM, DSP, CARRY, MUXF) and the raw cell histogram. These are Yosys
counts, not Vivado's. Output groups: `logs` (Yosys log, not reproducible), `netlist`.""",
    attrs = {
        "verilog": attr.label(
            mandatory = True,
            providers = [VerilogInfo],
            doc = "verilog_library holding the top module and everything it instantiates.",
        ),
        "top": attr.string(mandatory = True, doc = "Top module name."),
        "family": attr.string(
            mandatory = True,
            values = FAMILIES,
            doc = "Yosys synth_xilinx -family: xc7 (7-series), xcu (UltraScale), xcup (UltraScale+).",
        ),
        "params": attr.string_dict(doc = "Top-level parameter overrides (strings are quoted automatically)."),
        "data": attr.label_list(
            allow_files = True,
            doc = "Memory init files this synthesis reads ($readmemh/$readmemb), besides the " +
                  "`data` of `verilog`; named in `params` by their path from the execution root.",
        ),
        "_tool": attr.label(
            default = "//bazel/private/tools:yosys_synth",
            executable = True,
            cfg = "exec",
        ),
        "_fingerprint": attr.label(default = "@eda_tools//:fingerprint.txt", allow_single_file = True),
    },
    provides = [SynthInfo, VerilogInfo],
)
