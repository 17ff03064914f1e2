"""vivado_bitfile: a stitched accelerator in the Zynq shell, through Vivado to a bitfile."""

load("@vivado//:tools.bzl", "VIVADO")
load(":providers.bzl", "VerilogInfo")

_TOOL = "//python/qnn2fpga:vivado_bitfile"

def _vivado_bitfile_impl(ctx):
    project = ctx.actions.declare_directory(ctx.label.name + "_project")
    bit = ctx.actions.declare_file(ctx.label.name + ".bit")
    hwh = ctx.actions.declare_file(ctx.label.name + ".hwh")
    reports = ctx.actions.declare_directory(ctx.label.name + "_report")

    transitive = []
    if ctx.attr.verilog:
        vinfo = ctx.attr.verilog[VerilogInfo]
        transitive = [vinfo.srcs, vinfo.hdrs, vinfo.data]
    sources = depset(ctx.files.srcs, transitive = transitive)

    # 1. The project script and its sources: needs no Vivado (output group `project`).
    args = ctx.actions.args()
    args.add("project")
    args.add("--board=" + ctx.attr.board)
    args.add(ctx.file.shell, format = "--shell=%s")
    if ctx.attr.fclk_mhz:
        args.add("--fclk_mhz=" + ctx.attr.fclk_mhz)
    args.add(project.path, format = "--out=%s")
    args.add_all(sources, expand_directories = False)
    ctx.actions.run(
        executable = ctx.executable._tool,
        arguments = [args],
        inputs = depset([ctx.file.shell], transitive = [sources]),
        outputs = [project],
        mnemonic = "VivadoProject",
        progress_message = "Writing the Vivado project of %s for %s" % (ctx.label, ctx.attr.board),
    )

    # 2. Vivado: synthesis, implementation, bitstream, reports.
    name = ctx.attr.accelerator or ctx.attr.board
    without = ctx.attr.without_vivado or [
        "//%s:%s_package" % (ctx.label.package, name),
        "//%s:%s_rtlsim_test" % (ctx.label.package, name),
    ]
    build = ctx.actions.args()
    build.add("build")
    build.add(project.path, format = "--project=%s")
    build.add("--vivado=" + VIVADO)
    build.add(bit, format = "--out_bit=%s")
    build.add(hwh, format = "--out_hwh=%s")
    build.add(reports.path, format = "--out_reports=%s")
    build.add("--without_vivado=" + ",".join(without))
    ctx.actions.run(
        executable = ctx.executable._tool,
        arguments = [build],
        # The fingerprint (Vivado's version, or "missing"): a new Vivado rebuilds the bitfile.
        inputs = [project, ctx.file._fingerprint],
        outputs = [bit, hwh, reports],
        mnemonic = "VivadoBitfile",
        progress_message = "Building the %s bitfile of %s with Vivado (hours)" % (ctx.attr.board, ctx.label),
        env = {"PATH": "/bin:/usr/bin:/usr/local/bin"},
        # Vivado is a host install, not something a remote executor or cache would have.
        execution_requirements = {"no-remote": "1", "no-sandbox": "1"},
    )
    return [
        DefaultInfo(files = depset([bit, hwh, reports])),
        OutputGroupInfo(project = depset([project])),
    ]

vivado_bitfile = rule(
    implementation = _vivado_bitfile_impl,
    doc = """A stitched accelerator in the Zynq shell (PS, AXI DMA, interconnects, reset),
built with `vivado -mode batch` to `<name>.bit` + `<name>.hwh` (PYNQ overlay) and
`<name>_report/` (post_synth_resources.json, post_route_resources.json,
post_route_timing.json and Vivado's .rpt files).

The project script comes from qnn2fpga.vivado.write_project and is built without Vivado
(`--output_groups=project`: `<name>_project/make_project.tcl`). Vivado is found when the
workspace is set up (@vivado, from $XILINX_VIVADO or PATH); without it the build action
fails with one line naming XILINX_VIVADO and the targets that build without it. Zynq boards
only (an Alveo board fails with one line). Tag targets `manual` and `requires-vivado`.""",
    attrs = {
        "board": attr.string(mandatory = True, doc = "Board name (a file in //boards) with a Zynq shell."),
        "shell": attr.label(
            mandatory = True,
            allow_single_file = [".json"],
            doc = "shell.json of the stitched design: top, in_bytes, out_bytes, axilite_addr_bits.",
        ),
        "srcs": attr.label_list(
            allow_files = True,
            doc = "Design files: the stitched top and shell (.sv/.v), memory init files, or " +
                  "directories of them (e.g. a qnn_accelerator's `_stitched` target).",
        ),
        "verilog": attr.label(
            providers = [VerilogInfo],
            doc = "A Verilog library whose sources, include files and memory files are added " +
                  "(e.g. the `_stitched` target: the layers' libraries).",
        ),
        "fclk_mhz": attr.string(doc = "PL clock (FCLK0 / pl_clk0) in MHz; empty: the board's default clock."),
        "accelerator": attr.string(doc = "The qnn_accelerator name, for the targets the missing-Vivado message names; empty: `board`."),
        "without_vivado": attr.string_list(
            doc = "Targets the missing-Vivado message names as building without Vivado; " +
                  "empty: //<package>:<accelerator>_package and _rtlsim_test.",
        ),
        "_tool": attr.label(default = _TOOL, executable = True, cfg = "exec"),
        "_fingerprint": attr.label(default = "@vivado//:fingerprint.txt", allow_single_file = True),
    },
)
