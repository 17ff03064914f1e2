"""`qnn2fpga` command line.

    qnn2fpga compile MODEL.onnx -o OUT.onnx [--topk=K] [--save_intermediate=DIR]
    qnn2fpga build MODEL.onnx --board=B (--target_fps=N | --folding=F.json) --output_dir=DIR
                   [--fclk_mhz=F] [--start_step=S] [--stop_step=S] [--topk=K] [--mvau_wwidth_max=W]
                   [--verify_input=X.npy --verify_expected=Y.npy] [--noauto_fifo_depths]
    qnn2fpga run --model=MODEL.onnx [--folding=F.json | --target_fps=N --board=B]
                 --input=X.npy --output=Y.npy [--mode=python|rtlsim]
    qnn2fpga --help | qnn2fpga COMMAND --help | qnn2fpga --version

`compile` writes the hardware-layer graph (open it in Netron) and prints a per-layer
summary. `build` folds it for a board, writes the estimate reports, sizes the FIFOs,
stitches the design and measures it in rtlsim (qnn2fpga.build). `run` executes the
whole network on a batch (X.npy in the export's input layout, batch first) with the
hardware part in python or in the stitched design under Verilator, and writes what
qonnx execution of the export gives (qnn2fpga.steps.run_model, qnn2fpga.execute).
Flags may also be spelled with dashes (--target-fps, --output-dir); a flag the command
does not take is refused. Each command's help is made from COMMANDS and the flags'
own docs. Relative paths resolve against the directory the command was run from, also
under `bazel run //:qnn2fpga -- ...`. Outputs are checked before any work. Bad input
prints one line and exits with status 2; Ctrl-C prints one line, exits with status 130
and leaves no partial output.
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
import os
import pathlib
import re
import sys
from dataclasses import dataclass
from typing import Callable

from absl import app, flags

from qnn2fpga import errors, files

FLAGS = flags.FLAGS
flags.DEFINE_string("output", None, "Output file: the compiled model (compile, .onnx) or the output batch (run, .npy).",
                    short_name="o")
flags.DEFINE_integer("topk", 0, "Append a label select returning the top K class indices; 0 keeps the scores.",
                     lower_bound=0)
flags.DEFINE_string("input_datatype", "", "UINT8: the accelerator takes raw pixels 0..255, the first quantizer and "
                    "the input's scaling by 1/255 in hardware (the export is fed x / 255); default: the export's "
                    "float input, quantized in software.")
flags.DEFINE_string("save_intermediate", None, "Directory for the model after every step (<i>_<step>.onnx).")
flags.DEFINE_string("board", None, "Target board (boards/<name>.json, e.g. pynq-z1, zcu104).")
flags.DEFINE_float("target_fps", None, "Fold automatically for this many frames per second on --board.")
flags.DEFINE_string("folding", None, "Folding config JSON (FINN's format), instead of --target_fps.")
flags.DEFINE_string("output_dir", None, "Output directory (replaced when the build succeeds).")
flags.DEFINE_float("fclk_mhz", None, "Clock in MHz (default: the board's).")
flags.DEFINE_string("stop_step", None, "Stop after this step.")
flags.DEFINE_integer("mvau_wwidth_max", 36, "Widest decoupled weight stream (bits) automatic folding may use.")
flags.DEFINE_string("start_step", None, "Resume the build in --output_dir at this step.")
flags.DEFINE_string("verify_input", None, "Input batch (.npy) to verify the result with.")
flags.DEFINE_string("verify_expected", None, "Expected output batch (.npy) for --verify_input.")
flags.DEFINE_bool("auto_fifo_depths", True, "Size the FIFOs by simulation (--noauto_fifo_depths keeps configured "
                  "depths).")
flags.DEFINE_bool("strict", False, "Refuse a folding whose estimated resources exceed the board (default: warn).")
flags.DEFINE_string("model", None, "The QONNX model (may also follow `run` as an argument).")
flags.DEFINE_string("input", None, "Input batch (.npy), the export's input layout, batch first.")
flags.DEFINE_enum("mode", "python", ["python", "rtlsim"],
                  "Execute the hardware part in python (the layers' models) or rtlsim (Verilator).")

HELP_ARGS = ("-h", "-?", "--help", "--helpshort")


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
    files.replace_atomically(path, ".onnx", model.save)


def _format_summary(rows: list[dict]) -> str:
    cols = ("node", "op", "runs_on", "in_shape", "out_shape", "in_dtype", "out_dtype", "fold")
    table = [[str(r.get(c, "")) if not isinstance(r.get(c), dict) else json.dumps(r[c], sort_keys=True)
              for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in table)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in table]
    return "\n".join(line.rstrip() for line in lines)


def compile_command(model_path: str) -> int:
    from qnn2fpga import build, flow, report  # noqa: PLC0415 (keeps --help fast)
    from qnn2fpga.transforms.input_quant import check_input_datatype  # noqa: PLC0415

    if not FLAGS.output:
        raise errors.InputFileError("flag -o/--output", "is missing", "pass -o OUT.onnx")
    out = user_path(FLAGS.output)
    build.check_output_file(out, "-o/--output")
    inter = user_path(FLAGS.save_intermediate) if FLAGS.save_intermediate else None
    if inter:
        build.check_output_dir(inter, "--save_intermediate")
    check_input_datatype(FLAGS.input_datatype)
    model = flow.load_model(user_path(model_path))
    options = flow.CompileOptions(topk=FLAGS.topk, input_datatype=FLAGS.input_datatype)
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
        fclk_mhz=FLAGS.fclk_mhz, topk=FLAGS.topk, input_datatype=FLAGS.input_datatype, stop_step=FLAGS.stop_step,
        start_step=FLAGS.start_step,
        mvau_wwidth_max=FLAGS.mvau_wwidth_max, auto_fifo_depths=FLAGS.auto_fifo_depths,
        verify_input=user_path(FLAGS.verify_input) if FLAGS.verify_input else None,
        verify_expected=user_path(FLAGS.verify_expected) if FLAGS.verify_expected else None, strict=FLAGS.strict)
    result = build.build(cfg, log=lambda msg: print(msg, flush=True))  # checks --output_dir before any step
    print(f"wrote {FLAGS.output_dir}")
    verification = result.get("verification")
    if verification and not verification["ok"]:
        print(f"qnn2fpga: verification failed ({verification['mode']}); see {FLAGS.output_dir}/verification_output",
              file=sys.stderr)
        return 1
    return 0


def run_command(model_path: str | None) -> int:
    from qnn2fpga import build, execute, steps  # noqa: PLC0415
    from qnn2fpga.transforms.input_quant import check_input_datatype  # noqa: PLC0415

    model_path = model_path or FLAGS.model
    check_input_datatype(FLAGS.input_datatype)
    for flag, value in (("--model", model_path), ("--input", FLAGS.input), ("--output", FLAGS.output)):
        if not value:
            raise errors.InputFileError(f"flag {flag}", "is missing", usage())
    if FLAGS.target_fps is not None and FLAGS.folding:
        raise errors.FoldingError("run", "takes --target_fps or --folding, not both", "pass one of them")
    if FLAGS.target_fps is not None and not FLAGS.board:
        raise errors.InputFileError("flag --board", "is missing (automatic folding needs a board)",
                                    "pass --board=pynq-z1 (see boards/)")
    out = user_path(FLAGS.output)
    build.check_output_file(out, "--output")
    original = flow_load(user_path(model_path))
    where = f"--input file '{FLAGS.input}'"
    x = execute.check_batch(original, build.load_npy(user_path(FLAGS.input), "--input"), where)
    y = steps.run_model(original, x, FLAGS.mode, folding_config=user_path(FLAGS.folding) if FLAGS.folding else None,
                          target_fps=FLAGS.target_fps, board=FLAGS.board, fclk_mhz=FLAGS.fclk_mhz, topk=FLAGS.topk,
                          input_datatype=FLAGS.input_datatype, log=lambda msg: print(msg, file=sys.stderr, flush=True))
    files.replace_atomically(out, ".npy", lambda tmp: np_save(tmp, y))
    print(f"wrote {FLAGS.output} ({y.shape[0]} outputs, {FLAGS.mode})")
    return 0


def flow_load(path: str):
    from qnn2fpga import flow  # noqa: PLC0415

    return flow.load_model(path)


def np_save(path: str, y) -> None:
    import numpy as np  # noqa: PLC0415

    with open(path, "wb") as f:
        np.save(f, y)


@dataclass(frozen=True)
class Command:
    """A command: its function (called with the MODEL argument or None), one-line
    summary, synopsis, the flags it takes (in help order) and an example."""

    run: Callable[[str | None], int]
    summary: str
    synopsis: str
    flags: tuple[str, ...]
    example: str


COMMANDS = {
    "compile": Command(
        compile_command, "Compile a QONNX model to the hardware-layer graph and print a per-layer summary.",
        "compile MODEL.onnx -o OUT.onnx [flags]", ("output", "topk", "input_datatype", "save_intermediate"),
        "qnn2fpga compile tfc_w1a1.onnx -o tfc_hw.onnx --save_intermediate=steps"),
    "build": Command(
        build_command, "Fold for a board, write estimate reports, size the FIFOs, stitch the design and measure "
        "it in rtlsim.",
        "build MODEL.onnx --board=B (--target_fps=N | --folding=F.json) --output_dir=DIR [flags]",
        ("board", "target_fps", "folding", "output_dir", "fclk_mhz", "start_step", "stop_step", "topk",
         "input_datatype", "mvau_wwidth_max", "verify_input", "verify_expected", "auto_fifo_depths", "strict"),
        "qnn2fpga build tfc_w1a1.onnx --board=pynq-z1 --target_fps=1560000 --output_dir=build_tfc"),
    "run": Command(
        run_command, "Run a batch through the whole network, the hardware part in python or rtlsim.",
        "run --model=MODEL.onnx --input=X.npy --output=Y.npy [flags]",
        ("model", "input", "output", "mode", "folding", "target_fps", "board", "fclk_mhz", "topk",
         "input_datatype"),
        "qnn2fpga run --model=tfc_w1a1.onnx --input=x.npy --output=y.npy --mode=rtlsim --target_fps=1e6 "
        "--board=pynq-z1"),
}


def usage() -> str:
    return "usage: " + " | ".join(f"qnn2fpga {c.synopsis}" for c in COMMANDS.values())


def _flag_line(name: str) -> tuple[str, str]:
    """(`-o, --output=OUTPUT`, its doc and default) from the absl flag itself."""
    flag = FLAGS[name]
    values = getattr(flag.parser, "enum_values", None)
    doc = flag.help
    if flag.boolean:
        spelling = f"--[no]{name}"
    elif values:
        spelling = f"--{name}={'|'.join(values)}"
        doc = doc.removeprefix(f"<{'|'.join(values)}>: ")  # absl's own note of the values
    else:
        spelling = f"--{name}={'N' if flag.flag_type() in ('int', 'float') else name.upper()}"
    if flag.short_name:
        spelling = f"-{flag.short_name}, {spelling}"
    if flag.default is not None:
        doc += f" (default: {str(flag.default).lower() if flag.boolean else flag.default})"
    return spelling, doc


def command_help(name: str) -> str:
    """`qnn2fpga NAME --help`: synopsis, summary, the command's flags (one line each), an example."""
    cmd = COMMANDS[name]
    rows = [_flag_line(f) for f in cmd.flags]
    width = max(len(s) for s, _ in rows)
    return "\n".join([f"usage: qnn2fpga {cmd.synopsis}", "", cmd.summary, "", "flags:",
                      *(f"  {s.ljust(width)}  {doc}" for s, doc in rows), "", "example:", f"  {cmd.example}"])


