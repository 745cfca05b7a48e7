"""Messages about a site collector that went silent, or came back: one per change, per channel.

They travel through the outbox like every notification (retries, backoff, never lost), on
channels of their own — ``collector:email`` and ``collector:webhook:N`` — whose senders this
module gives (``collector_senders``); a ``shape: ticket`` webhook gets none (a ticket is drift
to fix by a due time). A row's ``client`` is ``collector:NAME`` (a colon no client name may
hold), and its payload keeps the ``event`` it told beside what is sent: the newest row about a
collector is the service's memory of what it last said about it (``last_told``), shared by
every process on the store and kept across restarts.

The collector's own words (its host name and version, from its heartbeat) are untrusted: made
inert and on one line, escaped for Teams' Markdown and Slack, carried as data in JSON. Words
come from the report catalogues, context ``notify``; Spanish by default.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Literal

import sqlalchemy as sa

from baluarte.collectors.health import Age
from baluarte.evidence.data import Lang
from baluarte.service.config import EmailSettings, NotificationSettings
from baluarte.service.db import ServiceDb
from baluarte.service.notify.email import send_message
from baluarte.service.notify.message import (
    _md,
    _one_line,
    _slack_escape,
    _Words,
    adaptive_card_message,
)
from baluarte.service.notify.outbox import Sender
from baluarte.service.notify.webhook import send_webhook
from baluarte.service.tables import notifications
from baluarte.text import inert_tree
from reports.evidence.i18n import Formats

__all__ = [
    "CHANNEL_PREFIX",
    "CollectorEvent",
    "collector_senders",
    "enqueue_event",
    "event_payloads",
    "last_told",
    "row_client",
]

CHANNEL_PREFIX = "collector:"
Kind = Literal["silent", "back"]


@dataclass(frozen=True)
class CollectorEvent:
    """Collector ``collector`` went ``silent`` (no heartbeat for ``silent_after`` seconds) or
    came ``back``, as noticed ``at``."""

    kind: Kind
    collector: str
    at: datetime
    last_seen: datetime | None
    hostname: str | None = None
    version: str | None = None
    description: str | None = None
    sites: tuple[tuple[str, str], ...] = ()  # (client, site) collected through it


def row_client(collector: str) -> str:
    """The outbox's ``client`` of a message about ``collector``."""
    return f"collector:{collector}"


# -- words ---------------------------------------------------------------------------------


def _age(seconds: float, w: _Words) -> str:
    age = Age.of(seconds)  # rounded as the dashboard rounds it
    if age.unit == "seconds":
        return w._n("%(count)d second", "%(count)d seconds", age.count)
    if age.unit == "minutes":
        return w._n("%(count)d minute", "%(count)d minutes", age.count)
    if age.unit == "hours":
        return w._n("%(count)d hour", "%(count)d hours", age.count)
    return w._n("%(count)d day", "%(count)d days", age.count)


@dataclass(frozen=True)
class _Text:
    subject: str
    lines: list[str]  # plain text, each inert and on one line
    url: str | None
    open_label: str


def _text(event: CollectorEvent, lang: Lang, timezone: str, base_url: str | None) -> _Text:
    w = _Words(lang)
    fmt = Formats(lang, timezone)
    name = _one_line(event.collector, 63)
    seen = fmt.datetime(event.last_seen) if event.last_seen else w._("never")
    sites = ", ".join(f"{_one_line(c, 128)} / {_one_line(s, 128)}" for c, s in event.sites)
    if event.kind == "silent":
        silent_for = (event.at - event.last_seen).total_seconds() if event.last_seen else 0.0
        subject = w._("[Baluarte] Collector %(name)s is silent") % {"name": name}
        lines = [
            w._("No heartbeat from collector %(name)s for %(age)s; last seen %(at)s.")
            % {"name": name, "age": _age(silent_for, w), "at": seen}
        ]
        if sites:
            lines.append(
                w._("While it is silent, the devices of its sites cannot be checked: %(sites)s.")
                % {"sites": sites}
            )
    else:
        subject = w._("[Baluarte] Collector %(name)s is back") % {"name": name}
        lines = [
            w._("Collector %(name)s sends heartbeats again; last seen %(at)s.")
            % {"name": name, "at": seen}
        ]
        if sites:
            lines.append(
                w._("The devices of its sites are checked through it again: %(sites)s.")
                % {"sites": sites}
            )
    if event.hostname or event.version:
        lines.append(
            w._("Host %(host)s, version %(version)s.")
            % {"host": _one_line(event.hostname) or "—", "version": _one_line(event.version) or "—"}
        )
    if event.description:
        lines.append(w._("Description: %(text)s") % {"text": _one_line(event.description, 500)})
    url = f"{base_url.rstrip('/')}/collectors" if base_url else None
    return _Text(subject, lines, url, w._("Open in the dashboard"))


# -- shapes --------------------------------------------------------------------------------


def _document(event: CollectorEvent, url: str | None) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return None if value is None else value.astimezone(UTC).isoformat()

    doc = {
        "event": f"collector_{event.kind}",
        "collector": event.collector,
        "at": iso(event.at),
        "last_seen": iso(event.last_seen),
        "hostname": event.hostname,
        "version": event.version,
        "description": event.description,
        "sites": [{"client": c, "site": s} for c, s in event.sites],
        "url": url,
    }
    return inert_tree(doc)


