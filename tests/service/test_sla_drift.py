"""Drift with due times in the read model: each failing control's priority, due time, overdue
and recurring flags, and what was fixed with its time to remediate, from stored runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from baluarte.errors import InputError, InputErrors
from baluarte.findings import Status
from baluarte.service import snapshots
from baluarte.service.config import load_config
from baluarte.service.context import Service
from baluarte.service.db import ServiceDb
from baluarte.service.sla import response_targets
from baluarte.service.tables import posture_cache
from baluarte.timezones import zone
from tests.service._fixtures import finding, make_service, store_run, write_config

P, F, E = Status.PASS, Status.FAIL, Status.ERROR
SSH, FW, PATCH = "access.ssh_root_login", "firewall.enabled", "patching.security_updates_pending"
MADRID = zone("Europe/Madrid")
SLA = """\
sla:
  calendar: {country: ES, subdivision: MD, hours: "08:00-18:00"}
  targets:
    - {tags: [server], hours: 4, priority: high}
    - {hours: 8, priority: normal}
  recurring_days: 30
"""


def madrid(*args: int) -> datetime:
    return datetime(*args, tzinfo=MADRID)  # type: ignore[misc]


def write_inventory(folder: Path) -> None:
    """acme's file server (tag server: 4 hours, high) and a desktop (the 8-hour default)."""
    devices = [("srv-files", "server"), ("pc-ana", "desktop")]
    lines = ["clients:", "  - name: acme", "    legal_name: Acme S.L.", "    sites:"]
    lines += ["      - name: madrid", "        devices:"]
    for name, tag in devices:
        lines += [
            f"          - name: {name}",
            "            platform: linux",
            "            address: 127.0.0.1",
            f"            tags: [{tag}]",
            "            ssh: {user: root, port: 1}",
        ]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "inventory.yaml").write_text("\n".join(lines) + "\n")


def service_with(folder: Path, db: ServiceDb | None, sla: str = SLA) -> Service:
    write_inventory(folder)
    return make_service(folder, db, extra=sla)


def acme(*rows: tuple[str, str, Status]) -> list:
    return [finding("acme", "madrid", device, control, status) for device, control, status in rows]


def store_week(service: Service) -> None:
    """A week of runs (Monday 16 to Friday 20 November 2026, Madrid):

    srv-files: ssh fails Monday 10:00, fixed 12:00, fails again Friday 17:00 (recurring);
               firewall fails Friday 17:00; patching fails Monday 10:00, fixed Tuesday 12:00.
    pc-ana:    ssh fails Monday 10:00, fixed 12:00; firewall fails from the first run;
               patching cannot be read on Friday (an error: no verdict, no due time).
    """
    store = service.db.store
    week = [
        (madrid(2026, 11, 16, 9, 0), {"srv": (P, P, P), "pc": (P, F, P)}),
        (madrid(2026, 11, 16, 10, 0), {"srv": (F, P, F), "pc": (F, F, P)}),
        (madrid(2026, 11, 16, 12, 0), {"srv": (P, P, F), "pc": (P, F, P)}),
        (madrid(2026, 11, 17, 12, 0), {"srv": (P, P, P), "pc": (P, F, P)}),
        (madrid(2026, 11, 20, 17, 0), {"srv": (F, F, P), "pc": (P, F, E)}),
    ]
    for at, states in week:
        rows = []
        for device, short in (("srv-files", "srv"), ("pc-ana", "pc")):
            rows += zip([device] * 3, (SSH, FW, PATCH), states[short], strict=True)
        store_run(store, at.astimezone(UTC), acme(*rows), client="acme")


def detail_at(
    service: Service, now: datetime, sla_settings: object = None
) -> snapshots.ClientDetail:
    [client] = service.inputs().inventory.clients
    runs = service.db.store.client_findings("acme", start=datetime(2026, 1, 1, tzinfo=UTC))
    return snapshots.build(client, runs, now=now, targets=response_targets(service.config))


