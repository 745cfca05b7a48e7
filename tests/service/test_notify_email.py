"""Mail to a real SMTP server on 127.0.0.1 (aiosmtpd): STARTTLS with a certificate from a
private CA, implicit TLS, AUTH only over TLS, and refusals to send in clear."""

from __future__ import annotations

import logging
import smtplib
import ssl
from typing import Any

import pytest

from baluarte.evidence.data import Lang
from baluarte.masking import forget_secrets
from baluarte.service.config import EmailSettings
from baluarte.service.notify.email import EmailRefused, email_payload, send_email
from baluarte.service.notify.message import render_email
from baluarte.service.notify.outbox import deliver_due, enqueue, error_text, recent
from tests.service._notify_sample import sample_changes
from tests.service._notify_servers import SMTP_USER, free_port, lab_ca, part, smtp_server

CANARY = "smtp-canary-Pw-4b1d9e"
TO = ["ops@provider.example", "manager@provider.example"]


@pytest.fixture
def password(monkeypatch):
    monkeypatch.setenv("NOTIFY_SMTP_PASSWORD", CANARY)
    yield CANARY
    forget_secrets()


def settings(port: int, scheme: str = "smtp", **kw) -> EmailSettings:
    data = {"smtp": f"{scheme}://127.0.0.1:{port}", "from": "baluarte@provider.example", "to": TO}
    return EmailSettings.model_validate(data | kw)


def payload(lang: Lang = "es") -> dict[str, Any]:
    changes = sample_changes()
    content = render_email(changes, lang=lang, base_url="https://baluarte.example.es")
    return email_payload(changes, content, "baluarte@provider.example")


def test_starttls_and_auth_deliver_one_message_with_our_headers(tmp_path, password):
    with smtp_server(tmp_path, password=password) as server:
        s = settings(
            server.port, username=SMTP_USER, password="env:NOTIFY_SMTP_PASSWORD",
            ca_file=str(server.ca.path),
        )  # fmt: skip
        sent = payload()
        send_email(s, sent, timeout=10)
    (got,) = server.mailbox.messages
    assert got.tls and got.login == SMTP_USER
    assert server.mailbox.logins == [(SMTP_USER, True)]
    assert (got.mail_from, got.rcpt_tos) == ("baluarte@provider.example", TO)
    msg = got.message
    # a long subject is folded on the wire; unfolded, it is the one sent
    assert msg["Subject"].strip() == sent["subject"]
    assert msg["Subject"].strip().startswith("[Baluarte] acme: 3 desviaciones nuevas")
    assert msg["From"] == "baluarte@provider.example"
    assert msg["To"] == ", ".join(TO)
    assert msg["Message-ID"] == sent["message_id"]
    assert msg["Auto-Submitted"] == "auto-generated"
    assert (msg["X-Baluarte-Client"], msg["X-Baluarte-Run"]) == ("acme", "2")
    assert msg["Date"]
    assert msg.get_content_type() == "multipart/alternative"
    text, html = part(msg, "plain"), part(msg, "html")
    assert "Desviaciones nuevas (3)" in text and "Aprobada por: María López" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert CANARY.encode() not in got.raw


def test_implicit_tls(tmp_path, password):
    with smtp_server(tmp_path, mode="smtps", password=password) as server:
        s = settings(
            server.port, "smtps", username=SMTP_USER, password="env:NOTIFY_SMTP_PASSWORD",
            ca_file=str(server.ca.path),
        )  # fmt: skip
        send_email(s, payload("en"), timeout=10)
    (got,) = server.mailbox.messages
    assert got.login == SMTP_USER and got.tls
    assert got.message["Subject"].strip().startswith("[Baluarte] acme: 3 new drifts")


def test_no_starttls_offered_means_no_mail_sent_in_clear(tmp_path):
    with smtp_server(tmp_path, mode="plain") as server:
        with pytest.raises(EmailRefused, match="does not offer STARTTLS: not sending in clear"):
            send_email(settings(server.port), payload(), timeout=10)
        assert server.mailbox.messages == []
        # said so explicitly, a relay on a trusted network is used without TLS
        send_email(settings(server.port, starttls=False), payload(), timeout=10)
    assert len(server.mailbox.messages) == 1 and not server.mailbox.messages[0].tls


def test_the_password_is_never_sent_over_a_clear_connection(tmp_path, password):
    with smtp_server(tmp_path, mode="plain", password=password) as server:
        s = settings(
            server.port, starttls=False, username=SMTP_USER, password="env:NOTIFY_SMTP_PASSWORD"
        )
        with pytest.raises(EmailRefused, match="over an unencrypted connection"):
            send_email(s, payload(), timeout=10)
    assert server.mailbox.logins == [] and server.mailbox.messages == []


def test_the_servers_certificate_is_verified(tmp_path):
    with smtp_server(tmp_path) as server:
        # the system's CAs do not know the private CA
        with pytest.raises(ssl.SSLCertVerificationError):
            send_email(settings(server.port), payload(), timeout=10)
        other = lab_ca(tmp_path / "other")
        with pytest.raises(ssl.SSLCertVerificationError):
            send_email(settings(server.port, ca_file=str(other.path)), payload(), timeout=10)
    assert server.mailbox.messages == []


def test_a_refused_password_fails_and_never_shows_it(tmp_path, password, service_db, caplog):
    caplog.set_level(logging.INFO, logger="baluarte.service.notify")
    with smtp_server(tmp_path, password="another") as server:
        s = settings(
            server.port, username=SMTP_USER, password="env:NOTIFY_SMTP_PASSWORD",
            ca_file=str(server.ca.path),
        )  # fmt: skip
        with pytest.raises(smtplib.SMTPAuthenticationError) as exc:
            send_email(s, payload(), timeout=10)
        assert CANARY not in error_text(exc.value)
        enqueue(service_db, sample_changes(), {"email": payload()})
        assert deliver_due(service_db, {"email": lambda p: send_email(s, p, timeout=10)}) == 0
    (row,) = recent(service_db)
    assert row.attempts == 1 and (row.last_error or "").startswith("SMTPAuthenticationError: (535")
    assert CANARY not in repr(row) and CANARY not in caplog.text
    # smtplib tries each mechanism the server offers; every one was refused
    assert server.mailbox.logins and all(not ok for _, ok in server.mailbox.logins)


def test_a_server_that_is_not_there_fails_quickly(tmp_path):
    with pytest.raises(ConnectionRefusedError):
        send_email(settings(free_port()), payload(), timeout=5)
