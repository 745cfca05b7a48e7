"""`baluarte serve` dispatching through a site collector end to end: a check asked for through
the API reaches a real lab host through a real `baluarte collector` process on the real
RabbitMQ, and the dashboard's collectors page shows that collector working, from its own
heartbeats.

The service is given the broker by reference (a file) and never the device's secret: only the
collector's secrets file holds it, so a run with the device's verdicts proves the collection
happened on the collector.
"""

from __future__ import annotations

import textwrap
import time
from pathlib import Path
from typing import Any

import httpx

from baluarte import __version__
from baluarte.evidence.keys import init_key
from baluarte.lab.linux_hosts import LinuxHost, LinuxHostLab
from baluarte.service import accounts
from baluarte.service.db import ServiceDb
from tests.integration.cli import CANARY
from tests.integration.rabbit import CollectorProcess, needs_rabbitmq, vhost
from tests.service._serve import serving
from tests.service._web import PASSWORD, log_in

pytestmark = needs_rabbitmq

POLICY = """\
id: site-test
version: "1"
title: Site collectors (test)
applies_to: {platform: linux}
access:
  ssh_root_login: {allowed: "no"}
  ssh_password_authentication: {required: true}
"""


def _inventory(folder: Path, lab: LinuxHostLab, host: LinuxHost, name: str) -> Path:
    path = folder / "inventory.yaml"
    path.write_text(
        f"collectors:\n  - name: {name}\n    description: lab collector\n"
        "clients:\n  - name: acme\n    legal_name: ACME Asesores S.L.\n    sites:\n"
        f"      - name: madrid\n        collector: {name}\n        devices:\n"
        + textwrap.indent(
            textwrap.dedent(f"""\
                - name: {host.name}
                  platform: linux
                  address: {host.address}
                  ssh:
                    user: root
                    key: "file:{lab.key_path}"
                    known_hosts: {lab.known_hosts_path}
                    password: "env:BALUARTE_TEST_CANARY"
                """),
            " " * 10,
        )
    )
    return path


def _secret(path: Path, text: str) -> Path:
    path.write_text(text + "\n")
    path.chmod(0o600)
    return path


def test_a_check_asked_of_the_service_is_collected_by_the_sites_collector(
    tmp_path: Path, lab: LinuxHostLab, make_host
):
    host = make_host("m1")
    with vhost() as box:
        name = box.collector("a")
        inventory = _inventory(tmp_path, lab, host, name)
        (tmp_path / "policies").mkdir()
        (tmp_path / "policies" / "site.yaml").write_text(POLICY)
        broker = _secret(tmp_path / "broker-url", box.central)
        config = tmp_path / "serve.yaml"
        config.write_text(
            f"db: {tmp_path / 'runs.db'}\n"
            f"inventory: [{inventory}]\n"
            f"policies: {tmp_path / 'policies'}\n"
            f"artifacts: {tmp_path / 'artifacts'}\n"
            f"broker: file:{broker}\n"
            "collector_deadline: 60\n"
        )
        db = ServiceDb.open(tmp_path / "runs.db")
        try:
            accounts.add_user(db, "tom", "technician", PASSWORD)
            token = accounts.create_token(db, "tom")
        finally:
            db.close()
        key = tmp_path / "keys" / "signing-key.pem"
        init_key(key)
        secrets_file = _secret(
            tmp_path / "collector.env",
            f"BALUARTE_BROKER={box.urls[name]}\nBALUARTE_TEST_CANARY={CANARY}",
        )
        # the collector starts while the service does
        collector = CollectorProcess(box, name, tmp_path, secrets_file=secrets_file)
        try:
            with (
                serving(config, tmp_path, key=key) as url,
                httpx.Client(
                    base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30
                ) as api,
            ):
                collector.wait_consuming()
                answer = api.post("/api/v1/checks", json={"client": "acme", "site": "madrid"})
                assert answer.status_code == 202, answer.text
                check = _ended(api, answer.json()["url"])
                assert check["state"] == "done", check
                report = api.get(check["run_url"]).raise_for_status().json()
                collector.wait_for("answered 1 device(s)")
                page = _collectors_page(url)
        finally:
            collector.kill()  # a warm shutdown of Celery takes seconds: nothing to keep here
    statuses = {f["control"]: f["status"] for f in report["findings"]}
    assert statuses == {
        "access.ssh_password_authentication": "pass",  # keys only
        "access.ssh_root_login": "fail",  # root may log in with a key
    }, (report["findings"], (tmp_path / "serve.log").read_text())
    assert CANARY not in (tmp_path / "serve.log").read_text()
    row = page[page.index(f"<code>{name}</code>") :].split("</tr>")[0]
    assert "En funcionamiento" in row and f"<code>{__version__}</code>" in row
    assert "acme</a> / madrid" in row


def _ended(api: httpx.Client, url: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        check: dict[str, Any] = api.get(url).raise_for_status().json()
        if check["state"] not in ("queued", "running"):
            return check
        assert time.monotonic() < deadline, check
        time.sleep(0.2)


def _collectors_page(url: str) -> str:
    with httpx.Client(base_url=url, timeout=30) as web:
        assert log_in(web, "tom").status_code == 303
        answer = web.get("/collectors")
        assert answer.status_code == 200
        return answer.text