def overview_help() -> str:
    """`qnn2fpga --help`: the commands, one line each."""
    width = max(map(len, COMMANDS))
    return "\n".join([
        "usage: qnn2fpga COMMAND [MODEL.onnx] [flags]", "",
        "Compiles quantized neural networks (QONNX) into FPGA dataflow accelerators.", "", "commands:",
        *(f"  {name.ljust(width)}  {cmd.summary}" for name, cmd in COMMANDS.items()), "",
        "'qnn2fpga COMMAND --help' lists a command's flags, 'qnn2fpga --helpfull' all of them, "
        "'qnn2fpga --version' the version.",
        "Flags may be spelled with dashes (--target-fps); relative paths resolve against the current directory."])


@functools.cache
def package_version() -> str:
    """The installed distribution's version, else the one in python/pyproject.toml (a
    checkout, also under `bazel run`, whose runfiles link back to it)."""
    try:
        return importlib.metadata.version("qnn2fpga")
    except importlib.metadata.PackageNotFoundError:
        pass
    here = pathlib.Path(__file__)
    for toml in (here.parent.parent / "pyproject.toml", here.resolve().parent.parent / "pyproject.toml"):
        if toml.is_file():
            text = toml.read_text()
            try:
                import tomllib  # noqa: PLC0415 (Python 3.11+)
            except ImportError:
                return re.search(r'^version\s*=\s*"([^"]+)"', text, re.M).group(1)
            return tomllib.loads(text)["project"]["version"]
    raise errors.InputFileError("the qnn2fpga version", "is unknown (not installed, no python/pyproject.toml beside "
                                "the package)", "pip install ./python, or run from the repository")


