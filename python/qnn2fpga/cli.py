"""`qnn2fpga` command line.

    qnn2fpga compile MODEL.onnx -o OUT.onnx [--topk=K] [--save_intermediate=DIR]
    qnn2fpga build MODEL.onnx --board=B (--target_fps=N | --folding=F.json) --output_dir=DIR
                   [--fclk_mhz=F] [--start_step=S] [--stop_step=S] [--topk=K] [--mvau_wwidth_max=W]
                   [--verify_input=X.npy --verify_expected=Y.npy] [--noauto_fifo_depths]
    qnn2fpga run --model=MODEL.onnx [--folding=F.json | --target_fps=N --board=B]
                 --input=X.npy --output=Y.npy [--mode=python|rtlsim]

`compile` writes the hardware-layer graph (open it in Netron) and prints a per-layer
summary. `build` folds it for a board, writes the estimate reports, sizes the FIFOs,
stitches the design and measures it in rtlsim (qnn2fpga.build). `run` executes the
whole network on a batch (X.npy in the export's input layout, batch first) with the
hardware part in python or in the stitched design under Verilator, and writes what
qonnx execution of the export gives (qnn2fpga.execute).
Flags may also be spelled with dashes (--target-fps, --output-dir).
Relative paths resolve against the directory the command was run from, also under
`bazel run //:qnn2fpga -- ...`. Bad input prints one line and exits with status 2.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

from absl import app, flags

from qnn2fpga import errors

FLAGS = flags.FLAGS
flags.DEFINE_string("output", None, "Where to write the compiled model (.onnx).", short_name="o")
flags.DEFINE_integer("topk", 0, "Append a label select returning the top K class indices (0: keep the scores).",
                     lower_bound=0)
flags.DEFINE_string("save_intermediate", None, "Directory for the model after every step (<i>_<step>.onnx).")
flags.DEFINE_string("board", None, "build: target board (boards/<name>.json, e.g. pynq-z1, zcu104).")
flags.DEFINE_float("target_fps", None, "build: fold automatically for this many frames per second.")
flags.DEFINE_string("folding", None, "build: folding config JSON (FINN's format) instead of --target_fps.")
flags.DEFINE_string("output_dir", None, "build: output directory (replaced when the build succeeds).")
flags.DEFINE_float("fclk_mhz", None, "build: clock in MHz (default: the board's).")
flags.DEFINE_string("stop_step", None, "build: stop after this step.")
flags.DEFINE_integer("mvau_wwidth_max", 36, "build: widest decoupled weight stream automatic folding may use.")
flags.DEFINE_string("start_step", None, "build: resume the build in --output_dir at this step.")
flags.DEFINE_string("verify_input", None, "build: input batch (.npy) to verify the result with.")
flags.DEFINE_string("verify_expected", None, "build: expected output batch (.npy) for --verify_input.")
flags.DEFINE_bool("auto_fifo_depths", True, "build: size the FIFOs by simulation (else keep configured depths).")
flags.DEFINE_string("model", None, "run: the QONNX model.")
flags.DEFINE_string("input", None, "run: input batch (.npy), the export's input layout, batch first.")
flags.DEFINE_enum("mode", "python", ["python", "rtlsim"], "run: execute the hardware part in python or rtlsim.")

USAGE = ("usage: qnn2fpga compile MODEL.onnx -o OUT.onnx [--topk=K] [--save_intermediate=DIR] | "
         "qnn2fpga build MODEL.onnx --board=B (--target_fps=N | --folding=F.json) --output_dir=DIR | "
         "qnn2fpga run --model=MODEL.onnx --input=X.npy --output=Y.npy [--mode=python|rtlsim]")


def user_path(path: str) -> str:
    """Resolves `path` against the user's working directory (BUILD_WORKING_DIRECTORY under bazel run)."""
    base = os.environ.get("BUILD_WORKING_DIRECTORY", os.getcwd())
    return os.path.normpath(os.path.join(base, os.path.expanduser(path)))


def save_atomically(model, path: str) -> None:
    """Writes the model to a temporary file beside `path`, then renames it: a failed
    write leaves no partial file behind."""
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        raise errors.InputFileError(f"directory '{directory}'", "does not exist", "create it or choose another -o path")
    fd, tmp = tempfile.mkstemp(prefix=".qnn2fpga-", suffix=".onnx", dir=directory)
    os.close(fd)
    try:
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _format_summary(rows: list[dict]) -> str:
    cols = ("node", "op", "runs_on", "in_shape", "out_shape", "in_dtype", "out_dtype", "fold")
    table = [[str(r.get(c, "")) if not isinstance(r.get(c), dict) else json.dumps(r[c], sort_keys=True)
              for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in table)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in table]
    return "\n".join(line.rstrip() for line in lines)


def compile_command(model_path: str) -> int:
    from qnn2fpga import flow, report  # noqa: PLC0415 (keeps --help fast)

    if not FLAGS.output:
        raise errors.InputFileError("flag -o/--output", "is missing", "pass -o OUT.onnx")
    out = user_path(FLAGS.output)
    model = flow.load_model(user_path(model_path))
    options = flow.CompileOptions(topk=FLAGS.topk)
    inter = user_path(FLAGS.save_intermediate) if FLAGS.save_intermediate else None
    if inter:
        os.makedirs(inter, exist_ok=True)
    for i, (name, model) in enumerate(flow.run_steps(model, options), start=1):
        if inter:
            save_atomically(model, os.path.join(inter, f"{i}_{name}.onnx"))
    report.check_converted(model)
    save_atomically(model, out)
    print(_format_summary(report.summary_rows(model)))
    print(f"wrote {FLAGS.output}")
    return 0


