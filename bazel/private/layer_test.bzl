"""hw_layer_test: one hardware layer's RTL against its numpy golden model, in Verilator."""

load(":mutant.bzl", "rtl_mutant")
load(":verilator.bzl", "verilator_test")
load(":verilog.bzl", "verilog_library")
load(":providers.bzl", "LayerSpecsInfo", "SynthInfo", "collect_verilog")
load(":yosys.bzl", "yosys_synth")

def _hw_layer_vectors_impl(ctx):
    top = ctx.attr.top
    wrapper = ctx.actions.declare_file(top + ".sv")
    mem = ctx.actions.declare_directory(top + "_mem")
    inp = ctx.actions.declare_file(top + ".in.hex")
    exp = ctx.actions.declare_file(top + ".out.hex")
    meta = ctx.actions.declare_file(top + ".meta")
    weights = ctx.actions.declare_file(top + ".weights.hex")
    axilite = ctx.actions.declare_file(top + ".axilite.txt")
    args = ctx.actions.args()
    inputs = [ctx.file._template]
    if ctx.attr.spec:
        # Only this layer's spec: the action stays cached while other layers change.
        spec = ctx.attr.spec[LayerSpecsInfo].specs[ctx.attr.layer]
        args.add("--spec", spec)
        inputs.append(spec)
    else:
        args.add("--op", ctx.attr.op)
        args.add("--attrs", ctx.attr.attrs)
    args.add("--seed", ctx.attr.seed)
    args.add("--frames", ctx.attr.frames)
    args.add("--top", top)
    args.add("--template", ctx.file._template)
    args.add("--wrapper", wrapper)
    args.add("--memory_dir", mem.path)
    # Simulations read memory files relative to the runfiles root, synthesis relative to
    # the execution root.
    args.add("--memory_path", mem.path if ctx.attr.for_synthesis else mem.short_path)
    args.add("--input", inp)
    args.add("--expected", exp)
    args.add("--meta", meta)
    args.add("--meta_prefix", inp.dirname[len(ctx.bin_dir.path) + 1:])
    if ctx.attr.flip_weight_bit:
        args.add("--flip_weight_bit")
    if ctx.attr.variant:
        args.add("--variant", ctx.attr.variant)
    if ctx.file.params:
        args.add("--params", ctx.file.params)
        inputs.append(ctx.file.params)
    ctx.actions.run(
        executable = ctx.executable._tool,
        arguments = [args],
        inputs = inputs,
        outputs = [wrapper, mem, inp, exp, meta, weights, axilite],
        mnemonic = "LayerVectors",
        progress_message = "Generating RTL wrapper and golden vectors for %s" % ctx.label,
    )
    return [
        DefaultInfo(files = depset([wrapper]), runfiles = ctx.runfiles(files = [mem, inp, exp, meta, weights, axilite])),
        OutputGroupInfo(meta = depset([meta])),
        # The wrapper as a Verilog source, with the memory files as inputs of whatever uses it.
        collect_verilog([wrapper], [], ctx.attr.rtl, data = [mem]),
    ]

hw_layer_vectors = rule(
    implementation = _hw_layer_vectors_impl,
    doc = """The generated wrapper (default output), memory files and golden vectors
(runfiles) of one layer configuration.""",
    attrs = {
        "op": attr.string(mandatory = True, doc = "Layer op type (a qnn2fpga.layers registry name)."),
        "attrs": attr.string(doc = "Layer attributes as a JSON object (unless `spec`)."),
        "spec": attr.label(providers = [LayerSpecsInfo], doc = "A qnn_accelerator compile target: the attributes and parameters of its layer `layer` instead of `attrs` and random ones."),
        "layer": attr.string(doc = "With `spec`: the layer's node name."),
        "top": attr.string(mandatory = True, doc = "Name of the generated wrapper module."),
        "seed": attr.int(default = 1, doc = "Seed of the random parameters and inputs."),
        "frames": attr.int(default = 2, doc = "Input frames to stream."),
        "variant": attr.string(doc = "Parameter variant for the layer's random_params, e.g. shared_thresholds."),
        "params": attr.label(allow_single_file = [".npz"], doc = "Parameters (.npz, one array per param name) instead of random ones, e.g. from hw_layer_params."),
        "flip_weight_bit": attr.bool(default = False, doc = "Mutation: flip one bit of the first memory file."),
        "mutant": attr.bool(default = False, doc = "The RTL carries a deliberate bug (hw_layer_mutant_test): not listed by hw_layer_test_manifest."),
        "for_synthesis": attr.bool(default = False, doc = "Write memory paths for synthesis (execroot) instead of simulation (runfiles)."),
        "rtl": attr.label_list(doc = "verilog_library targets the wrapper instantiates."),
        "_tool": attr.label(default = "//python/qnn2fpga:layer_testbench", executable = True, cfg = "exec"),
        "_template": attr.label(default = "//rtl/common:layer_wrapper.sv.j2", allow_single_file = True),
    },
)

