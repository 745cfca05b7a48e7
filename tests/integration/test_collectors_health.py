"""Heartbeats and `baluarte collectors status` on the real RabbitMQ at 127.0.0.1:5672, plain and
through a TLS relay (tests/integration/tls_relay.py).

The module works in a vhost of its own (``baluarte-test-<random>``, guest given all on it) with
collectors A and B provisioned once, and deletes the vhost and every collector user it made
when it ends: no other vhost or user is touched. Heartbeats are sent every 0.2 s.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import amqp
import pytest
from amqp.exceptions import AccessRefused, PreconditionFailed
from kombu import Connection

from baluarte import __version__
from baluarte.collectors.broker import BrokerUrl, parse_broker_url, provision_collector
from baluarte.collectors.health import (
    CollectorStatus,
    Heartbeat,
    HeartbeatSender,
    read_status,
    silent,
    state_of,
)
from baluarte.collectors.names import broker_user, queue_name
from baluarte.errors import InputError
from tests.integration.cli import BIN
from tests.integration.rabbit import CENTRAL, ctl, needs_rabbitmq
from tests.integration.tls_relay import TlsRelay
from tests.terminal import run_in_terminal

TICK = 0.2  # heartbeat interval in these tests

pytestmark = needs_rabbitmq


@dataclass
class Box:
    """The module's vhost, its central URL, and collectors A and B provisioned in it."""

    vhost: str
    prefix: str
    central_url: str
    urls: dict[str, str] = field(default_factory=dict)  # collector name: its URL
    users: list[str] = field(default_factory=list)

    @property
    def central(self) -> BrokerUrl:
        return parse_broker_url(self.central_url)

    def name(self, short: str) -> str:
        name = f"{self.prefix}-{short}"
        self.users.append(broker_user(name))
        return name

    def collector(self, name: str, *, ca_file: str | None = None) -> BrokerUrl:
        return parse_broker_url(self.urls[name], ca_file=ca_file)


@pytest.fixture(scope="module")
def box() -> Iterator[Box]:
    tag = secrets.token_hex(4)
    made = Box(
        vhost=f"baluarte-test-{tag}",
        prefix=f"t{tag}",
        central_url=f"amqp://{CENTRAL}:{CENTRAL}@127.0.0.1:5672/baluarte-test-{tag}",
    )
    assert ctl("add_vhost", made.vhost).returncode == 0
    try:
        assert ctl("set_permissions", "-p", made.vhost, CENTRAL, ".*", ".*", ".*").returncode == 0
        for short in ("a", "b"):
            name = made.name(short)
            made.urls[name] = provision_collector(name, made.central).url
        yield made
    finally:
        for user in made.users:
            ctl("delete_user", user)
        ctl("delete_vhost", made.vhost)


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsRelay]:
    with TlsRelay(tmp_path_factory.mktemp("tls")) as running:
        yield running


def names(box: Box) -> tuple[str, str]:
    a, b = box.urls
    return a, b


def sending(url: BrokerUrl, name: str) -> HeartbeatSender:
    sender = HeartbeatSender(url, name, interval=TICK, concurrency=4)
    sender.start()
    return sender


def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def status_of(box: Box, name: str) -> CollectorStatus:
    (found,) = read_status(box.central, [name])
    return found


def publish(url: str, routing_key: str, body: str, **properties: object) -> None:
    """One message to baluarte.results with ``url``'s login, confirmed (a refusal raises)."""
    with Connection(url) as conn:
        conn.connect()
        conn.channel().basic_publish_confirm(
            amqp.Message(body, content_type="application/json", **properties),
            exchange="baluarte.results",
            routing_key=routing_key,
            confirm_timeout=5,
        )


def heartbeat_json(name: str) -> str:
    now = datetime.now(UTC)
    return Heartbeat(
        collector=name, version="9.9", hostname="forged", started_at=now, sent_at=now,
        concurrency=1,
    ).to_json()  # fmt: skip


