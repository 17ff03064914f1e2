"""Providers shared by qnn2fpga's rules."""

VerilogInfo = provider(
    doc = "Verilog/SystemVerilog sources of a library and everything it depends on.",
    fields = {
        "srcs": "depset of source files in post-order: dependencies before dependents.",
        "hdrs": "depset of include files (`include targets), not compiled on their own.",
        "data": "depset of memory init files ($readmemh/$readmemb), inputs of every Verilator and " +
                "Yosys action; neither compiled nor on the include path. A design names them by " +
                "their path from the execution root (synthesis) or the runfiles root (simulation).",
    },
)

VerilatedModelInfo = provider(
    doc = "A Verilated C++ model (returned next to CcInfo by verilator_cc_library).",
    fields = {
        "top": "Name of the top module.",
        "prefix": "C++ class name of the model (the header is <prefix>.h).",
        "model_cpp": "All generated C++ sources as one translation unit.",
        "hdrs_dir": "Tree artifact of generated .h files.",
    },
)

SynthInfo = provider(
    doc = "Result of an out-of-context Yosys synthesis.",
    fields = {
        "top": "Name of the synthesized top module.",
        "family": "Yosys synth_xilinx family (xc7, xcu, xcup).",
        "report": "JSON file with resource counts (LUT, FF, LUTRAM, SRL, BRAM18, BRAM36, URAM, DSP, CARRY, ...).",
        "netlist": "Synthesized netlist (Verilog).",
    },
)

LayerSpecsInfo = provider(
    doc = "The per-layer spec files of a compiled accelerator (qnn2fpga.accelerator).",
    fields = {
        "specs": "dict: node name -> spec File (<name>.npz: attributes and parameters of that layer only).",
        "hw": "The folded hardware graph (File, .onnx).",
        "layer_list": "layers.json: board, Yosys family and the compiled graph's layers (File).",
        "reports": "dict: FINN report name -> File (estimate_layer_resources, ...).",
        "folding": "The folding config File, or None (automatic folding).",
    },
)

def collect_verilog(srcs, hdrs, deps, data = []):
    """Returns a VerilogInfo for `srcs`, `hdrs` and `data` (memory files) on top of `deps`.

    Args:
      srcs: source Files.
      hdrs: `include Files.
      deps: targets with VerilogInfo.
      data: memory init Files (or directories of them).

    Returns:
      VerilogInfo.
    """
    return VerilogInfo(
        srcs = depset(srcs, transitive = [d[VerilogInfo].srcs for d in deps], order = "postorder"),
        hdrs = depset(hdrs, transitive = [d[VerilogInfo].hdrs for d in deps]),
        data = depset(data, transitive = [d[VerilogInfo].data for d in deps]),
    )