def help_or_version(args: list[str]) -> str | None:
    """What `--version`, `--help`/`-h` (of the command named, if any), `help [COMMAND]`
    and `--helpfull` print; None when none of them was asked for."""
    if "--version" in args:
        return f"qnn2fpga {package_version()}"
    if "--helpfull" in args:
        return "\n\n".join([overview_help(), *(command_help(c) for c in COMMANDS)])
    if args and args[0] == "help":
        if len(args) > 2 or (len(args) == 2 and args[1] not in COMMANDS):
            raise errors.InputFileError("command line", f"'help' takes one of {', '.join(COMMANDS)}, got {args[1:]!r}",
                                        "run 'qnn2fpga help' for the list of commands")
        return command_help(args[1]) if len(args) == 2 else overview_help()
    if not any(a in HELP_ARGS for a in args):
        return None
    named = [a for a in args if a in COMMANDS]
    return command_help(named[0]) if named else overview_help()


def _check_command_flags(name: str) -> None:
    """Refuses a flag of another command (it would be silently ignored)."""
    own = set(COMMANDS[name].flags)
    for other in dict.fromkeys(f for c in COMMANDS.values() for f in c.flags):
        if other not in own and FLAGS[other].present:
            raise errors.InputFileError(f"flag --{other}", f"is not a flag of '{name}'",
                                        f"drop it ('qnn2fpga {name} --help' lists the flags)")