def hw_layer_test(name, op, attrs, rtl, seed = 1, frames = 2, variant = "", flip_weight_bit = False, synth_families = [], size = "small", tags = []):
    """A Verilator test of layer `op` with `attrs` (a dict) against the numpy golden
    model: random parameters and inputs, back-pressure and input gaps, exact output and
    cycle checks (rtl/common/tb/stream_tb.cpp). `rtl`: the layer's verilog_library.
    `synth_families`: also synthesize the same configuration (same parameters) with
    Yosys for these families (`<name>_synth_<family>`, see hw_layer_synth).
    `variant`: a parameter variant the layer's random_params knows (e.g.
    "shared_thresholds"). With flip_weight_bit the test passes only if the simulation
    fails (mutation check)."""
    _vectors_and_test(name, op, attrs, rtl, seed, frames, variant, size, tags, flip_weight_bit = flip_weight_bit)
    if synth_families:
        hw_layer_synth(name = name + "_synth", op = op, attrs = attrs, rtl = rtl, families = synth_families,
                       seed = seed, variant = variant)

def hw_layer_mutant_test(name, op, attrs, srcs, src, find, replace, deps = [], seed = 1, frames = 2, variant = "", size = "small", tags = []):
    """A mutation test of a layer's RTL: the verilog_library made of `srcs` and `deps`,
    with `find` replaced by `replace` in `src` (one of `srcs`), run as hw_layer_test
    with `attrs`; it passes only if the stream testbench catches the bug (wrong output,
    wrong cycle count, stall or protocol error)."""
    if src not in srcs:
        fail("hw_layer_mutant_test %s: src %s is not one of srcs" % (name, src))
    rtl_mutant(name = name + "_src", src = src, find = find, replace = replace)
    verilog_library(
        name = name + "_lib",
        srcs = [":" + name + "_src" if f == src else f for f in srcs],
        deps = deps,
    )
    _vectors_and_test(name, op, attrs, ":" + name + "_lib", seed, frames, variant, size, tags, mutant = True)

def _vectors_and_test(name, op, attrs, rtl, seed, frames, variant, size, tags, flip_weight_bit = False, mutant = False):
    """hw_layer_vectors `<name>_vectors` and the stream testbench test `<name>` on them;
    a mutation (flip_weight_bit or mutant RTL) passes only if the testbench fails."""
    top = name.replace("-", "_")
    hw_layer_vectors(
        name = name + "_vectors",
        op = op,
        attrs = json.encode(attrs),
        top = top,
        seed = seed,
        frames = frames,
        variant = variant,
        flip_weight_bit = flip_weight_bit,
        mutant = mutant,
        rtl = [rtl],
    )
    stream_tb_test(name, ":" + name + "_vectors", top, size = size, expect_failure = flip_weight_bit or mutant, tags = tags)

def stream_tb_test(name, vectors, top, size = "small", expect_failure = False, tags = []):
    """The stream testbench (rtl/common/tb/stream_tb.cpp) on a hw_layer_vectors target
    `vectors` whose wrapper module is `top`."""
    verilator_test(
        name = name,
        size = size,
        verilog = vectors,
        top = top,
        tb_srcs = ["//rtl/common/tb:stream_tb.cpp"],
        tb_deps = [
            "//rtl/common/tb:axilite",
            "//rtl/common/tb:bits",
            "//rtl/common/tb:dut",
            "//rtl/common/tb:hex",
            "//rtl/common/tb:options",
            "//rtl/common/tb:rng",
            "//rtl/common/tb:scenarios",
        ],
        data = [vectors],
        # The meta file's runfiles path (the vectors target's runfiles are several files).
        args = ["--meta=%s/%s.meta" % (native.package_name(), top)] +
               (["--expect_failure"] if expect_failure else []),
        tags = tags,
    )

