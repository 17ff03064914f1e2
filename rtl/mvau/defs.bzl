"""MVAU build helpers: parameter sets from datatype names, memory files, Yosys-ready ROMs.

mvau_params(...)      qonnx-style datatype names -> the RTL parameter dict (strings)
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

# --- datatypes --------------------------------------------------------------------------------

def _dtype(name):
    """(bits, signed, bipolar, min, max) of a qonnx integer datatype name."""
    if name == "BIPOLAR":
        return struct(bits = 1, signed = 0, bipolar = 1, min = -1, max = 1)
    if name.startswith("UINT"):
        b = int(name[4:])
        return struct(bits = b, signed = 0, bipolar = 0, min = 0, max = (1 << b) - 1)
    if name.startswith("INT"):
        b = int(name[3:])
        return struct(bits = b, signed = 1, bipolar = 0, min = -(1 << (b - 1)), max = (1 << (b - 1)) - 1)
    fail("mvau: unsupported datatype %r (BIPOLAR, INTn, UINTn)" % name)

def _signed_bits(lo, hi):
    """The narrowest two's-complement width holding [lo, hi] (at least 2)."""
    for n in range(2, 63):
        if -(1 << (n - 1)) <= lo and hi <= (1 << (n - 1)) - 1:
            return n
    fail("mvau: accumulator range [%d, %d] beyond 62 bits" % (lo, hi))

def mvau_params(
        mw,
        mh,
        simd,
        pe,
        idt,
        wdt,
        act,
        num_vectors = 1,
        mem_mode = "internal_embedded",
        ram_style = "auto",
        runtime_writeable = 0):
    """The mvau RTL parameters (a dict of strings) for a layer given by datatype names.

    Args:
      mw: matrix width (input features).
      mh: matrix height (output features).
      simd: input elements per word; divides mw.
      pe: output channels per word; divides mh.
      idt: input datatype: "BIPOLAR", "INTn" or "UINTn".
      wdt: weight datatype, same names.
      act: "none" (output the accumulator), "BIPOLAR" (one threshold, 1-bit output), or an
        INTn/UINTn output type: 2^n - 1 thresholds, ACT_VAL = the type's minimum.
      num_vectors: vectors per frame.
      mem_mode: internal_embedded, internal_decoupled or external.
      ram_style: weight memory style: auto, block, distributed or ultra.
      runtime_writeable: 1 = weight memory writable through s_axilite (internal_decoupled
        only); the key RUNTIME_WRITEABLE is set only then.

    ACC_BITS is the narrowest signed width holding every x @ W of the datatypes (the
    extremes of each product are at the corners of the two ranges); thresholds get
    ACC_BITS + 1 bits, enough for the clip values acc_min .. acc_max + 1.
    """
    if mw % simd or mh % pe:
        fail("mvau: SIMD=%d must divide MW=%d and PE=%d must divide MH=%d" % (simd, mw, pe, mh))
    x = _dtype(idt)
    w = _dtype(wdt)
    corners = [x.min * w.min, x.min * w.max, x.max * w.min, x.max * w.max]
    acc_bits = _signed_bits(mw * min(corners + [0]), mw * max(corners + [0]))
    p = {
        "MW": mw,
        "MH": mh,
        "SIMD": simd,
        "PE": pe,
        "NUM_VECTORS": num_vectors,
        "IN_BITS": x.bits,
        "IN_SIGNED": x.signed,
        "IN_BIPOLAR": x.bipolar,
        "W_BITS": w.bits,
        "W_SIGNED": w.signed,
        "W_BIPOLAR": w.bipolar,
        "ACC_BITS": acc_bits,
        "MEM_MODE": mem_mode,
        "RAM_STYLE": ram_style,
    }
    if runtime_writeable:
        p["RUNTIME_WRITEABLE"] = 1
    if act == "none":
        p.update(NO_ACT = 1, OUT_BITS = acc_bits, N_THRES = 1, THR_BITS = acc_bits + 1, ACT_VAL = 0, OUT_BIPOLAR = 0)
    else:
        o = _dtype(act)
        p.update(
            NO_ACT = 0,
            OUT_BITS = o.bits,
            N_THRES = 1 if o.bipolar else (1 << o.bits) - 1,
            THR_BITS = acc_bits + 1,
            ACT_VAL = 0 if o.bipolar else o.min,
            OUT_BIPOLAR = o.bipolar,
        )
    return {k: str(v) for k, v in p.items()}

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
      params: an mvau_params dict.
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
