"""hls_csim_test: C simulation of HLS C++ against AMD's ap_int/ap_fixed headers, with g++."""

def hls_csim_test(name, srcs, deps = [], copts = [], **kwargs):
    """A cc_test compiled against the ap_types headers (C simulation; no Vitis needed).

    Args:
      name: test name.
      srcs: C++ test sources (a main that returns non-zero on mismatch).
      deps: cc deps, typically hls/ header libraries.
      copts: extra compiler options.
      **kwargs: passed to cc_test (size, tags, args, data, ...).
    """
    native.cc_test(
        name = name,
        srcs = srcs,
        deps = deps + ["@ap_types//:ap_types", "@eda_tools//:fingerprint"],
        # ap_private.h trips a few modern-compiler warnings; they are not ours to fix.
        copts = ["-O1", "-Wno-unknown-pragmas", "-Wno-deprecated-copy", "-Wno-maybe-uninitialized"] + copts,
        **kwargs
    )
