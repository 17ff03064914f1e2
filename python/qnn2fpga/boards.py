"""Boards as data: `boards/<key>.json` (part, device family, shell, default clock and
resource capacity). `load_board("pynq-z1")` (or an alias such as FINN's "Pynq-Z1")
returns a `Board`; an unknown name raises a BoardError listing the known boards.

Capacity keys are the estimate reports' resource names: LUT, FF, BRAM_18K (a 36 Kb
block RAM counts as two), URAM, DSP. `family` selects the resource model
(`7series` or `ultrascale_plus`).
"""

from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass

from qnn2fpga.errors import BoardError
from qnn2fpga.report_schemas import RESOURCES
FAMILIES = ("7series", "ultrascale_plus")
SHELLS = ("zynq", "alveo")

# An installed wheel: qnn2fpga/data/boards/. Source tree and Bazel runfiles alike:
# <root>/python/qnn2fpga/boards.py, <root>/boards/ (in runfiles this file is a symlink
# into the source tree).
_HERE = pathlib.Path(__file__)
BOARD_DIR = next((d for d in (_HERE.parent / "data" / "boards", _HERE.resolve().parents[2] / "boards",
                              _HERE.parents[2] / "boards") if d.is_dir()), _HERE.parents[2] / "boards")


@dataclass(frozen=True)
class Board:
    key: str
    name: str
    part: str
    family: str
    shell: str
    default_clock_mhz: float
    capacity: dict
    aliases: tuple = ()

    def as_dict(self) -> dict:
        return {"key": self.key, "name": self.name, "part": self.part, "family": self.family,
                "shell": self.shell, "default_clock_mhz": self.default_clock_mhz, "capacity": dict(self.capacity)}


def _read(path: pathlib.Path) -> Board:
    where = f"board file '{path.name}'"
    try:
        d = json.loads(path.read_text())
        board = Board(key=path.stem, name=d["name"], part=d["part"], family=d["family"], shell=d["shell"],
                      default_clock_mhz=float(d["default_clock_mhz"]),
                      capacity={r: int(d["capacity"][r]) for r in RESOURCES}, aliases=tuple(d.get("aliases", ())))
    except (ValueError, KeyError, TypeError) as e:
        raise BoardError(where, f"is malformed ({type(e).__name__}: {e})",
                         "give it name, part, family, shell, default_clock_mhz and capacity "
                         f"{list(RESOURCES)}") from None
    if board.family not in FAMILIES or board.shell not in SHELLS:
        raise BoardError(where, f"has family={board.family!r}, shell={board.shell!r}",
                         f"use a family of {list(FAMILIES)} and a shell of {list(SHELLS)}")
    return board


def all_boards() -> dict[str, Board]:
    """Every board file, by key (the file name without .json), sorted."""
    return {p.stem: _read(p) for p in sorted(BOARD_DIR.glob("*.json"))}


def load_board(name: str) -> Board:
    """The board called `name` (file key, display name or alias; case-insensitive)."""
    boards = all_boards()
    wanted = name.strip().lower()
    for board in boards.values():
        if wanted in {board.key, board.name.lower(), *(a.lower() for a in board.aliases)}:
            return board
    raise BoardError(f"board '{name}'", "is unknown",
                     f"use one of {', '.join(boards)} (or add boards/<name>.json)")
