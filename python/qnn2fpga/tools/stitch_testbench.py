"""Generates a stitched accelerator and its golden vectors for the stream testbench:

    stitch_testbench --model=M.onnx --folding=F.json --top=NAME --verilog=OUT.sv
                     --memory_dir=DIR --memory_path=PATH --input=IN.hex --expected=OUT.hex
                     --meta=OUT.meta --wrapper_template=... --top_template=...

Compiles the QONNX model, applies the folding config, inserts width converters and
FIFOs, stitches the layers (qnn2fpga.stitch) and writes random input frames of the
first layer's datatype with the outputs of the layers' numpy models. The meta file's
cycle bound: `frames` x the slowest layer's cycles at least, plus every layer's cycles
and pipeline latency as the allowance (the first frame fills the pipeline).
"""

from __future__ import annotations

import json
import os

import numpy as np
from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("model", None, "QONNX model", required=True)
flags.DEFINE_string("folding", None, "folding config JSON", required=True)
flags.DEFINE_string("top", None, "top module name", required=True)
flags.DEFINE_integer("frames", 3, "input frames")
flags.DEFINE_integer("seed", 1, "random seed")
flags.DEFINE_string("verilog", None, "output: the stitched design (.sv)", required=True)
flags.DEFINE_string("memory_dir", None, "output: directory for memory files", required=True)
flags.DEFINE_string("memory_path", "", "the memory directory as the simulator will see it")
flags.DEFINE_string("input", None, "output: input words (hex)", required=True)
flags.DEFINE_string("expected", None, "output: expected output words (hex)", required=True)
flags.DEFINE_string("meta", None, "output: testbench meta file", required=True)
flags.DEFINE_string("meta_prefix", "", "prefix of the input/expected paths in the meta file")
flags.DEFINE_string("wrapper_template", None, "rtl/common/layer_wrapper.sv.j2", required=True)
flags.DEFINE_string("top_template", None, "rtl/common/stitched_top.sv.j2", required=True)


def main(argv):
    del argv
    from qnn2fpga import flow, folding, packing, stitch  # noqa: PLC0415
    from qnn2fpga.layers import numerics  # noqa: PLC0415
    from qnn2fpga.transforms.insert_streams import InsertDWC, InsertFIFO  # noqa: PLC0415

    model = flow.compile_model(flow.load_model(FLAGS.model))
    with open(FLAGS.folding) as f:
        model, _ = folding.apply_config(model, json.load(f), f"folding config '{FLAGS.folding}'")
    model = model.transform(InsertDWC()).transform(InsertFIFO())
    with open(FLAGS.wrapper_template) as f, open(FLAGS.top_template) as g:
        st = stitch.stitch(model, FLAGS.top, f.read(), g.read(), FLAGS.memory_path)
    os.makedirs(FLAGS.memory_dir, exist_ok=True)
    for name, text in st.memory_files.items():
        with open(os.path.join(FLAGS.memory_dir, name), "w") as f:
            f.write(text)
    with open(FLAGS.verilog, "w") as f:
        f.write(st.verilog)

    first, last = st.input_layer, st.output_layer
    rng = np.random.default_rng(FLAGS.seed)
    shape = (FLAGS.frames, *first.get_normal_input_shape(0)[1:])
    x = numerics.random_values(first.get_input_datatype(0), shape, rng)
    y = stitch.execute_chain(st, x)
    with open(FLAGS.input, "w") as f:
        f.write(packing.hex_lines(packing.pack_words(x, first.get_input_datatype(0), first.input_folds()[0]),
                                  first.get_instream_width()))
    with open(FLAGS.expected, "w") as f:
        f.write(packing.hex_lines(packing.pack_words(y, last.get_output_datatype(0), last.output_folds()[0]),
                                  last.get_outstream_width()))
    cycles = [layer.cycles() for layer in st.layers]
    p = FLAGS.meta_prefix
    with open(FLAGS.meta, "w") as f:
        f.write(f"in_width {first.get_instream_width()}\nout_width {last.get_outstream_width()}\n"
                f"input {os.path.join(p, os.path.basename(FLAGS.input))}\n"
                f"expected {os.path.join(p, os.path.basename(FLAGS.expected))}\n"
                f"cycles {FLAGS.frames * max(cycles)}\nlatency {sum(cycles) + st.latency + 8 * len(cycles)}\n")


if __name__ == "__main__":
    app.run(main)
