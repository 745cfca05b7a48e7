"""The message about a client's changes: e-mail (Spanish by default), our JSON, Teams and
Slack — one per client and run, with every device-provided string inert and escaped."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from babel.messages.pofile import read_po

from baluarte.service.notify.changes import DriftItem
from baluarte.service.notify.message import (
    CONTEXT,
    catalogue_messages,
    client_url,
    document,
    render_email,
    slack_message,
    webhook_body,
)
from baluarte.service.notify.webhook import encode_body
from reports.evidence.i18n import LOCALES, catalogue_path
from tests.service._notify_sample import NOW, T0, T1, sample_changes

BASE = "https://baluarte.example.es/"
# what must never reach any output raw: the escape, the bidi override, a bell
RAW_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f\u202e]")


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs += attrs


def test_the_mail_is_spanish_by_default_one_message_for_the_whole_client():
    mail = render_email(sample_changes(), base_url=BASE)
    assert mail.subject == (
        "[Baluarte] acme: 3 desviaciones nuevas, 1 dispositivo inaccesible,"
        " 3 excepciones a punto de caducar"
    )
    text = mail.text
    for spanish in (
        "Cliente acme",
        "Ejecución 2 · 27/11/2026 02:20 (+01:00)",  # the client's zone, Madrid
        "Desviaciones nuevas (3)",
        "Controles que se cumplían en la postura anterior y ahora no se cumplen.",
        "Sin actualizaciones de seguridad pendientes",  # the control's title, translated
        "gravedad Crítica",
        "Observado: 3 pendientes:",  # the evaluator's phrase, translated
        "Dispositivos que han dejado de ser accesibles (1)",
        "Motivo: dispositivo inaccesible: connection refused",
        "Excepciones a punto de caducar (3)",
        "Caduca: 30 de noviembre de 2026 (quedan 3 días)",
        "(hoy)",
        "Aprobada por: María López, CHG-12",
        "Abrir en el panel: https://baluarte.example.es/clients/acme",
    ):
        assert spanish in text, spanish
    for english in ("New drift", "Observed", "Reason", "Expires", "severity", "days left"):
        assert english not in text and english not in mail.html, english
    assert "Desviaciones nuevas (3)" in mail.html and 'lang="es"' in mail.html


def test_the_mail_in_english():
    mail = render_email(sample_changes(), lang="en")
    assert mail.subject == (
        "[Baluarte] acme: 3 new drifts, 1 device unreachable, 3 waivers expiring soon"
    )
    assert "New drift (3)" in mail.text and "Run 2 · 27/11/2026 02:20 (+01:00)" in mail.text
    assert "(3 days left)" in mail.text and "No pending security updates" in mail.text
    assert "Desviaciones" not in mail.text and "clients/acme" not in mail.text  # no base_url


def test_hostile_device_text_is_escaped_in_the_html_and_inert_in_the_text():
    mail = render_email(sample_changes(), base_url=BASE)
    html = mail.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "policy &lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;b&gt;openssl&lt;/b&gt; &amp; \\x07bash" in html
    assert "change freeze &lt;b&gt;Q4&lt;/b&gt;" in html  # a waiver file's text too
    parsed = _Tags()
    parsed.feed(html)
    assert parsed.tags <= {
        "html", "head", "meta", "title", "body", "div", "p", "h1", "h2", "strong", "span",
        "code", "a",
    }  # fmt: skip
    assert not {"script", "img", "b"} & parsed.tags
    assert not [a for a in parsed.attrs if a[0].startswith("on")]
    # control characters shown as escapes, everywhere
    for out in (mail.subject, mail.text, html):
        assert not RAW_CONTROLS.search(out)
    assert "\\x1b[2J\\u202efw\\nX" in mail.text  # one line: the newline shown, not taken
    assert "\n" not in mail.subject


def test_a_hostile_client_name_cannot_break_the_subject_or_the_link():
    changes = replace(sample_changes(), client="acme\r\nBcc: victim@example.com <x>")
    mail = render_email(changes, base_url=BASE)
    assert "\n" not in mail.subject and "\r" not in mail.subject
    assert "/clients/acme%0D%0ABcc%3A%20victim%40example.com%20%3Cx%3E" in mail.html
    assert client_url("javascript:alert(1)//", "acme") is None


def test_long_lists_are_cut_in_the_mail_and_counted():
    many = tuple(
        DriftItem(
            site="hq", device=f"srv{i:03}", platform="linux", control="access.ssh_root_login",
            severity="high", expected=None, observed="x" * 5000, reason=None,
            passed_at=T0, observed_at=T1, run_id=2,
        )
        for i in range(120)
    )  # fmt: skip
    changes = replace(sample_changes(), new_drift=many)
    mail = render_email(changes)
    assert "Desviaciones nuevas (120)" in mail.text
    assert "srv099" in mail.text and "srv100" not in mail.text
    assert "…y 20 más" in mail.text and "…y 20 más" in mail.html
    assert "x" * 301 not in mail.text  # an observed value cut for reading; JSON keeps it
    assert document(changes)["new_drift"][119]["observed"] == "x" * 5000
    slack = slack_message(changes)
    assert len(slack["blocks"]) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in slack["blocks"] if "text" in b)
    assert "…y 105 más" in json.dumps(slack, ensure_ascii=False)


def test_the_json_document():
    doc = webhook_body(sample_changes(), "baluarte", base_url=BASE)
    assert set(doc) == {
        "client", "run_id", "at", "compliance_percent", "new_drift", "unreachable",
        "expiring_waivers", "url",
    }  # fmt: skip
    assert (doc["client"], doc["run_id"], doc["at"]) == ("acme", 2, "2026-11-27T01:20:00+00:00")
    assert doc["url"] == "https://baluarte.example.es/clients/acme"
    assert doc["new_drift"][2] == {
        "site": "hq",
        "device": "srv",
        "platform": "linux",
        "control": "patching.security_updates_pending",
        "severity": "critical",
        "expected": "0 pending",
        "observed": "3 pending: <b>openssl</b> & \\x07bash",  # as stored, made inert
        "passed_at": "2026-11-26T01:00:00+00:00",
        "observed_at": "2026-11-27T01:00:00+00:00",
        # the default target: 8 business hours from Friday 02:00 in Madrid, opening at 09:00
        "priority": "normal",
        "due_at": "2026-11-27T16:00:00+00:00",
    }
    assert doc["unreachable"] == [
        {
            "site": "branch", "device": "pc", "platform": "windows", "state": "not_verified",
            "failed_at": "2026-11-27T01:00:00+00:00", "last_read": "2026-11-26T01:00:00+00:00",
            "errors": ["device unreachable: connection refused"],
        }
    ]  # fmt: skip
    assert [(w["control"], w["days_left"], w["expires"]) for w in doc["expiring_waivers"]] == [
        ("firewall.enabled", 0, "2026-11-27"),
        ("patching.reboot_required", 3, "2026-11-30"),
        ("backup.encrypted", 14, "2026-12-11"),
    ]
    assert doc["new_drift"][0]["device"] == "<script>alert(1)</script>\\x1b[2J\\u202efw\nX"
    body = encode_body(doc)
    assert body.isascii() and b"<" not in body and b">" not in body and b"&" not in body
    assert json.loads(body) == doc  # the same data to any parser
    assert webhook_body(sample_changes(), "baluarte", base_url=None)["url"] is None


def test_the_teams_shape_is_an_adaptive_card_with_markdown_escaped():
    changes = replace(
        sample_changes(),
        new_drift=(replace(sample_changes().new_drift[0], device="[pulse](http://evil/) **x**"),),
    )
    msg = webhook_body(changes, "teams", base_url=BASE)
    assert msg["type"] == "message"
    (attachment,) = msg["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    texts = [b["text"] for b in card["body"]]
    assert texts[0] == "Cliente acme" and "Desviaciones nuevas" in texts
    row = next(t for t in texts if "pulse" in t)
    assert row.startswith("hq / \\[pulse\\]\\(http://evil/\\) \\*\\*x\\*\\*")
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Abrir en el panel",
         "url": "https://baluarte.example.es/clients/acme"}
    ]  # fmt: skip
    assert not RAW_CONTROLS.search(json.dumps(msg, ensure_ascii=False))


def test_the_slack_shape_keeps_device_text_out_of_markup():
    changes = replace(sample_changes(), client="acme <!channel>")
    msg = webhook_body(changes, "slack", base_url=BASE)
    assert msg["text"].startswith("[Baluarte] acme &lt;!channel&gt;: 3 desviaciones nuevas")
    kinds = {b["type"] for b in msg["blocks"]}
    assert kinds <= {"header", "context", "section", "actions"}
    # every text object is plain_text: Slack shows it as it is, links and mentions inert
    objects = [b["text"] for b in msg["blocks"] if "text" in b]
    objects += [e for b in msg["blocks"] if b["type"] == "context" for e in b["elements"]]
    assert objects and all(o["type"] == "plain_text" for o in objects)
    hostile = next(o["text"] for o in objects if "script" in o["text"])
    assert "<script>alert(1)</script>\\x1b[2J\\u202efw\\nX" in hostile
    button = msg["blocks"][-1]["elements"][0]
    assert button["url"] == "https://baluarte.example.es/clients/acme%20%3C%21channel%3E"


def test_the_time_zone_is_the_clients():
    changes = replace(sample_changes(now=NOW + timedelta(hours=3)), timezone="Atlantic/Canary")
    assert "27/11/2026 04:20 (+00:00)" in render_email(changes).text


@pytest.mark.parametrize("lang", sorted(LOCALES))
def test_every_message_is_in_both_catalogues(lang):
    with catalogue_path(lang).open("rb") as fh:
        cat = read_po(fh, locale=LOCALES[lang])
    used = catalogue_messages()
    assert len(used) >= 25  # the extraction found the module's and the templates' words
    for context, msgid in used:
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        message = cat.get(key, context=context)
        assert message is not None, f"{lang}: no entry for {msgid!r}"
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings) and not message.fuzzy, msgid
        if isinstance(msgid, tuple):
            assert message.id == msgid
    # nothing in context notify that is no longer used
    ours = {(m.context, m.id) for m in cat if m.context == CONTEXT}
    assert ours == used


def test_spanish_words_are_spanish():
    with catalogue_path("es").open("rb") as fh:
        cat = read_po(fh, locale="es_ES")

    def first(value: str | tuple[str, ...] | list[str] | None) -> str:
        return value if isinstance(value, str) else str(next(iter(value or ())))

    same = [m.id for m in cat if m.context == CONTEXT and first(m.string) == first(m.id)]
    assert same == ["[Baluarte] %(client)s: %(summary)s"]
