"""Typed errors for bad input, and the one-line CLI report of them.

Every error names what it is about (a node, layer, file or board) and the fix, so a user
can act on the single line the CLI prints. Code that detects bad input raises one of
these; anything else escaping to the CLI is a bug in qnn2fpga and keeps its traceback.
"""

from __future__ import annotations

import sys
from typing import Callable, NoReturn, Sequence


class QnnError(Exception):
    """Bad input to qnn2fpga. `where` names the node/layer/file/board, `fix` the remedy."""

    kind = "error"

    def __init__(self, where: str, problem: str, fix: str):
        if not (where and problem and fix):
            raise ValueError("QnnError needs where, problem and fix")
        self.where, self.problem, self.fix = where, problem, fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        text = f"{self.kind}: {self.where}: {self.problem}; fix: {self.fix}"
        return " ".join(text.split())  # one line, whatever the parts contained


class InputFileError(QnnError):
    """A file is missing, unreadable or not what it should be."""

    kind = "input file error"


class ModelError(QnnError):
    """The ONNX/QONNX model is malformed or inconsistent."""

    kind = "model error"


class UnsupportedOpError(QnnError):
    """A node's operator (or attribute combination) has no lowering or hardware layer."""

    kind = "unsupported op"


class DataTypeError(QnnError):
    """A tensor's datatype cannot be handled where it appears."""

    kind = "unsupported datatype"


class FoldingError(QnnError):
    """A requested folding (PE/SIMD, throughput target) is impossible."""

    kind = "folding error"


class BoardError(QnnError):
    """An unknown board, or a design that does not fit the board."""

    kind = "board error"


class PassLoopError(QnnError):
    """A compiler pass kept changing the graph past its bound (a qnn2fpga bug, reported
    as one line naming the pass and nodes instead of hanging)."""

    kind = "compiler error"


class ToolError(QnnError):
    """An external tool (Verilator, Yosys, Vivado, ...) is missing or failed."""

    kind = "tool error"


EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C


def run_cli(main: Callable[[Sequence[str]], int | None], argv: Sequence[str] | None = None) -> NoReturn:
    """Runs `main(argv)` and exits with its status. A QnnError becomes one line on
    stderr prefixed with `qnn2fpga: ` and exit status 2, Ctrl-C (KeyboardInterrupt)
    `qnn2fpga: interrupted` and exit status 130; other exceptions propagate."""
    try:
        status = main(list(sys.argv[1:] if argv is None else argv))
    except QnnError as e:
        print(f"qnn2fpga: {e.one_line()}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        print("qnn2fpga: interrupted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(status or 0)
