"""Output files with the modes a user expects: created under the umask (tempfile makes
them 0600/0700) and replaced atomically."""

from __future__ import annotations

import os
import tempfile
from typing import Callable


def umask_mode(directory: bool = False) -> int:
    """The mode a new file (or directory) gets under the process's umask; tempfile
    creates them 0600/0700, which outputs must not keep."""
    mask = os.umask(0)
    os.umask(mask)
    return (0o777 if directory else 0o666) & ~mask


def replace_atomically(path: str, suffix: str, write: Callable[[str], None]) -> None:
    """`write(tmp)` into a temporary file beside `path`, then renames it onto `path` with
    the umask's mode: a failed write leaves no partial file behind."""
    fd, tmp = tempfile.mkstemp(prefix=".qnn2fpga-", suffix=suffix, dir=os.path.dirname(path) or ".")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, umask_mode())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
