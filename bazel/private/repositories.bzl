"""Repository rules: Python virtualenvs, host EDA tool fingerprints, ap_int headers, npm tools.

All of them resolve offline from what the package registries and the host provide. Their
heavy results (the venv, downloaded wheels) live in a persistent cache directory named
after a hash of their inputs, so a new output base or a fresh clone reuses them.
"""

def _cache_root(rctx):
    """Persistent cache for venvs and wheels: $QNN2FPGA_CACHE or ~/.cache/qnn2fpga."""
    root = rctx.os.environ.get("QNN2FPGA_CACHE", "")
    if not root:
        root = rctx.os.environ.get("HOME", "/root") + "/.cache/qnn2fpga"
    return root

def _run(rctx, argv, what, timeout = 1800, quiet = True):
    res = rctx.execute(argv, timeout = timeout, quiet = quiet)
    if res.return_code != 0:
        fail("qnn2fpga: %s failed (exit %d):\n%s%s" % (what, res.return_code, res.stdout, res.stderr))
    return res.stdout

def _sha256(rctx, path):
    return _run(rctx, ["sha256sum", str(path)], "sha256sum").split(" ")[0]

# ---------------------------------------------------------------------------------------
# Python virtualenv from a hashed lock file, registered as the Python toolchain.

def _python_venv_impl(rctx):
    python = rctx.which("python3")
    if python == None:
        fail("qnn2fpga: python3 not found on PATH; install it with 'apt-get install -y python3-venv'")
    lock = rctx.path(rctx.attr.lock)
    version = _run(rctx, [python, "-c", "import sys; print(sys.version)"], "python3 --version")
    rctx.file("key.txt", version + _sha256(rctx, lock) + "\n", executable = False)
    key = _sha256(rctx, rctx.path("key.txt"))[:16]
    venv = "%s/venv-%s" % (_cache_root(rctx), key)
    _run(
        rctx,
        ["bash", str(rctx.path(rctx.attr._make_venv)), str(python), venv, str(lock)],
        "creating the Python virtualenv %s" % venv,
    )
    rctx.template("BUILD.bazel", rctx.attr._build_tpl, {"{VENV}": venv}, executable = False)
    rctx.file("venv_path.txt", venv + "\n", executable = False)

python_venv = repository_rule(
    implementation = _python_venv_impl,
    doc = "Creates (once) a virtualenv from a pinned, hashed lock file and exposes it as a py_runtime toolchain.",
    attrs = {
        "lock": attr.label(allow_single_file = True, mandatory = True, doc = "pip lock file with --hash entries."),
        "_make_venv": attr.label(default = "//bazel/private/tools:make_venv.sh"),
        "_build_tpl": attr.label(default = "//bazel/private:python_venv.BUILD.tpl"),
    },
    environ = ["HOME", "QNN2FPGA_CACHE"],
)

# ---------------------------------------------------------------------------------------
# Host EDA tools: paths, versions and binary hashes.

# name -> (executables to hash, version argv, Debian package)
_EDA_TOOLS = {
    "verilator": (["verilator", "verilator_bin"], ["--version"], "verilator"),
    "yosys": (["yosys"], ["-V"], "yosys"),
    "gxx": (["g++"], ["--version"], "g++"),
}

def _eda_tools_impl(rctx):
    lines = []
    paths = {}
    for name in sorted(_EDA_TOOLS):
        exes, version_args, package = _EDA_TOOLS[name]
        main = rctx.which(exes[0])
        if main == None:
            paths[name] = ""
            lines.append("%s: missing (apt-get install -y %s)" % (name, package))
            continue
        paths[name] = str(main)
        res = rctx.execute([str(main)] + version_args, timeout = 60)
        version = (res.stdout + res.stderr).strip().split("\n")[0]
        lines.append("%s: %s" % (name, version))
        for exe in exes:
            p = rctx.which(exe)
            if p != None:
                lines.append("  %s sha256 %s" % (exe, _sha256(rctx, p)))
    fingerprint = "\n".join(lines) + "\n"
    rctx.file("fingerprint.txt", fingerprint, executable = False)
    rctx.file(
        "fingerprint.h",
        "// Host EDA tool fingerprint; a tool upgrade changes this file and invalidates\n" +
        "// every action that includes it.\n" +
        "\n".join(["// " + line for line in lines]) + "\n",
        executable = False,
    )

    verilator_root = ""
    if paths["verilator"]:
        root = _run(rctx, [paths["verilator"], "--getenv", "VERILATOR_ROOT"], "verilator --getenv").strip()
        if root and rctx.path(root + "/include/verilated.cpp").exists:
            verilator_root = root
            rctx.symlink(root + "/include", "verilator/include")

    rctx.file("tools.bzl", "\n".join([
        '"""Host EDA tool paths found when the repository was fetched ("" = missing)."""',
        "TOOLS = %s" % repr(paths),
        "INSTALL_HINTS = %s" % repr({n: "apt-get install -y " + _EDA_TOOLS[n][2] for n in _EDA_TOOLS}),
        "",
    ]), executable = False)
    rctx.template(
        "BUILD.bazel",
        rctx.attr._build_tpl if verilator_root else rctx.attr._build_missing_tpl,
        {},
        executable = False,
    )

