"""The monthly executive report, sent by the service: each client's previous calendar month as
a PDF (reports/executive), mailed to the client's ``contacts:`` at ``reports: executive: cron``.

When: the compliance scheduler fires it like a schedule, named ``report:executive`` (a colon no
configured schedule's name may hold), so it fires in the leading process only and each due time
is claimed once in ``service_schedule_fires``: two processes sharing a store never send a month
twice. A process killed between the claim and the outbox rows sends nothing that month (at most
once, as a scheduled check).

How: ``fire`` writes one outbox row per client with contacts (``service_notifications``, channel
``report:executive``), all in one transaction; the notification loop sends them with its retries
and backoff. A row holds what to build (client, month, language, recipients, a Message-ID fixed
once), not the PDF: the report is built when it is sent — a past month's runs no longer change,
a row stays a few hundred bytes rather than a PDF kept forever in the store, and a build that
fails (the store unreachable) is retried like a send that failed.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from baluarte.evidence.data import Lang
from baluarte.evidence.seal import run_signing_key
from baluarte.service.config import EmailSettings, ExecutiveReportSettings, Schedule
from baluarte.service.notify.email import send_message
from baluarte.service.scheduler import FireFunction
from baluarte.service.tables import notifications
from baluarte.text import inert
from baluarte.timezones import zone
from reports.executive import ExecutiveReport, Month, build_report
from reports.executive.mail import report_mail

if TYPE_CHECKING:
    from baluarte.service.context import Service
    from baluarte.service.notify import Notifier

__all__ = [
    "CHANNEL",
    "SCHEDULE",
    "ExecutiveReports",
    "executive_reports",
    "report_message",
    "with_reports",
]

SCHEDULE = "report:executive"  # its due times in service_schedule_fires
CHANNEL = "report:executive"  # its rows in the outbox

log = logging.getLogger("baluarte.service.executive")


class ExecutiveReports:
    """The scheduled job (``fire``) and the outbox's sender (``send``) of the reports."""

    def __init__(
        self,
        service: Service,
        settings: ExecutiveReportSettings,
        email: EmailSettings,
        deliver: Callable[[], object] | None = None,
    ) -> None:
        self.service = service
        self.settings = settings
        self.email = email
        self._deliver = deliver  # the outbox's delivery, started once the rows are written

    @property
    def schedule(self) -> Schedule:
        """The pseudo-schedule the compliance scheduler fires: built, not validated, for its
        name is one no configured schedule can take."""
        return Schedule.model_construct(
            name=SCHEDULE,
            cron=self.settings.cron,
            client="all",
            site=None,
            tags=None,
            policy=None,
            grace_minutes=self.settings.grace_minutes,
        )

    def fire(self, schedule: Schedule, due_at: datetime) -> None:
        """The scheduler's call at a due time it claimed: the rows written, their delivery
        started at once beside the scheduler (building the PDFs takes seconds)."""
        if self.enqueue(due_at) and self._deliver is not None:
            threading.Thread(target=self._deliver, name="executive-send", daemon=True).start()

    def enqueue(self, due_at: datetime, *, now: datetime | None = None) -> int:
        """One outbox row per client (of ``clients:``) with contacts, for the calendar month
        before ``due_at`` where the client is; returns the rows written."""
        at = now if now is not None else datetime.now(UTC)
        clients = self.service.inputs().inventory.clients
        wanted = self.settings.clients
        if wanted is not None:
            for name in sorted(set(wanted) - {c.name for c in clients}):
                log.warning("executive report: no client %s in the inventory", inert(name))
        rows = []
        for client in clients:
            if wanted is not None and client.name not in wanted:
                continue
            if not client.contacts:
                log.info("executive report: client %s has no contacts: not sent", client.name)
                continue
            month = Month.before(due_at.astimezone(zone(client.timezone)).date())
            payload = {
                "client": client.name,
                "month": str(month),
                "lang": self.settings.language,
                "to": list(client.contacts),
                "message_id": _message_id(month, self.email.from_),
            }
            rows.append(
                {
                    "created_at": at,
                    "client": client.name,
                    "run_id": None,
                    "channel": CHANNEL,
                    "payload": json.dumps(payload, ensure_ascii=False, sort_keys=True),
                    "attempts": 0,
                    "next_attempt_at": at,
                }
            )
        if rows:
            with self.service.db.write() as conn:  # every client's row, or none
                conn.execute(notifications.insert(), rows)
        log.info("executive report due %s: %d client(s) to send to", due_at.isoformat(), len(rows))
        return len(rows)

    def build(self, client_name: str, month: Month, lang: Lang) -> ExecutiveReport:
        """The report as the files and the store say now (signed when the key is here)."""
        inputs = self.service.inputs()
        found = [c for c in inputs.inventory.clients if c.name == client_name]
        if not found:
            raise LookupError(f"client {client_name} is no longer in the inventory")
        return build_report(
            self.service.db.store,
            found[0],
            inputs.waivers.waivers,
            month,
            lang=lang,
            signing_key=run_signing_key(warn=False),
            warn_days=self.service.config.notifications.waiver_warning_days,
        )

    def send(self, payload: dict[str, Any]) -> None:
        """The outbox's sender for ``CHANNEL``: build the report, mail it; raises on failure
        (the outbox retries)."""
        lang: Lang = "en" if payload.get("lang") == "en" else "es"
        report = self.build(payload["client"], Month.parse(payload["month"]), lang)
        message = report_message(self.email, payload, report)
        send_message(self.email, message, payload["to"])


