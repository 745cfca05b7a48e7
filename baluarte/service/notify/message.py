"""One message per client and run, in every shape a channel takes: e-mail (subject, plain text,
HTML), our JSON document for webhooks, Microsoft Teams / Slack messages, and a service-desk
ticket (``ticket_body``: priority and due time from the response targets).

Everything a device or an input file provides (device and site names, observed values, error
reasons, a waiver's reason) is untrusted: control characters are made visible (``inert``), the
HTML is rendered by Jinja2 with autoescaping, Teams' Markdown and Slack's ``<…>`` sequences are
escaped, and JSON carries it as data only. Words come from the report catalogues
(``reports/locales``), in context ``notify``; Spanish by default.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from baluarte.controls import catalogue
from baluarte.evidence.data import Lang
from baluarte.service.notify.changes import (
    ClientChanges,
    DriftItem,
    ExpiringWaiver,
    UnreachableDevice,
)
from baluarte.service.sla import most_urgent
from baluarte.text import inert, inert_tree, shorten
from reports.evidence.i18n import Formats, translations
from reports.evidence.phrases import phrase
from reports.html_text import finalize

__all__ = [
    "CONTEXT",
    "MAIL_MAX_ITEMS",
    "EmailContent",
    "Shape",
    "catalogue_messages",
    "client_url",
    "document",
    "render_email",
    "slack_message",
    "teams_card",
    "ticket_body",
    "webhook_body",
]

CONTEXT = "notify"  # the catalogues' msgctxt of this module's words
MAIL_MAX_ITEMS = 100  # rows per section in a mail; the rest is counted and left to the dashboard
CHAT_MAX_ITEMS = 15  # chat messages are read on a phone: fewer rows, the link for the rest
VALUE_MAX_CHARS = 300  # an observed value or an error in a message (JSON keeps the whole value)

Shape = str  # "baluarte" | "teams" | "slack" | "ticket" (WebhookSettings.shape)


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str


class _Words:
    """The catalogue's words in context ``notify`` (``_`` and ``_n`` are what tests extract)."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang
        self.tr = translations(lang)

    def _(self, msgid: str) -> str:
        return str(self.tr.pgettext(CONTEXT, msgid))

    def _n(self, singular: str, plural: str, n: int) -> str:
        return str(self.tr.npgettext(CONTEXT, singular, plural, n)) % {"count": n}

    def plain(self, msgid: str) -> str:
        """A word the reports already translate (severities, control titles), no context."""
        return self.tr.gettext(msgid)


def _one_line(text: str | None, limit: int = VALUE_MAX_CHARS) -> str:
    if not text:
        return ""
    cut, omitted = shorten(inert(text, newlines=False), limit)
    return f"{cut}…" if omitted else cut


def client_url(base_url: str | None, client: str) -> str | None:
    """The client's page on the dashboard, when the service knows its public address."""
    if not base_url or urlsplit(base_url).scheme not in ("http", "https"):
        return None
    return f"{base_url.rstrip('/')}/clients/{quote(client, safe='')}"


# -- the machine-readable document ------------------------------------------------------------


def document(changes: ClientChanges, *, base_url: str | None = None) -> dict[str, Any]:
    """Our JSON document: every item, values whole as stored (made inert), times in UTC."""

    def iso(value: Any) -> str | None:
        return None if value is None else value.astimezone(UTC).isoformat()

    doc = {
        "client": changes.client,
        "run_id": changes.run_id,
        "at": iso(changes.at),
        "compliance_percent": changes.compliance_percent,
        "new_drift": [
            {
                "site": d.site,
                "device": d.device,
                "platform": d.platform,
                "control": d.control,
                "severity": d.severity,
                "expected": d.expected,
                "observed": d.observed,
                "passed_at": iso(d.passed_at),
                "observed_at": iso(d.observed_at),
                "priority": d.priority,
                "due_at": iso(d.due_at),
            }
            for d in changes.new_drift
        ],
        "unreachable": [
            {
                "site": u.site,
                "device": u.device,
                "platform": u.platform,
                "state": u.state,
                "failed_at": iso(u.failed_at),
                "last_read": iso(u.last_read),
                "errors": list(u.errors),
            }
            for u in changes.unreachable
        ],
        "expiring_waivers": [
            {
                "control": w.control,
                "expires": w.expires.isoformat(),
                "days_left": w.days_left,
                "reason": w.reason,
                "approved_by": w.approved_by,
                "ticket": w.ticket,
                "site": w.site,
                "devices": list(w.devices) if w.devices is not None else None,
                "tags": list(w.tags) if w.tags is not None else None,
            }
            for w in changes.expiring_waivers
        ],
        "url": client_url(base_url, changes.client),
    }
    return inert_tree(doc)


