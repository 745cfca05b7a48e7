"""A dashboard to drive in the web tests: a service with accounts, waivers and stored runs.

The runs hold hostile text where devices put theirs (observed values, evidence, reasons):
inventory names are restricted, device output is not.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

from baluarte.findings import Finding, Severity, Status
from baluarte.service import accounts
from baluarte.service.config import load_config
from baluarte.service.context import Service
from baluarte.service.db import ServiceDb
from tests.service._fixtures import POLICIES, store_run, write_inventory

with warnings.catch_warnings():
    # Starlette asks for its httpx successor, which is not installed; the client works as is
    warnings.simplefilter("ignore", UserWarning)
    from starlette.testclient import TestClient

__all__ = ["TestClient", "build", "csrf_of", "log_in"]

PASSWORD = "correct horse battery"
HOSTILE = "<script>alert(1)</script>"
HOSTILE_EVIDENCE = '<img src=x onerror="alert(2)"> & </pre><b>bold</b>'
HOSTILE_REASON = "<iframe src=//evil.example></iframe>"

CLIENTS = {
    "acme": {
        "madrid": [("srv-files", "linux"), ("srv-web", "linux")],
        "sevilla": [("pc-sev", "linux")],
    },
    "beta": {"bilbao": [("srv-db", "linux")]},
}
ACCOUNTS = {"ana": ("admin", None), "tom": ("technician", None), "aud": ("auditor", ["beta"])}
SSH, FW = "access.ssh_root_login", "firewall.enabled"


@dataclass
class Dashboard:
    service: Service
    folder: Path
    runs: dict[str, int]


def _finding(
    client: str, site: str, device: str, control: str, status: Status, **kw: object
) -> Finding:
    return Finding(
        client=client, site=site, device=device, platform="linux", control=control,
        status=status, severity=Severity.HIGH, expected="root login disabled", **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def write_waivers(folder: Path, today: date) -> Path:
    path = folder / "waivers.yaml"
    path.write_text(
        "waivers:\n"
        f"  - control: {FW}\n"
        "    client: acme\n"
        "    devices: [srv-files]\n"
        "    reason: Filtering done upstream by the perimeter unit\n"
        "    approved_by: Laura Gómez\n"
        "    ticket: ACME-12\n"
        f"    expires: {(today + timedelta(days=5)).isoformat()}\n"
        f"  - control: {SSH}\n"
        "    client: beta\n"
        "    reason: Legacy backup agent logs in as root\n"
        "    approved_by: Iñaki Etxeberria\n"
        f"    expires: {(today - timedelta(days=3)).isoformat()}\n"
        f"  - control: {SSH}\n"
        "    client: acme\n"
        "    site: sevilla\n"
        "    reason: Vendor support contract\n"
        "    approved_by: Laura Gómez\n"
        f"    expires: {(today + timedelta(days=200)).isoformat()}\n"
    )
    return path


def build(folder: Path, db: ServiceDb | None = None, *, language: str = "es") -> Dashboard:
    """The service over ``db`` (None: SQLite in ``folder``), its accounts and runs."""
    folder.mkdir(parents=True, exist_ok=True)
    inventory = write_inventory(folder, CLIENTS)
    waivers = write_waivers(folder, datetime.now(UTC).date())
    location = db.url.render_as_string(hide_password=False) if db else str(folder / "b.db")
    config_path = folder / "serve.yaml"
    config_path.write_text(
        f"db: {location!r}\n"
        f"inventory: [{inventory}]\n"
        f"policies: {POLICIES}\n"
        f"waivers: {waivers}\n"
        f"artifacts: {folder / 'artifacts'}\n"
        f"language: {language}\n"
        "timezone: Europe/Madrid\n"
    )
    config = load_config(config_path)
    service = Service(config, db or ServiceDb.open(config.db_location), holder="test")
    for name, (role, clients) in ACCOUNTS.items():
        accounts.add_user(service.db, name, role, PASSWORD, clients=clients)
    store = service.db.store
    now = datetime.now(UTC)
    runs = {
        "acme_old": store_run(
            store,
            now - timedelta(days=3),
            [
                _finding("acme", "madrid", "srv-files", SSH, Status.PASS, observed="no"),
                _finding("acme", "madrid", "srv-web", SSH, Status.PASS, observed="no"),
                _finding("acme", "madrid", "srv-files", FW, Status.PASS, observed="active"),
            ],
            client="acme",
        ),
        "acme_new": store_run(
            store,
            now - timedelta(days=1),
            [
                _finding("acme", "madrid", "srv-files", SSH, Status.PASS, observed="no"),
                _finding(
                    "acme",
                    "madrid",
                    "srv-web",
                    SSH,
                    Status.FAIL,
                    observed=HOSTILE,
                    evidence=HOSTILE_EVIDENCE,
                    reason=HOSTILE_REASON,
                ),
                _finding("acme", "madrid", "srv-files", FW, Status.FAIL, observed="inactive"),
            ],
            client="acme",
        ),
        "beta": store_run(
            store,
            now - timedelta(hours=6),
            [_finding("beta", "bilbao", "srv-db", SSH, Status.PASS, observed="no")],
            client="beta",
        ),
    }
    return Dashboard(service, folder, runs)


_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _TOKEN.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def log_in(client: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    """Sign in through the form, as a browser does: the login page's token, then the POST."""
    token = csrf_of(client.get("/login").text)
    return client.post(
        "/login", data={"csrf_token": token, "name": name, "password": password},
        follow_redirects=False,
    )  # fmt: skip
