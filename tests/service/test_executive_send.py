"""The executive report sent by the service: at its cron time, in the leader only, one mail per
client with contacts — even when two schedulers both believe they lead — with the PDF attached,
through a real SMTP server on 127.0.0.1; the configuration and the contacts validated."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa

from baluarte.errors import InputError
from baluarte.inventory import load_inventory
from baluarte.service.config import load_config
from baluarte.service.context import Service
from baluarte.service.db import ServiceDb
from baluarte.service.executive import (
    CHANNEL,
    SCHEDULE,
    ExecutiveReports,
    executive_reports,
    with_reports,
)
from baluarte.service.notify import Notifier
from baluarte.service.notify.outbox import recent
from baluarte.service.runtime import build_service
from baluarte.service.scheduler import ComplianceScheduler
from baluarte.service.tables import notifications, schedule_fires, scheduler_leases
from tests.service._executive import (
    executive_service,
    pdf_text,
    store_two_months,
)
from tests.service._notify_servers import smtp_server

ACME = ["gerencia@acme.example", "direccion@acme.example"]
BETA = ["ceo@beta.example"]
# 08:00 in Madrid on 1 December 2026 (winter: UTC+1)
DUE = datetime(2026, 12, 1, 7, tzinfo=UTC)
# seconds to start two serve processes one after the other (about 3), with headroom
SERVERS_UP = 6


def reports_config(port: int, ca: Path, *, clients: str = "all") -> str:
    return (
        "notifications:\n"
        "  email:\n"
        f"    smtp: smtp://127.0.0.1:{port}\n"
        "    from: baluarte@provider.example\n"
        "    to: [soc@provider.example]\n"
        f"    ca_file: {ca}\n"
        "reports:\n"
        "  executive:\n"
        '    cron: "0 8 1 * *"\n'
        "    language: es\n"
        f"    clients: {clients}\n"
    )


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def never_a_check(schedule, due):  # the reports' scheduler has no check to start
    raise AssertionError(f"a check was started for {schedule.name}")


def scheduler(service: Service, reports: ExecutiveReports, clock: Clock, holder: str):
    return ComplianceScheduler(
        service.db,
        [reports.schedule],
        service.config.timezone,
        with_reports(never_a_check, reports),
        holder=holder,
        clock=clock,
        lease_seconds=1800,
        renew_seconds=600,
    )


def steal_leadership(db: ServiceDb) -> None:
    """The leader's lease gone behind its back (on PostgreSQL: its session ended)."""
    if db.backend == "postgresql":
        with db.read() as conn:
            # only this test's database: the server is shared
            (pid,) = conn.execute(
                sa.text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND "
                    "database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                )
            ).scalars()
            # waits (up to 5 s) for the session to be gone, and its lock with it
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
    else:
        with db.write() as conn:
            conn.execute(sa.delete(scheduler_leases))


def attachments(message: EmailMessage) -> dict[str, bytes]:
    return {
        part.get_filename(): part.get_content()
        for part in message.iter_attachments()
        if part.get_filename()
    }


