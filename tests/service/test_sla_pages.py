"""The dashboard shows response targets: each failing control's priority, due time, overdue and
recurring flags, what was fixed and how fast, and open and overdue drift per client."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from baluarte.findings import Status
from baluarte.service.app import create_app
from baluarte.service.config import load_config
from baluarte.service.context import Service
from tests.service._fixtures import finding, store_run
from tests.service._web import Dashboard, TestClient, build, log_in

P, F = Status.PASS, Status.FAIL
SLA = """\
sla:
  calendar: {country: ES, subdivision: MD, hours: "08:00-18:00"}
  targets:
    - {tags: [server], hours: 4, priority: high}
    - {hours: 8, priority: normal}
"""


def sla_dashboard(folder: Path) -> tuple[Service, Dashboard]:
    """_web's dashboard under response targets, with acme's drift dated for them."""
    dash = build(folder)
    config_path = dash.folder / "serve.yaml"
    config_path.write_text(config_path.read_text() + SLA)
    service = Service(load_config(config_path), dash.service.db, holder="test")
    store, now = service.db.store, datetime.now(UTC)

    def run(ago: timedelta, *rows: tuple[str, str, str, Status]) -> None:
        found = [finding("acme", site, device, control, st) for site, device, control, st in rows]
        store_run(store, now - ago, found, client="acme")

    patch, backup, clock = (
        "patching.security_updates_pending",
        "backup.encrypted",
        "logging.time_sync",
    )
    # srv-files: patching failed 20 days ago, fixed 12 days ago (over its 4 hours)
    run(timedelta(days=20), ("madrid", "srv-files", patch, F))
    run(timedelta(days=12), ("madrid", "srv-files", patch, P))
    # srv-web: the firewall off for ten days: overdue whatever today is
    run(timedelta(days=10), ("madrid", "srv-web", "firewall.enabled", F))
    # pc-sev: backup encryption fixed eight days ago and off again five minutes ago (recurring,
    # due hours ahead); the clock fixed a minute after it failed
    run(timedelta(days=9), ("sevilla", "pc-sev", backup, F))
    run(timedelta(days=8), ("sevilla", "pc-sev", backup, P))
    run(timedelta(minutes=30), ("sevilla", "pc-sev", clock, F))
    run(timedelta(minutes=29), ("sevilla", "pc-sev", clock, P))
    run(timedelta(minutes=5), ("sevilla", "pc-sev", backup, F))
    return service, dash


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    service, dash = sla_dashboard(tmp_path / "svc")
    yield service
    dash.service.close()


def _web(service: Service, lang: str) -> TestClient:
    web = TestClient(create_app(service, secure_cookies=False))
    web.get(f"/login?lang={lang}")
    assert log_in(web, "ana").status_code == 303
    return web


def _row(html: str, *needles: str) -> str:
    rows = [r for r in html.split("<tr")[1:] if all(n in r for n in needles)]
    assert len(rows) == 1, needles
    return rows[0].split("</tr>")[0]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_client_page_shows_due_overdue_recurring_and_fixed_in_spanish(service: Service):
    html = _web(service, "es").get("/clients/acme").text
    failing = html[html.index("Controles que no cumplen") : html.index("Corregidos en los")]
    assert '<th scope="col">Respuesta</th>' in failing
    assert "Los plazos de respuesta cuentan solo horas laborables" in failing

    late = _text(_row(failing, "srv-web", "firewall.enabled"))
    assert "Prioridad alta" in late and "vence el" in late and "Fuera de plazo" in late
    assert "En plazo" not in late and "Recurrente" not in late
    assert 'class="badge st-fail"' in _row(failing, "srv-web", "firewall.enabled")  # its colour

    again = _row(failing, "pc-sev", "backup.encrypted")
    assert "Recurrente" in again and 'class="badge st-error"' in again
    assert "En plazo" in _text(again) and "Fuera de plazo" not in _text(again)
    assert "Prioridad alta" in _text(again)  # pc-sev is tagged server: 4 hours, high

    fixed = html[html.index("Corregidos en los últimos 30 días") :]
    fixed = fixed[: fixed.index("</table>")]
    slow = _text(_row(fixed, "srv-files", "patching.security_updates_pending"))
    assert "Incumplido" in slow and "4 horas laborables" in slow
    quick = _text(_row(fixed, "pc-sev", "logging.time_sync"))
    assert "Cumplido" in quick and "0 horas laborables" in quick
    assert "Tiempo de corrección" in fixed and "Objetivo" in fixed
    assert "1 de 2 corregidos dentro de su objetivo." in fixed

    kpis = _text(html[html.index('<ul class="kpis">') : html.index("</ul>")])
    # open: srv-web ssh and firewall, srv-files firewall (from _web), pc-sev backup
    assert re.search(
        r"Nuevas desviaciones \d+ 4 abiertas en total \d fuera de plazo 1 recurrente", kpis
    ), kpis
    # English words of ours never on the Spanish page
    words = _text(html)
    for english in ("Overdue", "On time", "Recurring", "business hours", "Fixed in the last"):
        assert english not in words


def test_the_overview_shows_open_and_overdue_drift_per_client(service: Service):
    html = _web(service, "es").get("/").text
    assert "Desviaciones fuera de plazo" in html
    acme = _text(_row(html, "/clients/acme"))
    assert re.search(r"▲ \d+ 4 abiertas en total \d fuera de plazo", acme), acme
    beta = _text(_row(html, "/clients/beta"))
    assert "ninguna" in beta or "ninguno" in beta  # beta's device passes: nothing open


def test_the_english_page_says_the_same(service: Service):
    html = _web(service, "en").get("/clients/acme").text
    late = _text(_row(html, "srv-web", "firewall.enabled"))
    assert "High priority" in late and "due" in late and "Overdue" in late
    assert "Recurring" in _row(html, "pc-sev", "backup.encrypted")
    assert "Fixed in the last 30 days" in html and "Missed" in html and "Met" in html


def test_a_long_list_of_fixes_shows_the_newest_fifty(tmp_path: Path):
    from baluarte.controls import catalogue

    service, dash = sla_dashboard(tmp_path / "svc")
    controls = sorted(catalogue())[:26]
    devices = [("madrid", "srv-web"), ("sevilla", "pc-sev")]
    now = datetime.now(UTC)
    for ago, status in ((timedelta(hours=2), F), (timedelta(hours=1), P)):
        found = [
            finding("acme", site, device, control, status)
            for site, device in devices
            for control in controls
        ]
        store_run(service.db.store, now - ago, found, client="acme")
    html = _web(service, "es").get("/clients/acme").text
    fixed = html[html.index("Corregidos en los últimos 30 días") :]
    fixed = fixed[: fixed.index("</section>")]
    # 51 of those pass now (pc-sev's backup failed again since), with the two fixed before:
    # 53 in all, the newest 50 listed
    assert fixed.count("<tr>") == 1 + 50
    assert "Otras 3 correcciones anteriores no se listan aquí." in fixed
    assert re.search(r"\d+ de 53 corregidos dentro de su objetivo", fixed)
    dash.service.close()
