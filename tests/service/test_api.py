"""The JSON API over a real uvicorn server on 127.0.0.1: bearer tokens, what each role sees,
the run's JSON report as the CLI writes it, checks started against devices that do not answer,
/healthz and the OpenAPI document. On SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
import uvicorn

from baluarte.findings import Finding, Severity, Status
from baluarte.run import InputFile, RunKind
from baluarte.service import accounts, audit
from baluarte.service.app import create_app
from baluarte.service.config import load_config
from baluarte.service.context import Service
from baluarte.service.db import ServiceDb
from baluarte.service.runtime import refresh_after_run
from baluarte.store import Store
from tests.service._fixtures import store_run, write_config, write_inventory

BIN = Path(sys.executable).parent / "baluarte"
PASSWORD = "correct horse battery"
CLIENTS = {
    "acme": {"madrid": [("srv-files", "linux"), ("srv-web", "linux")]},
    "beta": {"bilbao": [("srv-db", "linux")]},
}
SSH, FW = "access.ssh_root_login", "firewall.enabled"


def _f(client: str, site: str, device: str, control: str, status: Status) -> Finding:
    return Finding(
        client=client, site=site, device=device, platform="linux", control=control,
        status=status, severity=Severity.HIGH, expected="as the policy says",
        observed=f"{device} {status}",
    )  # fmt: skip


@dataclass
class Api:
    service: Service
    url: str
    tokens: dict[str, str]  # account -> bearer token
    runs: dict[str, int]
    folder: Path

    def client(self, who: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_with_files(store: Store, at: datetime, found: list[Finding]) -> int:
    """A complete run over every client that read an inventory file named after one of them."""
    run_id = store.start_run(
        kind=RunKind.CHECK,
        operator="noc@host",
        tool_version="test",
        inventory_sha256="1" * 64,
        files=[InputFile(role="inventory", path="inventory/acme-clients.yaml", sha256="2" * 64)],
        scope={},
        devices_total=len({(f.client, f.device) for f in found}),
        started_at=at,
    )
    store.add_findings(run_id, found)
    store.finish_run(run_id, ended_at=at + timedelta(minutes=3))
    return run_id


@contextmanager
def _serving(tmp_path: Path, service_db: ServiceDb) -> Iterator[Api]:
    write_inventory(tmp_path, CLIENTS)
    config = load_config(
        write_config(tmp_path, service_db.url.render_as_string(hide_password=False))
    )
    service = Service(config, service_db, holder="test")
    service.after_run_hooks.append(refresh_after_run)
    tokens = {}
    for name, role, clients in (
        ("ana", "admin", None),
        ("tom", "technician", None),
        ("aud", "auditor", ["beta"]),
    ):
        accounts.add_user(service.db, name, role, PASSWORD, clients=clients)
        tokens[name] = accounts.create_token(service.db, name)
    store = service.db.store
    now = datetime.now(UTC)
    runs = {
        # acme, both devices pass
        "acme": store_run(store, now - timedelta(days=3), [
            _f("acme", "madrid", "srv-files", SSH, Status.PASS),
            _f("acme", "madrid", "srv-web", SSH, Status.PASS),
        ], client="acme"),
        # a run over every client: srv-web drifts; beta passes
        "all": _run_with_files(store, now - timedelta(days=2), [
            _f("acme", "madrid", "srv-web", SSH, Status.FAIL),
            _f("beta", "bilbao", "srv-db", SSH, Status.PASS),
            _f("beta", "bilbao", "srv-db", FW, Status.PASS),
        ]),
        # beta alone: its firewall drifts
        "beta": store_run(store, now - timedelta(days=1), [
            _f("beta", "bilbao", "srv-db", SSH, Status.PASS),
            _f("beta", "bilbao", "srv-db", FW, Status.FAIL),
        ], client="beta"),
    }  # fmt: skip
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(service, secure_cookies=False),
            host="127.0.0.1",
            port=_free_port(),
            log_level="warning",
            lifespan="off",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        assert thread.is_alive(), "the server stopped at start-up"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Api(service, f"http://127.0.0.1:{port}", tokens, runs, tmp_path)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        service.checks.close(wait=True)


@pytest.fixture
def api(tmp_path: Path, service_db: ServiceDb, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # the session key's home
    with _serving(tmp_path, service_db) as served:
        yield served


# -- tokens -----------------------------------------------------------------------------------


def test_without_a_valid_bearer_token_the_api_answers_401(api: Api) -> None:
    with api.client() as web:
        for path in ("/api/v1/clients", "/api/v1/runs", "/api/v1/runs/1", "/api/v1/checks/1"):
            answer = web.get(path)
            assert answer.status_code == 401, path
            assert answer.headers["www-authenticate"] == "Bearer"
        assert web.post("/api/v1/checks", json={"client": "acme"}).status_code == 401
        for header in (
            "Bearer blt_not-a-token",
            f"Basic {api.tokens['tom']}",
            api.tokens["tom"],
            f"Bearer {api.tokens['tom']}x",
        ):
            answer = web.get("/api/v1/clients", headers={"Authorization": header})
            assert answer.status_code == 401, header
            assert answer.headers["www-authenticate"].startswith("Bearer")
        # lower-case scheme is the same scheme (RFC 7235)
        ok = web.get("/api/v1/clients", headers={"Authorization": f"bearer {api.tokens['tom']}"})
        assert ok.status_code == 200
    accounts.revoke_token(api.service.db, api.tokens["tom"][:10])
    with api.client("tom") as web:
        answer = web.get("/api/v1/clients")
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == 'Bearer error="invalid_token"'


# -- clients ----------------------------------------------------------------------------------


def test_clients_carry_their_posture_figures_and_an_auditor_sees_only_theirs(api: Api) -> None:
    with api.client("tom") as web:
        answer = web.get("/api/v1/clients")
    assert answer.status_code == 200
    rows = {c["client"]: c for c in answer.json()["clients"]}
    assert list(rows) == ["acme", "beta"]
    acme = rows["acme"]
    # posture: srv-files passes as of the first run, srv-web fails as of the second;
    # the last run covering acme alone would say 0 %
    assert acme["compliance_percent"] == 50.0
    assert (acme["devices_in_scope"], acme["devices_verified"], acme["devices_not_verified"]) == (
        2,
        2,
        0,
    )
    assert acme["counts"]["pass"] == 1 and acme["counts"]["fail"] == 1
    assert acme["last_run_id"] == api.runs["all"] and acme["new_drift"] == 1
    assert acme["legal_name"] == "Acme S.L." and acme["timezone"] == "Europe/Madrid"
    assert acme["runs_url"] == "/api/v1/runs?client=acme"
    assert rows["beta"]["compliance_percent"] == 50.0
    assert rows["beta"]["last_run_id"] == api.runs["beta"]
    with api.client("aud") as web:
        mine = web.get("/api/v1/clients").json()["clients"]
    assert [c["client"] for c in mine] == ["beta"]
    assert mine[0] == rows["beta"] | {"computed_at": mine[0]["computed_at"]}


# -- runs -------------------------------------------------------------------------------------


def test_runs_are_listed_newest_first_and_an_auditor_sees_only_runs_of_their_clients(
    api: Api,
) -> None:
    r = api.runs
    with api.client("tom") as web:
        every = web.get("/api/v1/runs").json()["runs"]
        acme = web.get("/api/v1/runs", params={"client": "acme"}).json()["runs"]
        one = web.get("/api/v1/runs", params={"limit": 1}).json()["runs"]
        assert web.get("/api/v1/runs", params={"limit": 0}).status_code == 422
        assert web.get("/api/v1/runs", params={"client": "bad name"}).status_code == 422
    assert [x["id"] for x in every] == [r["beta"], r["all"], r["acme"]]
    assert [x["id"] for x in acme] == [r["all"], r["acme"]]
    assert [x["id"] for x in one] == [r["beta"]]
    mixed = next(x for x in every if x["id"] == r["all"])
    assert mixed["clients"] == ["acme", "beta"] and mixed["devices_total"] == 2
    assert mixed["state"] == "complete" and mixed["kind"] == "check" and mixed["scope"] == {}
    assert mixed["report_url"] == f"/api/v1/runs/{r['all']}"

    with api.client("aud") as web:
        seen = web.get("/api/v1/runs").json()["runs"]
        assert web.get("/api/v1/runs", params={"client": "acme"}).status_code == 404
        assert [x["id"] for x in web.get("/api/v1/runs", params={"client": "beta"}).json()[
            "runs"
        ]] == [r["beta"], r["all"]]  # fmt: skip
    assert [x["id"] for x in seen] == [r["beta"], r["all"]]
    mixed = next(x for x in seen if x["id"] == r["all"])
    # the run also covered acme: neither acme nor its devices' count is told
    assert mixed["clients"] == ["beta"] and mixed["devices_total"] is None
    assert "acme" not in json.dumps(seen)


def _cli_report(api: Api, run_id: int) -> dict[str, object]:
    """The JSON report of the run as the command line writes it, from the same store."""
    location = api.service.db.url.render_as_string(hide_password=False)
    done = subprocess.run(
        [str(BIN), "report", str(run_id), "--format", "json", "--db", location],
        capture_output=True, text=True, timeout=120, check=False, cwd=api.folder,
        env=os.environ | {"BALUARTE_SIGNING_KEY": str(api.folder / "no-key.pem")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    doc: dict[str, object] = json.loads(done.stdout)
    return doc


def test_a_runs_report_is_the_json_report_the_cli_writes(api: Api) -> None:
    with api.client("tom") as web:
        answer = web.get(f"/api/v1/runs/{api.runs['all']}")
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/json"
        assert "x-baluarte-view" not in answer.headers
        assert answer.json() == _cli_report(api, api.runs["all"])
        beta = web.get(f"/api/v1/runs/{api.runs['beta']}").json()
        for missing in ("999999", "0", "-1", str(2**40), "abc"):
            status = web.get(f"/api/v1/runs/{missing}").status_code
            assert status == (404 if missing == "999999" else 422), missing
    assert beta == _cli_report(api, api.runs["beta"])
    assert beta["summary"]["counts"]["fail"] == 1  # type: ignore[index]
    # drift is drawn from the earlier runs of its scope, as the CLI draws it
    assert [s["control"] for s in beta["drift"]["newly_failing"]] == [FW]  # type: ignore[index]


def test_an_auditor_sees_a_mixed_run_with_their_clients_findings_only(api: Api) -> None:
    with api.client("aud") as web:
        assert web.get(f"/api/v1/runs/{api.runs['acme']}").status_code == 404
        own = web.get(f"/api/v1/runs/{api.runs['beta']}")
        mixed = web.get(f"/api/v1/runs/{api.runs['all']}")
    # a run of their client alone: the whole report, as anyone sees it
    assert own.status_code == 200 and "x-baluarte-view" not in own.headers
    assert own.json() == _cli_report(api, api.runs["beta"])
    assert mixed.status_code == 200 and mixed.headers["x-baluarte-view"] == "filtered"
    doc = mixed.json()
    assert "acme" not in mixed.text and "srv-web" not in mixed.text
    assert {f["client"] for f in doc["findings"]} == {"beta"} and len(doc["findings"]) == 2
    # what would name the other client is left out: its devices' count, the files' paths
    assert doc["run"]["devices_in_scope"] == 1 and doc["run"]["input_files"] == []
    with api.client("tom") as web:
        whole = web.get(f"/api/v1/runs/{api.runs['all']}").json()
    assert whole["run"]["devices_in_scope"] == 2 and len(whole["run"]["input_files"]) == 1
    assert doc["summary"]["compliance_percent"] == 100.0
    # and the report of a later run does not draw its trend from acme's findings either
    with api.client("aud") as web:
        later = web.get(f"/api/v1/runs/{api.runs['beta']}").json()
    assert [p["run_id"] for p in later["trend"]["points"]] == [api.runs["all"], api.runs["beta"]]


# -- checks -----------------------------------------------------------------------------------


def _wait(web: httpx.Client, url: str, seconds: float = 90) -> dict[str, object]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state: dict[str, object] = web.get(url).json()
        if state["state"] not in ("queued", "running"):
            return state
        time.sleep(0.2)
    raise AssertionError(f"{url} did not finish")


def test_a_check_started_through_the_api_of_unreachable_devices_ends_in_error_never_pass(
    api: Api,
) -> None:
    with api.client("tom") as web:
        answer = web.post("/api/v1/checks", json={"client": "acme", "device": "srv-web"})
        assert answer.status_code == 202, answer.text
        accepted = answer.json()
        assert set(accepted) == {"id", "state", "url"} and accepted["state"] == "queued"
        assert accepted["url"] == f"/api/v1/checks/{accepted['id']}"
        done = _wait(web, accepted["url"])
        assert done["state"] == "done", done
        assert (done["origin"], done["requested_by"], done["client"], done["device"]) == (
            "api",
            "tom",
            "acme",
            "srv-web",
        )
        report = web.get(str(done["run_url"])).json()
        assert web.get(f"/api/v1/checks/{accepted['id'] + 1000}").status_code == 404
    assert report["run"]["scope"] == {"client": "acme", "device": "srv-web"}
    statuses = {f["status"] for f in report["findings"]}
    assert report["findings"] and statuses == {"error"}  # never a pass it could not see
    assert {f["device"] for f in report["findings"]} == {"srv-web"}
    started = [e for e in audit.recent(api.service.db) if e.action == "check_started"]
    assert [(e.user_name, e.client, e.detail["origin"], e.detail["check_id"]) for e in started] == [
        ("tom", "acme", "api", accepted["id"])
    ]
    assert started[0].address == "127.0.0.1"
    # an auditor of beta does not see a check of acme
    with api.client("aud") as web:
        assert web.get(accepted["url"]).status_code == 404


def test_an_auditor_cannot_start_checks(api: Api) -> None:
    with api.client("aud") as web:
        answer = web.post("/api/v1/checks", json={"client": "beta"})
    assert answer.status_code == 403 and answer.json()["detail"] == "an auditor cannot start checks"
    assert api.service.checks.recent() == []


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"client": "nobody"}, "no client named 'nobody'"),
        ({"client": "acme", "site": "bilbao"}, "no site named 'bilbao'"),
        ({"client": "acme", "device": "srv-db"}, "no device named 'srv-db'"),
        ({"client": "acme", "device": "srv-fils"}, "did you mean 'srv-files'"),
        ({"client": "acme", "tags": ["nope"]}, "no tag named 'nope'"),
        ({"client": "acme", "policy": "no-such-policy"}, "no policy named 'no-such-policy'"),
    ],
)
def test_unknown_selectors_are_refused_with_a_clear_message(
    api: Api, body: dict[str, object], says: str
) -> None:
    with api.client("ana") as web:
        answer = web.post("/api/v1/checks", json=body)
    assert answer.status_code == 422 and says in answer.json()["detail"], answer.text
    assert api.service.checks.recent() == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"client": "acme", "extra": 1},
        {"client": "acme\n"},
        {"client": "<b>acme</b>"},
        {"client": "acme", "tags": "server"},
        {"client": ["acme"]},
    ],
)
def test_malformed_check_requests_are_refused(api: Api, body: dict[str, object]) -> None:
    with api.client("tom") as web:
        assert web.post("/api/v1/checks", json=body).status_code == 422
        assert web.post("/api/v1/checks", content=b"not json").status_code == 422
    assert api.service.checks.recent() == []


# -- health and the OpenAPI document ----------------------------------------------------------


def test_healthz_needs_no_token_and_tells_the_store_and_scheduler(api: Api) -> None:
    with api.client() as web:
        answer = web.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ok",
        "store": {"ok": True, "backend": api.service.db.backend},
        "scheduler": None,
    }


def test_the_openapi_document_describes_the_api_alone(api: Api) -> None:
    with api.client() as web:
        doc = web.get("/api/v1/openapi.json").json()
    paths = doc["paths"]
    assert {
        "/api/v1/clients",
        "/api/v1/runs",
        "/api/v1/runs/{run_id}",
        "/api/v1/checks",
        "/api/v1/checks/{check_id}",
        "/healthz",
        "/metrics",
    } <= set(paths)
    assert all(p.startswith(("/api/v1/", "/healthz", "/metrics")) for p in paths)
    schemas = doc["components"]["schemas"]
    check_in = schemas["CheckIn"]
    assert check_in["additionalProperties"] is False and check_in["required"] == ["client"]
    assert schemas["ClientOut"]["additionalProperties"] is False
    assert "token" in doc["components"]["securitySchemes"]
    assert doc["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    assert paths["/api/v1/checks"]["post"]["security"] == [{"token": []}]
    assert "security" not in paths["/healthz"]["get"]


@pytest.mark.postgres
def test_healthz_answers_503_when_the_store_is_gone(
    tmp_path: Path, pg_db: ServiceDb, pg_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    with _serving(tmp_path, pg_db) as api:
        _store_gone(api, pg_db, pg_server)


def _store_gone(api: Api, pg_db: ServiceDb, pg_server: str) -> None:
    name = pg_db.url.database
    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    with api.client() as web:
        answer = web.get("/healthz")
    assert answer.status_code == 503
    assert answer.json()["status"] == "unavailable" and answer.json()["store"]["ok"] is False
    with api.client("tom") as web:
        failed = web.get("/api/v1/runs")
    assert failed.status_code == 503
    assert failed.json() == {"detail": "the store cannot be read now"}
    assert name not in failed.text
