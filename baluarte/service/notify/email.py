"""Mail over SMTP (``smtplib``): the outbox's e-mail sender.

``smtp://HOST[:PORT]`` (587) upgrades with STARTTLS, and when ``starttls`` is on (the default)
refuses to send if the server does not offer it: the message would otherwise cross the network
in clear. ``smtps://HOST[:PORT]`` (465) speaks TLS from the first byte. The server's certificate
is verified (against ``ca_file`` when given, else the system's CAs), with its host name. The
password is a reference resolved when a message is sent, and is never sent over a connection
that is not encrypted. Every network step has a timeout.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from urllib.parse import urlsplit

from baluarte.secrets import resolve
from baluarte.service.config import EmailSettings
from baluarte.service.notify.changes import ClientChanges
from baluarte.service.notify.message import EmailContent
from baluarte.text import inert

__all__ = [
    "SMTP_TIMEOUT",
    "EmailRefused",
    "build_message",
    "email_payload",
    "send_email",
    "send_message",
    "tls_context",
]

log = logging.getLogger("baluarte.service.notify")

SMTP_TIMEOUT = 30.0  # seconds for each network step (connect, each command)


class EmailRefused(Exception):
    """Not sent, for a reason of ours (no STARTTLS offered, a password over a clear line)."""


def email_payload(changes: ClientChanges, content: EmailContent, sender: str) -> dict[str, Any]:
    """What the outbox keeps for a mail: the content, and a Message-ID fixed once, so a mail
    resent after a lost answer is recognisable as the same message."""
    domain = sender.rpartition("@")[2] or "baluarte.invalid"
    run = changes.run_id if changes.run_id is not None else "none"
    return {
        "subject": content.subject,
        "text": content.text,
        "html": content.html,
        "client": changes.client,
        "run_id": changes.run_id,
        # short enough for one header line (make_msgid's ids get folded onto the next)
        "message_id": f"<baluarte.run{run}.{uuid.uuid4().hex[:20]}@{domain}>",
    }


def build_message(
    settings: EmailSettings, payload: Mapping[str, Any], *, now: datetime | None = None
) -> EmailMessage:
    """The MIME message: plain text and HTML alternatives, our headers."""
    msg = EmailMessage()
    msg["Subject"] = payload["subject"]
    msg["From"] = settings.from_
    msg["To"] = ", ".join(settings.to)
    msg["Date"] = format_datetime(now or datetime.now(UTC))
    msg["Message-ID"] = payload.get("message_id") or make_msgid(domain="baluarte.invalid")
    # automatic mail: no out-of-office answers, and a filter can tell it from people's mail
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Baluarte-Client"] = inert(str(payload["client"]), newlines=False)
    if payload.get("run_id") is not None:
        msg["X-Baluarte-Run"] = str(payload["run_id"])
    msg.set_content(payload["text"], subtype="plain", charset="utf-8")
    msg.add_alternative(payload["html"], subtype="html", charset="utf-8")
    return msg


def tls_context(settings: EmailSettings) -> ssl.SSLContext:
    ca = str(settings.ca_file.expanduser()) if settings.ca_file is not None else None
    context = ssl.create_default_context(cafile=ca)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def send_email(
    settings: EmailSettings,
    payload: Mapping[str, Any],
    *,
    timeout: float = SMTP_TIMEOUT,
) -> None:
    """Send the mail ``payload`` describes to ``settings.to``; raises on any failure."""
    send_message(settings, build_message(settings, payload), settings.to, timeout=timeout)


def send_message(
    settings: EmailSettings,
    message: EmailMessage,
    recipients: Sequence[str],
    *,
    timeout: float = SMTP_TIMEOUT,
) -> None:
    """Send ``message`` to ``recipients`` through the server ``settings`` name (the monthly
    executive report goes to a client's contacts, not to ``settings.to``); raises on any
    failure."""
    parts = urlsplit(settings.smtp)
    host = parts.hostname or ""
    implicit = parts.scheme == "smtps"
    port = parts.port or (465 if implicit else (587 if settings.starttls else 25))
    context = tls_context(settings)
    # our own name in EHLO: getfqdn() may wait on a reverse DNS lookup
    local = socket.gethostname() or "localhost"
    conn: smtplib.SMTP
    if implicit:
        conn = smtplib.SMTP_SSL(host, port, local_hostname=local, timeout=timeout, context=context)
    else:
        conn = smtplib.SMTP(host, port, local_hostname=local, timeout=timeout)
    with conn:
        conn.ehlo()
        encrypted = implicit
        if not implicit and settings.starttls:
            if not conn.has_extn("starttls"):
                raise EmailRefused(
                    f"{host}:{port} does not offer STARTTLS: not sending in clear"
                    " (set starttls: false only for a relay on a trusted network)"
                )
            conn.starttls(context=context)
            conn.ehlo()
            encrypted = True
        if settings.username is not None and settings.password is not None:
            if not encrypted:
                raise EmailRefused(
                    f"not sending the SMTP password to {host}:{port} over an unencrypted"
                    " connection: use STARTTLS or smtps://"
                )
            conn.login(settings.username, resolve(settings.password))
        refused = conn.send_message(message, from_addr=settings.from_, to_addrs=list(recipients))
        if refused:
            # some recipients took it: sending again would repeat it to them
            log.warning(
                "the SMTP server refused %d of %d recipients: %s",
                len(refused),
                len(recipients),
                ", ".join(sorted(refused)),
            )
