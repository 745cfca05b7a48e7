"""The messages about a silent collector, in every channel's shape: Spanish first, English too;
the collector's own words (host name, version) made inert and escaped for each tool."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from baluarte.service.config import NotificationSettings
from baluarte.service.notify.collectors import CollectorEvent, event_payloads

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
HOST = "[pwn](http://evil.example) <!channel> \x1b[2J\u202epi"
SETTINGS = NotificationSettings.model_validate(
    {
        "email": {"smtp": "smtp://mail.example:587", "from": "b@p.example", "to": ["o@p.example"]},
        "webhooks": [
            {"url": "https://h.example/in", "secret": "env:S"},
            {"url": "https://h.example/teams", "secret": "env:S", "shape": "teams"},
            {"url": "https://h.example/slack", "secret": "env:S", "shape": "slack"},
            {"url": "https://h.example/desk", "secret": "env:S", "shape": "ticket"},
        ],
    }
)


def _event(kind: str = "silent") -> CollectorEvent:
    return CollectorEvent(
        kind=kind,  # type: ignore[arg-type]
        collector="madrid",
        at=NOW,
        last_seen=NOW - timedelta(minutes=12, seconds=5),
        hostname=HOST,
        version="0.4.0",
        description="Raspberry Pi, ACME Madrid",
        sites=(("acme", "madrid-hq"), ("acme", "getafe")),
    )


def test_a_silent_collector_is_told_on_each_channel_but_the_ticket_one():
    got = event_payloads(SETTINGS, _event(), base_url="https://baluarte.example.es/")
    assert sorted(got) == [
        "collector:email", "collector:webhook:0", "collector:webhook:1", "collector:webhook:2"
    ]  # fmt: skip
    assert {p["event"] for p in got.values()} == {"silent"}
    mail = got["collector:email"]
    assert mail["subject"] == "[Baluarte] El colector madrid no da señales"
    assert mail["text"].split("\n\n") == [
        "El colector madrid no envía latidos desde hace 12 minutos;"
        " última señal: 27/11/2026 09:47 (+01:00).",
        "Mientras no dé señales, los dispositivos de sus sedes no se pueden comprobar:"
        " acme / madrid-hq, acme / getafe.",
        "Equipo [pwn](http://evil.example) <!channel> \\x1b[2J\\u202epi, versión 0.4.0.",
        "Descripción: Raspberry Pi, ACME Madrid",
        "Abrir en el panel: https://baluarte.example.es/collectors\n",
    ]
    doc = got["collector:webhook:0"]["body"]
    assert doc["event"] == "collector_silent" and doc["last_seen"] == "2026-11-27T08:47:55+00:00"
    assert doc["hostname"] == "[pwn](http://evil.example) <!channel> \\x1b[2J\\u202epi"
    assert doc["sites"][0] == {"client": "acme", "site": "madrid-hq"}
    card = got["collector:webhook:1"]["body"]["attachments"][0]["content"]
    host = next(b["text"] for b in card["body"] if "pwn" in b["text"])
    assert host.startswith("Equipo \\[pwn\\]\\(http://evil.example\\)")  # Markdown kept as text
    slack = got["collector:webhook:2"]["body"]
    assert slack["text"] == "[Baluarte] El colector madrid no da señales"
    host_block = next(b for b in slack["blocks"] if "pwn" in str(b))
    assert host_block["text"]["type"] == "plain_text"  # Slack shows it as it is


def test_a_collector_back_is_told_in_english_too():
    got = event_payloads(SETTINGS, _event("back"), lang="en", timezone="UTC")
    mail = got["collector:email"]
    assert mail["subject"] == "[Baluarte] Collector madrid is back"
    assert mail["text"].startswith(
        "Collector madrid sends heartbeats again; last seen 27/11/2026 08:47 (+00:00)."
    )
    assert "checked through it again: acme / madrid-hq, acme / getafe." in mail["text"]
    assert "dashboard" not in mail["text"]  # no base_url: no link
    assert got["collector:webhook:0"]["body"]["event"] == "collector_back"