def test_a_heartbeat_from_the_collectors_own_login_is_read_and_left_in_place(box):
    a, b = names(box)
    unprovisioned = f"{box.prefix}-never-provisioned"
    sender = sending(box.collector(a), a)
    try:
        until(lambda: sender.sent >= 2)
        found = {s.name: s for s in read_status(box.central, [a, b, unprovisioned])}
    finally:
        sender.stop()
    assert not sender._thread.is_alive()
    seen = found[a]
    assert seen.last_seen is not None
    assert abs((datetime.now(UTC) - seen.last_seen).total_seconds()) < 5
    assert (seen.version, seen.hostname) == (__version__, socket.gethostname())
    assert (seen.queued, seen.consumers, seen.problem) == (0, 0, None)
    assert state_of(seen, datetime.now(UTC)) == "ok"

    # reading does not consume it: read twice more, the same newest heartbeat, and one kept
    again = [status_of(box, a) for _ in range(2)]
    assert [s.last_seen for s in again] == [again[0].last_seen] * 2
    assert again[0].last_seen is not None and again[0].last_seen >= seen.last_seen
    with Connection(box.central_url) as conn:
        kept = conn.channel().queue_declare(f"baluarte.heartbeat.{a}", passive=True)
        assert kept.message_count == 1  # the newest only (x-max-length 1)

    assert found[b] == CollectorStatus(b, None, None, None, 0, 0, None)
    assert state_of(found[b], datetime.now(UTC)) == "never seen"
    gone = found[unprovisioned]
    assert (gone.queued, gone.last_seen) == (None, None)
    assert gone.problem == (
        f"not provisioned on this broker: queue {queue_name(unprovisioned)} missing"
    )
    assert state_of(gone, datetime.now(UTC)) == "not provisioned"

    # queued tasks (put there by the central side) and A's consumer are what the broker says
    with Connection(box.central_url) as central, Connection(box.urls[a]) as own:
        channel = central.channel()
        for n in range(3):
            channel.basic_publish(amqp.Message(f"task {n}"), exchange="", routing_key=queue_name(a))
        until(lambda: status_of(box, a).queued == 3)
        own.connect()
        own.channel().basic_consume(queue_name(a), callback=lambda m: None)
        until(lambda: status_of(box, a).consumers == 1)
    # the consumer gone, what it held unacknowledged is back in the queue
    until(lambda: (status_of(box, a).queued, status_of(box, a).consumers) == (3, 0))
    with Connection(box.central_url) as central:
        central.channel().queue_purge(queue_name(a))  # for the other tests


def test_a_heartbeat_forged_for_another_collector_is_refused_or_ignored(box):
    a, b = names(box)
    with pytest.raises(InputError, match="with its own login"):
        HeartbeatSender(box.collector(a), b)  # A's login cannot speak for B

    # A's login claiming B's user (under its own key): the broker refuses the message itself
    with pytest.raises(PreconditionFailed) as refused:
        publish(box.urls[a], f"heartbeat.{a}", heartbeat_json(b), user_id=broker_user(b))
    assert refused.value.reply_code == 406

    # A's login under B's routing key, with its own user_id or none: the broker refuses the
    # key itself (a topic permission: A publishes only heartbeat.A and its own answers)
    for user_id in (broker_user(a), None):
        with pytest.raises(AccessRefused) as keyed:
            props = {"user_id": user_id} if user_id else {}
            publish(box.urls[a], f"heartbeat.{b}", heartbeat_json(b), **props)
        assert keyed.value.reply_code == 403
    assert status_of(box, b).last_seen is None
    # a login allowed the key (here the central one) without B's user_id: not taken for B's
    publish(box.central_url, f"heartbeat.{b}", heartbeat_json(b))
    forged = status_of(box, b)
    assert (forged.last_seen, forged.version) == (None, None)
    assert forged.problem == (
        f"ignored a heartbeat: not sent by {broker_user(b)} (user_id missing)"
    )
    assert state_of(forged, datetime.now(UTC)) == "never seen"
    # B's own login, but not a heartbeat: ignored too, and said so
    publish(box.urls[b], f"heartbeat.{b}", '{"schema": 2}', user_id=broker_user(b))
    assert status_of(box, b).problem == "ignored a heartbeat: not a heartbeat (7 errors in it)"
    publish(box.urls[b], f"heartbeat.{b}", heartbeat_json(a), user_id=broker_user(b))
    assert "names another collector" in (status_of(box, b).problem or "")

    # a login that may not read the queues (A's own) is said plainly, not with a traceback
    with pytest.raises(InputError, match=r"failed: 403 ACCESS_REFUSED - access to queue"):
        read_status(box.collector(a), [b])

    # B's next heartbeat takes the place of the forged one
    sender = sending(box.collector(b), b)
    try:
        until(lambda: sender.sent >= 1)
    finally:
        sender.stop()
    genuine = status_of(box, b)
    assert genuine.problem is None and genuine.hostname == socket.gethostname()