# -- what people read ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _View:
    """The message's text in the reader's language, every value made inert and one line."""

    lang: Lang
    subject: str
    summary: str
    heading: str
    when: str
    compliance: str | None
    drift: list[dict[str, str]]
    drift_more: int
    unreachable: list[dict[str, str]]
    unreachable_more: int
    waivers: list[dict[str, str]]
    waivers_more: int
    url: str | None


def _control_title(control: str, w: _Words) -> str:
    ctl = catalogue().get(control)
    return w.plain(ctl.title) if ctl is not None else ""


def _drift_row(d: DriftItem, w: _Words) -> dict[str, str]:
    return {
        "site": _one_line(d.site),
        "device": _one_line(d.device),
        "control": _one_line(d.control),
        "title": _control_title(d.control, w),
        "severity": w.plain(d.severity.capitalize()),
        "severity_key": d.severity if d.severity in _SEVERITY_COLOURS else "medium",
        "observed": _one_line(phrase(d.observed, w.lang)) if d.observed else "—",
        "expected": _one_line(phrase(d.expected, w.lang)) if d.expected else "",
    }


def _unreachable_row(u: UnreachableDevice, w: _Words, fmt: Formats) -> dict[str, str]:
    errors = "; ".join(phrase(e, w.lang) for e in u.errors)
    return {
        "site": _one_line(u.site),
        "device": _one_line(u.device),
        "platform": _one_line(u.platform),
        "failed_at": fmt.datetime(u.failed_at),
        "last_read": fmt.datetime(u.last_read) if u.last_read else w._("never"),
        "errors": _one_line(errors) or "—",
        "partial": w._("some controls are still current") if u.state == "partial" else "",
    }


def _waiver_row(x: ExpiringWaiver, w: _Words, fmt: Formats) -> dict[str, str]:
    if x.days_left == 0:
        left = w._("today")
    else:
        left = w._n("%(count)d day left", "%(count)d days left", x.days_left)
    scope: list[str] = []
    if x.site:
        scope.append(x.site)
    if x.devices:
        scope.append(", ".join(x.devices))
    if x.tags:
        scope.append(w._("tags: %(tags)s") % {"tags": ", ".join(x.tags)})
    return {
        "control": _one_line(x.control),
        "title": _control_title(x.control, w),
        "expires": fmt.date(x.expires),
        "left": left,
        "scope": _one_line(" · ".join(scope)),
        "reason": _one_line(x.reason),
        "approved_by": _one_line(x.approved_by),
        "ticket": _one_line(x.ticket),
    }


def _summary(changes: ClientChanges, w: _Words) -> str:
    parts = []
    if changes.new_drift:
        parts.append(w._n("%(count)d new drift", "%(count)d new drifts", len(changes.new_drift)))
    if changes.unreachable:
        parts.append(
            w._n(
                "%(count)d device unreachable",
                "%(count)d devices unreachable",
                len(changes.unreachable),
            )
        )
    if changes.expiring_waivers:
        parts.append(
            w._n(
                "%(count)d waiver expiring soon",
                "%(count)d waivers expiring soon",
                len(changes.expiring_waivers),
            )
        )
    return ", ".join(parts) or w._("nothing new")


def _view(
    changes: ClientChanges, lang: Lang, base_url: str | None, limit: int
) -> tuple[_View, _Words]:
    w = _Words(lang)
    fmt = Formats(lang, changes.timezone)
    client = _one_line(changes.client, 128)
    summary = _summary(changes, w)
    when = fmt.datetime(changes.at)
    if changes.run_id is not None:
        when = w._("Run %(run)s · %(at)s") % {"run": changes.run_id, "at": when}
    compliance = None
    if changes.compliance_percent is not None:
        compliance = w._("Compliance now: %(percent)s") % {
            "percent": fmt.percent(changes.compliance_percent)
        }
    view = _View(
        lang=lang,
        subject=w._("[Baluarte] %(client)s: %(summary)s") % {"client": client, "summary": summary},
        summary=summary,
        heading=w._("Client %(client)s") % {"client": client},
        when=when,
        compliance=compliance,
        drift=[_drift_row(d, w) for d in changes.new_drift[:limit]],
        drift_more=max(0, len(changes.new_drift) - limit),
        unreachable=[_unreachable_row(u, w, fmt) for u in changes.unreachable[:limit]],
        unreachable_more=max(0, len(changes.unreachable) - limit),
        waivers=[_waiver_row(x, w, fmt) for x in changes.expiring_waivers[:limit]],
        waivers_more=max(0, len(changes.expiring_waivers) - limit),
        url=client_url(base_url, changes.client),
    )
    return view, w


_SEVERITY_COLOURS = {
    "low": "#52606d",
    "medium": "#b7791f",
    "high": "#c53030",
    "critical": "#822727",
}