def main(argv: list[str]) -> int:
    args = argv[1:]
    if not args or args[0] not in COMMANDS or len(args) > 2 or (len(args) == 1 and args[0] != "run"):
        raise errors.InputFileError("command line", f"expected 'compile|build MODEL.onnx' or 'run', got {args!r}",
                                    f"{usage()} (qnn2fpga --help)")
    _check_command_flags(args[0])
    return COMMANDS[args[0]].run(args[1] if len(args) == 2 else None)


def _parse_flags(argv: list[str]) -> list[str]:
    """absl's flag parsing, with a bad flag reported as one line (exit status 2)."""
    try:
        return FLAGS(argv)
    except flags.Error as e:
        named = [a for a in argv[1:] if a in COMMANDS]
        raise errors.InputFileError("command line", str(e),
                                    f"see 'qnn2fpga {named[0] if named else 'COMMAND'} --help'") from None


def _underscore_flags(argv: list[str]) -> list[str]:
    """--target-fps=N -> --target_fps=N (FINN users type dashes)."""
    out = []
    for a in argv:
        if a.startswith("--") and not a.startswith("---"):
            name, eq, value = a[2:].partition("=")
            a = "--" + name.replace("-", "_") + eq + value
        out.append(a)
    return out


def _start(argv: list[str]) -> int:
    argv = _underscore_flags(argv)
    text = help_or_version(argv[1:])
    if text is not None:
        print(text)
        return 0
    app.run(main, argv=argv, flags_parser=_parse_flags)  # exits with main's status
    return 0


def run() -> None:
    """Console-script entry point: bad input is one line and exit status 2, Ctrl-C one
    line and 130 (errors.run_cli)."""
    errors.run_cli(_start, sys.argv)


if __name__ == "__main__":
    run()
