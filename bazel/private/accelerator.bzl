"""qnn_accelerator: one model on one board as per-layer Bazel targets (see the macro's doc)."""

load(":checked_in.bzl", "checked_in_file")
load(":layer_test.bzl", "hw_layer_vectors", "stream_tb_test")
load(":providers.bzl", "LayerSpecsInfo", "SynthInfo", "VerilogInfo", "collect_verilog")
load("@eda_tools//:tools.bzl", "TOOLS")
load(":pytest.bzl", "pytest_test")
load(":verilator.bzl", "verilator_sim")
load(":vivado.bzl", "vivado_bitfile")
load(":yosys.bzl", "yosys_synth")

REPORTS = ["estimate_layer_resources", "estimate_layer_cycles", "estimate_network_performance", "op_and_param_counts"]

_STEP = "//python/qnn2fpga:accelerator_step"

def _run_step(ctx, step, args, inputs, outputs, mnemonic, message, env = {}):
    all_args = ctx.actions.args()
    all_args.add(step)
    ctx.actions.run(
        executable = ctx.executable._step,
        arguments = [all_args, args],
        inputs = inputs,
        outputs = outputs,
        mnemonic = mnemonic,
        progress_message = message,
        # PATH (the strict action environment's) for FIFO sizing's Verilator and g++, and
        # one compile job inside the action: Bazel runs one action per core already.
        env = dict({"PATH": "/bin:/usr/bin:/usr/local/bin", "QNN2FPGA_JOBS": "1"}, **env),
    )

# The attributes every step rule has.
_STEP_ATTRS = {
    "accelerator": attr.string(mandatory = True, doc = "The qnn_accelerator name: the output folder `<accelerator>/`."),
    "_step": attr.label(default = _STEP, executable = True, cfg = "exec"),
}

# --- compile -------------------------------------------------------------------------------

def _compile_impl(ctx):
    onnx = [f for f in ctx.files.model if f.extension == "onnx"]
    if len(onnx) != 1:
        fail("qnn2fpga: %s: `model` must provide exactly one .onnx file, got %s" % (ctx.label, [f.path for f in onnx]))
    prefix = ctx.attr.accelerator + "/compile/"
    hw = ctx.actions.declare_file(prefix + "hw.onnx")
    config = ctx.actions.declare_file(prefix + "final_hw_config.json")
    layer_list = ctx.actions.declare_file(prefix + "layers.json")
    reports = {r: ctx.actions.declare_file(prefix + "report/%s.json" % r) for r in REPORTS}
    specs = {}
    args = ctx.actions.args()
    args.add("--model", onnx[0])
    args.add("--board", ctx.attr.board)
    args.add("--out", hw.dirname)
    args.add("--update_hint", ctx.attr.update_hint)
    inputs = list(ctx.files.model)
    if ctx.file.folding:
        args.add("--folding", ctx.file.folding)
        inputs.append(ctx.file.folding)
    if ctx.attr.target_fps:
        args.add("--target_fps", ctx.attr.target_fps)
    if ctx.attr.fclk_mhz:
        args.add("--fclk_mhz", ctx.attr.fclk_mhz)
    if ctx.attr.input_datatype:
        args.add("--input_datatype", ctx.attr.input_datatype)
    for entry in ctx.attr.layers:
        name = entry.split(":")[0]
        specs[name] = ctx.actions.declare_file(prefix + "layers/%s.npz" % name)
        args.add("--layer", entry)
    _run_step(ctx, "compile", args, inputs, [hw, config, layer_list] + reports.values() + specs.values(),
              "QnnAccelCompile", "Compiling and folding %s for %s" % (ctx.attr.model.label, ctx.attr.board))
    return [
        DefaultInfo(files = depset([hw, config] + reports.values())),
        LayerSpecsInfo(specs = specs, hw = hw, layer_list = layer_list, reports = reports, folding = ctx.file.folding),
        OutputGroupInfo(layer_list = depset([layer_list]), specs = depset(specs.values())),
    ]

