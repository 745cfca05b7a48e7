"""Inputs and stored runs for the service's tests: a small inventory, a serve config, runs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path

from baluarte.findings import ErrorKind, Finding, Severity, Status
from baluarte.run import RunKind
from baluarte.service.config import ServeConfig, load_config
from baluarte.service.context import Service
from baluarte.service.db import ServiceDb
from baluarte.store import Store

REPO = Path(__file__).resolve().parents[2]
POLICIES = REPO / "policies"
ZERO_SHA = "0" * 64

# client -> site -> [(device, platform)]; linux devices on a loopback port nothing listens on
DEFAULT_CLIENTS: dict[str, dict[str, list[tuple[str, str]]]] = {
    "acme": {"madrid": [("srv-files", "linux"), ("srv-web", "linux")]},
    "beta": {"bilbao": [("srv-db", "linux")]},
}


def write_inventory(
    folder: Path, clients: Mapping[str, Mapping[str, list[tuple[str, str]]]] | None = None
) -> Path:
    lines = ["clients:"]
    for client, sites in (clients or DEFAULT_CLIENTS).items():
        lines += [f"  - name: {client}", f"    legal_name: {client.title()} S.L.", "    sites:"]
        for site, devices in sites.items():
            lines += [f"      - name: {site}", "        devices:"]
            for device, platform in devices:
                lines += [
                    f"          - name: {device}",
                    f"            platform: {platform}",
                    # nothing listens there: a check ends in error at once, never in pass
                    "            address: 127.0.0.1",
                    "            tags: [server]",
                    "            ssh: {user: root, port: 1}",
                ]
    path = folder / "inventory.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def write_config(folder: Path, db: str, extra: str = "") -> Path:
    inventory = write_inventory(folder) if not (folder / "inventory.yaml").exists() else None
    path = folder / "serve.yaml"
    path.write_text(
        f"db: {db!r}\n"
        f"inventory: [{(inventory or folder / 'inventory.yaml')}]\n"
        f"policies: {POLICIES}\n"
        f"artifacts: {folder / 'artifacts'}\n"
        "timezone: Europe/Madrid\n" + extra
    )
    return path


def make_service(folder: Path, db: ServiceDb | None = None, extra: str = "") -> Service:
    """A Service over ``db`` (None: a SQLite file in ``folder``) with the default inventory."""
    location = db.url.render_as_string(hide_password=False) if db else str(folder / "b.db")
    config: ServeConfig = load_config(write_config(folder, location, extra))
    return Service(config, db or ServiceDb.open(config.db_location), holder="test")


def finding(
    client: str,
    site: str,
    device: str,
    control: str,
    status: Status,
    *,
    observed: str | None = None,
    platform: str = "linux",
) -> Finding:
    return Finding(
        client=client,
        site=site,
        device=device,
        platform=platform,
        control=control,
        status=status,
        severity=Severity.HIGH,
        expected="as the policy says",
        observed=observed,
        reason="unreachable" if status is Status.ERROR else None,
        error_kind=ErrorKind.UNREADABLE if status is Status.ERROR else None,
    )


def store_run(
    store: Store,
    at: datetime,
    findings: Iterable[Finding],
    *,
    client: str | None = None,
) -> int:
    """A complete check run started at ``at`` holding ``findings``."""
    found = list(findings)
    run_id = store.start_run(
        kind=RunKind.CHECK,
        operator="test@host",
        tool_version="test",
        inventory_sha256=ZERO_SHA,
        files=[],
        scope={"client": client} if client else {},
        devices_total=len({(f.site, f.device) for f in found}),
        started_at=at,
    )
    store.add_findings(run_id, found)
    store.finish_run(run_id, ended_at=at)
    return run_id