def test_two_schedulers_send_each_client_one_mail_with_its_pdf(
    tmp_path: Path, service_db: ServiceDb
) -> None:
    with smtp_server(tmp_path / "smtp") as server:
        extra = reports_config(server.port, server.ca.path)
        a = executive_service(
            tmp_path, service_db, extra=extra, contacts={"acme": ACME, "beta": BETA}
        )
        # a second process: its own connections to the same store
        other = ServiceDb.open(service_db.url.render_as_string(hide_password=False))
        b = Service(a.config, other, holder="b")
        store_two_months(a.db.store)
        notifier_a, notifier_b = (
            Notifier.from_config(a.db, a.config),
            Notifier.from_config(other, b.config),
        )
        reports_a, reports_b = executive_reports(a, notifier_a), executive_reports(b, notifier_b)
        assert reports_a is not None and reports_b is not None
        clock = Clock(DUE - timedelta(seconds=30))
        first, second = scheduler(a, reports_a, clock, "a"), scheduler(b, reports_b, clock, "b")
        try:
            first.tick()
            steal_leadership(service_db)
            clock.now += timedelta(seconds=10)
            second.tick()
            assert first.state()["leading"] and second.state()["leading"]  # both believe it
            clock.now = DUE
            first.tick()
            second.tick()
            # the firing process starts the delivery at once; both notification loops run too
            deadline = time.monotonic() + 60
            while len(server.mailbox.messages) < 2:
                assert time.monotonic() < deadline, "the reports were not mailed"
                notifier_a.deliver_due()
                notifier_b.deliver_due()
                time.sleep(0.2)
            assert notifier_a.deliver_due() + notifier_b.deliver_due() == 0
            time.sleep(0.5)
            assert len(server.mailbox.messages) == 2
        finally:
            first.stop()
            second.stop()
            b.close()
    with service_db.read() as conn:
        fires = conn.execute(sa.select(schedule_fires.c.schedule, schedule_fires.c.due_at)).all()
    assert fires == [(SCHEDULE, DUE)]
    mails = {m.message["X-Baluarte-Client"]: m for m in server.mailbox.messages}
    assert len(server.mailbox.messages) == 2 and sorted(mails) == ["acme", "beta"]
    got = mails["acme"]
    assert got.tls and got.mail_from == "baluarte@provider.example"
    assert got.rcpt_tos == ACME and mails["beta"].rcpt_tos == BETA  # never the provider's to:
    msg = got.message
    assert msg["Subject"] == "Informe ejecutivo de cumplimiento: Acme S.L., noviembre de 2026"
    assert msg["To"] == ", ".join(ACME) and msg["Auto-Submitted"] == "auto-generated"
    body = msg.get_body(("plain",))
    assert body is not None
    text = body.get_content().replace("\xa0", " ")  # Babel's "91,7 %" holds a no-break space
    assert "Le enviamos adjunto el informe ejecutivo de cumplimiento de Acme S.L." in text
    assert "Buena situación y mejorando: se cumple el 91,7 % de las comprobaciones." in text
    files = attachments(msg)
    assert list(files) == ["informe-ejecutivo-acme-2026-11.pdf"]  # no signing key here
    pdf = files["informe-ejecutivo-acme-2026-11.pdf"]
    assert pdf.startswith(b"%PDF-")
    flat = " ".join(pdf_text(pdf, tmp_path).split())
    assert "Noviembre de 2026" in flat and "91,7 %" in flat
    beta_text = " ".join(
        pdf_text(
            attachments(mails["beta"].message)["informe-ejecutivo-beta-2026-11.pdf"], tmp_path
        ).split()
    )
    assert "Sin cifras este mes: no se pudo comprobar ningún equipo." in beta_text
    rows = recent(service_db)
    assert [(r.client, r.channel, r.state) for r in rows] == [
        ("beta", CHANNEL, "sent"),
        ("acme", CHANNEL, "sent"),
    ]


def test_only_the_clients_named_with_contacts_and_a_retry_after_a_failure(
    tmp_path: Path, sqlite_db: ServiceDb, caplog: pytest.LogCaptureFixture
) -> None:
    with smtp_server(tmp_path / "smtp") as server:
        port = server.port
        extra = reports_config(port, server.ca.path, clients="[acme, nobody]")
        # beta has contacts but is not named; acme is
        svc = executive_service(
            tmp_path, sqlite_db, extra=extra, contacts={"acme": ACME, "beta": BETA}
        )
        notifier = Notifier.from_config(svc.db, svc.config)
        reports = executive_reports(svc, notifier)
        assert reports is not None
        assert reports.enqueue(DUE, now=DUE) == 1
        assert "no client nobody in the inventory" in caplog.text
    # the server is gone: the attempt fails, is kept and retried later
    assert notifier.deliver_due(DUE) == 0
    (row,) = recent(sqlite_db)
    assert row.state == "pending" and row.attempts == 1 and row.last_error
    with sqlite_db.read() as conn:
        payload = json.loads(conn.execute(sa.select(notifications.c.payload)).scalar_one())
    assert payload["to"] == ACME and payload["month"] == "2026-11" and payload["lang"] == "es"
    with smtp_server(tmp_path / "smtp", port=port) as server:
        assert notifier.deliver_due(DUE + timedelta(minutes=2)) == 1
    (got,) = server.mailbox.messages
    assert got.rcpt_tos == ACME and got.message["Message-ID"] == payload["message_id"]
    svc.close()


