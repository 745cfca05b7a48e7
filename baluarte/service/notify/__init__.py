"""Notifications of ``baluarte serve``: after each run, one message per client on each channel
(e-mail, webhooks) saying what changed since the client's previous posture — new drift, devices
that became unreachable, waivers expiring soon — kept in the outbox and sent from there.

The service calls, after a run::

    changes = run_changes(db, run, waivers, now=now, warn_days=settings.waiver_warning_days, …)
    notify_run(db, settings, changes, lang=config.language, base_url=config.base_url)

and, every ~30 s from a background loop, ``deliver_due(db, senders(settings))`` (or
``Notifier.from_config(db, config)`` and its ``notify`` / ``deliver_due``). Neither raises: a
failure to notify is logged and retried, and never loses the run.

- ``changes``: what to tell (pure);
- ``message``: the message in each shape (mail, our JSON, Teams, Slack);
- ``outbox``: the rows kept until sent, retries and backoff;
- ``email`` and ``webhook``: the two senders.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from baluarte.evidence.data import Lang
from baluarte.service.config import NotificationSettings, ServeConfig
from baluarte.service.db import ServiceDb
from baluarte.service.notify.changes import (
    ClientChanges,
    DriftItem,
    ExpiringWaiver,
    UnreachableDevice,
    client_changes,
    run_changes,
)
from baluarte.service.notify.email import email_payload, send_email
from baluarte.service.notify.message import render_email, webhook_body
from baluarte.service.notify.outbox import Sender, deliver_due, enqueue, error_text
from baluarte.service.notify.webhook import send_webhook

__all__ = [
    "ClientChanges",
    "DriftItem",
    "ExpiringWaiver",
    "Notifier",
    "UnreachableDevice",
    "client_changes",
    "deliver_due",
    "notify_run",
    "payloads",
    "run_changes",
    "senders",
]

log = logging.getLogger("baluarte.service.notify")


def payloads(
    settings: NotificationSettings,
    changes: ClientChanges,
    *,
    lang: Lang = "es",
    base_url: str | None = None,
) -> dict[str, dict[str, Any]]:
    """The message about ``changes`` for each configured channel: ``email``, ``webhook:N``.
    A ``ticket`` webhook is sent only about new drift: a ticket is work with a due time."""
    out: dict[str, dict[str, Any]] = {}
    if settings.email is not None:
        content = render_email(changes, lang=lang, base_url=base_url)
        out["email"] = email_payload(changes, content, settings.email.from_)
    for i, hook in enumerate(settings.webhooks):
        if hook.shape == "ticket" and not changes.new_drift:
            continue
        out[f"webhook:{i}"] = webhook_body(changes, hook.shape, lang=lang, base_url=base_url)
    return out


def notify_run(
    db: ServiceDb,
    settings: NotificationSettings,
    changes: Sequence[ClientChanges],
    *,
    lang: Lang = "es",
    base_url: str | None = None,
    now: datetime | None = None,
) -> int:
    """Keep the messages about a run's ``changes`` in the outbox (one per client and channel;
    empty changes tell nothing); returns the rows written. Never raises: a client whose
    message cannot be made or kept is logged, and the others are kept."""
    written = 0
    for item in changes:
        if item.empty:
            continue
        try:
            written += enqueue(
                db, item, payloads(settings, item, lang=lang, base_url=base_url), now=now
            )
        except Exception as exc:
            log.error(
                "notification about client %s (run %s) not kept: %s",
                item.client,
                item.run_id,
                error_text(exc),
            )
    return written


def senders(
    settings: NotificationSettings,
    *,
    smtp_timeout: float = 30.0,
    webhook_timeout: float = 10.0,
) -> dict[str, Sender]:
    """Each configured channel's sender, by the channel names ``payloads`` gives."""
    out: dict[str, Sender] = {}
    mail = settings.email
    if mail is not None:

        def send_mail(payload: dict[str, Any]) -> None:
            send_email(mail, payload, timeout=smtp_timeout)

        out["email"] = send_mail
    for i, hook in enumerate(settings.webhooks):

        def post(payload: dict[str, Any], hook: Any = hook) -> None:
            send_webhook(hook, payload, timeout=webhook_timeout)

        out[f"webhook:{i}"] = post
    return out


class Notifier:
    """The service's notifications: ``notify`` after each run, ``deliver_due`` in its loop."""

    def __init__(
        self,
        db: ServiceDb,
        settings: NotificationSettings,
        *,
        lang: Lang = "es",
        base_url: str | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.lang: Lang = lang
        self.base_url = base_url
        self.senders = senders(settings)

    @classmethod
    def from_config(cls, db: ServiceDb, config: ServeConfig) -> Notifier:
        """From ``baluarte serve``'s configuration (a relative ``ca_file`` is read from the
        configuration file's folder)."""
        settings = config.notifications
        if settings.email is not None and settings.email.ca_file is not None:
            email = settings.email.model_copy(
                update={"ca_file": config.path(settings.email.ca_file)}
            )
            settings = settings.model_copy(update={"email": email})
        return cls(db, settings, lang=config.language, base_url=config.base_url)

    @property
    def enabled(self) -> bool:
        return bool(self.senders)

    def notify(self, changes: Sequence[ClientChanges], *, now: datetime | None = None) -> int:
        return notify_run(
            self.db, self.settings, changes, lang=self.lang, base_url=self.base_url, now=now
        )

    def deliver_due(self, now: datetime | None = None) -> int:
        return deliver_due(self.db, self.senders, now)