def test_failing_controls_carry_priority_due_time_overdue_and_recurring(
    tmp_path: Path, service_db: ServiceDb
):
    service = service_with(tmp_path, service_db)
    store_week(service)
    detail = detail_at(service, madrid(2026, 11, 20, 18, 0))
    failing = {(f.device, f.control): f for f in detail.failing}
    assert set(failing) == {
        ("srv-files", SSH),
        ("srv-files", FW),
        ("pc-ana", FW),
        ("pc-ana", PATCH),
    }

    ssh = failing[("srv-files", SSH)]
    # Friday 17:00 + 4 business hours: one on Friday, three on Monday from 08:00
    assert (ssh.priority, ssh.target_hours, ssh.due_at) == ("high", 4, madrid(2026, 11, 23, 11, 0))
    assert ssh.failing_since == madrid(2026, 11, 20, 17, 0)
    assert ssh.recurring and not ssh.overdue  # fixed on Monday, back on Friday

    fw = failing[("srv-files", FW)]
    assert fw.due_at == madrid(2026, 11, 23, 11, 0) and not fw.recurring and not fw.overdue

    desk = failing[("pc-ana", FW)]  # failing since Monday 09:00; 8 hours: due Monday 17:00
    assert (desk.priority, desk.due_at) == ("normal", madrid(2026, 11, 16, 17, 0))
    assert desk.overdue and not desk.recurring

    unread = failing[("pc-ana", PATCH)]  # an error is no verdict: not drift, nothing due
    assert unread.status == "error"
    assert (unread.priority, unread.due_at, unread.overdue, unread.recurring) == (
        None,
        None,
        False,
        False,
    )

    s = detail.summary
    assert (s.open_drift, s.overdue, s.recurring) == (3, 1, 1)
    assert s.due_times == (
        madrid(2026, 11, 16, 17, 0),
        madrid(2026, 11, 23, 11, 0),
        madrid(2026, 11, 23, 11, 0),
    )
    # on Monday at noon the server's two are overdue too
    later = detail_at(service, madrid(2026, 11, 23, 12, 0))
    assert later.summary.overdue == 3
    assert all(f.overdue for f in later.failing if f.status == "fail")


def test_what_was_fixed_has_its_time_to_remediate_in_business_hours(
    tmp_path: Path, service_db: ServiceDb
):
    service = service_with(tmp_path, service_db)
    store_week(service)
    detail = detail_at(service, madrid(2026, 11, 20, 18, 0))
    fixed = [
        (r.device, r.control, r.failing_since, r.fixed_at, r.business_hours, r.target_hours,
         r.priority, r.met)
        for r in detail.remediated
    ]  # fmt: skip
    assert fixed == [
        # Monday 10:00 to Tuesday 12:00: 8 hours on Monday, 4 on Tuesday; the server had 4
        ("srv-files", PATCH, madrid(2026, 11, 16, 10, 0), madrid(2026, 11, 17, 12, 0),
         12.0, 4, "high", False),
        ("pc-ana", SSH, madrid(2026, 11, 16, 10, 0), madrid(2026, 11, 16, 12, 0),
         2.0, 8, "normal", True),
    ]  # fmt: skip


def test_a_repeat_is_recurring_only_within_recurring_days(tmp_path: Path):
    service = service_with(tmp_path, None, SLA.replace("recurring_days: 30", "recurring_days: 4"))
    store_week(service)
    # fixed Monday 12:00, failing again Friday 17:00: four days and five hours later
    detail = detail_at(service, madrid(2026, 11, 20, 18, 0))
    assert not any(f.recurring for f in detail.failing)
    assert detail.summary.recurring == 0
    service.close()