def test_a_signed_report_carries_its_signature(
    tmp_path: Path, sqlite_db: ServiceDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    from baluarte.evidence.keys import init_key

    key_path = tmp_path / "keys" / "signing-key.pem"
    public = init_key(key_path)
    monkeypatch.setenv("BALUARTE_SIGNING_KEY", str(key_path))
    with smtp_server(tmp_path / "smtp") as server:
        svc = executive_service(
            tmp_path, sqlite_db, extra=reports_config(server.port, server.ca.path),
            contacts={"acme": ACME},
        )  # fmt: skip
        store_two_months(svc.db.store)
        notifier = Notifier.from_config(svc.db, svc.config)
        reports = executive_reports(svc, notifier)
        assert reports is not None and reports.enqueue(DUE, now=DUE) == 1
        assert notifier.deliver_due(DUE) == 1
        svc.close()
    (got,) = server.mailbox.messages
    files = attachments(got.message)
    name = "informe-ejecutivo-acme-2026-11.pdf"
    assert sorted(files) == [name, f"{name}.sig"]
    public.verify(files[f"{name}.sig"], files[name])  # raises when it does not verify
    body = got.message.get_body(("plain",))
    assert body is not None and f"También se adjunta su firma ({name}.sig)" in body.get_content()


def test_a_hostile_legal_name_cannot_add_a_header(tmp_path: Path, sqlite_db: ServiceDb) -> None:
    with smtp_server(tmp_path / "smtp") as server:
        svc = executive_service(
            tmp_path, sqlite_db, extra=reports_config(server.port, server.ca.path),
            contacts={"acme": ACME},
            legal_names={"acme": '"Acme\\r\\nBcc: victim@evil.example\\u202e S.L."'},
        )  # fmt: skip
        notifier = Notifier.from_config(svc.db, svc.config)
        reports = executive_reports(svc, notifier)
        assert reports is not None and reports.enqueue(DUE, now=DUE) == 1
        assert notifier.deliver_due(DUE) == 1
        svc.close()
    (got,) = server.mailbox.messages
    assert got.rcpt_tos == ACME and got.message["Bcc"] is None
    assert b"\r\nBcc:" not in got.raw
    subject = got.message["Subject"]
    assert "\\nBcc: victim@evil.example\\u202e S.L." in subject  # shown, never obeyed


def test_the_service_schedules_the_report_in_its_scheduler(tmp_path: Path) -> None:
    with smtp_server(tmp_path / "smtp") as server:
        executive_service(tmp_path, extra=reports_config(server.port, server.ca.path)).close()
        config = load_config(tmp_path / "serve.yaml")
        service, notifier = build_service(config, holder="t")
        try:
            assert service.scheduler is not None and CHANNEL in notifier.senders
            (entry,) = service.scheduler.state()["schedules"]
            assert entry["name"] == SCHEDULE and entry["cron"] == "0 8 1 * *"
            # the first of a month, 08:00 in Madrid
            due = datetime.fromisoformat(entry["next_due"]).astimezone(
                __import__("zoneinfo").ZoneInfo("Europe/Madrid")
            )
            assert (due.day, due.hour, due.minute) == (1, 8, 0)
        finally:
            service.close()


@pytest.mark.parametrize(
    ("reports", "message"),
    [
        ('  executive: {cron: "0 8 1 *"}\n', "a cron expression has five fields"),
        ('  executive: {cron: "0 8 32 * *"}\n', "not a valid cron expression"),
        ("  executive: {clients: acme}\n", "expected all, or a list of client names"),
        ("  executive: {language: fr}\n", "'fr' is not allowed (allowed: es, en)"),
        ("  executive: {sent_to: [a@b.es]}\n", "unknown key 'sent_to'"),
    ],
)
def test_the_reports_configuration_is_validated(tmp_path: Path, reports: str, message: str) -> None:
    from tests.service._fixtures import write_config

    path = write_config(tmp_path, str(tmp_path / "b.db"), "reports:\n" + reports)
    with pytest.raises(InputError) as caught:
        load_config(path)
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"{path}:7:")  # where in the file


