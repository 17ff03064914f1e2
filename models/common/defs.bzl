"""Macros for the example-model packages."""

load("//bazel:defs.bzl", "pytest_test", "qnn_compile", "qonnx_export")

VARIANTS = {
    "w1a1": (1, 1),
    "w1a2": (1, 2),
    "w2a2": (2, 2),
}

def _exports_suite(names):
    """The package's `exports` filegroup of `names` and its light check, `exports_test`."""
    native.filegroup(
        name = "exports",
        srcs = names,
    )
    pytest_test(
        name = "exports_test",
        size = "small",
        srcs = ["//models/common:exports_test.py"],
        data = [":exports"],
    )

# buildifier: disable=unnamed-macro (defines one target per variant, named after `model`)
def bnn_pynq_exports(model, dynamo = [], seed = 0):
    """Exports `model` (tfc, sfc, lfc, cnv) in every VARIANTS entry as `<model>_<variant>`
    (classic exporter) and, for the variants listed in `dynamo`, as
    `<model>_<variant>_dynamo`, each compiled to hardware layers as `<name>_hw`; plus the
    `exports` filegroup and its `exports_test`.

    Args:
      model: bnn_pynq model name.
      dynamo: variants also exported with torch's dynamo exporter.
      seed: seed of the random initialization.
    """
    names = []
    for variant, (wbits, abits) in sorted(VARIANTS.items()):
        for use_dynamo in ([False, True] if variant in dynamo else [False]):
            name = "%s_%s%s" % (model, variant, "_dynamo" if use_dynamo else "")
            qonnx_export(
                name = name,
                args = [
                    "--model=" + model,
                    "--weight_bits=%d" % wbits,
                    "--act_bits=%d" % abits,
                    "--seed=%d" % seed,
                ],
                dynamo = use_dynamo,
                script = "//models/common:export_bnn_pynq.py",
                srcs = ["//models/common:export_lib.py"],
            )
            names.append(":" + name)
            qnn_compile(
                name = name + "_hw",
                model = ":" + name,
            )
    _exports_suite(names)

# buildifier: disable=unnamed-macro (defines targets named after `net`)
def net_exports(net, seed = 0):
    """Exports the hand-written network `models/common/<net>.py` (export_net.py) as `<net>`
    (classic exporter) and `<net>_dynamo`, each compiled to hardware layers as `<name>_hw`;
    plus the `exports` filegroup and its `exports_test`.

    Args:
      net: module name in models/common (defines Net and INPUT_SHAPE).
      seed: seed of the random initialization.
    """
    names = []
    for name, use_dynamo in [(net, False), (net + "_dynamo", True)]:
        qonnx_export(
            name = name,
            args = [
                "--net=" + net,
                "--seed=%d" % seed,
            ],
            dynamo = use_dynamo,
            script = "//models/common:export_net.py",
            srcs = [
                "//models/common:export_lib.py",
                "//models/common:%s.py" % net,
            ],
        )
        names.append(":" + name)
        qnn_compile(
            name = name + "_hw",
            model = ":" + name,
        )
    _exports_suite(names)