def hw_layer_synth(name, op, attrs, rtl, families = ["xc7", "xcup"], seed = 1, variant = "", params = None):
    """Out-of-context Yosys synthesis of layer `op` with `attrs` (random parameters from
    `seed`, or `params`: a .npz such as hw_layer_params makes): `<name>_<family>`
    targets with the resource JSON (see yosys_synth). A real network's layers, as
    folded for a board, are synthesized by qnn_accelerator (`<board>_<layer>_synth`)."""
    top = name.replace("-", "_")
    hw_layer_vectors(
        name = name + "_rtl",
        op = op,
        attrs = json.encode(attrs),
        top = top,
        seed = seed,
        variant = variant,
        params = params,
        for_synthesis = True,
        rtl = [rtl],
    )
    for family in families:
        yosys_synth(
            name = "%s_%s" % (name, family),
            family = family,
            top = top,
            verilog = ":" + name + "_rtl",
        )

def _hw_layer_params_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".npz")
    models = [f for f in ctx.files.model if f.extension == "onnx"]
    if len(models) != 1:
        fail("hw_layer_params: %s must provide exactly one .onnx file" % ctx.attr.model.label)
    model = models[0]
    ctx.actions.run(
        executable = ctx.executable._tool,
        arguments = ["--model", model.path, "--node", ctx.attr.node, "--out", out.path],
        inputs = ctx.files.model,
        outputs = [out],
        mnemonic = "LayerParams",
        progress_message = "Extracting the parameters of %s from %s" % (ctx.attr.node, model.short_path),
    )
    return [DefaultInfo(files = depset([out]))]

hw_layer_params = rule(
    implementation = _hw_layer_params_impl,
    doc = "`<name>.npz`: the parameter initializers of hardware node `node` of a compiled model (e.g. qnn_compile's output), for hw_layer_synth/hw_layer_vectors.",
    attrs = {
        "model": attr.label(mandatory = True, allow_files = True, doc = "Compiled model (hardware layers), e.g. a qnn_compile target."),
        "node": attr.string(mandatory = True, doc = "Node name, e.g. MVAU_0."),
        "_tool": attr.label(default = "//python/qnn2fpga:layer_params", executable = True, cfg = "exec"),
    },
)

def _hw_layer_test_manifest_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".json")
    ctx.actions.write(out, ctx.attr.content)
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

_hw_layer_test_manifest = rule(
    implementation = _hw_layer_test_manifest_impl,
    attrs = {"content": attr.string(mandatory = True, doc = "The manifest's JSON text.")},
)

def hw_layer_test_manifest(name):
    """`<name>.json`: {op: [test labels]} for every hw_layer_test defined above this call
    in the package (mutation tests excluded). The layer conformance test reads these
    manifests: a registered layer with RTL but no Verilator test fails it."""
    tests = {}
    for r in native.existing_rules().values():
        if r["kind"] != "hw_layer_vectors" or r["for_synthesis"] or r["flip_weight_bit"] or r["mutant"]:
            continue
        label = "//%s:%s" % (native.package_name(), r["name"][:-len("_vectors")])
        tests[r["op"]] = sorted(tests.get(r["op"], []) + [label])
    _hw_layer_test_manifest(
        name = name,
        content = json.encode({op: tests[op] for op in sorted(tests)}),
        visibility = ["//visibility:public"],
    )

