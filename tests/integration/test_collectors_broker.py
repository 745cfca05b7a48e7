"""`baluarte collectors provision|remove` on the real RabbitMQ at 127.0.0.1:5672.

Each test works in a vhost of its own (``baluarte-test-<random>``, guest given all on it) and
deletes it, and every collector user it made, when it ends: no other vhost or user is touched.
What collector A may do is tried with A's own URL through py-amqp (kombu's transport), as a
compromised collector would: the broker, not Baluarte, is what refuses.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import amqp
import pytest
from amqp.exceptions import AccessRefused
from kombu import Connection

from tests.integration.cli import BIN
from tests.integration.rabbit import CENTRAL, ctl, needs_rabbitmq

pytestmark = needs_rabbitmq


class Sandbox:
    """A vhost of the test's own, the central URL for it, and the collectors made in it."""

    def __init__(self) -> None:
        tag = secrets.token_hex(4)
        self.vhost = f"baluarte-test-{tag}"
        self.prefix = f"t{tag}"  # user names are global to the node: unique per test
        self.broker = f"amqp://{CENTRAL}:{CENTRAL}@127.0.0.1:5672/{self.vhost}"
        self.users: list[str] = []

    def name(self, short: str) -> str:
        name = f"{self.prefix}-{short}"
        self.users.append(f"baluarte-collector-{name}")
        return name


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox()
    assert ctl("add_vhost", box.vhost).returncode == 0
    try:
        assert ctl("set_permissions", "-p", box.vhost, CENTRAL, ".*", ".*", ".*").returncode == 0
        yield box
    finally:
        for user in box.users:
            ctl("delete_user", user)  # gone already when the test removed it
        ctl("delete_vhost", box.vhost)


