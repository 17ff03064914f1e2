"""MVAU build helpers: memory files, Yosys-ready ROMs.

The RTL parameter dicts (strings) come from the MVAU layer's rtl() hook, through the
checked-in grid_params.bzl (grid.py, gen_grid_params.py); the helpers here only read them.

mvau_sim_params(...)  the parameters with the runfiles paths of the memory files (Verilator)
mvau_synth_params(...) the same with their bare names (Yosys, beside a rom_with_init_files copy)
mvau_mem_files(...)   genrule running //rtl/mvau:mvau_gen -> <name>_weights.hex, <name>_thresholds.hex
rom_with_init_files   copies the memory primitive (rtl/common/ram_sdp.sv) next to its memory
                      files, as a VerilogInfo library

Why rom_with_init_files: Yosys opens a relative $readmemh path against its working
directory (the execroot, where generated files sit under a configuration-dependent
bazel-out/<config>/bin), and failing that against the directory of the source file holding
the $readmemh. A copy of ram_sdp.sv beside the .hex files therefore lets synthesis name
them by their bare file names, under every configuration; the .hex files travel as `data`
of the VerilogInfo, so yosys_synth stages them. Simulation needs none of this: Verilator
opens the file at run time relative to the test's working directory (the runfiles root),
so tests pass the runfiles path and list the files in `data`.
"""

load("//bazel:defs.bzl", "VerilogInfo")

# --- parameter dicts --------------------------------------------------------------------------

def mvau_runtime_writeable(params):
    return params.get("RUNTIME_WRITEABLE", "0") != "0"

def mvau_needs_weight_file(params):
    # URAM has no initial contents: a runtime-writable "ultra" memory takes no file.
    if mvau_runtime_writeable(params) and params["RAM_STYLE"] == "ultra":
        return False
    return params["MEM_MODE"] != "external"

def mvau_needs_threshold_file(params):
    return params["NO_ACT"] == "0"

# --- memory files -----------------------------------------------------------------------------

_MODEL_PARAMS = [
    "MW",
    "MH",
    "SIMD",
    "PE",
    "NUM_VECTORS",
    "IN_BITS",
    "IN_SIGNED",
    "IN_BIPOLAR",
    "W_BITS",
    "W_SIGNED",
    "W_BIPOLAR",
    "ACC_BITS",
    "NO_ACT",
    "N_THRES",
    "THR_BITS",
    "OUT_BITS",
    "ACT_VAL",
    "OUT_BIPOLAR",
    "MEM_MODE",
]

def mvau_model_args(params, seed):
    """Command-line options for mvau_gen and mvau_tb: the model parameters (and
    RUNTIME_WRITEABLE when set) and the seed."""
    extra = ["RUNTIME_WRITEABLE"] if mvau_runtime_writeable(params) else []
    return ["--%s=%s" % (k, params[k]) for k in _MODEL_PARAMS + extra] + ["--seed=%d" % seed]

def mvau_mem_file_names(name, params):
    """{WEIGHT_FILE / THRES_FILE: file name in the package} that mvau_mem_files(name) writes."""
    outs = {}
    if mvau_needs_weight_file(params):
        outs["WEIGHT_FILE"] = name + "_weights.hex"
    if mvau_needs_threshold_file(params):
        outs["THRES_FILE"] = name + "_thresholds.hex"
    return outs

def mvau_sim_params(mem_name, params):
    """`params` with WEIGHT_FILE / THRES_FILE set to the runfiles paths of mvau_mem_files(mem_name).

    Verilator opens them at run time relative to the test's working directory, the runfiles
    root of the main repository."""
    files = {k: native.package_name() + "/" + f for k, f in mvau_mem_file_names(mem_name, params).items()}
    return dict(params, **files)

def mvau_synth_params(mem_name, params):
    """`params` with WEIGHT_FILE / THRES_FILE set to the bare names of mvau_mem_files(mem_name)'s
    files, for yosys_synth on a library whose ROM comes from rom_with_init_files."""
    return dict(params, **mvau_mem_file_names(mem_name, params))

def mvau_mem_files(name, params, seed, flip_weight_bit = -1, **kwargs):
    """A genrule writing the memory files of `params` with mvau_gen's layer for `seed`.

    Outputs `<name>_weights.hex` (unless MEM_MODE is external, or the memory is runtime
    writable URAM) and `<name>_thresholds.hex` (unless NO_ACT). Returns the dict of output
    file names by parameter (WEIGHT_FILE / THRES_FILE), relative to the package.
    A runtime-writable weight memory (RUNTIME_WRITEABLE) gets a file of zeros: the
    testbench must write the weights through AXI-lite for the outputs to come out right.

    Args:
      name: genrule name and output prefix.
      params: an RTL parameter dict (grid_params.bzl).
      seed: layer seed (the testbench must use the same).
      flip_weight_bit: >= 0 flips that bit of the weight memory (mutation tests).
      **kwargs: passed to genrule (tags, visibility).
    """
    outs = mvau_mem_file_names(name, params)
    if not outs:
        return outs
    flags = {"WEIGHT_FILE": "--weights", "THRES_FILE": "--thresholds"}
    cmd = ["$(execpath //rtl/mvau:mvau_gen)"] + mvau_model_args(params, seed)
    cmd += ["%s=$(execpath %s)" % (flags[k], f) for k, f in sorted(outs.items())]
    if flip_weight_bit >= 0:
        cmd.append("--flip_weight_bit=%d" % flip_weight_bit)
    if mvau_runtime_writeable(params):
        cmd.append("--zero_weights")
    native.genrule(
        name = name,
        outs = [f for _, f in sorted(outs.items())],
        cmd = " ".join(cmd),
        tools = ["//rtl/mvau:mvau_gen"],
        **kwargs
    )
    return outs

# --- Yosys: the ROM source next to its memory files --------------------------------------------

def _rom_with_init_files_impl(ctx):
    rom = ctx.actions.declare_file(ctx.label.name + "/" + ctx.file.rom.basename)
    ctx.actions.expand_template(template = ctx.file.rom, output = rom, substitutions = {})
    staged = []
    for f in ctx.files.init_files:
        out = ctx.actions.declare_file(ctx.label.name + "/" + f.basename)
        ctx.actions.symlink(output = out, target_file = f)
        staged.append(out)
    return [
        DefaultInfo(files = depset([rom] + staged)),
        VerilogInfo(srcs = depset([rom], order = "postorder"), hdrs = depset(), data = depset(staged)),
    ]

rom_with_init_files = rule(
    implementation = _rom_with_init_files_impl,
    doc = """A copy of a ROM source placed in `<name>/` beside (links to) its memory init files.

Yosys resolves a relative $readmemh path against the directory of the source file holding
the call, so the ROM's INIT_FILE parameters can be the files' base names. Provides
VerilogInfo: srcs = the ROM copy, data = the init files (so every consumer stages them).""",
    attrs = {
        "rom": attr.label(
            allow_single_file = [".sv", ".v"],
            mandatory = True,
            doc = "The source file holding the $readmemh calls (one module, no `include).",
        ),
        "init_files": attr.label_list(
            allow_files = True,
            doc = "Memory init files; referenced in parameters by their base names.",
        ),
    },
    provides = [VerilogInfo],
)
