"""Who may see and do what on the dashboard: auditors, technicians, administrators."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from baluarte.service import accounts, audit
from baluarte.service.app import create_app
from baluarte.service.checks import ServiceCheck
from baluarte.service.tables import service_checks
from tests.service._web import PASSWORD, Dashboard, TestClient, build, csrf_of, log_in


@pytest.fixture
def dash(tmp_path: Path) -> Iterator[Dashboard]:
    d = build(tmp_path / "svc")
    yield d
    d.service.close()


def _client(dash: Dashboard, name: str, password: str = PASSWORD) -> TestClient:
    web = TestClient(create_app(dash.service, secure_cookies=False))
    assert log_in(web, name, password).status_code == 303
    return web


def _wait(dash: Dashboard, check_id: int, timeout: float = 120) -> ServiceCheck:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        check = dash.service.checks.get(check_id)
        assert check is not None
        if check.state not in ("queued", "running"):
            return check
        time.sleep(0.2)
    raise AssertionError(f"check {check_id} did not end")


def test_an_auditor_sees_their_clients_only_and_others_are_not_found(dash: Dashboard):
    web = _client(dash, "aud")  # auditor of beta
    overview = web.get("/").text
    assert (
        "Beta S.L." in overview and "Acme S.L." not in overview and "/clients/acme" not in overview
    )
    assert web.get("/clients/beta").status_code == 200
    missing = web.get("/clients/no-such-client")
    assert missing.status_code == 404
    acme_run = dash.runs["acme_new"]
    for path, absent in (
        ("/clients/acme", "/clients/zzz"),
        ("/clients/acme/devices/madrid/srv-web", "/clients/zzz/devices/madrid/srv-web"),
        ("/clients/acme/export", "/clients/zzz/export"),
        (f"/runs/{acme_run}", "/runs/999999"),
    ):
        answer = web.get(path)
        assert answer.status_code == 404, path
        # the same page as for what does not exist (bar the path asked): nothing confirmed
        assert answer.text.replace(path, "") == web.get(absent).text.replace(absent, "")
        assert "Acme" not in answer.text
    assert web.get(f"/runs/{dash.runs['beta']}").status_code == 200
    # the waiver register: beta's waiver only
    waivers = web.get("/waivers").text
    assert "Legacy backup agent" in waivers and "perimeter unit" not in waivers
    assert "Vendor support" not in waivers
    # administration is not theirs
    assert web.get("/users").status_code == 403
    assert web.get("/audit").status_code == 403


def test_an_auditor_gets_no_check_form_and_a_posted_check_is_refused(dash: Dashboard):
    web = _client(dash, "aud")
    page = web.get("/clients/beta").text
    assert 'action="/clients/beta/checks"' not in page and "<select" not in page
    # evidence of their own client is theirs to take (each export is audited)
    assert "/clients/beta/export" in page
    assert web.get("/clients/beta/export").status_code == 200
    token = csrf_of(page)
    own = web.post("/clients/beta/checks", data={"csrf_token": token, "target": ""})
    assert own.status_code == 403
    other = web.post("/clients/acme/checks", data={"csrf_token": token, "target": ""})
    assert other.status_code == 404
    assert dash.service.checks.recent() == []
    assert not [e for e in audit.recent(dash.service.db) if e.action == "check_started"]
    # a device page of their own has no check button either
    device = web.get("/clients/beta/devices/bilbao/srv-db").text
    assert "/checks" not in device.replace('href="/checks/', "")


def test_a_technician_starts_a_check_of_one_device_and_follows_it_to_its_run(dash: Dashboard):
    web = _client(dash, "tom")
    page = web.get("/clients/acme").text
    assert 'value="device:madrid/srv-web"' in page and 'value="site:sevilla"' in page
    token = csrf_of(page)
    started = web.post(
        "/clients/acme/checks",
        data={"csrf_token": token, "target": "device:madrid/srv-web"},
        follow_redirects=False,
    )
    assert started.status_code == 303
    check_id = int(started.headers["location"].removeprefix("/checks/"))
    [entry] = [e for e in audit.recent(dash.service.db) if e.action == "check_started"]
    assert (entry.user_name, entry.client) == ("tom", "acme")
    assert entry.detail == {"check": check_id, "site": "madrid", "device": "srv-web"}
    check = _wait(dash, check_id)
    assert (check.origin, check.requested_by) == ("dashboard", "tom")
    assert (check.client, check.site, check.device) == ("acme", "madrid", "srv-web")
    assert check.state == "done" and check.run_id is not None
    shown = web.get(f"/checks/{check_id}").text
    assert 'http-equiv="refresh"' not in shown  # ended: no more refreshing
    assert f'href="/runs/{check.run_id}"' in shown
    run = web.get(f"/runs/{check.run_id}").text
    # nothing listens on the device's port: errors, never a pass; the run names its check
    assert f'href="/checks/{check_id}"' in run and "srv-web" in run
    assert 'class="badge st-error"' in run and 'class="badge st-pass"' not in run.split("<table")[1]
    # an auditor of another client cannot follow it
    auditor = _client(dash, "aud")
    assert auditor.get(f"/checks/{check_id}").status_code == 404
    assert auditor.get(f"/runs/{check.run_id}").status_code == 404


def test_a_check_still_waiting_has_a_page_that_refreshes_itself(dash: Dashboard):
    web = _client(dash, "tom")
    # a check queued by another process of the same store (this one would start it at once)
    with dash.service.db.write() as conn:
        check_id = conn.execute(
            service_checks.insert()
            .values(origin="api", requested_by="tom", requested_at=datetime.now(UTC),
                    client="acme", state="queued", holder="elsewhere")
            .returning(service_checks.c.id)
        ).scalar_one()  # fmt: skip
    page = web.get(f"/checks/{check_id}").text
    assert '<meta http-equiv="refresh" content="3">' in page
    assert "En cola" in page and "todo el cliente" in page


def test_a_check_of_something_not_in_the_client_is_refused(dash: Dashboard):
    web = _client(dash, "tom")
    token = csrf_of(web.get("/clients/acme").text)
    for target in ("site:bilbao", "device:bilbao/srv-db", "device:madrid/nope", "everything"):
        answer = web.post("/clients/acme/checks", data={"csrf_token": token, "target": target})
        assert answer.status_code == 400, target
    assert dash.service.checks.recent() == []


def test_only_an_administrator_manages_accounts(dash: Dashboard):
    tech = _client(dash, "tom")
    token = csrf_of(tech.get("/").text)
    assert tech.get("/users").status_code == 403
    made = tech.post(
        "/users",
        data={"csrf_token": token, "name": "eve", "role": "admin", "password": "x" * 20,
              "confirm": "x" * 20},
    )  # fmt: skip
    assert made.status_code == 403 and accounts.get_user(dash.service.db, "eve") is None
    assert tech.post("/users/ana/remove", data={"csrf_token": token}).status_code == 403
    assert accounts.get_user(dash.service.db, "ana") is not None

    admin = _client(dash, "ana")
    page = admin.get("/users").text
    assert all(name in page for name in ("ana", "tom", "aud"))
    token = csrf_of(page)
    form = {"csrf_token": token, "name": "eva", "role": "auditor", "password": "p" * 14,
            "confirm": "p" * 14}  # fmt: skip
    refused = admin.post("/users", data=form)  # an auditor without clients
    assert refused.status_code == 400 and "Un auditor necesita los clientes" in refused.text
    short = admin.post("/users", data={**form, "password": "short", "confirm": "short"})
    assert short.status_code == 400 and "demasiado corta" in short.text
    made = admin.post("/users", data={**form, "clients": ["acme"]}, follow_redirects=False)
    assert made.status_code == 303
    eva = accounts.get_user(dash.service.db, "eva")
    assert eva is not None and eva.role == "auditor" and eva.clients == ("acme",)
    again = admin.post("/users", data={**form, "clients": ["acme"]})
    assert again.status_code == 400 and "Ya existe una cuenta" in again.text
    # the new auditor sees acme, not beta
    eva_web = _client(dash, "eva", "p" * 14)
    assert eva_web.get("/clients/acme").status_code == 200
    assert eva_web.get("/clients/beta").status_code == 404
    # removed: their open session ends
    removed = admin.post("/users/eva/remove", data={"csrf_token": token}, follow_redirects=False)
    assert removed.status_code == 303 and accounts.get_user(dash.service.db, "eva") is None
    assert eva_web.get("/", follow_redirects=False).status_code == 303
    assert admin.post("/users/ana/remove", data={"csrf_token": token}).status_code == 400
    actions = {(e.action, e.user_name) for e in audit.recent(dash.service.db)}
    assert {("user_added", "ana"), ("user_removed", "ana")} <= actions
    log = admin.get("/audit").text
    assert "Cuenta creada" in log and "Cuenta eliminada" in log and "Sesión iniciada" in log