def test_the_dashboard_reads_them_from_its_cache_with_overdue_worked_out_when_read(
    tmp_path: Path, service_db: ServiceDb
):
    service = service_with(tmp_path, service_db)
    store = service.db.store
    now = datetime.now(UTC)
    # firewall: failed and was fixed before the 30-day window, fails again within it; patching:
    # failing for ten days (overdue whatever the day); ssh on the desktop: failing a minute
    # (on time: 8 business hours ahead at least); logging: fixed a minute after it failed
    runs = [
        (now - timedelta(days=40), [("srv-files", FW, F)]),
        (now - timedelta(days=33), [("srv-files", FW, P)]),
        (now - timedelta(days=20), [("srv-files", FW, P), ("srv-files", PATCH, P)]),
        (now - timedelta(days=10), [("srv-files", FW, F), ("srv-files", PATCH, F)]),
        (now - timedelta(hours=3), [("pc-ana", SSH, P), ("pc-ana", "logging.time_sync", F)]),
        (
            now - timedelta(hours=3) + timedelta(minutes=1),
            [("pc-ana", SSH, P), ("pc-ana", "logging.time_sync", P)],
        ),
        (now - timedelta(minutes=1), [("pc-ana", SSH, F)]),
    ]
    for at, rows in runs:
        store_run(store, at, acme(*rows), client="acme")
    detail = snapshots.client_detail(service, "acme")
    assert detail is not None
    failing = {(f.device, f.control): f for f in detail.failing}
    fw = failing[("srv-files", FW)]
    assert fw.recurring and fw.overdue and fw.priority == "high"  # 23 days after it was fixed
    assert failing[("srv-files", PATCH)].overdue and not failing[("srv-files", PATCH)].recurring
    ssh = failing[("pc-ana", SSH)]
    assert not ssh.overdue and ssh.due_at is not None and ssh.due_at > now
    assert ssh.priority == "normal"
    [fixed] = detail.remediated
    assert (fixed.device, fixed.control, fixed.met) == ("pc-ana", "logging.time_sync", True)
    assert fixed.business_hours <= 1 / 60 + 1e-9
    [summary] = [s for s in snapshots.client_summaries(service) if s.client == "acme"]
    assert (summary.open_drift, summary.overdue, summary.recurring) == (3, 2, 1)

    # the row keeps due times, never whether they are past: that is worked out when read
    with service.db.read() as conn:
        row = conn.execute(sa.select(posture_cache).where(posture_cache.c.client == "acme")).one()
    kept, kept_detail = json.loads(row.summary), json.loads(row.detail)
    assert "overdue" not in kept and len(kept["due_times"]) == 3
    assert all("overdue" not in f for f in kept_detail["failing"])
    assert all("due_at" in f and "recurring" in f for f in kept_detail["failing"])
    again = snapshots.client_detail(service, "acme")
    assert again is not None and again.failing == detail.failing
    assert again.remediated == detail.remediated
    # the same figures reach the monitoring and the API
    from prometheus_client.parser import text_string_to_metric_families
    from starlette.testclient import TestClient

    from baluarte.service import accounts
    from baluarte.service.app import create_app
    from baluarte.service.metrics import render_metrics

    scraped = {
        (s.name, s.labels.get("client")): s.value
        for family in text_string_to_metric_families(render_metrics(service).decode())
        for s in family.samples
    }
    assert scraped[("baluarte_open_drift", "acme")] == 3
    assert scraped[("baluarte_overdue_drift", "acme")] == 2
    assert scraped[("baluarte_recurring_drift", "acme")] == 1
    accounts.add_user(service.db, "ops", "technician", "a-long-password-1")
    token = accounts.create_token(service.db, "ops")
    web = TestClient(create_app(service, secure_cookies=False))
    clients = web.get("/api/v1/clients", headers={"Authorization": f"Bearer {token}"}).json()
    [row] = [c for c in clients["clients"] if c["client"] == "acme"]
    assert (row["open_drift"], row["overdue"], row["recurring"]) == (3, 2, 1)


