"""logging.time_sync on Windows: the W32Time service state first, w32tm's text in English or
Spanish, and text that nothing reads as an error, never a pass."""

from __future__ import annotations

from typing import Any

from baluarte.controls import catalogue
from baluarte.findings import Status
from checks.policy.logging import TimeSync
from checks.windows.parse import collected
from tests.unit.windows._states import CTX, data, document, verdicts

SPANISH_STATUS = [
    "Indicador de salto: 0(no hay advertencias)",
    "Estrato: 4 (referencia secundaria - sincronizada mediante (S)NTP)",
    "Desplazamiento de fase: 0,0012874s",
    "Hora de la última sincronización correcta: 28/11/2026 9:14:22",
    "Origen: time.windows.com,0x9",
]


def _time(edit: dict[str, Any]) -> dict[str, Any]:
    doc = document("hardened")
    data(doc, "time.sync").update(edit)
    return doc


def _judge(doc: dict[str, Any], **policy: Any) -> Any:
    facts = collected(doc).facts["logging"]
    control = catalogue()["logging.time_sync"]
    assert control.evaluate is not None
    return control.evaluate(facts, TimeSync(required=True, **policy), CTX)


def _spanish(**edit: Any) -> dict[str, Any]:
    doc = _time(
        {
            "StatusText": SPANISH_STATUS,
            "LastSuccessfulSyncText": "28/11/2026 9:14:22",
            "LastSuccessfulSyncTime": "2026-11-28T08:14:22.0000000Z",
            **edit,
        }
    )
    # the script no longer reads the offset itself: it is read from StatusText
    data(doc, "time.sync").pop("PhaseOffsetSeconds", None)
    return doc


def test_spanish_phase_offset_is_read_and_judged():
    doc = _spanish()
    facts = collected(doc).facts["logging"]
    assert facts.time_sync is not None and facts.time_sync.offset_seconds == 0.0012874
    assert _judge(doc, max_offset_seconds=0.5).status == Status.PASS
    out = _judge(doc, max_offset_seconds=0.001)
    assert out.status == Status.FAIL and "offset 0.001 s > 0.001 s" in (out.observed or "")


def test_spanish_local_cmos_clock_is_not_synchronised_even_with_an_old_sync_on_record():
    out = _judge(_spanish(Source="Reloj CMOS local"))
    assert out.status == Status.FAIL
    assert "not synchronised: source Reloj CMOS local" in (out.observed or "")


def test_a_source_name_nothing_knows_is_an_error_not_a_pass():
    out = verdicts(_spanish(Source="Horloge CMOS locale"))["logging.time_sync"]
    assert out.status == Status.ERROR
    assert "w32tm source 'Horloge CMOS locale' is neither a time server" in (out.reason or "")


def test_stopped_w32time_fails_saying_so_not_an_error():
    stopped = {
        "ServiceStatus": "Stopped",
        "StartType": "Manual",
        "Source": None,
        "StatusText": [],
        "LastSuccessfulSyncTime": None,
        "LastSuccessfulSyncText": None,
        "Stratum": None,
        "PhaseOffsetSeconds": None,
    }
    out = verdicts(_time(stopped))["logging.time_sync"]
    assert out.status == Status.FAIL
    assert "the Windows Time service (W32Time) is Stopped (start type Manual)" in (
        out.observed or ""
    )


def test_disabled_w32time_fails_too():
    edit = {"ServiceStatus": "Stopped", "StartType": "Disabled", "Source": None}
    out = verdicts(_time(edit))["logging.time_sync"]
    assert out.status == Status.FAIL and "start type Disabled" in (out.observed or "")


def test_spanish_unspecified_sync_time_is_no_sync_on_record():
    doc = _spanish(
        LastSuccessfulSyncText="no especificado", LastSuccessfulSyncTime=None, LastSyncEvent=None
    )
    out = verdicts(doc)["logging.time_sync"]
    assert out.status == Status.FAIL
    assert "no successful synchronisation on record" in (out.observed or "")


def test_a_sync_time_no_pattern_read_is_an_error_without_an_event():
    doc = _spanish(
        LastSuccessfulSyncText="28-nov.-2026 9:14", LastSuccessfulSyncTime=None, LastSyncEvent=None
    )
    out = verdicts(doc)["logging.time_sync"]
    assert out.status == Status.ERROR
    assert "'28-nov.-2026 9:14' is in no known date format" in (out.reason or "")


def test_the_time_service_event_stands_in_for_unread_text_and_is_said():
    event = {"Id": 37, "TimeCreated": "2026-11-28T07:00:00.0000000Z"}
    doc = _spanish(
        LastSuccessfulSyncText="28-nov.-2026 9:14", LastSuccessfulSyncTime=None, LastSyncEvent=event
    )
    out = verdicts(doc)["logging.time_sync"]
    assert out.status == Status.PASS
    assert "last successful sync 2026-11-28 07:00 UTC (5.0 h ago)" in (out.observed or "")
    assert "Time-Service event used" in (out.observed or "")


def test_the_newer_of_w32tm_and_the_event_is_the_last_sync():
    event = {"Id": 35, "TimeCreated": "2026-11-28T10:00:00.0000000Z"}
    doc = _spanish(LastSyncEvent=event)
    facts = collected(doc).facts["logging"]
    assert facts.time_sync is not None and facts.time_sync.last_sync_age_hours == 2.0
