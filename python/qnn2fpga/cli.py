"""`qnn2fpga` command line.

    qnn2fpga compile MODEL.onnx -o OUT.onnx [--topk=K] [--save_intermediate=DIR]
    qnn2fpga build MODEL.onnx --board=B (--target_fps=N | --folding=F.json) --output_dir=DIR
                   [--fclk_mhz=F] [--stop_step=S] [--topk=K] [--mvau_wwidth_max=W]

`compile` writes the hardware-layer graph (open it in Netron) and prints a per-layer
summary. `build` folds it for a board and writes the estimate reports (qnn2fpga.build).
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

USAGE = ("usage: qnn2fpga compile MODEL.onnx -o OUT.onnx [--topk=K] [--save_intermediate=DIR] | "
         "qnn2fpga build MODEL.onnx --board=B (--target_fps=N | --folding=F.json) --output_dir=DIR")


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
        fclk_mhz=FLAGS.fclk_mhz, topk=FLAGS.topk, stop_step=FLAGS.stop_step, mvau_wwidth_max=FLAGS.mvau_wwidth_max)
    build.build(cfg, log=lambda msg: print(msg, flush=True))
    print(f"wrote {FLAGS.output_dir}")
    return 0


COMMANDS = {"compile": compile_command, "build": build_command}


def main(argv: list[str]) -> int:
    args = argv[1:]
    try:
        if len(args) != 2 or args[0] not in COMMANDS:
            raise errors.InputFileError("command line", f"expected 'compile|build MODEL.onnx', got {args!r}", USAGE)
        return COMMANDS[args[0]](args[1])
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