qnn_accelerator_compile = rule(
    implementation = _compile_impl,
    doc = "The build flow to the estimate reports (qnn2fpga.accelerator.compile_for_board): hardware graph, reports, one spec per declared layer.",
    attrs = dict(_STEP_ATTRS, **{
        "model": attr.label(
            mandatory = True,
            allow_files = [".onnx", ".data"],
            doc = "The QONNX model: exactly one .onnx file (and its external .data file, if any).",
        ),
        "board": attr.string(mandatory = True, doc = "Board name (a file in //boards)."),
        "folding": attr.label(allow_single_file = [".json"], doc = "Folding config JSON; when unset, `target_fps` folds automatically."),
        "target_fps": attr.string(doc = "Automatic folding to this throughput (frames/s); used when `folding` is unset."),
        "fclk_mhz": attr.string(doc = "Clock for the estimates in MHz; empty: the board's default."),
        "input_datatype": attr.string(doc = "UINT8: the accelerator takes raw pixels, the first quantizer in hardware; empty: the export's float input."),
        "layers": attr.string_list(doc = "NAME:OP of every layer in the checked-in layer list."),
        "update_hint": attr.string(doc = "How to update the checked-in layer list, shown when the compiled layers differ from it."),
    }),
)

# --- FIFO sizing, stitching, report, package ------------------------------------------------

def _fifos_impl(ctx):
    info = ctx.attr.compiled[LayerSpecsInfo]
    prefix = ctx.attr.accelerator + "/fifos/"
    hw = ctx.actions.declare_file(prefix + "hw_fifos.onnx")
    config = ctx.actions.declare_file(prefix + "final_hw_config.json")
    args = ctx.actions.args()
    args.add("--hw", info.hw)
    args.add("--out", hw.dirname)
    inputs = [info.hw]
    if info.folding:
        args.add("--folding", info.folding)
        inputs.append(info.folding)
    # The simulation compiles the libraries of the generated layer list (stitched_rtl),
    # found at their source paths from the execution root.
    rtl = collect_verilog([], [], ctx.attr.rtl)
    _run_step(ctx, "fifos", args, depset(inputs + ctx.files._rtlsim_files, transitive = [rtl.srcs, rtl.hdrs]),
              [hw, config], "QnnFifoSizing",
              "Sizing the FIFOs of %s by simulation" % ctx.attr.accelerator, env = {"QNN2FPGA_RTL_ROOT": "."})
    return [DefaultInfo(files = depset([hw, config]), runfiles = ctx.runfiles(files = [hw, config]))]

qnn_accelerator_fifos = rule(
    implementation = _fifos_impl,
    doc = "Width converters and FIFOs inserted, FIFO depths sized by one Verilator simulation.",
    attrs = dict(_STEP_ATTRS, **{
        "compiled": attr.label(mandatory = True, providers = [LayerSpecsInfo], doc = "The qnn_accelerator_compile target."),
        "rtl": attr.label_list(providers = [VerilogInfo], doc = "The Verilog libraries the simulation compiles: the layer list's stitched_rtl."),
        "_rtlsim_files": attr.label(default = "//rtl/common:rtlsim_harness", doc = "rtlsim's templates and simulation harness."),
    }),
)

def _fifos_output(ctx, basename):
    """The FIFO step's output file `basename` (hw_fifos.onnx or final_hw_config.json)."""
    return [f for f in ctx.files.fifos if f.basename == basename][0]

def _stitched_impl(ctx):
    hw = _fifos_output(ctx, "hw_fifos.onnx")
    design = ctx.actions.declare_directory(ctx.attr.accelerator + "/stitched_ip")
    verilog = ctx.actions.declare_file(ctx.attr.accelerator + "/qnn2fpga_accel.sv")
    shell_json = ctx.actions.declare_file(ctx.attr.accelerator + "/shell.json")
    args = ctx.actions.args()
    args.add("--hw", hw)
    args.add("--out", design.path)
    args.add("--verilog", verilog)
    args.add("--shell_json", shell_json)
    _run_step(ctx, "stitch", args, [hw], [design, verilog, shell_json], "QnnStitch", "Stitching %s" % ctx.attr.accelerator)
    return [
        DefaultInfo(files = depset([design, verilog]), runfiles = ctx.runfiles(files = [design, verilog])),
        collect_verilog([verilog], [], ctx.attr.rtl),
        OutputGroupInfo(shell_json = depset([shell_json])),
    ]