def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def finish(proc: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return finish(start(*args, env=env))


def provision_watching_proc(
    name: str, broker: str
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Provision while every command line on the machine is read from /proc, as another user
    could; returns the result and every command line seen meanwhile."""
    seen: set[str] = set()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for pid in os.listdir("/proc"):
                if pid.isdigit():
                    try:
                        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
                    except OSError:
                        continue
                    seen.add(raw.replace(b"\0", b" ").decode(errors="replace"))
            done.wait(0.005)  # rabbitmqctl lives ~1 s: many scans, and CPU left for it

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        result = run("collectors", "provision", name, "--broker", broker)
    finally:
        done.set()
        watcher.join()
    return result, seen


def password_of(url: str) -> str:
    return unquote(urlsplit(url).password or "")


def refused(call) -> None:
    with pytest.raises(AccessRefused) as caught:
        call()
    assert caught.value.reply_code == 403


def queue(name: str) -> str:
    return f"baluarte.collector.{name}"


def test_a_collector_reaches_only_its_own_queue_and_the_results_exchange(sandbox):
    a, b = sandbox.name("a"), sandbox.name("b")

    # B is provisioned meanwhile (BALUARTE_BROKER this time), seen by the scan too
    making_b = start("collectors", "provision", b, env={"BALUARTE_BROKER": sandbox.broker})
    made_a, cmdlines = provision_watching_proc(a, sandbox.broker)
    assert made_a.returncode == 0, made_a.stderr
    url_a = made_a.stdout.splitlines()[-1]
    assert url_a.startswith(f"amqp://baluarte-collector-{a}:")
    assert url_a.endswith(f"@127.0.0.1:5672/{sandbox.vhost}")
    pw_a = password_of(url_a)
    assert len(pw_a) >= 40
    # the scan did see rabbitmqctl make the user, and the password was on no command line
    assert any("add_user" in c and f"baluarte-collector-{a}" in c for c in cmdlines)
    assert not [c for c in cmdlines if pw_a in c]
    assert pw_a not in made_a.stderr and f"{CENTRAL}:{CENTRAL}@" not in made_a.stderr
    assert f"permissions on vhost {sandbox.vhost}" in made_a.stderr

    made_b = finish(making_b)
    assert made_b.returncode == 0, made_b.stderr
    url_b = made_b.stdout.splitlines()[-1]

    # B seen from another vhost (another installation's broker URL) is not removed
    other = sandbox.broker.rsplit("/", 1)[0] + "/" + sandbox.vhost + "-other"
    # a second provision of A is refused and leaves A's URL working (checked below)
    provisioning_again = start("collectors", "provision", a, "--broker", sandbox.broker)
    elsewhere = run("collectors", "remove", b, "--broker", other)
    assert elsewhere.returncode == 2, elsewhere.stderr
    assert f"not on '{sandbox.vhost}-other'" in elsewhere.stderr
    assert "nothing was removed" in elsewhere.stderr

    again = finish(provisioning_again)
    assert again.returncode == 2
    assert "already provisioned" in again.stderr and "Traceback" not in again.stderr

    with Connection(sandbox.broker) as central:
        ch = central.channel()
        ch.queue_declare(queue(b), durable=True, auto_delete=False)
        ch.queue_declare("central.results", durable=False, auto_delete=False)
        ch.queue_bind("central.results", "baluarte.results", routing_key="#")

        with Connection(url_a) as conn_a:
            conn_a.connect()
            own = conn_a.channel()
            own.queue_declare(queue(a), durable=True, auto_delete=False)  # configure: own
            ch.basic_publish(amqp.Message(b"task for a"), exchange="", routing_key=queue(a))
            got = _get(own, queue(a))
            assert got is not None and got.body == b"task for a"  # read: own queue
            own.queue_purge(queue(a))
            own.basic_consume(queue(a), callback=lambda m: None)

            refused(lambda: conn_a.channel().basic_consume(queue(b), callback=lambda m: None))
            refused(lambda: conn_a.channel().basic_get(queue(b)))
            refused(
                lambda: conn_a.channel().queue_declare(queue(b), durable=True, auto_delete=False)
            )
            refused(lambda: conn_a.channel().queue_purge(queue(b)))
            refused(lambda: conn_a.channel().queue_delete(queue(b)))
            refused(lambda: _publish(conn_a, "", queue(b), b"forged task"))
            refused(lambda: _publish(conn_a, "", queue(a), b"own queue, still no"))
            refused(lambda: conn_a.channel().exchange_declare("baluarte.other", "topic"))
            # the results exchange is published to, never (re)declared, by a collector
            refused(
                lambda: conn_a.channel().exchange_declare(
                    "baluarte.results", "topic", durable=True, auto_delete=False
                )
            )
            # on the results exchange, only under its own name (a topic permission)
            refused(lambda: _publish(conn_a, "baluarte.results", f"heartbeat.{b}", b"as b"))
            refused(lambda: _publish(conn_a, "baluarte.results", f"result.{'0' * 32}.{b}", b"b"))
            refused(lambda: _publish(conn_a, "baluarte.results", "anything.else", b"no"))
            assert ch.queue_declare(queue(b), passive=True).message_count == 0

            _publish(conn_a, "baluarte.results", f"heartbeat.{a}", b"alive")
            result = _get(ch, "central.results")
            assert result is not None and result.body == b"alive"

            removed = run("collectors", "remove", a, "--broker", sandbox.broker)
            assert removed.returncode == 0, removed.stderr
            assert f"removed RabbitMQ user baluarte-collector-{a}" in removed.stdout
            # RabbitMQ closes the removed user's open connection
            with pytest.raises((OSError, amqp.exceptions.ConnectionError, AccessRefused)):
                _publish(conn_a, "baluarte.results", "after.removal", b"x")

    with pytest.raises(AccessRefused):
        Connection(url_a, connect_timeout=5).connect()
    gone = run("collectors", "remove", a, "--broker", sandbox.broker)
    assert gone.returncode == 0 and f"collector {a} is not provisioned" in gone.stdout
    with Connection(url_b, connect_timeout=5) as conn_b:
        conn_b.connect()  # B untouched by A's removal


def _get(channel, name: str):
    # basic_get right after a publish on another connection: give the broker a moment
    for _ in range(50):
        message = channel.basic_get(name, no_ack=True)
        if message is not None:
            return message
        threading.Event().wait(0.02)
    return None


def _publish(conn, exchange: str, routing_key: str, body: bytes) -> None:
    # with publisher confirms a refused publish raises here, not later on another call
    conn.channel().basic_publish_confirm(
        amqp.Message(body), exchange=exchange, routing_key=routing_key, confirm_timeout=5
    )


def test_the_url_given_to_a_collector_is_where_it_reaches_the_broker(sandbox):
    """Central side on loopback, collectors at the provider's public name and amqps port: the
    printed URL is there, and its login (proved on the central URL) is the collector's."""
    name = sandbox.name("pub")
    made = run(
        "collectors", "provision", name, "--broker", sandbox.broker,
        "--reached-at", "amqps://Broker.Example.NET:5671",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    url = made.stdout.splitlines()[-1]
    parts = urlsplit(url)
    assert (parts.scheme, parts.hostname, parts.port) == ("amqps", "broker.example.net", 5671)
    assert (unquote(parts.username or ""), parts.path) == (
        f"baluarte-collector-{name}",
        f"/{sandbox.vhost}",
    )
    assert "its URL is at amqps://broker.example.net:5671 (--reached-at)" in made.stderr
    # the same login works where this machine reaches the broker
    here = f"amqp://{parts.username}:{parts.password}@127.0.0.1:5672/{sandbox.vhost}"
    with Connection(here, connect_timeout=10) as conn:
        conn.ensure_connection(max_retries=0)
        assert conn.connected


def test_bad_input_is_exit_2_without_a_trace_and_never_shows_the_central_password(tmp_path):
    canary = "central-Pw-canary-4711"
    cases = [
        (
            ["provision", "Madrid", "--broker", f"amqp://u:{canary}@127.0.0.1/v"],
            "not a valid collector name",
        ),
        (
            ["remove", "a.b", "--broker", f"amqp://u:{canary}@127.0.0.1/v"],
            "not a valid collector name",
        ),
        (
            ["provision", "madrid", "--broker", f"http://u:{canary}@127.0.0.1/v"],
            "is not a RabbitMQ URL",
        ),
        (
            ["provision", "madrid", "--broker", f"amqp://u:{canary}@127.0.0.1:x/v"],
            "is not a valid URL",
        ),
        (
            ["provision", "madrid", "--broker", "amqp://127.0.0.1/v"],
            "needs a host, a user and a password",
        ),
        (["provision", "madrid"], "pass --broker URL or set BALUARTE_BROKER"),
        # where the collectors reach the broker: a place, not a login or a vhost
        (
            [
                "provision",
                "madrid",
                "--broker",
                f"amqp://u:{canary}@127.0.0.1:1/v",
                "--reached-at",
                "https://broker.example.net",
            ],
            "is not a broker's place",
        ),
        (
            [
                "provision",
                "madrid",
                "--broker",
                f"amqp://u:{canary}@127.0.0.1:1/v",
                "--reached-at",
                f"amqps://u:{canary}@broker.example.net/v",
            ],
            "holds a login and a vhost",
        ),
        # a broker nobody listens on: refused before any user is made
        (
            ["provision", "madrid", "--broker", f"amqp://u:{canary}@127.0.0.1:1/v"],
            "cannot reach the broker amqp://u:***@127.0.0.1:1/v",
        ),
    ]
    env = {k: v for k, v in os.environ.items() if k != "BALUARTE_BROKER"}
    # run side by side: each is a separate process, and the file should stay fast
    procs = [
        (args, expected, subprocess.Popen(
            [str(BIN), "collectors", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        ))
        for args, expected in cases
    ]  # fmt: skip
    for args, expected, proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 2, (args, err)
        assert expected in err, (args, err)
        assert "Traceback" not in err
        assert canary not in out + err
    assert ctl("list_users").stdout.count("baluarte-collector-madrid") == 0


def test_without_rabbitmqctl_on_path_it_says_where_to_run(tmp_path):
    env = {**os.environ, "PATH": str(BIN.parent)}  # the venv only: no /usr/sbin
    env.pop("BALUARTE_BROKER", None)
    result = subprocess.run(
        [str(BIN), "collectors", "remove", "madrid", "--broker", "amqp://u:p@127.0.0.1/v"],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "rabbitmqctl is not on PATH" in result.stderr and "Traceback" not in result.stderr