@cache
def _environment(autoescape: bool) -> Environment:
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent),
        autoescape=select_autoescape(["html.j2"]) if autoescape else False,
        finalize=finalize,  # strings inert before escaping, as in the reports
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["colours"] = _SEVERITY_COLOURS
    return env


def render_email(
    changes: ClientChanges, *, lang: Lang = "es", base_url: str | None = None
) -> EmailContent:
    """The mail about ``changes``: subject, plain text and HTML, in ``lang``."""
    view, w = _view(changes, lang, base_url, MAIL_MAX_ITEMS)
    values = {"m": view, "_": w._, "_n": w._n}
    text = _environment(False).get_template("mail.txt.j2").render(values)
    html = _environment(True).get_template("mail.html.j2").render(values)
    return EmailContent(subject=view.subject, text=text, html=html)


# -- chat shapes --------------------------------------------------------------------------------

# Markdown that Teams renders in a TextBlock (a CommonMark subset: emphasis, links, lists) and
# its {{DATE(…)}} functions: a device named "[x](http://…)" or "**x**" would become a link or
# emphasis. A backslash makes the character literal (CommonMark escapes any punctuation); only
# the characters those constructs need are escaped, so the rest reads as it is.
_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\`*_{}[]()~"})


def _md(text: str) -> str:
    return text.translate(_MARKDOWN)


def _slack_escape(text: str) -> str:
    # Slack reads "<…>" as links and mentions (<!channel>); these three are its escapes
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _lines(view: _View, w: _Words) -> list[tuple[str, list[str], int]]:
    """Each section's title, its rows as plain lines, and how many rows were left out."""
    out: list[tuple[str, list[str], int]] = []
    if view.drift or view.drift_more:
        rows = [
            f"{d['site']} / {d['device']} — {d['control']} ({d['severity']}): {d['observed']}"
            for d in view.drift
        ]
        out.append((w._("New drift"), rows, view.drift_more))
    if view.unreachable or view.unreachable_more:
        rows = [
            f"{u['site']} / {u['device']} — {u['failed_at']}: {u['errors']}"
            for u in view.unreachable
        ]
        out.append((w._("Devices that became unreachable"), rows, view.unreachable_more))
    if view.waivers or view.waivers_more:
        rows = [
            f"{x['control']} — {x['expires']} ({x['left']})"
            + (f" · {x['scope']}" if x["scope"] else "")
            for x in view.waivers
        ]
        out.append((w._("Waivers expiring soon"), rows, view.waivers_more))
    return out


def _more(n: int, w: _Words) -> str:
    return w._n("…and %(count)d more", "…and %(count)d more", n)


def teams_card(
    changes: ClientChanges, *, lang: Lang = "es", base_url: str | None = None
) -> dict[str, Any]:
    """A Teams message: one Adaptive Card (what Teams' incoming webhooks and workflows take)."""
    view, w = _view(changes, lang, base_url, CHAT_MAX_ITEMS)
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": _md(view.heading),
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        },
        {"type": "TextBlock", "text": _md(view.when), "isSubtle": True, "wrap": True},
    ]
    if view.compliance:
        body.append({"type": "TextBlock", "text": _md(view.compliance), "wrap": True})
    for title, rows, more in _lines(view, w):
        body.append(
            {
                "type": "TextBlock",
                "text": _md(title),
                "weight": "Bolder",
                "spacing": "Medium",
                "wrap": True,
            }
        )
        body += [{"type": "TextBlock", "text": _md(r), "wrap": True} for r in rows]
        if more:
            body.append({"type": "TextBlock", "text": _md(_more(more, w)), "isSubtle": True})
    return adaptive_card_message(body, w._("Open in the dashboard"), view.url)


def adaptive_card_message(
    body: list[dict[str, Any]], open_label: str, url: str | None
) -> dict[str, Any]:
    """A Teams message of one Adaptive Card with ``body``, and a button to ``url`` if any."""
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if url:
        card["actions"] = [{"type": "Action.OpenUrl", "title": open_label, "url": url}]
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


_SLACK_TEXT_MAX = 2900  # a section's text holds 3000 characters at most
_SLACK_HEADER_MAX = 150


def _chunks(rows: Sequence[str], limit: int) -> list[str]:
    out: list[str] = []
    current = ""
    for row in rows:
        line = f"• {row}"[:limit]
        if current and len(current) + 1 + len(line) > limit:
            out.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        out.append(current)
    return out


def slack_message(
    changes: ClientChanges, *, lang: Lang = "es", base_url: str | None = None
) -> dict[str, Any]:
    """A Slack message: ``text`` (the notification's line) and ``blocks``; untrusted text goes
    in ``plain_text`` objects, which Slack shows as they are."""
    view, w = _view(changes, lang, base_url, CHAT_MAX_ITEMS)

    def plain(text: str) -> dict[str, Any]:
        return {"type": "plain_text", "text": text, "emoji": False}

    heading = view.heading[:_SLACK_HEADER_MAX]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain(heading)},
        {"type": "context", "elements": [plain(view.when)]},
    ]
    if view.compliance:
        blocks.append({"type": "section", "text": plain(view.compliance)})
    for title, rows, more in _lines(view, w):
        blocks.append({"type": "section", "text": plain(title.upper())})
        blocks += [{"type": "section", "text": plain(c)} for c in _chunks(rows, _SLACK_TEXT_MAX)]
        if more:
            blocks.append({"type": "context", "elements": [plain(_more(more, w))]})
    if view.url:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": plain(w._("Open in the dashboard")), "url": view.url}
                ],
            }
        )
    return {"text": _slack_escape(view.subject), "blocks": blocks}


# -- a service-desk ticket -----------------------------------------------------------------------


def _priority_words(priority: str | None, w: _Words) -> str:
    if priority == "critical":
        return w._("critical priority")
    if priority == "high":
        return w._("high priority")
    if priority == "low":
        return w._("low priority")
    return w._("normal priority")


def ticket_body(
    changes: ClientChanges, *, lang: Lang = "es", base_url: str | None = None
) -> dict[str, Any]:
    """A ticket for the provider's service desk about the client's new drift: ``title``,
    ``priority`` (the most urgent of the drift's), ``due_at`` (the earliest, UTC), ``client``,
    ``description`` (plain text in ``lang``, every value inert and on one line) and ``items``
    (the drift as in our document). Devices that became unreachable and waivers expiring in the
    same run are in the description too."""
    view, w = _view(changes, lang, base_url, MAIL_MAX_ITEMS)
    fmt = Formats(lang, changes.timezone)
    drift = changes.new_drift
    due = min((d.due_at for d in drift if d.due_at is not None), default=None)
    lines = [f"{view.heading} · {view.when}"]
    if view.compliance:
        lines.append(view.compliance)
    if due is not None:
        lines.append(w._("Earliest due time: %(due)s") % {"due": fmt.datetime(due)})
    drift_title = w._("New drift")
    for title, rows, more in _lines(view, w):
        if title == drift_title:  # each drift row with its priority and due time
            rows = [
                " · ".join(
                    [row, _priority_words(d.priority, w)]
                    + ([w._("due %(due)s") % {"due": fmt.datetime(d.due_at)}] if d.due_at else [])
                )
                for row, d in zip(rows, drift, strict=False)
            ]
        lines += ["", f"{title}:", *(f"• {r}" for r in rows)]
        if more:
            lines.append(_more(more, w))
    if view.url:
        lines += ["", f"{w._('Open in the dashboard')}: {view.url}"]
    doc = document(changes, base_url=base_url)
    return {
        "title": view.subject,
        "priority": most_urgent(d.priority for d in drift),
        "due_at": None if due is None else due.astimezone(UTC).isoformat(),
        "client": doc["client"],
        "run_id": doc["run_id"],
        "description": "\n".join(lines),
        "items": doc["new_drift"],
        "url": doc["url"],
    }


_SHAPES: dict[str, Callable[..., dict[str, Any]]] = {
    "teams": teams_card,
    "slack": slack_message,
    "ticket": ticket_body,
}


def webhook_body(
    changes: ClientChanges,
    shape: Shape = "baluarte",
    *,
    lang: Lang = "es",
    base_url: str | None = None,
) -> dict[str, Any]:
    """The JSON a webhook of ``shape`` is sent: our document, a Teams or Slack message, or a
    service-desk ticket."""
    if shape == "baluarte":
        return document(changes, base_url=base_url)
    return _SHAPES[shape](changes, lang=lang, base_url=base_url)


def catalogue_messages() -> set[tuple[str, str | tuple[str, ...]]]:
    """Every (context, msgid) this module and its templates use: ``msgid``, or (singular,
    plural). The catalogue tests check each is translated (and count them as used)."""
    from babel.messages.extract import extract_from_file

    here = Path(__file__).parent
    keywords: dict[str, Any] = {"_": None, "_n": (1, 2)}
    found = [
        *extract_from_file("python", str(here / "message.py"), keywords=keywords),
        # a silent or returning site collector (notify/collectors.py) speaks with these words
        *extract_from_file("python", str(here / "collectors.py"), keywords=keywords),
        *(
            item
            for name in ("mail.txt.j2", "mail.html.j2")
            for item in extract_from_file(
                "jinja2.ext:babel_extract",
                str(here / name),
                keywords=keywords,
                options={"trim_blocks": "True", "lstrip_blocks": "True"},
            )
        ),
    ]
    return {(CONTEXT, msg) for _, msg, _, _ in found}