def test_rows_built_under_other_targets_or_before_them_are_rebuilt(tmp_path: Path):
    service = service_with(tmp_path / "a", None)
    store_run(
        service.db.store,
        datetime.now(UTC) - timedelta(minutes=5),
        acme(("srv-files", SSH, F)),
        client="acme",
    )
    detail = snapshots.client_detail(service, "acme")
    assert detail is not None and detail.failing[0].priority == "high"
    # the same store under other targets (the configuration changed): no run since
    other = make_service(
        tmp_path / "a",
        None,
        extra=SLA.replace("hours: 4, priority: high", "hours: 2, priority: critical"),
    )
    detail = snapshots.client_detail(other, "acme")
    assert detail is not None and detail.failing[0].priority == "critical"
    assert detail.failing[0].target_hours == 2
    [summary] = [s for s in snapshots.client_summaries(other) if s.client == "acme"]
    assert summary.open_drift == 1
    # a row of the format before response targets: read, and rebuilt
    with other.db.write() as conn:
        row = conn.execute(sa.select(posture_cache.c.summary)).scalar_one()
        old = {
            k: v
            for k, v in json.loads(row).items()
            if k not in ("sla", "open_drift", "recurring", "due_times")
        }
        conn.execute(posture_cache.update().values(summary=json.dumps(old)))
    [summary] = [s for s in snapshots.client_summaries(other) if s.client == "acme"]
    assert summary.open_drift == 1 and len(summary.due_times) == 1
    service.close()
    other.close()


# write_config writes five lines (db, inventory, policies, artifacts, timezone): sla: is line 6
@pytest.mark.parametrize(
    ("sla", "where", "says"),
    [
        (
            "sla:\n  calendar: {hours: '8-18'}\n",
            (7, 14),
            'sla.calendar.hours: expected working hours as "HH:MM-HH:MM"',
        ),
        (
            "sla:\n  calendar: {hours: '18:00-08:00'}\n",
            (7, 14),
            "sla.calendar.hours: the working day must end after it starts",
        ),
        (
            "sla:\n  calendar:\n    country: ES\n    subdivision: MDD\n",
            (9, 5),
            "sla.calendar.subdivision: 'MDD' is not a subdivision of ES known for holidays",
        ),
        (
            "sla:\n  calendar: {country: XX}\n",
            (7, 14),
            "sla.calendar.country: no public holidays are known for country 'XX'",
        ),
        (
            "sla:\n  calendar: {subdivision: MD, country: null}\n",
            (7, 14),
            "sla.calendar.subdivision: subdivision: needs a country:",
        ),
        (
            "sla:\n  targets:\n    - {hours: 8}\n    - {tags: [server], hours: 4}\n",
            (7, 3),
            "sla.targets: target 1 selects every device",
        ),
        (
            "sla:\n  targets:\n    - {platform: fortigate, hours: 4, prio: high}\n",
            (8, 39),
            "sla.targets[0].prio: unknown key 'prio'",
        ),
        ("sla:\n  recurring_days: 0\n", (7, 3), "sla.recurring_days:"),
        (
            "sla:\n  calendar: {days: [mon, funday]}\n",
            (7, 26),
            "sla.calendar.days[1]: 'funday' is not allowed",
        ),
    ],
)
def test_configuration_mistakes_are_reported_at_their_place(
    tmp_path: Path, sla: str, where: tuple[int, int], says: str
):
    path = write_config(tmp_path, str(tmp_path / "b.db"), sla)
    with pytest.raises(InputError) as caught:
        load_config(path)
    errors = caught.value.errors if isinstance(caught.value, InputErrors) else [caught.value]
    [error] = errors
    line, column = where
    assert str(error).startswith(f"{path}:{line}:{column}: {says}"), str(error)


def test_a_good_sla_is_read(tmp_path: Path):
    config = load_config(write_config(tmp_path, str(tmp_path / "b.db"), SLA))
    assert config.sla is not None and config.sla.calendar.subdivision == "MD"
    assert [(t.tags, t.hours, t.priority) for t in config.sla.targets] == [
        (["server"], 4, "high"),
        (None, 8, "normal"),
    ]
    (tmp_path / "none").mkdir()
    assert load_config(write_config(tmp_path / "none", str(tmp_path / "c.db"))).sla is None
