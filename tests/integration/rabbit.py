"""Test machinery for the real RabbitMQ at 127.0.0.1:5672: a vhost of the test's own, its
collectors, and collector processes.

Nothing global is changed: every vhost and user made here is deleted when the test ends.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from kombu import Connection

from tests.integration.cli import BIN

CENTRAL = "guest"  # the local broker's default admin: the central side in these tests
RABBITMQCTL = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"


def broker_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=2).close()
    except OSError:
        return False
    return True


needs_rabbitmq = pytest.mark.skipif(
    os.geteuid() != 0 or not Path(RABBITMQCTL).exists() or not broker_up(),
    reason="needs root, rabbitmqctl and RabbitMQ on 127.0.0.1:5672",
)


def ctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RABBITMQCTL, "-q", *args], capture_output=True, text=True, timeout=60, check=False
    )


class Vhost:
    """A vhost of the test's own with the central login on it, and the collectors made in it."""

    def __init__(self) -> None:
        tag = secrets.token_hex(4)
        self.name = f"baluarte-test-{tag}"
        self.prefix = f"t{tag}"  # user names are global to the node: unique per test
        self.central = f"amqp://{CENTRAL}:{CENTRAL}@127.0.0.1:5672/{self.name}"
        self.users: list[str] = []
        self.urls: dict[str, str] = {}

    def collector(self, short: str) -> str:
        """Provision collector ``PREFIX-short`` (its URL in ``urls``); its name."""
        from baluarte.collectors.broker import parse_broker_url, provision_collector

        name = f"{self.prefix}-{short}"
        self.users.append(f"baluarte-collector-{name}")
        made = provision_collector(name, parse_broker_url(self.central))
        self.urls[name] = made.url
        return name

    def connection(self) -> Connection:
        return Connection(self.central)

    def queue_depth(self, queue: str) -> tuple[int, int]:
        """(messages ready, consumers) of ``queue``."""
        with self.connection() as conn:
            ok = conn.default_channel.queue_declare(queue=queue, passive=True)
            return ok.message_count, ok.consumer_count


@contextmanager
def vhost() -> Iterator[Vhost]:
    box = Vhost()
    assert ctl("add_vhost", box.name).returncode == 0
    try:
        assert ctl("set_permissions", "-p", box.name, CENTRAL, ".*", ".*", ".*").returncode == 0
        yield box
    finally:
        for user in box.users:
            ctl("delete_user", user)
        ctl("delete_vhost", box.name)


class CollectorProcess:
    """``baluarte collector`` in a session of its own, its output in a file."""

    def __init__(self, box: Vhost, name: str, folder: Path, *, secrets_file: Path) -> None:
        self.box = box
        self.name = name
        self.log = folder / f"collector-{name}-{secrets.token_hex(2)}.log"
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [str(BIN), "collector", "--name", name, "--secrets", str(secrets_file),
                 "--artifacts", str(folder / "artifacts")],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=folder,
                env={k: v for k, v in os.environ.items() if not k.startswith("BALUARTE_")},
                start_new_session=True,
            )  # fmt: skip

    def wait_consuming(self, timeout: float = 30) -> None:
        """Until the broker sees it consuming its queue."""
        ends = time.monotonic() + timeout
        while time.monotonic() < ends:
            if self.proc.poll() is not None:
                raise AssertionError(f"the collector exited {self.proc.returncode}: {self.text()}")
            if self.box.queue_depth(f"baluarte.collector.{self.name}")[1] >= 1:
                return
            time.sleep(0.1)
        raise AssertionError(f"the collector did not start consuming: {self.text()}")

    def wait_for(self, text: str, timeout: float = 60) -> None:
        ends = time.monotonic() + timeout
        while time.monotonic() < ends:
            if text in self.text():
                return
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not in the collector's output: {self.text()}")

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """The collector and everything it started (its SSH worker)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