def test_reports_need_mail_settings(tmp_path: Path) -> None:
    from tests.service._fixtures import write_config

    path = write_config(tmp_path, str(tmp_path / "b.db"), "reports:\n  executive: {}\n")
    with pytest.raises(InputError, match="reports are mailed: they need notifications: email:"):
        load_config(path)


@pytest.mark.parametrize(
    "address",
    [
        "not-an-address",
        "ana@acme",  # no dotted domain
        "ana@acme.example, eve@evil.example",
        "Ana <ana@acme.example>",
        "ana@acme.example\nBcc: eve@evil.example",
        "a na@acme.example",
    ],
)
def test_contacts_are_addresses(tmp_path: Path, address: str) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text(
        "clients:\n  - name: acme\n    legal_name: Acme\n"
        f"    contacts: [{json.dumps(address)}]\n"
        "    sites: [{name: hq, devices: [{name: d, platform: linux, address: 10.0.0.1}]}]\n"
    )
    with pytest.raises(InputError, match="is not an e-mail address"):
        load_inventory([path])


def test_contacts_are_optional_and_kept_in_order(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    base = "    sites: [{name: hq, devices: [{name: d, platform: linux, address: 10.0.0.1}]}]\n"
    path.write_text(
        "clients:\n  - name: acme\n    legal_name: Acme\n"
        "    contacts: [gerencia@acme.es, it.director+baluarte@acme.example.com]\n" + base
        + "  - name: beta\n    legal_name: Beta\n" + base
    )  # fmt: skip
    acme, beta = load_inventory([path]).clients
    assert acme.contacts == ("gerencia@acme.es", "it.director+baluarte@acme.example.com")
    assert beta.contacts == ()
    path.write_text(
        "clients:\n  - name: acme\n    legal_name: Acme\n"
        "    contacts: [gerencia@acme.es, Gerencia@acme.es]\n" + base
    )
    with pytest.raises(InputError, match="listed twice"):
        load_inventory([path])


def test_two_serve_processes_mail_each_client_once(tmp_path: Path) -> None:
    """Two real ``baluarte serve`` processes on one store, the report due every minute: each
    due time is fired by one of them, and each client's message is mailed once."""
    from tests.service._serve import serving, zone_with_minute_in

    with smtp_server(tmp_path / "smtp") as server:
        extra = reports_config(server.port, server.ca.path).replace(
            'cron: "0 8 1 * *"', 'cron: "* * * * *"'
        )
        svc = executive_service(tmp_path, extra=extra, contacts={"acme": ACME, "beta": BETA})
        store_two_months(svc.db.store)
        svc.close()
        config = tmp_path / "serve.yaml"
        # the schedules' zone: its next minute starts just after both processes are up, not
        # up to a minute later (cron in any real zone)
        zone, tzpath = zone_with_minute_in(tmp_path / "zoneinfo", SERVERS_UP)
        text = config.read_text()
        assert "timezone: Europe/Madrid\n" in text
        config.write_text(text.replace("timezone: Europe/Madrid\n", f"timezone: {zone}\n"))
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        no_key = tmp_path / "no-key.pem"
        env = {"PYTHONTZPATH": tzpath}
        with (
            serving(config, tmp_path / "a", key=no_key, env=env),
            serving(config, tmp_path / "b", key=no_key, env=env),
        ):
            # the next minute's due time: its rows are sent as soon as they are written
            deadline = time.monotonic() + 150
            while len(server.mailbox.messages) < 2 and time.monotonic() < deadline:
                time.sleep(0.5)
    db = ServiceDb.open(str(tmp_path / "b.db"))
    try:
        with db.read() as conn:
            fires = conn.execute(sa.select(schedule_fires.c.holder)).all()
        rows = recent(db)
    finally:
        db.close()
    mails = server.mailbox.messages
    assert len(fires) >= 1 and len(rows) == 2 * len(fires)  # both clients, each due time once
    sent = [r for r in rows if r.state == "sent"]
    assert len(mails) == len(sent) >= 2
    ids = [m.message["Message-ID"] for m in mails]
    assert len(set(ids)) == len(ids)  # no message twice
    assert {m.message["X-Baluarte-Client"] for m in mails} == {"acme", "beta"}
    for mail in mails:
        (name,) = attachments(mail.message)
        assert name.startswith("informe-ejecutivo-") and name.endswith(".pdf")
