"""Stored months and inputs for the executive report's tests.

``store_two_months`` stores a nightly run of client acme (srv-files and srv-web, six controls
each, one per area) from 1 October to 30 November 2026 at 01:00 UTC:

- srv-files fails control ``i`` (``CONTROLS[i]``) until day ``20 + 5 i`` of the series, then
  passes: patching fixed 21 Oct, firewall 26 Oct, endpoint 31 Oct (all before November),
  backup 5 Nov, access 10 Nov, logging 15 Nov (fixed in November);
- srv-web fails patching from day 46 (16 November) on, and passes everything else.

So, in Europe/Madrid: at the end of October 9 of 12 checks pass (75.0 %), at the end of November
11 of 12 (91.7 %); three problems fixed in November, one open since 16 November.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from baluarte.findings import Status
from baluarte.service.context import Service
from baluarte.service.db import ServiceDb
from baluarte.store import Store
from tests.service._fixtures import finding, make_service, store_run, write_inventory

CONTROLS = [
    "patching.security_updates_pending",
    "firewall.enabled",
    "endpoint.installed",
    "backup.configured",
    "access.ssh_root_login",
    "logging.time_sync",
]
FIRST = datetime(2026, 10, 1, 1, tzinfo=UTC)
DAYS = 61  # 1 October to 30 November
HOSTILE = "<img src=x onerror=alert(1)> </style><b>big</b> \x1b[2J"


def store_two_months(store: Store, *, observed: str = "1 pendiente") -> list[int]:
    ids = []
    for day in range(DAYS):
        found = []
        for device in ("srv-files", "srv-web"):
            for i, control in enumerate(CONTROLS):
                bad = day < 20 + 5 * i if device == "srv-files" else i == 0 and day > 45
                status = Status.FAIL if bad else Status.PASS
                found.append(finding("acme", "madrid", device, control, status, observed=observed))
        ids.append(store_run(store, FIRST + timedelta(days=day), found, client="acme"))
    return ids


def write_contacts_inventory(
    folder: Path,
    contacts: dict[str, list[str]] | None = None,
    legal_names: dict[str, str] | None = None,
) -> Path:
    """The tests' default inventory (acme, beta) with ``contacts:`` (and legal names) added."""
    path = write_inventory(folder)
    text = path.read_text()
    for client, addresses in (contacts or {}).items():
        line = f"    legal_name: {client.title()} S.L.\n"
        assert line in text
        text = text.replace(line, line + f"    contacts: [{', '.join(addresses)}]\n")
    for client, name in (legal_names or {}).items():
        text = text.replace(f"    legal_name: {client.title()} S.L.\n", f"    legal_name: {name}\n")
    path.write_text(text)
    return path


def write_waivers(folder: Path, reason: str = "Ventana de mantenimiento acordada") -> Path:
    """A waiver of acme's srv-web expiring soon after November, and one expired within it."""
    path = folder / "waivers.yaml"
    path.write_text(
        "waivers:\n"
        "  - control: patching.reboot_required\n"
        "    client: acme\n"
        "    devices: [srv-web]\n"
        f"    reason: {_yaml_text(reason)}\n"
        "    approved_by: María López (gerencia)\n"
        "    ticket: CHG-1042\n"
        "    approved_on: 2026-10-01\n"
        "    expires: 2026-12-10\n"
        f"    compensating_control: {_yaml_text('Reinicio manual cada domingo ' + reason)}\n"
        "  - control: access.password_policy\n"
        "    client: acme\n"
        "    reason: Cuentas heredadas del sistema anterior\n"
        "    approved_by: Juan Pérez\n"
        "    expires: 2026-11-15\n"
    )
    return path


def _yaml_text(text: str) -> str:
    """A YAML double-quoted scalar holding ``text`` whatever it holds (escapes as YAML reads
    them)."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def executive_service(
    folder: Path,
    db: ServiceDb | None = None,
    *,
    extra: str = "",
    contacts: dict[str, list[str]] | None = None,
    legal_names: dict[str, str] | None = None,
) -> Service:
    write_contacts_inventory(folder, contacts, legal_names)
    return make_service(folder, db, extra)


def pdf_text(
    pdf: bytes,
    folder: Path,
    *,
    first: int | None = None,
    last: int | None = None,
    layout: bool = False,
) -> str:
    """The PDF's text as pdftotext reads it: in reading order (a block's lines together), or
    ``layout`` (a table's row on one line)."""
    path = folder / "report-under-test.pdf"
    path.write_bytes(pdf)
    pages = [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else [])]
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", *(["-layout"] if layout else []), *pages, str(path), "-"],
        capture_output=True,
        check=True,
    )
    return done.stdout.decode("utf-8")


def pdf_pages(pdf: bytes, folder: Path) -> int:
    path = folder / "report-under-test.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True, text=True)
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("Pages:")]
    return int(line.split()[1])