def _message_id(month: Month, sender: str) -> str:
    """Fixed once in the row: a mail resent after a lost answer is the same message. Short
    enough for one header line (the client is in X-Baluarte-Client)."""
    domain = sender.rpartition("@")[2] or "baluarte.invalid"
    return f"<baluarte.executive.{month}.{uuid.uuid4().hex[:20]}@{domain}>"


def report_message(
    settings: EmailSettings,
    payload: Mapping[str, Any],
    report: ExecutiveReport,
    *,
    now: datetime | None = None,
) -> EmailMessage:
    """The mail: a few lines of plain text, the PDF attached (and its signature, when signed)."""
    mail = report_mail(report, report.lang)
    msg = EmailMessage()
    msg["Subject"] = mail.subject
    msg["From"] = settings.from_
    msg["To"] = ", ".join(payload["to"])
    msg["Date"] = format_datetime(now or datetime.now(UTC))
    msg["Message-ID"] = payload["message_id"]
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Baluarte-Client"] = report.client
    msg["X-Baluarte-Report"] = f"executive {report.month}"
    msg.set_content(mail.text, subtype="plain", charset="utf-8")
    msg.add_attachment(report.pdf, maintype="application", subtype="pdf", filename=report.filename)
    if report.signature is not None:
        msg.add_attachment(
            report.signature,
            maintype="application",
            subtype="octet-stream",
            filename=report.signature_filename,
        )
    return msg


def executive_reports(service: Service, notifier: Notifier) -> ExecutiveReports | None:
    """The reports of ``service``'s configuration, their sender joined to ``notifier``'s
    channels; None when no report is configured."""
    settings = service.config.reports.executive
    email = notifier.settings.email  # with a relative ca_file read from the config's folder
    if settings is None or email is None:  # the config refuses reports without mail
        return None
    reports = ExecutiveReports(service, settings, email, notifier.deliver_due)
    notifier.senders[CHANNEL] = reports.send
    return reports


def with_reports(fire: FireFunction, reports: ExecutiveReports | None) -> FireFunction:
    """The scheduler's ``fire``: the report's pseudo-schedule to ``reports``, the rest to
    ``fire`` (a check)."""
    if reports is None:
        return fire

    def dispatch(schedule: Schedule, due_at: datetime) -> int | None:
        if schedule.name == SCHEDULE:
            reports.fire(schedule, due_at)
            return None
        return fire(schedule, due_at)

    return dispatch