qnn_accelerator_stitched = rule(
    implementation = _stitched_impl,
    doc = "The stitched design: stitched_ip/ (top, memory files, design.txt) and the top .sv as a Verilog library.",
    attrs = dict(_STEP_ATTRS, **{
        "fifos": attr.label(mandatory = True, doc = "The qnn_accelerator_fifos target (its hw_fifos.onnx is stitched)."),
        "rtl": attr.label_list(providers = [VerilogInfo], doc = "verilog_library targets the stitched top instantiates."),
    }),
)

def _package_impl(ctx):
    hw = _fifos_output(ctx, "hw_fifos.onnx")
    info = ctx.attr.compiled[LayerSpecsInfo]
    onnx = [f for f in ctx.files.model if f.extension == "onnx"]
    deploy = ctx.actions.declare_directory(ctx.attr.accelerator + "/deploy")
    args = ctx.actions.args()
    args.add("--hw", hw)
    args.add("--model", onnx[0])
    args.add("--board", ctx.attr.board)
    args.add("--performance", info.reports["estimate_network_performance"])
    args.add("--input_datatype", ctx.attr.input_datatype)
    args.add("--out", deploy.path)
    _run_step(ctx, "package", args,
              depset([hw, info.reports["estimate_network_performance"]] + ctx.files.model + ctx.files._rtlsim_files +
                     ctx.files._drivers),
              [deploy], "QnnPackage", "Writing the deployment package of %s" % ctx.attr.accelerator,
              env = {"QNN2FPGA_RTL_ROOT": ".", "QNN2FPGA_DRIVERS_ROOT": "drivers"})
    return [DefaultInfo(files = depset([deploy]), runfiles = ctx.runfiles(files = [deploy]))]

qnn_accelerator_package = rule(
    implementation = _package_impl,
    doc = "The deployment package <accelerator>/deploy/: the PYNQ driver, io_shape_dict.json, runtime weights, example input and expected output, README (qnn2fpga.deploy).",
    attrs = dict(_STEP_ATTRS, **{
        "compiled": attr.label(mandatory = True, providers = [LayerSpecsInfo], doc = "The qnn_accelerator_compile target (its clock)."),
        "fifos": attr.label(mandatory = True, doc = "The qnn_accelerator_fifos target (its hw_fifos.onnx)."),
        "model": attr.label(mandatory = True, allow_files = [".onnx", ".data"], doc = "The QONNX export (the example outputs)."),
        "board": attr.string(mandatory = True, doc = "Board name (a file in //boards)."),
        "input_datatype": attr.string(doc = "The accelerator's input_datatype (example inputs are raw pixels when set)."),
        "_rtlsim_files": attr.label(default = "//rtl/common:rtlsim_harness", doc = "rtlsim's templates (the design's description)."),
        "_drivers": attr.label(default = "//drivers:sources", doc = "The driver sources copied into the package."),
    }),
)

def _streams_synth_impl(ctx):
    hw = _fifos_output(ctx, "hw_fifos.onnx")
    out = ctx.actions.declare_file(ctx.attr.accelerator + "/streams_synth.json")
    args = ctx.actions.args()
    args.add("--hw", hw)
    args.add("--family", ctx.attr.family)
    args.add("--yosys", TOOLS["yosys"])
    args.add("--out", out)
    for target in ctx.attr.rtl:
        label = str(target.label).lstrip("@")
        args.add("--lib", "%s=%s" % (label, ",".join([f.path for f in target[VerilogInfo].srcs.to_list()])))
    rtl = collect_verilog([], [], ctx.attr.rtl)
    _run_step(ctx, "streams_synth", args, depset([hw, ctx.file._fingerprint], transitive = [rtl.srcs, rtl.hdrs]), [out],
              "QnnStreamsSynth", "Synthesizing the FIFOs and width converters of %s" % ctx.attr.accelerator)
    return [DefaultInfo(files = depset([out]))]