def test_status_command_in_a_pipe_and_on_a_terminal(box, tmp_path):
    a, b = names(box)
    c = f"{box.prefix}-c"  # declared, never provisioned
    declared = tmp_path / "inventory" / "collectors.yaml"
    declared.parent.mkdir()
    declared.write_text(
        f"collectors:\n  - name: {a}\n    description: Raspberry Pi in ACME's rack\n"
        f"  - name: {b}\n" + CLIENT
    )
    with_c = tmp_path / "with-c.yaml"
    with_c.write_text(f"collectors:\n  - name: {c}\n    description: not there yet\n" + CLIENT2)
    env = {**os.environ, "BALUARTE_BROKER": box.central_url}
    env.pop("BALUARTE_BROKER_CA", None)
    senders = [sending(box.collector(n), n) for n in (a, b)]
    try:
        until(lambda: all(s.sent >= 1 for s in senders))
        # side by side: separate processes, and the file should stay fast
        all_ok = start(["collectors", "status"], cwd=tmp_path, env=env)  # ./inventory/
        one_missing = start(
            ["collectors", "status", "-i", str(declared), "-i", str(with_c)],
            cwd=tmp_path, env=env,
        )  # fmt: skip
        code, shown = run_in_terminal(
            ["collectors", "status", "-i", str(declared), "-i", str(with_c)],
            cwd=tmp_path, env=env, columns=160,
        )  # fmt: skip
        ok_result, missing_result = finish(all_ok), finish(one_missing)
    finally:
        senders[1].stop()  # B goes silent
    try:
        time.sleep(1.0)
        silent_b = subprocess.run(
            [str(BIN), "collectors", "status", "--silent-after", "0.5"],
            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60, check=False,
        )  # fmt: skip
    finally:
        senders[0].stop()

    assert ok_result.returncode == 0, ok_result.stderr
    comments, rows = records(ok_result.stdout)
    assert comments[0] == (f"# Site collectors on 127.0.0.1:5672, vhost {box.vhost} (times in UTC)")
    assert comments[-1] == (
        "# collector\tstate\tlast seen\tversion\thost\tqueued\tconsumers\tdescription"
    )
    assert rows[a][1:2] + rows[a][3:] == [
        "ok", __version__, socket.gethostname(), "0", "0", "Raspberry Pi in ACME's rack",
    ]  # fmt: skip
    assert re.fullmatch(r"\d+ s ago, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", rows[a][2])
    assert rows[b][1] == "ok" and rows[b][7] == ""

    assert missing_result.returncode == 1, missing_result.stderr
    comments, rows = records(missing_result.stdout)
    assert rows[c] == [c, "not provisioned", "", "", "", "", "", "not there yet"]
    assert f"# {c}: not provisioned on this broker: queue {queue_name(c)} missing" in comments
    assert [rows[a][1], rows[b][1]] == ["ok", "ok"]

    assert code == 1
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown)
    assert "Site collectors on 127.0.0.1:5672" in text
    table: dict[str, str] = {}
    for line in text.splitlines():
        if line.split()[:1] in ([a], [b], [c]):
            table.setdefault(line.split()[0], line)
    assert set(table) == {a, b, c}
    assert re.search(r"\bok\b.* s ago, .*Raspberry Pi in ACME's rack", table[a])
    assert "not provisioned" in table[c] and "not there yet" in table[c]
    assert "\t" not in text and "# " not in text  # a table, not the pipe's records

    assert silent_b.returncode == 1, silent_b.stderr
    _, rows = records(silent_b.stdout)
    assert re.fullmatch(r"silent for \d+ s", rows[b][1]), rows[b]
    assert rows[a][1] == "ok"


CLIENT = """clients:
  - name: acme
    legal_name: ACME Asesores S.L.
    sites:
      - name: hq
        devices: []
"""
CLIENT2 = CLIENT.replace("acme", "beta").replace("ACME Asesores", "Beta")


def start(args: list[str], *, cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=cwd, env=env,
    )  # fmt: skip


