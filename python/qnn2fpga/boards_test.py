"""Board data: every file loads, names resolve, unknown boards are refused clearly."""

import pytest

from qnn2fpga import boards
from qnn2fpga.errors import BoardError

REQUIRED = {"pynq-z1", "pynq-z2", "ultra96-v2", "zcu102", "zcu104", "kv260", "u50", "u250"}


def test_required_boards_present_and_consistent():
    found = boards.all_boards()
    assert REQUIRED <= set(found)
    for b in found.values():
        assert b.family in boards.FAMILIES and b.shell in boards.SHELLS
        assert b.capacity["LUT"] > 0 and b.capacity["FF"] >= b.capacity["LUT"] and b.capacity["BRAM_18K"] > 0
        assert b.default_clock_mhz > 0
        # 7-series parts have no UltraRAM
        assert b.family != "7series" or b.capacity["URAM"] == 0


@pytest.mark.parametrize("name,key", [("pynq-z1", "pynq-z1"), ("Pynq-Z1", "pynq-z1"), ("ZCU104", "zcu104"),
                                      ("KV260_SOM", "kv260"), ("Alveo U250", "u250")])
def test_names_and_aliases(name, key):
    assert boards.load_board(name).key == key


def test_unknown_board_names_the_known_ones():
    with pytest.raises(BoardError) as e:
        boards.load_board("pynq-z9")
    line = e.value.one_line()
    assert "pynq-z9" in line and "pynq-z1" in line and "zcu104" in line


def test_malformed_board_file(tmp_path, monkeypatch):
    (tmp_path / "bad.json").write_text('{"name": "Bad", "part": "x"}')
    monkeypatch.setattr(boards, "BOARD_DIR", tmp_path)
    with pytest.raises(BoardError, match="bad.json"):
        boards.all_boards()