def _teams(text: _Text) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": _md(text.subject), "weight": "Bolder", "wrap": True},
        *({"type": "TextBlock", "text": _md(line), "wrap": True} for line in text.lines),
    ]
    return adaptive_card_message(body, text.open_label, text.url)


def _slack(text: _Text) -> dict[str, Any]:
    def plain(value: str) -> dict[str, Any]:
        return {"type": "plain_text", "text": value, "emoji": False}

    blocks: list[dict[str, Any]] = [{"type": "header", "text": plain(text.subject[:150])}]
    blocks += [{"type": "section", "text": plain(line[:2900])} for line in text.lines]
    if text.url:
        button = {"type": "button", "text": plain(text.open_label), "url": text.url}
        blocks.append({"type": "actions", "elements": [button]})
    return {"text": _slack_escape(text.subject), "blocks": blocks}


def event_payloads(
    settings: NotificationSettings,
    event: CollectorEvent,
    *,
    lang: Lang = "es",
    timezone: str = "Europe/Madrid",
    base_url: str | None = None,
) -> dict[str, dict[str, Any]]:
    """What the outbox keeps for ``event`` on each channel: ``collector:email``,
    ``collector:webhook:N``. Each holds the ``event`` and ``collector`` it is about."""
    text = _text(event, lang, timezone, base_url)
    about = {"event": event.kind, "collector": event.collector}
    out: dict[str, dict[str, Any]] = {}
    if settings.email is not None:
        domain = settings.email.from_.rpartition("@")[2] or "baluarte.invalid"
        out[f"{CHANNEL_PREFIX}email"] = {
            **about,
            "subject": text.subject,
            "text": "\n\n".join(text.lines)
            + (f"\n\n{text.open_label}: {text.url}\n" if text.url else "\n"),
            # fixed once: a mail resent after a lost answer is the same message
            "message_id": f"<baluarte.collector.{uuid.uuid4().hex[:20]}@{domain}>",
        }
    for i, hook in enumerate(settings.webhooks):
        if hook.shape == "ticket":
            continue
        body = (
            _teams(text)
            if hook.shape == "teams"
            else _slack(text)
            if hook.shape == "slack"
            else _document(event, text.url)
        )
        out[f"{CHANNEL_PREFIX}webhook:{i}"] = {**about, "body": body}
    return out


# -- the outbox ----------------------------------------------------------------------------


def enqueue_event(db: ServiceDb, event: CollectorEvent, payloads: dict[str, dict[str, Any]]) -> int:
    """Keep ``event``'s messages, all channels in one transaction; the rows written."""
    rows = [
        {
            "created_at": event.at,
            "client": row_client(event.collector),
            "run_id": None,
            "channel": channel,
            "payload": json.dumps(payload, ensure_ascii=False, sort_keys=True),
            "attempts": 0,
            "next_attempt_at": event.at,
        }
        for channel, payload in payloads.items()
    ]
    if rows:
        with db.write() as conn:
            conn.execute(notifications.insert(), rows)
    return len(rows)


def last_told(db: ServiceDb, collectors: Sequence[str]) -> dict[str, Kind]:
    """What the newest message about each collector told (``silent`` or ``back``); a
    collector never told about is absent."""
    if not collectors:
        return {}
    about = {row_client(name): name for name in collectors}
    n = notifications
    newest = (
        sa.select(sa.func.max(n.c.id))
        .where(n.c.client.in_(list(about)), n.c.channel.startswith(CHANNEL_PREFIX))
        .group_by(n.c.client)
    )
    with db.read() as conn:
        rows = conn.execute(sa.select(n.c.client, n.c.payload).where(n.c.id.in_(newest))).all()
    out: dict[str, Kind] = {}
    for row in rows:
        kind = json.loads(row.payload).get("event")
        if kind in ("silent", "back"):
            out[about[row.client]] = kind
    return out


# -- senders -------------------------------------------------------------------------------


def _mail(settings: EmailSettings, payload: dict[str, Any]) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = payload["subject"]
    msg["From"] = settings.from_
    msg["To"] = ", ".join(settings.to)
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = payload["message_id"]
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Baluarte-Collector"] = _one_line(str(payload["collector"]), 63)
    msg.set_content(payload["text"], subtype="plain", charset="utf-8")
    return msg


def collector_senders(
    settings: NotificationSettings, *, smtp_timeout: float = 30.0, webhook_timeout: float = 10.0
) -> dict[str, Sender]:
    """The outbox's senders of this module's channels."""
    out: dict[str, Sender] = {}
    mail = settings.email
    if mail is not None:

        def send_mail(payload: dict[str, Any]) -> None:
            send_message(mail, _mail(mail, payload), mail.to, timeout=smtp_timeout)

        out[f"{CHANNEL_PREFIX}email"] = send_mail
    for i, hook in enumerate(settings.webhooks):

        def post(payload: dict[str, Any], hook: Any = hook) -> None:
            send_webhook(hook, payload["body"], timeout=webhook_timeout)

        out[f"{CHANNEL_PREFIX}webhook:{i}"] = post
    return out