qnn_accelerator_streams_synth = rule(
    implementation = _streams_synth_impl,
    doc = "Out-of-context Yosys synthesis of the inserted FIFOs and width converters (sized depths), one run per distinct configuration.",
    attrs = dict(_STEP_ATTRS, **{
        "fifos": attr.label(mandatory = True, doc = "The qnn_accelerator_fifos target (its hw_fifos.onnx)."),
        "family": attr.string(mandatory = True, doc = "Yosys synth_xilinx family (the layer list's synth_family)."),
        "rtl": attr.label_list(providers = [VerilogInfo], doc = "The layer list's stitched_rtl (the stream layers' libraries among them)."),
        "_fingerprint": attr.label(default = "@eda_tools//:fingerprint.txt", allow_single_file = True),
    }),
)

def _report_impl(ctx):
    info = ctx.attr.compiled[LayerSpecsInfo]
    prefix = ctx.attr.accelerator + "/report/"
    outs = [ctx.actions.declare_file(prefix + "%s.json" % r) for r in REPORTS + ["final_hw_config", "synth_layer_resources"]]
    fifo_config = _fifos_output(ctx, "final_hw_config.json")
    args = ctx.actions.args()
    args.add("--compile", info.hw.dirname)
    args.add("--fifos", fifo_config.dirname)
    args.add("--out", outs[0].dirname)
    inputs = info.reports.values() + [fifo_config]
    for layer, target in zip(ctx.attr.layer_names, ctx.attr.synths):
        report = target[SynthInfo].report
        args.add("--synth", "%s=%s" % (layer, report.path))
        inputs.append(report)
    if ctx.file.streams_synth:
        args.add("--streams_synth", ctx.file.streams_synth)
        inputs.append(ctx.file.streams_synth)
    _run_step(ctx, "report", args, inputs, outs, "QnnAccelReport", "Collecting the reports of %s" % ctx.attr.accelerator)
    return [DefaultInfo(files = depset(outs), runfiles = ctx.runfiles(files = outs))]

qnn_accelerator_report = rule(
    implementation = _report_impl,
    doc = "report/: the estimate reports, final_hw_config.json and synth_layer_resources.json (Yosys per layer).",
    attrs = dict(_STEP_ATTRS, **{
        "compiled": attr.label(mandatory = True, providers = [LayerSpecsInfo], doc = "The qnn_accelerator_compile target (its estimate reports)."),
        "fifos": attr.label(mandatory = True, doc = "The qnn_accelerator_fifos target (its final_hw_config.json)."),
        "synths": attr.label_list(providers = [SynthInfo], doc = "Per-layer yosys_synth targets, in the order of `layer_names`."),
        "layer_names": attr.string_list(doc = "The node name of each `synths` entry."),
        "streams_synth": attr.label(allow_single_file = [".json"], doc = "The qnn_accelerator_streams_synth target: the FIFOs' and width converters' counts."),
    }),
)

# --- the macro --------------------------------------------------------------------------------