def _hw_layer_resource_report_impl(ctx):
    out_json, out_md = ctx.outputs.json, ctx.outputs.md
    args = ctx.actions.args()
    reports = []
    for target, entry in zip(ctx.attr.synths, ctx.attr.entries):
        report = target[SynthInfo].report
        reports.append(report)
        args.add("--entry", "%s,%s" % (entry, report.path))
    for name, attrs in sorted(ctx.attr.layer_attrs.items()):
        args.add("--attrs", "%s=%s" % (name, attrs))
    for name, variant in sorted(ctx.attr.variants.items()):
        args.add("--variant", "%s=%s" % (name, variant))
    args.add("--json", out_json)
    args.add("--markdown", out_md)
    ctx.actions.run(
        executable = ctx.executable._tool,
        arguments = [args],
        inputs = reports,
        outputs = [out_json, out_md],
        mnemonic = "LayerResourceReport",
        progress_message = "Collecting layer resources for %s" % ctx.label,
    )
    return [DefaultInfo(files = depset([out_json, out_md]), runfiles = ctx.runfiles(files = [out_json]))]

_hw_layer_resource_report = rule(
    implementation = _hw_layer_resource_report_impl,
    # Predeclared, so that `<name>.json` is a label (checked_in_file compares it).
    outputs = {"json": "%{name}.json", "md": "%{name}.md"},
    attrs = {
        "synths": attr.label_list(providers = [SynthInfo], doc = "yosys_synth targets, one per `entries` item."),
        "entries": attr.string_list(doc = "NAME,OP,FAMILY per synths entry."),
        "layer_attrs": attr.string_dict(doc = "NAME -> layer attributes (JSON)."),
        "variants": attr.string_dict(doc = "NAME -> parameter variant (e.g. shared_thresholds), where one is set."),
        "_tool": attr.label(default = "//python/qnn2fpga:resource_report", executable = True, cfg = "exec"),
    },
)

def hw_layer_resource_report(name, only = None):
    """`<name>.json` and `<name>.md`: the Yosys resource counts (LUT, FF, LUTRAM, SRL,
    BRAM18/36, URAM, DSP) of every hw_layer_synth (or hw_layer_test with synth_families)
    defined above this call in the package, per layer configuration and family; with
    `only` (configuration names), of those configurations alone."""
    vectors = {}
    for r in native.existing_rules().values():
        if r["kind"] == "hw_layer_vectors" and r["for_synthesis"]:
            vectors[r["name"]] = r
    synths, entries, layer_attrs, variants = [], [], {}, {}
    rules = native.existing_rules()
    for rule_name in sorted(rules):
        r = rules[rule_name]
        if r["kind"] != "yosys_synth":
            continue
        src = r["verilog"].split(":")[-1]
        if src not in vectors:
            continue
        config = src[:-len("_rtl")]
        if config.endswith("_synth") and config[:-len("_synth")] + "_vectors" in rules:
            config = config[:-len("_synth")]  # made by hw_layer_test: named like the test
        if only != None and config not in only:
            continue
        synths.append(":" + r["name"])
        entries.append("%s,%s,%s" % (config, vectors[src]["op"], r["family"]))
        layer_attrs[config] = vectors[src]["attrs"]
        if vectors[src]["variant"]:
            variants[config] = vectors[src]["variant"]
    # What is synthesized, known at loading time: compared with checked-in counts without
    # running Yosys.
    _hw_layer_test_manifest(
        name = name + "_configs",
        content = json.encode({c: {"attrs": json.decode(layer_attrs[c]), "variant": variants.get(c, ""),
                                   "families": sorted([e.split(",")[2] for e in entries if e.split(",")[0] == c]),
                                   # yosys_synth target per family (yosys_counts_add builds only these)
                                   "synth": {e.split(",")[2]: "//%s%s" % (native.package_name(), s)
                                             for e, s in zip(entries, synths) if e.split(",")[0] == c},
                                   "op": [e.split(",")[1] for e in entries if e.split(",")[0] == c][0]}
                               for c in sorted(layer_attrs)}),
        visibility = ["//visibility:public"],
    )
    missing = [c for c in (only or []) if c not in layer_attrs]
    if missing:
        fail("hw_layer_resource_report(%s): no synthesized configuration named %s" % (name, ", ".join(missing)))
    _hw_layer_resource_report(
        name = name,
        synths = synths,
        entries = entries,
        layer_attrs = layer_attrs,
        variants = variants,
        visibility = ["//visibility:public"],
    )
