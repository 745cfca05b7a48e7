"""Site collectors end to end: `baluarte check` dispatching through the real RabbitMQ to real
`baluarte collector` processes, which reach real lab hosts over SSH.

Inventory: client acme, site ``madrid`` bound to collector A (host ``m1``), site ``hq``
collected directly (host ``h1``), site ``sevilla`` bound to collector B. The central `check`
runs without the devices' secret in its environment: only the collector's secrets file holds
it, so a run that works proves it was resolved there, and the broker's firehose (trace on the
test's own vhost) shows it never crossed.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from amqp.exceptions import AccessRefused
from kombu import Connection, Consumer, Exchange, Queue

from baluarte.lab.linux_hosts import LinuxHost, LinuxHostLab
from tests.integration.cli import BIN, CANARY
from tests.integration.rabbit import CollectorProcess, Vhost, ctl, needs_rabbitmq, vhost

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


class Site:
    def __init__(self, tmp: Path, box: Vhost, lab: LinuxHostLab, m1: LinuxHost, h1: LinuxHost):
        self.tmp = tmp
        self.box = box
        self.lab = lab
        self.m1 = m1
        self.h1 = h1
        self.a = box.collector("a")
        self.b = box.collector("b")
        self.secrets = tmp / "collector-a.env"
        self.secrets.write_text(
            f"BALUARTE_BROKER={box.urls[self.a]}\nBALUARTE_TEST_CANARY={CANARY}\n"
        )
        self.secrets.chmod(0o600)
        self.db = tmp / "runs.db"
        self.write_inventory()
        (tmp / "policies").mkdir(exist_ok=True)
        (tmp / "policies" / "site.yaml").write_text(POLICY)
        (tmp / "waivers.yaml").write_text("waivers: []\n")
        self.collectors: list[CollectorProcess] = []

    def device(self, host: LinuxHost) -> str:
        return textwrap.dedent(f"""\
            - name: {host.name}
              platform: linux
              address: {host.address}
              ssh:
                user: root
                key: "file:{self.lab.key_path}"
                known_hosts: {self.lab.known_hosts_path}
                password: "env:BALUARTE_TEST_CANARY"
            """)

    def write_inventory(self) -> None:
        def devices(*hosts: LinuxHost) -> str:
            return textwrap.indent("".join(self.device(h) for h in hosts), " " * 10)

        far = textwrap.indent("- {name: s1, platform: linux, address: 10.200.255.254}\n", " " * 10)
        (self.tmp / "inventory.yaml").write_text(
            f"collectors:\n  - name: {self.a}\n  - name: {self.b}\n"
            "clients:\n  - name: acme\n    legal_name: ACME Asesores S.L.\n    sites:\n"
            f"      - name: madrid\n        collector: {self.a}\n        devices:\n"
            + devices(self.m1)
            + "      - name: hq\n        devices:\n"
            + devices(self.h1)
            + f"      - name: sevilla\n        collector: {self.b}\n        devices:\n"
            + far
        )

    def start_a(self) -> CollectorProcess:
        proc = CollectorProcess(self.box, self.a, self.tmp, secrets_file=self.secrets)
        self.collectors.append(proc)
        proc.wait_consuming()
        return proc

    def command(self, *args: str) -> list[str]:
        return [
            str(BIN), *args, "--db", str(self.db),
            "--inventory", str(self.tmp / "inventory.yaml"),
            "--policies", str(self.tmp / "policies"),
            "--waivers", str(self.tmp / "waivers.yaml"),
        ]  # fmt: skip

    def env(self, **extra: str) -> dict[str, str]:
        # the central side: the broker, and not the devices' secret
        env = {k: v for k, v in os.environ.items() if not k.startswith("BALUARTE_")}
        env["BALUARTE_BROKER"] = self.box.central
        return {**env, **extra}

    def check(
        self, *args: str, deadline: float = 60, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command("check", "--format", "json", "--deadline", str(deadline), *args),
            capture_output=True,
            text=True,
            env=self.env(**(env or {})),
            timeout=deadline + 120,
            cwd=self.tmp,
        )

    def start_check(self, *args: str, deadline: float = 60) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command("check", "--format", "json", "--deadline", str(deadline), *args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env(),
            cwd=self.tmp,
        )

    def wait_queued(self, name: str, count: int = 1, timeout: float = 30) -> None:
        ends = time.monotonic() + timeout
        while time.monotonic() < ends:
            if self.box.queue_depth(f"baluarte.collector.{name}")[0] >= count:
                return
            time.sleep(0.05)
        raise AssertionError(f"no task reached collector {name}'s queue")


@pytest.fixture
def site(tmp_path: Path, lab: LinuxHostLab, make_host) -> Iterator[Site]:
    with vhost() as box:
        the_site = Site(tmp_path, box, lab, make_host("m1"), make_host("h1"))
        try:
            yield the_site
        finally:
            for proc in the_site.collectors:
                proc.kill()


def by_device(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, dict]]:
    assert CANARY not in result.stdout + result.stderr
    doc = json.loads(result.stdout)
    out: dict[str, dict[str, dict]] = {}
    for f in doc["findings"]:
        controls = out.setdefault(f["device"], {})
        assert f["control"] not in controls, f"{f['device']} {f['control']} stored twice"
        controls[f["control"]] = f
    return out


def test_a_collector_site_is_collected_through_it_and_its_secret_never_crosses_the_broker(
    site: Site,
):
    # every message on the test's vhost, as the broker routes it (the firehose)
    assert ctl("trace_on", "-p", site.box.name).returncode == 0
    conn = site.box.connection()
    tap = Queue("tap", Exchange("amq.rabbitmq.trace", type="topic", passive=True), routing_key="#")
    tap(conn.default_channel).declare()
    try:
        collector = site.start_a()
        result = site.check("--site", "madrid")
        # collected directly, the central side needs the secret itself
        second = site.check("--site", "hq", env={"BALUARTE_TEST_CANARY": CANARY})
        bodies: list[bytes] = []
        with Consumer(conn, [tap], callbacks=[lambda b, m: bodies.append(m.body)], accept=None):
            while True:
                try:
                    conn.drain_events(timeout=1)
                except TimeoutError:
                    break
    finally:
        ctl("trace_off", "-p", site.box.name)
        conn.release()
    got = by_device(result)
    assert set(got) == {"m1"}, result.stderr
    facts = {c: f["status"] for c, f in got["m1"].items()}
    assert facts == {
        "access.ssh_password_authentication": "pass",  # keys only
        "access.ssh_root_login": "fail",  # root may log in with a key
    }, result.stderr
    assert "permitrootlogin" in got["m1"]["access.ssh_root_login"]["evidence"].lower()
    # the same host collected directly says the same (h1 is its twin)
    direct = by_device(second)["h1"]
    assert {c: f["status"] for c, f in direct.items()} == facts
    assert result.returncode == second.returncode == 1
    # the firehose saw the task going out and the answer coming back…
    everything = b"\n".join(bodies)
    assert b"baluarte.collect" in everything or b"acme/madrid/m1" in everything
    assert b'"outcome": "facts"' in everything or b'"outcome":"facts"' in everything
    # …and never the secret the device's credential reference names
    assert CANARY.encode() not in everything
    assert b"BALUARTE_TEST_CANARY" in everything  # the reference travels, not the value
    # as root (the tests are), one line of ours, not Celery's warning naming an option we lack
    said = collector.text()
    assert "warning: running as root; a collector needs no privileges" in said
    assert "SecurityWarning" not in said and "--uid" not in said


def test_a_collector_down_at_start_makes_its_devices_error_and_the_run_ends_on_time(site: Site):
    started = time.monotonic()
    result = site.check(deadline=3, env={"BALUARTE_TEST_CANARY": CANARY})  # for h1
    took = time.monotonic() - started
    got = by_device(result)
    assert result.returncode == 3, result.stderr
    m1 = got["m1"]["access.ssh_root_login"]
    assert m1["status"] == "error"
    assert m1["reason"] == (
        f"device timed out: collector {site.a} did not answer within 3 s; last seen never"
    )
    assert got["s1"]["access.ssh_root_login"]["reason"].startswith(
        f"device timed out: collector {site.b} did not answer within 3 s"
    )
    # the directly collected site is not held back by it
    assert got["h1"]["access.ssh_root_login"]["status"] == "fail"
    assert took < 25, took


def test_a_task_delivered_twice_stores_its_findings_once(site: Site):
    check = site.start_check("--site", "madrid")
    site.wait_queued(site.a)
    # the broker hands the same task over twice: take it and put two copies back
    with site.box.connection() as conn:
        channel = conn.default_channel
        message = channel.basic_get(f"baluarte.collector.{site.a}", no_ack=True)
        assert message is not None
        for _ in range(2):
            channel.basic_publish(message, exchange="", routing_key=f"baluarte.collector.{site.a}")
    collector = site.start_a()
    out, err = check.communicate(timeout=120)
    result = subprocess.CompletedProcess(check.args, check.returncode, out, err)
    got = by_device(result)  # fails on a control stored twice
    assert got["m1"]["access.ssh_root_login"]["status"] == "fail", err
    assert result.returncode == 1, err
    # the collector did collect twice: the second answer was dropped centrally
    collector.wait_for("collecting 1 device(s)")
    deadline = time.monotonic() + 30
    while collector.text().count("collecting 1 device(s)") < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert collector.text().count("collecting 1 device(s)") == 2


def slow_down(host: LinuxHost, seconds: int) -> None:
    """The host takes ``seconds`` longer to answer: its sshd -T (which collection runs) waits
    first. The running daemon is not touched."""
    host.run(
        f"printf '#!/bin/sh\\nsleep {seconds}\\nexec /usr/sbin/sshd \"$@\"\\n'"
        " > /usr/local/sbin/sshd && chmod +x /usr/local/sbin/sshd"
    )


def test_a_collector_killed_mid_task_loses_nothing_and_the_next_one_finishes_the_run(site: Site):
    slow_down(site.m1, 4)
    first = site.start_a()
    check = site.start_check("--site", "madrid", deadline=90)
    first.wait_for("collecting 1 device(s)")
    first.kill()  # kill -9, its SSH worker too: the task was never acknowledged
    assert "answered" not in first.text()
    second = site.start_a()
    out, err = check.communicate(timeout=150)
    got = by_device(subprocess.CompletedProcess(check.args, check.returncode, out, err))
    # the task came back to the queue and the next collector did it
    second.wait_for("answered 1 device(s)")
    assert got["m1"]["access.ssh_root_login"]["status"] == "fail", err
    assert check.returncode == 1, err


def test_an_answer_after_the_deadline_is_recorded_as_late_and_changes_nothing(site: Site):
    slow_down(site.m1, 5)
    collector = site.start_a()
    first = site.check("--site", "madrid", deadline=2)
    assert first.returncode == 3, first.stderr
    run_id = json.loads(first.stdout)["run"]["id"]
    reason = by_device(first)["m1"]["access.ssh_root_login"]["reason"]
    assert "did not answer within 2 s" in reason
    collector.wait_for("answered 1 device(s)")  # after the run had ended
    site.m1.run("rm /usr/local/sbin/sshd")
    second = site.check("--site", "madrid")  # finds the late answer and records it
    assert second.returncode == 1, second.stderr
    shown = subprocess.run(
        [str(BIN), "show", str(run_id), "--db", str(site.db)],
        capture_output=True, text=True, env=site.env(), cwd=site.tmp, timeout=60,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "# late results ignored: 1" in shown.stdout
    late = [line for line in shown.stdout.splitlines() if line.startswith("# late\t")]
    assert len(late) == 1 and late[0].split("\t")[1:3] == ["acme/madrid/m1", site.a]
    assert "\tfacts\t" in late[0]
    # the first run's findings are what they were: error
    again = json.loads(
        subprocess.run(
            [str(BIN), "show", str(run_id), "--db", str(site.db), "--format", "json"],
            capture_output=True, text=True, env=site.env(), cwd=site.tmp, timeout=60,
        ).stdout
    )  # fmt: skip
    statuses = {f["status"] for f in again["findings"] if f["device"] == "m1"}
    assert statuses == {"error"}


def test_a_collector_refuses_a_device_of_a_site_bound_to_another(site: Site):
    from celery import Celery

    from baluarte.collectors.messages import TASK_NAME, CollectTask
    from baluarte.collectors.topology import run_queue, task_queue
    from baluarte.collectors.wire import plan_document
    from baluarte.engine import CheckOptions, load_inputs

    inputs = load_inputs(
        [site.tmp / "inventory.yaml"], site.tmp / "policies", site.tmp / "waivers.yaml"
    )
    (s1,) = CheckOptions(site="sevilla").plans(inputs)
    token = "ab" * 16
    answers: list[tuple[dict, dict]] = []
    site.start_a()
    with site.box.connection() as conn:
        mine = run_queue(token)(conn.default_channel)
        mine.declare()
        app = Celery("test", set_as_current=False)
        app.conf.update(broker_url=site.box.central, task_create_missing_queues=False)
        task = CollectTask(
            token=token, run=1, collector=site.a, command_timeout=30,
            deadline=datetime.now(UTC) + timedelta(seconds=60), devices=(plan_document(s1),),
        )  # fmt: skip
        with app.producer_or_acquire() as producer:
            app.send_task(
                TASK_NAME, args=[task.model_dump(mode="json", by_alias=True)],
                queue=task_queue(site.a), routing_key=f"baluarte.collector.{site.a}",
                exchange="", producer=producer, retry=False,
            )  # fmt: skip
        with Consumer(conn, [mine], callbacks=[lambda b, m: answers.append((b, m.properties))]):
            ends = time.monotonic() + 30
            while not answers and time.monotonic() < ends:
                with contextlib.suppress(TimeoutError):
                    conn.drain_events(timeout=0.5)
    assert answers, "no answer"
    body, properties = answers[0]
    assert body["outcome"] == "refused" and body["device"] == "acme/sevilla/s1"
    assert body["reason"] == (
        f"its site acme/sevilla is bound to collector '{site.b}', not to this collector '{site.a}'"
    )
    assert properties["user_id"] == f"baluarte-collector-{site.a}"  # the broker checked it


def test_a_collector_with_wrong_credentials_says_so_and_exits_2(site: Site):
    wrong = site.box.urls[site.a].replace("@127.0.0.1", "x@127.0.0.1")
    secrets_file = site.tmp / "wrong.env"
    secrets_file.write_text(f"BALUARTE_BROKER={wrong}\n")
    secrets_file.chmod(0o600)
    result = subprocess.run(
        [str(BIN), "collector", "--name", site.a, "--secrets", str(secrets_file)],
        capture_output=True, text=True, timeout=60, cwd=site.tmp,
        env={k: v for k, v in os.environ.items() if not k.startswith("BALUARTE_")},
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert f"refused collector '{site.a}''s login" in result.stderr
    assert "Traceback" not in result.stderr
    password = wrong.split(":")[2].split("@")[0]
    assert password not in result.stdout + result.stderr


def test_an_answer_sent_by_another_collector_login_is_not_believed(site: Site):
    """Collector A's login speaking for s1, which is B's: the run does not take it."""
    from baluarte.collectors.messages import Result

    check = site.start_check("--site", "sevilla", deadline=4)
    site.wait_queued(site.b)
    with site.box.connection() as conn:  # the central side reads the run's token off B's task
        message = conn.default_channel.basic_get(f"baluarte.collector.{site.b}", no_ack=True)
        token = json.loads(message.body)[0][0]["token"]
        run_id = json.loads(message.body)[0][0]["run"]
    forged = Result(
        token=token, run=run_id, device="acme/sevilla/s1", collector=site.b, version="0",
        sent_at=datetime.now(UTC), outcome="error",
        document={"kind": "DeviceError", "message": "forged"},
    )  # fmt: skip
    payload = forged.model_dump(mode="json", by_alias=True)
    confirmed = {"confirm_publish": True}
    # under B's name: the broker refuses A the routing key (a topic permission)
    with (
        Connection(site.box.urls[site.a], transport_options=confirmed) as conn,
        pytest.raises(AccessRefused),
    ):
        conn.Producer(auto_declare=False).publish(
                payload, exchange="baluarte.results", routing_key=f"result.{token}.{site.b}",
                user_id=f"baluarte-collector-{site.a}",
            )  # fmt: skip
    # under A's own name: it reaches the run, which does not take A's word for B's device
    with Connection(site.box.urls[site.a], transport_options=confirmed) as conn:
        conn.Producer(auto_declare=False).publish(
            payload, exchange="baluarte.results", routing_key=f"result.{token}.{site.a}",
            user_id=f"baluarte-collector-{site.a}",
        )  # fmt: skip
    out, err = check.communicate(timeout=60)
    got = by_device(subprocess.CompletedProcess(check.args, check.returncode, out, err))
    reason = got["s1"]["access.ssh_root_login"]["reason"]
    assert "forged" not in reason
    assert f"collector {site.b} did not answer within 4 s" in reason


def test_apply_refuses_a_site_reached_through_a_collector(tmp_path: Path):
    (tmp_path / "inventory.yaml").write_text(
        "collectors: [{name: madrid}]\n"
        "clients:\n  - name: acme\n    legal_name: ACME\n    collector: madrid\n    sites:\n"
        "      - name: hq\n        devices: [{name: m1, platform: linux, address: 192.0.2.1}]\n"
    )
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "site.yaml").write_text(POLICY)
    result = subprocess.run(
        [str(BIN), "apply", "--db", str(tmp_path / "runs.db"),
         "--inventory", str(tmp_path / "inventory.yaml"), "--policies", str(tmp_path / "policies")],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "apply does not go through site collectors: site(s) acme/hq name one" in result.stderr
    assert "Traceback" not in result.stderr
