"""The error contract: one line naming where, what and the fix; the CLI exits 2."""

import subprocess
import sys

import pytest

from qnn2fpga import errors


def test_one_line_names_where_problem_and_fix():
    e = errors.UnsupportedOpError("node 'Conv_3' (Conv)", "group=4 convolutions\nare not supported",
                                  "use group=1 or depthwise (group=channels)")
    assert str(e) == ("unsupported op: node 'Conv_3' (Conv): group=4 convolutions are not supported; "
                      "fix: use group=1 or depthwise (group=channels)")
    assert "\n" not in str(e)


@pytest.mark.parametrize("cls", [errors.InputFileError, errors.ModelError, errors.UnsupportedOpError,
                                 errors.DataTypeError, errors.FoldingError, errors.BoardError,
                                 errors.ToolError])
def test_every_kind_is_a_qnn_error_with_its_own_prefix(cls):
    e = cls("x", "y", "z")
    assert isinstance(e, errors.QnnError)
    assert str(e).startswith(cls.kind + ": x: y; fix: z")


def test_missing_fix_is_rejected():
    with pytest.raises(ValueError):
        errors.BoardError("board 'zcu999'", "unknown board", "")


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": ":".join(sys.path)})


def test_cli_prints_one_line_and_exits_2():
    p = _run("from qnn2fpga import errors\n"
             "def main(argv):\n"
             "    raise errors.InputFileError(f'file {argv[0]!r}', 'does not exist', 'check the path')\n"
             "errors.run_cli(main, ['model.onnx'])\n")
    assert p.returncode == errors.EXIT_BAD_INPUT
    assert p.stderr == "qnn2fpga: input file error: file 'model.onnx': does not exist; fix: check the path\n"
    assert p.stdout == ""


def test_cli_passes_status_and_keeps_bugs_loud():
    assert _run("from qnn2fpga import errors\nerrors.run_cli(lambda argv: 3, [])\n").returncode == 3
    assert _run("from qnn2fpga import errors\nerrors.run_cli(lambda argv: None, [])\n").returncode == 0
    bug = _run("from qnn2fpga import errors\nerrors.run_cli(lambda argv: 1 // 0, [])\n")
    assert bug.returncode == 1 and "ZeroDivisionError" in bug.stderr