def build_command(model_path: str) -> int:
    from qnn2fpga import build  # noqa: PLC0415

    if not FLAGS.output_dir:
        raise errors.InputFileError("flag --output_dir", "is missing", "pass --output_dir=DIR")
    if not FLAGS.board:
        raise errors.InputFileError("flag --board", "is missing", "pass --board=pynq-z1 (see boards/)")
    cfg = build.BuildConfig(
        model=user_path(model_path), output_dir=user_path(FLAGS.output_dir), board=FLAGS.board,
        target_fps=FLAGS.target_fps, folding_config=user_path(FLAGS.folding) if FLAGS.folding else None,
        fclk_mhz=FLAGS.fclk_mhz, topk=FLAGS.topk, stop_step=FLAGS.stop_step, start_step=FLAGS.start_step,
        mvau_wwidth_max=FLAGS.mvau_wwidth_max, auto_fifo_depths=FLAGS.auto_fifo_depths,
        verify_input=user_path(FLAGS.verify_input) if FLAGS.verify_input else None,
        verify_expected=user_path(FLAGS.verify_expected) if FLAGS.verify_expected else None)
    result = build.build(cfg, log=lambda msg: print(msg, flush=True))
    print(f"wrote {FLAGS.output_dir}")
    verification = result.get("verification")
    if verification and not verification["ok"]:
        print(f"qnn2fpga: verification failed ({verification['mode']}); see {FLAGS.output_dir}/verification_output",
              file=sys.stderr)
        return 1
    return 0


def run_command(model_path: str | None) -> int:
    from qnn2fpga import build, execute  # noqa: PLC0415

    model_path = model_path or FLAGS.model
    for flag, value in (("--model", model_path), ("--input", FLAGS.input), ("--output", FLAGS.output)):
        if not value:
            raise errors.InputFileError(f"flag {flag}", "is missing", USAGE)
    if FLAGS.target_fps is not None and FLAGS.folding:
        raise errors.FoldingError("run", "takes --target_fps or --folding, not both", "pass one of them")
    if FLAGS.target_fps is not None and not FLAGS.board:
        raise errors.InputFileError("flag --board", "is missing (automatic folding needs a board)",
                                    "pass --board=pynq-z1 (see boards/)")
    out = user_path(FLAGS.output)
    if not os.path.isdir(os.path.dirname(out) or "."):
        raise errors.InputFileError(f"directory '{os.path.dirname(out)}'", "does not exist",
                                    "create it or choose another --output path")
    original = flow_load(user_path(model_path))
    where = f"--input file '{FLAGS.input}'"
    x = execute.check_batch(original, build.load_npy(user_path(FLAGS.input), "--input"), where)
    y = execute.run_model(original, x, FLAGS.mode, folding_config=user_path(FLAGS.folding) if FLAGS.folding else None,
                          target_fps=FLAGS.target_fps, board=FLAGS.board, fclk_mhz=FLAGS.fclk_mhz, topk=FLAGS.topk,
                          log=lambda msg: print(msg, file=sys.stderr, flush=True))
    fd, tmp = tempfile.mkstemp(prefix=".qnn2fpga-", suffix=".npy", dir=os.path.dirname(out) or ".")
    os.close(fd)
    try:
        np_save(tmp, y)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    print(f"wrote {FLAGS.output} ({y.shape[0]} outputs, {FLAGS.mode})")
    return 0


def flow_load(path: str):
    from qnn2fpga import flow  # noqa: PLC0415

    return flow.load_model(path)


def np_save(path: str, y) -> None:
    import numpy as np  # noqa: PLC0415

    with open(path, "wb") as f:
        np.save(f, y)


COMMANDS = {"compile": compile_command, "build": build_command, "run": run_command}


def main(argv: list[str]) -> int:
    args = argv[1:]
    try:
        if not args or args[0] not in COMMANDS or len(args) > 2 or (len(args) == 1 and args[0] != "run"):
            raise errors.InputFileError("command line", f"expected 'compile|build MODEL.onnx' or 'run', got {args!r}",
                                        USAGE)
        return COMMANDS[args[0]](args[1] if len(args) == 2 else None)
    except errors.QnnError as e:
        print(f"qnn2fpga: {e.one_line()}", file=sys.stderr)
        return errors.EXIT_BAD_INPUT


def _underscore_flags(argv: list[str]) -> list[str]:
    """--target-fps=N -> --target_fps=N (FINN users type dashes)."""
    out = []
    for a in argv:
        if a.startswith("--") and not a.startswith("---"):
            name, eq, value = a[2:].partition("=")
            a = "--" + name.replace("-", "_") + eq + value
        out.append(a)
    return out


def run() -> None:
    """Console-script entry point."""
    app.run(main, argv=_underscore_flags(sys.argv))


if __name__ == "__main__":
    run()
