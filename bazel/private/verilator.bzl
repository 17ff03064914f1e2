"""Verilator rules: Verilog -> C++ model (CcInfo) -> simulator binary / test."""

load("@bazel_tools//tools/cpp:toolchain_utils.bzl", "find_cpp_toolchain")
load("@eda_tools//:tools.bzl", "TOOLS")
load(":providers.bzl", "VerilatedModelInfo", "VerilogInfo")

def _verilator_cc_library_impl(ctx):
    vinfo = ctx.attr.verilog[VerilogInfo]
    model_cpp = ctx.actions.declare_file(ctx.label.name + "_model.cpp")
    hdrs_dir = ctx.actions.declare_directory(ctx.label.name + "_vhdrs")

    args = ctx.actions.args()
    args.add(TOOLS["verilator"])
    args.add(model_cpp.path)
    args.add(hdrs_dir.path)
    args.add("--")
    args.add("--prefix", ctx.attr.prefix)
    args.add("--top-module", ctx.attr.top)
    args.add_all(["-Wall", "--threads", "1", "-O3"])
    args.add_all(
        sorted(ctx.attr.params.items()),
        map_each = _param_flag,
    )
    inc_dirs = sorted({f.dirname: None for f in vinfo.hdrs.to_list()}.keys())
    args.add_all(inc_dirs, format_each = "-I%s")
    args.add_all(ctx.attr.vopts)
    args.add_all(vinfo.srcs)

    ctx.actions.run(
        executable = ctx.executable._verilate,
        arguments = [args],
        inputs = depset([ctx.file._fingerprint], transitive = [vinfo.srcs, vinfo.hdrs, vinfo.data]),
        outputs = [model_cpp, hdrs_dir],
        mnemonic = "Verilate",
        progress_message = "Verilating %s (%s)" % (ctx.attr.top, ctx.label),
    )

    cc_toolchain = find_cpp_toolchain(ctx)
    feature_configuration = cc_common.configure_features(
        ctx = ctx,
        cc_toolchain = cc_toolchain,
        requested_features = ctx.features,
        unsupported_features = ctx.disabled_features,
    )
    runtime = ctx.attr._verilated[CcInfo]
    compilation_context, compilation_outputs = cc_common.compile(
        name = ctx.label.name,
        actions = ctx.actions,
        feature_configuration = feature_configuration,
        cc_toolchain = cc_toolchain,
        srcs = [model_cpp],
        public_hdrs = [hdrs_dir],
        includes = [hdrs_dir.path],
        # -O1: a model is compiled for one short test; -O2 costs more compile than it saves.
        user_compile_flags = ["-O1", "-w"],
        compilation_contexts = [runtime.compilation_context],
        additional_inputs = [ctx.file._fingerprint],
    )
    linking_context, _ = cc_common.create_linking_context_from_compilation_outputs(
        name = ctx.label.name,
        actions = ctx.actions,
        feature_configuration = feature_configuration,
        cc_toolchain = cc_toolchain,
        compilation_outputs = compilation_outputs,
        linking_contexts = [runtime.linking_context],
    )
    return [
        DefaultInfo(files = depset([model_cpp, hdrs_dir])),
        cc_common.merge_cc_infos(
            direct_cc_infos = [CcInfo(
                compilation_context = compilation_context,
                linking_context = linking_context,
            )],
            cc_infos = [runtime],
        ),
        VerilatedModelInfo(
            top = ctx.attr.top,
            prefix = ctx.attr.prefix,
            model_cpp = model_cpp,
            hdrs_dir = hdrs_dir,
        ),
    ]

def _param_flag(item):
    name, value = item
    if not (value.lstrip("-").isdigit() or "'" in value):
        value = '"%s"' % value  # string parameter
    return "-G%s=%s" % (name, value)

verilator_cc_library = rule(
    implementation = _verilator_cc_library_impl,
    doc = "Verilates a top module (with parameter overrides) into a C++ model usable as a cc dep.",
    attrs = {
        "verilog": attr.label(
            mandatory = True,
            providers = [VerilogInfo],
            doc = "verilog_library holding the top module and everything it instantiates.",
        ),
        "top": attr.string(mandatory = True, doc = "Top module name."),
        "prefix": attr.string(
            default = "Vdut",
            doc = "C++ class of the model; the testbench includes <prefix>.h.",
        ),
        "params": attr.string_dict(doc = "Top-level parameter overrides, passed as -G<name>=<value>; non-numeric values are passed as strings."),
        "vopts": attr.string_list(doc = "Extra Verilator options."),
        "_verilate": attr.label(
            default = "//bazel/private/tools:verilate",
            executable = True,
            cfg = "exec",
        ),
        "_fingerprint": attr.label(default = "@eda_tools//:fingerprint.txt", allow_single_file = True),
        "_verilated": attr.label(default = "@eda_tools//:verilated", providers = [CcInfo]),
        "_cc_toolchain": attr.label(default = "@bazel_tools//tools/cpp:current_cc_toolchain"),
    },
    fragments = ["cpp"],
    toolchains = ["@bazel_tools//tools/cpp:toolchain_type"],
    provides = [CcInfo, VerilatedModelInfo],
)

def _model_and_tb(name, verilog, top, params, vopts, tb_srcs, tb_deps, kwargs):
    model = name + "_model"
    verilator_cc_library(
        name = model,
        verilog = verilog,
        top = top,
        params = params,
        vopts = vopts,
        visibility = ["//visibility:private"],
        tags = kwargs.get("tags", []),
    )
    return dict(
        srcs = tb_srcs,
        deps = [":" + model, "@eda_tools//:verilated"] + tb_deps,
        copts = ["-O1"],
    )

def verilator_sim(name, verilog, top, tb_srcs, tb_deps = [], params = {}, vopts = [], **kwargs):
    """A simulator binary: the Verilated `top` linked with a C++ testbench.

    Args:
      name: binary name.
      verilog: verilog_library with the design.
      top: top module.
      tb_srcs: C++ testbench sources (include "Vdut.h").
      tb_deps: cc deps of the testbench.
      params: top-level parameter overrides.
      vopts: extra Verilator options.
      **kwargs: passed to cc_binary.
    """
    cc = _model_and_tb(name, verilog, top, params, vopts, tb_srcs, tb_deps, kwargs)
    native.cc_binary(name = name, **dict(cc, **kwargs))

def verilator_test(name, verilog, top, tb_srcs, tb_deps = [], params = {}, vopts = [], **kwargs):
    """A self-checking Verilator testbench run by `bazel test` (same arguments as verilator_sim)."""
    cc = _model_and_tb(name, verilog, top, params, vopts, tb_srcs, tb_deps, kwargs)
    native.cc_test(name = name, **dict(cc, **kwargs))
