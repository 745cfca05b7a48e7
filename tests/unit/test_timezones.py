"""One time zone per client: validated in the inventory, used for days and shown times."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from baluarte.errors import InputError
from baluarte.inventory import load_inventory
from baluarte.posture import posture_trend
from baluarte.timezones import day_bounds, local_text, zone
from reports.evidence import render_html
from reports.evidence.i18n import Formats
from tests.unit.evidence_report._sample import evidence_data
from tests.unit.test_posture import P, f, run

INVENTORY = """\
clients:
  - name: acme
    legal_name: ACME S.L.
{zone}    sites:
      - name: hq
        devices:
          - {{name: srv, platform: linux, address: "@local"}}
"""
LATE = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)  # already 7 December in Madrid


def _load(tmp_path: Path, zone_line: str) -> str:
    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY.format(zone=zone_line))
    return load_inventory([path]).clients[0].timezone


def test_a_client_without_a_zone_is_in_madrid(tmp_path):
    assert _load(tmp_path, "") == "Europe/Madrid"
    assert _load(tmp_path, "    timezone: Atlantic/Canary\n") == "Atlantic/Canary"


def test_an_unknown_zone_names_its_place_and_the_closest_one(tmp_path):
    with pytest.raises(InputError) as exc:
        _load(tmp_path, "    timezone: Atlantic/Canaries\n")
    text = str(exc.value)
    assert "inventory.yaml:4:" in text
    assert "unknown time zone 'Atlantic/Canaries'" in text
    assert "did you mean 'Atlantic/Canary'?" in text


def test_times_are_shown_in_the_zone_with_their_offset():
    assert local_text(LATE, "Europe/Madrid") == "2026-12-07 00:30 (+01:00)"
    assert local_text(LATE, "America/Mexico_City") == "2026-12-06 17:30 (-06:00)"
    assert Formats("es", "Atlantic/Canary").datetime(LATE) == "06/12/2026 23:30 (+00:00)"
    assert Formats("es").datetime(LATE) == "07/12/2026 00:30 (+01:00)"


def test_posture_days_are_the_zones_days():
    runs = [run(1, LATE, [f("srv", "access.ssh_root_login", P)])]
    madrid = posture_trend(runs, date(2026, 12, 6), date(2026, 12, 7), tz=zone("Europe/Madrid"))
    assert [(p.day, p.runs) for p in madrid] == [(date(2026, 12, 6), ()), (date(2026, 12, 7), (1,))]
    utc = posture_trend(runs, date(2026, 12, 6), date(2026, 12, 7))
    assert utc[0].runs == (1,)


def test_a_period_is_whole_days_in_the_zone():
    start, end = day_bounds(date(2026, 12, 7), date(2026, 12, 7), "Europe/Madrid")
    assert start is not None and end is not None
    assert start.astimezone(UTC) == datetime(2026, 12, 6, 23, 0, tzinfo=UTC)
    assert start <= LATE <= end


@pytest.mark.parametrize(
    ("tz", "offset"), [("Europe/Madrid", "(+01:00)"), ("America/Mexico_City", "(-06:00)")]
)
def test_the_pack_shows_every_time_in_the_clients_zone(tz, offset):
    html = render_html(replace(evidence_data("en"), timezone=tz))
    assert f"{tz}, with the UTC offset" in html
    other = "(-06:00)" if offset == "(+01:00)" else "(+01:00)"
    assert offset in html and other not in html