eda_tools = repository_rule(
    implementation = _eda_tools_impl,
    doc = "Records host verilator/yosys/g++ paths, versions and sha256 into fingerprint files " +
          "that every EDA action takes as input, and wraps Verilator's C++ runtime as a cc_library.",
    attrs = {
        "_build_tpl": attr.label(default = "//bazel/private:eda_tools.BUILD.tpl"),
        "_build_missing_tpl": attr.label(default = "//bazel/private:eda_tools_missing_verilator.BUILD.tpl"),
    },
    environ = ["PATH"],
    local = True,
)

# ---------------------------------------------------------------------------------------
# AMD's open-sourced arbitrary-precision headers, taken from a pinned, hashed wheel.

def _ap_types_headers_impl(rctx):
    lock = rctx.path(rctx.attr.lock)
    wheels = _cache_root(rctx) + "/wheels/" + _sha256(rctx, lock)[:16]
    _run(
        rctx,
        ["bash", str(rctx.path(rctx.attr._fetch_wheel)), wheels, str(lock)],
        "downloading the ap_types wheel listed in %s" % rctx.attr.lock,
    )
    _run(
        rctx,
        [
            "python3",
            str(rctx.path(rctx.attr._extract)),
            wheels,
            rctx.attr.prefix,
            str(rctx.path("include")),
        ],
        "extracting ap_types headers",
    )
    rctx.template("BUILD.bazel", rctx.attr._build_tpl, {}, executable = False)

ap_types_headers = repository_rule(
    implementation = _ap_types_headers_impl,
    doc = "Extracts the Apache-2.0 ap_int/ap_fixed headers from a pinned wheel (nothing else).",
    attrs = {
        "lock": attr.label(allow_single_file = True, mandatory = True, doc = "pip lock naming exactly one wheel."),
        "prefix": attr.string(
            default = "hls4ml/templates/vivado/ap_types/",
            doc = "Folder inside the wheel that holds the headers.",
        ),
        "_fetch_wheel": attr.label(default = "//bazel/private/tools:fetch_wheel.sh"),
        "_extract": attr.label(default = "//bazel/private/tools:extract_ap_types.py"),
        "_build_tpl": attr.label(default = "//bazel/private:ap_types.BUILD.tpl"),
    },
    environ = ["HOME", "QNN2FPGA_CACHE"],
)

# ---------------------------------------------------------------------------------------
# The layer test manifests of every rtl/<x>/ package, found by convention.

def _layer_test_manifests_impl(rctx):
    rtl = rctx.path(Label("//:WORKSPACE")).dirname.get_child("rtl")
    labels = []
    dirs = {d.basename: d for d in rtl.readdir()}
    for name in sorted(dirs):
        d = dirs[name]
        for build in ("BUILD.bazel", "BUILD"):
            if d.get_child(build).exists:
                # Read through a label: an edit of this BUILD file fetches the repository again.
                text = rctx.read(rctx.path(Label("//rtl/%s:%s" % (name, build))))
                if 'name = "%s"' % rctx.attr.target in text:
                    labels.append("@//rtl/%s:%s" % (name, rctx.attr.target))
                break
    rctx.file("BUILD.bazel", "\n".join([
        "# Generated by the layer_test_manifests repository rule (bazel/private/repositories.bzl).",
        "filegroup(",
        '    name = "manifests",',
        "    srcs = [",
    ] + ['        "%s",' % label for label in labels] + [
        "    ],",
        '    visibility = ["//visibility:public"],',
        ")",
        "",
    ]), executable = False)

layer_test_manifests = repository_rule(
    implementation = _layer_test_manifests_impl,
    doc = "`:manifests`: the target named `target` ({op: [test labels]} JSON, e.g. a " +
          "hw_layer_test_manifest) of every package rtl/<x>/ that defines one, so that a new " +
          "layer's rtl/<x>/ package is found without a list kept by hand. Local: fetched " +
          "again when the Bazel server starts, or on `bazel sync --configure`, which is when " +
          "a new rtl/<x>/ directory is seen (edits of existing BUILD files are tracked).",
    attrs = {"target": attr.string(default = "layer_tests", doc = "Name of the manifest target in each rtl/<x>/ package.")},
    local = True,
    configure = True,
)

