"""Generates everything a golden-vector RTL test of one hardware layer needs:

    layer_testbench --op=MVAU --attrs='{"MW": 16, ...}' --seed=1 --frames=3 --top=NAME
                    --wrapper=W.sv --memory_dir=DIR --memory_path=RUNFILES_DIR
                    --input=IN.hex --expected=OUT.hex --meta=M.txt --meta_prefix=RUNFILES_PREFIX
                    --template=rtl/common/layer_wrapper.sv.j2 [--flip_weight_bit]
    layer_testbench --spec=LAYER.npz ...   (a compiled network's layer: qnn2fpga.accelerator)

Random parameters (the layer's `random_params`, or the spec's) and inputs, the numpy golden outputs,
the generated wrapper and memory files, and the testbench's meta file (stream widths,
file paths, cycle estimate and allowed latency). Next to the input file go
NAME.weights.hex (the s_axis_w words of mem_mode "external", else empty) and
NAME.axilite.txt ("address data" hex writes of a runtime-writable memory, whose memory
file is then all zeros, else empty). `--flip_weight_bit` flips one bit of
the first memory after the golden outputs are computed: the test must then fail.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

# Inside a build action HOME is not writable, and onnxruntime (imported below) would warn
# that it cannot store its telemetry ID: give it a private one.
os.environ["HOME"] = tempfile.mkdtemp(prefix="layer_testbench_home.")

import numpy as np
from absl import app, flags

from qnn2fpga import accelerator, codegen, errors, packing
from qnn2fpga.layers import LAYERS, testing

FLAGS = flags.FLAGS
flags.DEFINE_string("op", None, "layer op type (or --spec)")
flags.DEFINE_string("attrs", None, "layer attributes (JSON object; or --spec)")
flags.DEFINE_integer("seed", 1, "random seed")
flags.DEFINE_integer("frames", 2, "input frames to stream")
flags.DEFINE_string("top", None, "wrapper module name", required=True)
flags.DEFINE_string("wrapper", None, "output: wrapper .sv", required=True)
flags.DEFINE_string("memory_dir", None, "output: directory for memory files", required=True)
flags.DEFINE_string("memory_path", "", "the memory directory as the simulator will see it")
flags.DEFINE_string("input", None, "output: input words (hex)", required=True)
flags.DEFINE_string("expected", None, "output: expected output words (hex)", required=True)
flags.DEFINE_string("meta", None, "output: testbench meta file", required=True)
flags.DEFINE_string("meta_prefix", "", "prefix of the input/expected paths in the meta file")
flags.DEFINE_string("template", None, "the wrapper template (rtl/common/layer_wrapper.sv.j2)", required=True)
flags.DEFINE_bool("flip_weight_bit", False, "mutation: flip one bit of the first memory")
flags.DEFINE_string("variant", "", "parameter variant for the layer's random_params (e.g. shared_thresholds)")
flags.DEFINE_string("params", None, "parameters from a .npz (one array per param_names() entry, by name) "
                    "instead of random ones, e.g. a real network's layer (tools/layer_params.py)")
flags.DEFINE_string("spec", None, "a layer spec (qnn2fpga.accelerator: op, attributes and parameters of a "
                    "compiled network's layer) instead of --op/--attrs and random parameters")


def main(argv):
    del argv
    rng = np.random.default_rng(FLAGS.seed)
    spec = None
    if FLAGS.spec:
        try:
            spec = accelerator.read_spec(FLAGS.spec)
        except errors.QnnError as e:
            sys.exit(f"qnn2fpga: {e.one_line()}")
        op, attrs = spec.op, dict(spec.attrs)
    else:
        op, attrs = FLAGS.op, json.loads(FLAGS.attrs)
    cls = LAYERS[op]
    # The frames go back to back: one frame of `frames` times the vectors, so the layer's
    # own cycle estimate covers the whole stream. An image layer (no numInputVectors:
    # FMPadding, ConvolutionInputGenerator, StreamingMaxPool) streams a batch of `frames`
    # images instead, and its estimate is `frames` times that of one.
    batch = None
    if "numInputVectors" in cls.declared_attrs():
        nv = list(attrs.get("numInputVectors", [1]))
        attrs["numInputVectors"] = [nv[0] * FLAGS.frames] + nv[1:]
    else:
        batch = FLAGS.frames
    layer0 = cls(cls.make_node([], [], name=FLAGS.top, **attrs))
    if spec is not None:
        params = spec.param_list(layer0)
        layer0.check_params(params)
    elif FLAGS.params:
        with np.load(FLAGS.params) as npz:
            params = [npz[name] for name in layer0.param_names()]
        layer0.check_params(params)
    else:
        params = layer0.random_params(rng, FLAGS.variant)
    model = testing.single_node_model(op, attrs, params, name=FLAGS.top)
    layer = testing.the_layer(model)
    x = testing.random_inputs(model, rng, batch=batch)
    y = layer.execute(*x, *params)
    y = y[0] if isinstance(y, tuple) else y

    gen = codegen.generate(layer, params, FLAGS.top, open(FLAGS.template).read(), FLAGS.memory_path)
    inst = gen.instance
    axilite = []
    if inst.axilite:
        # The memory starts from zeros; the testbench writes the real words first, so a
        # passing test proves the AXI-lite path.
        words, width = inst.memories[inst.axilite[0]]
        axilite = packing.axilite_writes(words, width)
        name = codegen.memory_file_name(FLAGS.top, inst.axilite[0])
        gen.memory_files[name] = packing.hex_lines([0] * len(words), width)
    if FLAGS.flip_weight_bit:
        weights = [f for f in gen.memory_files if f.endswith("_weight_file.hex")]
        name = (weights or sorted(gen.memory_files))[0]
        lines = gen.memory_files[name].splitlines()
        first = int(lines[0], 16) ^ 1
        lines[0] = f"{first:0{len(lines[0])}x}"
        gen.memory_files[name] = "\n".join(lines) + "\n"
    codegen.write(gen, FLAGS.wrapper, FLAGS.memory_dir)

    in_words = packing.pack_words(x[0], layer.get_input_datatype(0), layer.input_folds()[0])
    out_words = packing.pack_words(y, layer.get_output_datatype(0), layer.output_folds()[0])
    with open(FLAGS.input, "w") as f:
        f.write(packing.hex_lines(in_words, layer.get_instream_width()))
    with open(FLAGS.expected, "w") as f:
        f.write(packing.hex_lines(out_words, layer.get_outstream_width()))
    prefix = FLAGS.meta_prefix
    meta = (f"in_width {layer.get_instream_width()}\nout_width {layer.get_outstream_width()}\n"
            f"input {os.path.join(prefix, os.path.basename(FLAGS.input))}\n"
            f"expected {os.path.join(prefix, os.path.basename(FLAGS.expected))}\n"
            f"cycles {layer.cycles() * (batch or 1)}\nlatency {inst.latency}\n")
    # Optional streams, next to the input file: the weight stream and the AXI-lite writes.
    stem = FLAGS.input[:-len(".in.hex")]
    with open(stem + ".weights.hex", "w") as f:
        # a batch of images takes the weight stream of one image once per image
        f.write(packing.hex_lines(inst.weight_stream[0] * (batch or 1), inst.weight_stream[1])
                if inst.weight_stream else "")
    if inst.weight_stream:
        meta += f"w_width {inst.weight_stream[1]}\nweights {os.path.join(prefix, os.path.basename(stem))}.weights.hex\n"
    with open(stem + ".axilite.txt", "w") as f:
        f.write("".join(f"{a:x} {d:08x}\n" for a, d in axilite))
    if axilite:
        meta += f"axilite {os.path.join(prefix, os.path.basename(stem))}.axilite.txt\n"
    with open(FLAGS.meta, "w") as f:
        f.write(meta)


if __name__ == "__main__":
    app.run(main)