def qnn_accelerator(name, model, board, layers, folding = None, target_fps = None, fclk_mhz = None,
                    rtlsim_inputs = 20, layers_file = "hw_layers", input_datatype = "", tags = [],
                    driver_test_tags = None):
    """A QONNX model as a folded dataflow accelerator for `board`, one target per step
    and per layer, each cached by Bazel on its own inputs:

      <name>_compile            the build flow to the estimate reports: <name>/compile/
                                (hw.onnx, final_hw_config.json, report/*.json, layers/<layer>.npz)
      <name>_<layer>_rtl        the layer's generated RTL (wrapper + memory files), for synthesis
      <name>_<layer>_test       the layer's RTL in Verilator against its numpy model (real
                                parameters, random inputs, back-pressure, cycle bounds)
      <name>_<layer>_synth      out-of-context Yosys synthesis for the board's family (boards
                                of a family Yosys cannot target have none)
      <name>_streams_synth      the same for the inserted FIFOs and width converters (sized)
      <name>_synth              every layer's synthesis
      <name>_fifos              width converters and FIFOs, depths sized by simulation
      <name>_stitched           the stitched design: <name>/stitched_ip/, <name>/qnn2fpga_accel.sv
      <name>_rtlsim             the whole-design simulator (Verilator)
      <name>_rtlsim_test        the network (software head and tail, stitched design) against
                                qonnx execution of `model`, bit for bit, and cycles per
                                frame against the estimate
      <name>_report             <name>/report/: FINN's estimate reports, final_hw_config.json,
                                synth_layer_resources.json
      <name>_package            <name>/deploy/: the PYNQ driver (drivers/), io_shape_dict.json,
                                runtime weights, example input and the export's outputs for it
      <name>_bitfile            <name>_bitfile.bit/.hwh with Vivado (tagged manual, requires-vivado;
                                without Vivado it fails with one line naming it)
      <name>_driver_test        the package's driver over the simulated design (the same
                                driver code as on a board) against qonnx execution of `model`
      <name>                    the report and the stitched design
      <name>_summary            `bazel run`: the layers' folding, cycles, estimated and
                                Yosys resources; the simulated design's throughput and
                                its outputs checked against qonnx execution of `model`

    Per-layer actions read only their layer's spec, so changing one layer's folding
    rebuilds that layer, the stitched design and the reports; other layers stay cached.

    Args:
      name: accelerator name, by convention the board (targets are `<board>_<artifact>`).
      model: the QONNX export (a qonnx_export target or an .onnx file).
      board: board key (boards/<board>.json).
      layers: this accelerator's entry of the package's generated layer list
        (`load(":hw_layers.bzl", "HW_LAYERS")`, then `HW_LAYERS.get(name)`); None before
        the list is first generated with `bazel run :hw_layers_update`.
      folding: folding config (FINN's JSON format); with target_fps, its entries override
        the automatic choices (e.g. pin one layer's PE).
      target_fps: automatic folding to this throughput.
      fclk_mhz: clock for the estimates (default: the board's).
      rtlsim_inputs: inputs of the whole-design test.
      input_datatype: "UINT8": the accelerator takes raw pixels 0..255 with the first
        quantizer (and the input's scaling by 1/255) in hardware; its tests feed the
        export x / 255. Empty: the export's float input, quantized in software.
      layers_file: the name given to qnn_accelerator_layers in this package.
      tags: added to every test.
      driver_test_tags: the driver test's tags instead (default: `tags`).
    """
    if driver_test_tags == None:
        driver_test_tags = tags
    if folding == None and target_fps == None:
        fail("qnn2fpga: qnn_accelerator %s: give folding, target_fps or both (folding then overrides the automatic choices)" % name)
    entry = layers or {"board": board, "layers": [], "stitched_rtl": [], "synth_family": ""}
    if "stitched_rtl" not in entry or [x for x in entry["layers"] if len(x) != 3]:
        # A list in an older format (no Verilog libraries): declared like a list not yet
        # generated, so that `<layers_file>_update` rewrites it (its test fails meanwhile).
        entry = {"board": entry["board"], "layers": [], "stitched_rtl": [], "synth_family": ""}
    if entry["board"] != board:
        fail("qnn2fpga: qnn_accelerator %s: the layer list was generated for board %s; run `bazel run //%s:%s_update`" %
             (name, entry["board"], native.package_name(), layers_file))
    compiled = name + "_compile"
    qnn_accelerator_compile(
        name = compiled,
        accelerator = name,
        model = model,
        board = board,
        folding = folding,
        target_fps = str(target_fps) if target_fps != None else "",
        fclk_mhz = str(fclk_mhz) if fclk_mhz != None else "",
        input_datatype = input_datatype,
        layers = ["%s:%s" % (n, op) for n, op, _ in entry["layers"]],
        update_hint = "run `bazel run //%s:%s_update`" % (native.package_name(), layers_file),
    )
    synths = []
    for layer, op, rtl in entry["layers"]:
        if not rtl:
            fail("qnn2fpga: qnn_accelerator %s: layer %s (%s) has no RTL (its layer class declares no rtl_library)" %
                 (name, layer, op))
        base = "%s_%s" % (name, layer.lower())
        top = base.replace("-", "_")
        hw_layer_vectors(name = base + "_vectors", op = op, top = top, spec = ":" + compiled, layer = layer,
                         rtl = [rtl])
        stream_tb_test(base + "_test", ":" + base + "_vectors", top, size = "medium", tags = tags)
        hw_layer_vectors(name = base + "_rtl", op = op, top = top + "_s", spec = ":" + compiled, layer = layer,
                         for_synthesis = True, rtl = [rtl])
        if entry["synth_family"]:  # boards whose family Yosys cannot target get no synthesis
            yosys_synth(name = base + "_synth", family = entry["synth_family"], top = top + "_s", verilog = ":" + base + "_rtl")
            synths.append(":" + base + "_synth")
    if entry["synth_family"]:
        qnn_accelerator_streams_synth(name = name + "_streams_synth", accelerator = name, fifos = ":" + name + "_fifos",
                                      family = entry["synth_family"], rtl = entry["stitched_rtl"])
        synths.append(":" + name + "_streams_synth")
    native.filegroup(name = name + "_synth", srcs = synths)
    qnn_accelerator_fifos(name = name + "_fifos", accelerator = name, compiled = ":" + compiled,
                          rtl = entry["stitched_rtl"])
    qnn_accelerator_stitched(name = name + "_stitched", accelerator = name, fifos = ":" + name + "_fifos",
                             rtl = entry["stitched_rtl"])
    verilator_sim(
        name = name + "_rtlsim",
        verilog = ":" + name + "_stitched",
        top = "qnn2fpga_accel",
        tb_srcs = ["//rtl/common/tb:stitched_sim.cpp"],
        tb_deps = [
            "//rtl/common/tb:axilite",
            "//rtl/common/tb:bits",
            "//rtl/common/tb:dut",
            "//rtl/common/tb:options",
            "//rtl/common/tb:rng",
        ],
    )
    pytest_test(
        name = name + "_rtlsim_test",
        size = "medium",
        srcs = ["//python/qnn2fpga:tools/accelerator_rtlsim_test.py"],
        data = [model, ":" + name + "_fifos", ":" + name + "_stitched", ":" + name + "_rtlsim", "//rtl/common:rtlsim_harness"],
        env = {
            "ACCEL_MODEL": "$(rootpaths %s)" % model,
            "ACCEL_HW": "$(rootpaths :%s_fifos)" % name,
            "ACCEL_VERILOG": "$(rootpaths :%s_stitched)" % name,
            "ACCEL_SIM": "$(rootpath :%s_rtlsim)" % name,
            "ACCEL_INPUTS": str(rtlsim_inputs),
            "ACCEL_INPUT_DATATYPE": input_datatype,
        },
        deps = ["//python/qnn2fpga"],
        tags = tags,
    )
    qnn_accelerator_report(
        name = name + "_report",
        accelerator = name,
        compiled = ":" + compiled,
        fifos = ":" + name + "_fifos",
        synths = synths[:-1] if entry["synth_family"] else [],
        layer_names = [layer for layer, _, _ in entry["layers"]] if entry["synth_family"] else [],
        streams_synth = (":" + name + "_streams_synth") if entry["synth_family"] else None,
    )
    qnn_accelerator_package(
        name = name + "_package",
        accelerator = name,
        compiled = ":" + compiled,
        fifos = ":" + name + "_fifos",
        model = model,
        board = board,
        input_datatype = input_datatype,
    )
    # The bitfile (Vivado; without it the action fails with one line naming it).
    native.filegroup(name = name + "_shell_json", srcs = [":" + name + "_stitched"], output_group = "shell_json")
    vivado_bitfile(
        name = name + "_bitfile",
        board = board,
        shell = ":" + name + "_shell_json",
        srcs = [":" + name + "_stitched"],
        verilog = ":" + name + "_stitched",
        fclk_mhz = str(fclk_mhz) if fclk_mhz != None else "",
        accelerator = name,
        tags = ["manual", "requires-vivado"],
    )
    pytest_test(
        name = name + "_driver_test",
        size = "medium",
        srcs = ["//python/qnn2fpga:tools/accelerator_driver_test.py"],
        data = [model, ":" + name + "_fifos", ":" + name + "_package", ":" + name + "_rtlsim",
                "//rtl/common:rtlsim_harness"],
        env = {
            "ACCEL_MODEL": "$(rootpaths %s)" % model,
            "ACCEL_HW": "$(rootpaths :%s_fifos)" % name,
            "ACCEL_PACKAGE": "$(rootpath :%s_package)" % name,
            "ACCEL_SIM": "$(rootpath :%s_rtlsim)" % name,
            "ACCEL_INPUT_DATATYPE": input_datatype,
            "ACCEL_BOARD": board,
        },
        deps = ["//python/qnn2fpga"],
        tags = driver_test_tags,
    )
    native.filegroup(name = name, srcs = [":" + name + "_report", ":" + name + "_stitched"])
    native.py_binary(
        name = name + "_summary",
        srcs = ["//python/qnn2fpga:tools/accelerator_summary.py"],
        main = "//python/qnn2fpga:tools/accelerator_summary.py",
        args = [
            "--board=" + board,
            "--label=//%s:%s" % (native.package_name(), name),
            "--inputs=%d" % rtlsim_inputs,
            "--input_datatype=" + input_datatype,
            "$(rootpaths %s)" % model,
            "$(rootpaths :%s_fifos)" % name,
            "$(rootpath :%s_rtlsim)" % name,
            "$(rootpaths :%s_report)" % name,
        ],
        data = [model, ":" + name + "_fifos", ":" + name + "_report", ":" + name + "_rtlsim",
                "//rtl/common:rtlsim_harness"],
        deps = ["//python/qnn2fpga"],
    )