# ---------------------------------------------------------------------------------------
# A prebuilt tool shipped inside an npm package (buildifier), fetched with `npm pack`.

def _npm_tool_impl(rctx):
    rctx.file(
        "BUILD.bazel",
        "# Generated by the npm_tool repository rule; do not edit.\n" +
        'exports_files(["tool"], visibility = ["//visibility:public"])\n',
        executable = False,
    )
    npm = rctx.which("npm")
    if npm == None:
        # Only the targets that run the tool fail, each with the hint.
        rctx.file("tool", "#!/bin/sh\necho 'qnn2fpga: %s needs npm: apt-get install -y npm' >&2\nexit 1\n" %
                          rctx.attr.package, executable = True)
        return
    machine = _run(rctx, ["uname", "-m"], "uname -m").strip()
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(machine)
    if arch == None:
        fail("qnn2fpga: %s ships no linux binary for %s" % (rctx.attr.package, machine))
    dest = "%s/npm/%s-%s" % (
        _cache_root(rctx),
        rctx.attr.package.replace("@", "").replace("/", "+"),
        rctx.attr.version,
    )
    _run(
        rctx,
        [
            "bash",
            str(rctx.path(rctx.attr._fetch_npm)),
            str(npm),
            dest,
            "%s@%s" % (rctx.attr.package, rctx.attr.version),
            rctx.attr.integrity,
        ],
        "fetching %s@%s with npm pack" % (rctx.attr.package, rctx.attr.version),
    )
    rctx.symlink("%s/package/%s" % (dest, rctx.attr.binary.format(arch = arch)), "tool")

npm_tool = repository_rule(
    implementation = _npm_tool_impl,
    doc = "Fetches a pinned npm package with `npm pack`, checks its integrity hash and exposes " +
          "the prebuilt Linux binary it ships as `@<name>//:tool` (without npm: a stub that " +
          "fails with the install hint).",
    attrs = {
        "package": attr.string(mandatory = True, doc = "npm package name, e.g. @bazel/buildifier."),
        "version": attr.string(mandatory = True, doc = "Exact package version."),
        "integrity": attr.string(
            mandatory = True,
            doc = "The package tarball's npm integrity string (sha512-<base64>), as `npm view PKG@VER dist.integrity` prints it.",
        ),
        "binary": attr.string(
            mandatory = True,
            doc = "Path of the binary inside the package; {arch} becomes amd64 or arm64.",
        ),
        "_fetch_npm": attr.label(default = "//bazel/private/tools:fetch_npm.sh"),
    },
    environ = ["HOME", "QNN2FPGA_CACHE", "PATH"],
)

# ---------------------------------------------------------------------------------------
# Vivado (optional): found on the host, never installed by the build.

def _vivado_tool_impl(rctx):
    home = rctx.os.environ.get("XILINX_VIVADO", "")
    exe = None
    if home and rctx.path(home + "/bin/vivado").exists:
        exe = rctx.path(home + "/bin/vivado")
    if exe == None:
        exe = rctx.which("vivado")
    if exe == None:
        path, fingerprint = "", "vivado: missing (set XILINX_VIVADO to the Vivado install directory)\n"
    else:
        path = str(exe)
        res = rctx.execute([path, "-version"], timeout = 300)
        version = (res.stdout + res.stderr).strip().split("\n")[0] if res.return_code == 0 else ""
        if not version:
            path, fingerprint = "", "vivado: %s does not run (exit %d)\n" % (exe, res.return_code)
        else:
            fingerprint = "vivado: %s\n  vivado path %s\n" % (version, path)
    rctx.file("fingerprint.txt", fingerprint, executable = False)
    rctx.file("tools.bzl", "\n".join([
        '"""Vivado as found when the repository was fetched ("" = missing)."""',
        "VIVADO = %s" % repr(path),
        "",
    ]), executable = False)
    rctx.template("BUILD.bazel", rctx.attr._build_tpl, {}, executable = False)

vivado_tool = repository_rule(
    implementation = _vivado_tool_impl,
    doc = "Finds Vivado ($XILINX_VIVADO/bin/vivado, else `vivado` on PATH) and records its " +
          "version in fingerprint.txt (or that it is missing) and its path in tools.bzl " +
          "(VIVADO, \"\" when missing). Fetched again when XILINX_VIVADO or PATH changes.",
    attrs = {
        "_build_tpl": attr.label(default = "//bazel/private:vivado.BUILD.tpl"),
    },
    environ = ["XILINX_VIVADO", "PATH"],
    local = True,
)