def finish(proc: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def records(out: str) -> tuple[list[str], dict[str, list[str]]]:
    """The ``# `` lines, and each record's cells by its first cell."""
    lines = out.splitlines()
    rows = [line.split("\t") for line in lines if not line.startswith("#")]
    return [line for line in lines if line.startswith("#")], {row[0]: row for row in rows}


def test_over_tls_with_the_ca_status_and_heartbeats_work(box, relay, tmp_path, caplog):
    ca = str(relay.ca_file)
    over_tls = f"amqps://{CENTRAL}:{CENTRAL}@localhost:{relay.port}/{box.vhost}"
    d = box.name("d")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BALUARTE_BROKER")}
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory" / "d.yaml").write_text(f"collectors:\n  - name: {d}\n" + CLIENT)

    # provisioned over TLS: the new URL is the relay's, and logs in through it (checked by it)
    made = subprocess.run(
        [str(BIN), "collectors", "provision", d, "--broker", over_tls, "--broker-ca", ca],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    url_d = made.stdout.splitlines()[-1]
    assert url_d.startswith(f"amqps://{broker_user(d)}:")
    assert url_d.endswith(f"@localhost:{relay.port}/{box.vhost}")

    caplog.set_level(logging.INFO, logger="baluarte.collectors.health")
    unverified = HeartbeatSender(parse_broker_url(url_d), d, interval=TICK)  # system CAs
    sender = sending(parse_broker_url(url_d, ca_file=ca), d)
    unverified.start()
    try:
        until(lambda: sender.sent >= 1)
        time.sleep(3 * TICK)
        ok = subprocess.run(
            [str(BIN), "collectors", "status", "--broker", over_tls],
            capture_output=True, text=True, cwd=tmp_path, env={**env, "BALUARTE_BROKER_CA": ca},
            timeout=60, check=False,
        )  # fmt: skip
    finally:
        sender.stop()
        unverified.stop()
    assert ok.returncode == 0, ok.stderr
    _, rows = records(ok.stdout)
    assert rows[d][1] == "ok" and rows[d][5:7] == ["0", "0"]
    assert unverified.sent == 0
    # tried at every tick, said once, without a traceback
    warned = [r for r in caplog.records if r.name == "baluarte.collectors.health"]
    assert [r.levelno for r in warned] == [logging.WARNING]
    assert warned[0].exc_info is None
    assert "certificate verify failed" in warned[0].getMessage()
    assert urlsplit(url_d).password not in caplog.text

    by_ip = over_tls.replace("@localhost:", "@127.0.0.1:")
    cases = [
        ([over_tls], "the broker's certificate could not be verified (unable to get local"
         " issuer certificate)", "give the CA that signed it with --broker-ca FILE"),
        ([by_ip, "--broker-ca", ca], "IP address mismatch, certificate is not valid for"
         " '127.0.0.1'", "connect by a name the broker's certificate holds"),
        ([over_tls, "--broker-ca", str(tmp_path / "missing.pem")],
         "cannot read the broker's CA certificates from", "No such file or directory"),
        ([box.central_url, "--broker-ca", ca], "--broker-ca is for amqps:// URLs", "plain amqp"),
    ]  # fmt: skip
    procs = [
        (said, hint, start(["collectors", "status", "--broker", *args], cwd=tmp_path, env=env))
        for args, said, hint in cases
    ]
    for said, hint, proc in procs:
        result = finish(proc)
        assert result.returncode == 2, result.stderr
        assert said in result.stderr and hint in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
        assert f"{CENTRAL}:{CENTRAL}@" not in result.stderr + result.stdout


def test_a_sender_survives_a_lost_broker_and_says_so_once(box, relay, caplog):
    a, _ = names(box)
    login = urlsplit(box.urls[a])
    url = parse_broker_url(
        f"amqps://{login.username}:{login.password}@localhost:{relay.port}/{box.vhost}",
        ca_file=str(relay.ca_file),
    )
    caplog.set_level(logging.INFO, logger="baluarte.collectors.health")
    sender = sending(url, a)
    try:
        until(lambda: sender.sent >= 1 and relay.connections == 1)
        relay.drop()  # the network goes: open connection cut, new ones refused
        time.sleep(0.1)
        lost_at = sender.sent
        time.sleep(5 * TICK)  # several ticks fail meanwhile
        assert sender.sent == lost_at
        relay.resume()
        until(lambda: sender.sent > lost_at)
        assert status_of(box, a).last_seen is not None
        time.sleep(3 * TICK)  # and it goes on
        assert sender.sent >= lost_at + 2
    finally:
        sender.stop()
    said = [r for r in caplog.records if r.name == "baluarte.collectors.health"]
    assert [r.levelno for r in said] == [logging.WARNING, logging.INFO], caplog.text
    # and nothing else said anything (kombu, py-amqp, asyncio): no traceback spam
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == said[:1]
    assert said[0].exc_info is None and "trying again every 0.2 s" in said[0].getMessage()
    assert said[1].getMessage() == f"collector {a}: heartbeat sent again"
    assert login.password and login.password not in caplog.text


def test_silence_and_a_clock_ahead_are_not_ok():
    now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)

    def seen(seconds_ago: float) -> CollectorStatus:
        at = datetime.fromtimestamp(now.timestamp() - seconds_ago, UTC)
        return CollectorStatus("madrid", at, "1.0", "pi", 0, 1)

    assert not silent(seen(89), now, after=90) and silent(seen(91), now, after=90)
    assert state_of(seen(89), now) == "ok"
    assert state_of(seen(12 * 60 + 5), now) == "silent for 12 min"
    assert state_of(seen(-30), now) == "ok"  # a clock a little ahead
    assert state_of(seen(-5 * 60), now) == "clock ahead by 5 min"
    assert not silent(CollectorStatus("x", None, None, None, 0, 0), now, after=90)
    on_wire = json.loads(heartbeat_json("madrid"))
    assert on_wire["schema"] == 1 and set(on_wire) == {
        "schema", "collector", "version", "hostname", "started_at", "sent_at", "concurrency",
    }  # fmt: skip