# --- the checked-in layer list -------------------------------------------------------------------

def _layer_list_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".bzl")
    args = ctx.actions.args()
    args.add("--package", ctx.label.package)
    args.add("--out", out)
    inputs = []
    for target in ctx.attr.compiled:
        info = target[LayerSpecsInfo]
        name = target.label.name[:-len("_compile")]
        args.add("%s=%s" % (name, info.layer_list.path))
        inputs.append(info.layer_list)
    _run_step(ctx, "layer_list", args, inputs, [out], "QnnLayerList", "Listing the hardware layers of //%s" % ctx.label.package)
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

_layer_list = rule(
    implementation = _layer_list_impl,
    attrs = {
        "compiled": attr.label_list(providers = [LayerSpecsInfo], doc = "qnn_accelerator_compile targets (`<name>_compile`) whose layer lists are joined."),
        "_step": attr.label(default = _STEP, executable = True, cfg = "exec"),
    },
)

def qnn_accelerator_layers(name = "hw_layers"):
    """The package's generated layer list `<name>.bzl` (HW_LAYERS, loaded by the
    qnn_accelerator calls above this one) and its upkeep:

      <name>_update   `bazel run` it to rewrite <name>.bzl from the compiled models
      <name>_test     fails while <name>.bzl differs from what the models compile to
    """
    compiled = sorted([":" + r["name"] for r in native.existing_rules().values() if r["kind"] == "qnn_accelerator_compile"])
    _layer_list(name = name + "_generated", compiled = compiled)
    checked_in_file(name, ":%s_generated" % name, name + ".bzl")
