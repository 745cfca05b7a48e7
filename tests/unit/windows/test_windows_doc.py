"""docs/windows.md covers every Windows control and check, each with its verification status."""

from __future__ import annotations

import re
from pathlib import Path

from baluarte.controls import catalogue
from checks.windows.document import CHECKS

DOC = Path(__file__).parents[3] / "docs" / "windows.md"
STATUSES = ("documented behaviour", "confirmed on a captured host")


def _rows() -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        found = re.fullmatch(r"`([a-z_]+\.[a-z0-9_]+)`", cells[0]) if line.startswith("|") else None
        if found and len(cells) == 5:
            rows[found.group(1)] = cells
    return rows


def test_every_windows_control_has_a_row_with_its_status() -> None:
    windows = {c.id for c in catalogue().values() if "windows" in c.platforms}
    rows = _rows()
    assert set(rows) == windows, set(rows) ^ windows
    for control, cells in rows.items():
        assert cells[4].startswith(STATUSES), (control, cells[4])


def test_every_check_of_the_script_is_named_where_it_is_read() -> None:
    text = " ".join(cells[1] for cells in _rows().values())
    assert [c for c in CHECKS if f"`{c}`" not in text] == []
