"""A silent collector is told once, and once when it comes back: the service's watch on the
real RabbitMQ, delivering to a real SMTP server and a real webhook receiver.

The watch ticks every 0.15 s and a collector is silent after 1 s without a heartbeat (60 s and
90 s in service): it stays silent for several ticks, and a process that starts meanwhile (a new
watch, with nothing in memory) does not tell it again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from baluarte.collectors.broker import parse_broker_url
from baluarte.collectors.health import HeartbeatSender
from baluarte.masking import forget_secrets
from baluarte.service.collector_watch import CollectorWatch
from baluarte.service.config import load_config
from baluarte.service.notify.webhook import verify
from baluarte.service.runtime import Background, build_service
from tests.integration.rabbit import needs_rabbitmq, vhost
from tests.service._collectors import write_config, write_inventory
from tests.service._notify_servers import http_server, part, smtp_server

pytestmark = needs_rabbitmq

TICK = 0.15
HOOK_SECRET = "watch-hook-secret-7Hq"


def _until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


class Ticks:
    """The watch on a background loop, as ``serve`` runs it; counts its ticks."""

    def __init__(self, watch: CollectorWatch) -> None:
        self.watch = watch
        self.count = 0
        self.loop = Background()
        self.loop.every(TICK, "collector-watch", self._tick)

    def _tick(self) -> None:
        self.watch.tick()
        self.count += 1

    def wait(self, n: int) -> None:
        """Until ``n`` more ticks have run."""
        target = self.count + n
        _until(lambda: self.count >= target)

    def stop(self) -> None:
        self.loop.stop()
        self.watch.close()


@pytest.fixture
def hook_secret(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "hook.secret"
    path.write_text(HOOK_SECRET + "\n")
    path.chmod(0o600)
    yield path
    forget_secrets()


def test_a_collector_that_goes_silent_is_told_once_and_once_when_it_is_back(
    tmp_path: Path, hook_secret: Path
):
    with (
        vhost() as box,
        smtp_server(tmp_path, mode="plain") as smtp,
        http_server() as hook,
    ):
        name = box.collector("w")
        # the other two collectors declared are not provisioned: they never say anything
        inventory = write_inventory(tmp_path, name, f"{box.prefix}-n", f"{box.prefix}-g")
        config = load_config(
            write_config(
                tmp_path,
                inventory,
                broker_url=box.central,
                extra=(
                    "collector_silent_after: 1\n"
                    "base_url: https://baluarte.example.es\n"
                    "notifications:\n"
                    "  email:\n"
                    f"    smtp: smtp://127.0.0.1:{smtp.port}\n"
                    "    starttls: false\n"
                    "    from: baluarte@provider.example\n"
                    "    to: [ops@provider.example]\n"
                    "  webhooks:\n"
                    f"    - url: http://127.0.0.1:{hook.server_address[1]}/in\n"
                    f"      secret: file:{hook_secret}\n"
                ),
            )
        )
        service, notifier = build_service(config, holder="test")
        url = parse_broker_url(box.urls[name])
        mails = smtp.mailbox.messages
        ticks = Ticks(CollectorWatch(service, notifier, every=TICK))
        senders: list[HeartbeatSender] = []
        try:
            senders.append(HeartbeatSender(url, name, interval=0.2))
            senders[-1].start()
            _until(lambda: senders[-1].sent >= 1)
            ticks.wait(3)
            assert mails == [] and hook.requests == []  # working, never silent: nothing to say

            senders[-1].stop(5)
            _until(lambda: len(mails) == 1 and len(hook.requests) == 1)
            ticks.wait(3)  # silent for longer: nothing more
            assert len(mails) == 1 and len(hook.requests) == 1
            mail = mails[0].message
            assert mail["Subject"] == f"[Baluarte] El colector {name} no da señales"
            assert mail["X-Baluarte-Collector"] == name
            assert mail["Auto-Submitted"] == "auto-generated"
            text = part(mail, "plain")
            assert f"El colector {name} no envía latidos desde hace 1 segundo" in text
            assert "no se pueden comprobar: acme / madrid" in text
            assert "Abrir en el panel: https://baluarte.example.es/collectors" in text
            request = hook.requests[0]
            assert verify(
                HOOK_SECRET,
                request.headers["X-Baluarte-Timestamp"],
                request.body,
                request.headers["X-Baluarte-Signature"],
            )
            doc = json.loads(request.body)
            assert doc["event"] == "collector_silent" and doc["collector"] == name
            assert doc["sites"] == [{"client": "acme", "site": "madrid"}]

            # the service restarts while the collector is still silent: not told again
            ticks.stop()
            ticks = Ticks(CollectorWatch(service, notifier, every=TICK))
            ticks.wait(3)
            assert len(mails) == 1 and len(hook.requests) == 1

            senders.append(HeartbeatSender(url, name, interval=0.2))
            senders[-1].start()
            _until(lambda: len(mails) == 2 and len(hook.requests) == 2)
            ticks.wait(3)
            assert len(mails) == 2 and len(hook.requests) == 2
            back = mails[1].message
            assert back["Subject"] == f"[Baluarte] El colector {name} vuelve a dar señales"
            assert "vuelve a enviar latidos" in part(back, "plain")
            assert json.loads(hook.requests[1].body)["event"] == "collector_back"
            # the collectors not provisioned said nothing all along
            assert all(m.message["X-Baluarte-Collector"] == name for m in mails)
        finally:
            ticks.stop()
            for sender in senders:
                sender.stop(5)
            service.close()
