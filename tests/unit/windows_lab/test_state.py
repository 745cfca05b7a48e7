"""State files and the lab-time shift."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from baluarte.errors import LabError
from baluarte.lab.windows import load_state
from baluarte.lab.windows.state import document_text, shift_timestamps
from tests.unit.windows_lab.sample_state import RECORDED_NOW, sample_state


def test_load_state_from_file_and_dict(tmp_path: Path) -> None:
    path = tmp_path / "pc.json"
    path.write_text(json.dumps(sample_state()))
    assert load_state(path).hostname == "PC-PRUEBA"
    assert load_state(sample_state()).os == "Windows 11 Pro 24H2"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hostname": ""}, "hostname"),
        ({"extra": 1}, "extra"),
        ({"output": {"schema": "other/1", "host": {}, "checks": {}}}, "output.schema"),
        (
            {
                "output": {
                    "schema": "baluarte-windows/1",
                    "host": {"Now": "yesterday"},
                    "checks": {},
                }
            },
            "host.Now",
        ),
        (
            {"output": {"schema": "baluarte-windows/1", "host": {"Now": RECORDED_NOW}}},
            "output.checks",
        ),
    ],
)
def test_bad_state_is_a_clear_lab_error(change: dict, message: str) -> None:
    with pytest.raises(LabError, match=message.replace(".", r"\.")):
        load_state(sample_state(**change))


def test_unreadable_and_non_json_files(tmp_path: Path) -> None:
    with pytest.raises(LabError, match="cannot read"):
        load_state(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(LabError, match="not JSON"):
        load_state(bad)


def test_timestamps_move_so_ages_stay_as_recorded() -> None:
    state = load_state(sample_state())
    now = datetime(2026, 3, 1, 8, 30, 15, tzinfo=UTC)
    doc = json.loads(document_text(state, now))
    assert doc["host"]["Now"] == "2026-03-01T08:30:15.0000000Z"
    # the boot was a day before "now" when recorded, and still is; the 7-digit fraction is kept
    assert doc["checks"]["os.build"]["data"]["LastBootUpTime"] == "2026-02-28T08:30:15.5000000Z"
    assert doc["checks"]["updates.installed"]["data"]["LastSuccess"] == "2026-02-26T08:30:15Z"
    assert doc["checks"]["updates.installed"]["data"]["Hotfixes"] == ["KB5044284"]


def test_freeze_serves_as_recorded() -> None:
    state = load_state(sample_state())
    doc = json.loads(document_text(state, datetime(2030, 1, 1, tzinfo=UTC), freeze=True))
    assert doc == state.output


def test_only_utc_iso_strings_move() -> None:
    value = {"a": "2026-01-01T00:00:00+00:00", "b": "2026-01-01", "c": "2026-01-01T00:00:00+01:00"}
    moved = shift_timestamps(value, timedelta(hours=1, milliseconds=400))
    assert moved == {"a": "2026-01-01T01:00:00+00:00", "b": "2026-01-01", "c": value["c"]}
