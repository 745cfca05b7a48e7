"""``broker:`` in ``serve``'s configuration: a reference, never the URL itself (it holds the
central password); a reference that does not resolve, or is not a RabbitMQ URL, stops the
start (exit 2) without showing the password; and a check of a collector's site with no
``broker:`` fails saying so, while the other sites are checked as before."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from baluarte.errors import InputError
from baluarte.masking import forget_secrets
from baluarte.service.checks import CheckRequest, ServiceCheck
from baluarte.service.collectors import central_broker
from baluarte.service.config import load_config
from baluarte.service.context import Service
from baluarte.service.db import ServiceDb
from tests.service._collectors import write_config, write_inventory
from tests.service._serve import BIN

LITERAL = "amqp://guest:Literal-Pw-9x@127.0.0.1:5672/baluarte"


def _serve(config: Path, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), "serve", "--config", str(config), "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "XDG_STATE_HOME": str(tmp_path / "state"), **env},
    )


def test_a_broker_url_written_in_the_configuration_is_refused_with_its_place(tmp_path: Path):
    inventory = write_inventory(tmp_path, "madrid", "bilbao", "sevilla")
    config = write_config(tmp_path, inventory, broker_url=None, extra=f"broker: {LITERAL}\n")
    done = _serve(config, tmp_path)
    assert done.returncode == 2
    line = config.read_text().splitlines().index(f"broker: {LITERAL}") + 1
    assert f"{config}:{line}:1: broker: credentials must be referenced" in done.stderr
    assert "Literal-Pw-9x" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr

    # a reference that does not resolve stops the start too, before anything listens
    config = write_config(tmp_path, inventory, broker_url=None, extra="broker: env:NO_BROKER\n")
    done = _serve(config, tmp_path)
    assert done.returncode == 2, done.stderr
    assert "environment variable NO_BROKER is not set" in done.stderr
    assert str(config) in done.stderr and "Traceback" not in done.stderr


def test_a_broker_reference_that_is_not_a_rabbitmq_url_is_refused_without_its_password(
    tmp_path: Path,
):
    inventory = write_inventory(tmp_path, "madrid", "bilbao", "sevilla")
    config = load_config(
        write_config(tmp_path, inventory, broker_url="http://baluarte:Http-Pw-3z@broker:80/")
    )
    try:
        with pytest.raises(InputError) as refused:
            central_broker(config)
    finally:
        forget_secrets()
    said = str(refused.value)
    assert said.startswith(f"{config.source}: broker: 'http://baluarte:***@broker:80/'")
    assert "is not a RabbitMQ URL" in said and "Http-Pw-3z" not in said
    # a CA without a broker is a mistake in the file, said with its place
    path = write_config(tmp_path, inventory, broker_url=None, extra="broker_ca: ca.pem\n")
    with pytest.raises(
        InputError, match=r"serve\.yaml:\d+:\d+: broker_ca: a CA .*, but no broker: is set"
    ):
        load_config(path)


def _finished(service: Service, check_id: int, timeout: float = 60) -> ServiceCheck:
    deadline = time.monotonic() + timeout
    while True:
        check = service.checks.get(check_id)
        assert check is not None
        if check.state not in ("queued", "running"):
            return check
        assert time.monotonic() < deadline, check
        time.sleep(0.05)


def test_a_check_of_a_collectors_site_without_a_broker_fails_saying_so(tmp_path: Path):
    inventory = write_inventory(tmp_path, "madrid", "bilbao", "sevilla")
    config = load_config(write_config(tmp_path, inventory, broker_url=None))
    service = Service(config, ServiceDb.open(config.db_location), holder="test")
    try:
        bound = service.checks.request(
            CheckRequest(origin="dashboard", client="acme", site="madrid", requested_by="tom")
        )
        everything = service.checks.request(CheckRequest(origin="schedule", schedule="nightly"))
        direct = service.checks.request(CheckRequest(origin="api", client="gamma"))
        for check_id in (bound, everything):
            check = _finished(service, check_id)
            assert check.state == "failed" and check.run_id is None  # nothing was started
            assert check.error == (
                f"{config.source}: broker: the selected devices of collector(s) "
                + ("madrid" if check_id == bound else "bilbao, madrid, sevilla")
                + " are reached through the site collectors' broker: set broker: in the"
                " serve configuration (docs/collectors.md)"
            )
        # a client no collector serves is checked as before (its device is unreachable here)
        check = _finished(service, direct)
        assert check.state == "done" and check.run_id is not None
        run = service.db.store.get_run(check.run_id)
        assert {f.device for f in run.findings} == {"srv-hq"}
        assert {str(f.status) for f in run.findings} == {"error"}
    finally:
        service.close()
