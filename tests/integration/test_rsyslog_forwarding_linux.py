"""logging.remote_forwarding against rsyslogd really forwarding, or really not.

Each lab host runs rsyslogd with Debian's own rsyslog.conf plus one forwarding shape, and
forwards to the test: TCP and UDP receivers bound on the machine's side of the host's veth
(``host.gateway``). A line logged inside the host with ``logger`` either arrives or does not,
and Baluarte's verdict must say the same. imklog is left out: /proc/kmsg is the machine's
kernel log, not the host's, and reading it would take lines from the machine.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from baluarte.lab.linux_hosts import LinuxHost
from tests.integration.cli import baluarte, findings, write_inputs

POLICY = """\
id: rsyslog-forwarding
version: "1"
title: rsyslog forwarding (test)
applies_to: {platform: linux}
logging:
  remote_forwarding: {required: true}
"""
PORT = 16514
RELAY_PORT = 10514
START = (
    "sed -i '/imklog/d' /etc/rsyslog.conf && rsyslogd </dev/null >/dev/null 2>&1"
    " && for i in $(seq 50); do [ -S /dev/log ] && exit 0; sleep 0.1; done; exit 1"
)


def shapes(gw: str) -> dict[str, dict[str, str]]:
    """Host name → files to write. ``GW`` receives on PORT (TCP and UDP)."""
    fwd_tcp = f'action(type="omfwd" target="{gw}" port="{PORT}" protocol="tcp"'
    return {
        # rsyslog's documented reliable form: dotted queue parameters
        "queue": {
            "/etc/rsyslog.d/90-remote.conf": f'{fwd_tcp}\n       queue.type="LinkedList"'
            ' queue.filename="fwd" action.resumeRetryCount="-1")\n'
        },
        "legacy-udp": {"/etc/rsyslog.d/90-remote.conf": f"*.* @{gw}:{PORT}\n"},
        "called": {
            "/etc/rsyslog.d/90-remote.conf": f'ruleset(name="fwd") {{\n  {fwd_tcp})\n}}\ncall fwd\n'
        },
        "include": {
            "/etc/rsyslog.d/90-remote.conf": 'include(file="/etc/rsyslog-forward.inc")\n',
            "/etc/rsyslog-forward.inc": f"*.* @@{gw}:{PORT}\n",
        },
        # a forwarding action in a ruleset nothing binds or calls
        "unused": {"/etc/rsyslog.d/90-remote.conf": f'ruleset(name="unused") {{ {fwd_tcp}) }}\n'},
        # a relay: only what arrives over imtcp goes out, not this host's own logs
        "relay": {
            "/etc/rsyslog.d/90-remote.conf": 'module(load="imtcp")\n'
            f'input(type="imtcp" port="{RELAY_PORT}" ruleset="relay")\n'
            f'ruleset(name="relay") {{ {fwd_tcp}) }}\n'
        },
        # "& stop" after "*.*": nothing reaches the rules after it
        "stopped": {
            "/etc/rsyslog.d/10-all.conf": "*.* /var/log/all.log\n& stop\n",
            "/etc/rsyslog.d/90-remote.conf": f"*.* @@{gw}:{PORT}\n",
        },
        # omrelp is not installed (rsyslog-relp): rsyslogd cannot create the action
        "no-relp": {
            "/etc/rsyslog.d/90-remote.conf": f'action(type="omrelp" target="{gw}" port="{PORT}")\n'
        },
        # a misspelt parameter: rsyslogd -N1 reports it, and still creates the action
        "misspelt": {
            "/etc/rsyslog.d/90-remote.conf": f'{fwd_tcp}\n       queue.typo="LinkedList")\n'
        },
    }


class Receiver:
    """TCP and UDP syslog receivers on one address; ``got`` holds every byte received."""

    def __init__(self, address: str) -> None:
        self.got = bytearray()
        self.tcp = socket.create_server((address, PORT))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((address, PORT))
        self.closed = threading.Event()
        for target in (self._accept, self._datagrams):
            threading.Thread(target=target, daemon=True).start()

    def _accept(self) -> None:
        self.tcp.settimeout(0.2)
        while not self.closed.is_set():
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                continue
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        conn.settimeout(0.2)
        with conn:
            while not self.closed.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                self.got += data

    def _datagrams(self) -> None:
        self.udp.settimeout(0.2)
        while not self.closed.is_set():
            try:
                self.got += self.udp.recv(65536)
            except OSError:
                continue

    def wait_for(self, token: str, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if token.encode() in self.got:
                return True
            time.sleep(0.05)
        return token.encode() in self.got

    def close(self) -> None:
        self.closed.set()
        self.tcp.close()
        self.udp.close()


@pytest.fixture
def hosts(make_host) -> Iterator[dict[str, tuple[LinuxHost, Receiver]]]:
    made: dict[str, tuple[LinuxHost, Receiver]] = {}
    try:
        for name in shapes("x"):
            host = make_host(name)
            made[name] = (host, Receiver(host.gateway))
            for path, text in shapes(host.gateway)[name].items():
                host.run(f"cat > {path}", input=text)
            host.run(START)
        yield made
    finally:
        for _, receiver in made.values():
            receiver.close()


def test_verdict_matches_what_the_collector_receives(tmp_path, lab, hosts):
    token = f"baluarte-probe-{secrets.token_hex(4)}"
    for host, _ in hosts.values():
        host.run(f"logger -t probe {token}")
    forwarded = {name: rcv.wait_for(token, 3) for name, (_, rcv) in hosts.items()}
    # ground truth, by behaviour: which hosts really sent their own log line
    assert forwarded == {
        "queue": True,
        "legacy-udp": True,
        "called": True,
        "include": True,
        "unused": False,
        "relay": False,
        "stopped": False,
        "no-relp": False,
        "misspelt": True,
    }
    # the relay does forward what arrives over the network: its action works, its input is not
    # this host's logs
    relay, relay_rcv = hosts["relay"]
    with socket.create_connection((relay.address, RELAY_PORT), timeout=3) as conn:
        conn.sendall(f"<13>{token}-relayed\n".encode())
    assert relay_rcv.wait_for(f"{token}-relayed", 3)

    write_inputs(tmp_path, lab, [h for h, _ in hosts.values()], policy=POLICY)
    result = baluarte(tmp_path, "check", "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    got = findings(result)
    verdict = {n: got[(n, "logging.remote_forwarding")] for n in hosts}
    for name, sent in forwarded.items():
        assert verdict[name]["status"] == ("pass" if sent else "fail"), (name, verdict[name])

    gw = {name: host.gateway for name, (host, _) in hosts.items()}
    assert verdict["queue"]["observed"] == f"forwarding to {gw['queue']}:{PORT}/tcp via rsyslog"
    assert "at /etc/rsyslog.d/90-remote.conf:1 [active]" in verdict["queue"]["evidence"]
    assert verdict["legacy-udp"]["observed"].endswith(f":{PORT}/udp via rsyslog")
    assert "at /etc/rsyslog-forward.inc:1 [active]" in verdict["include"]["evidence"]
    why = {n: verdict[n]["observed"] for n in ("unused", "relay", "stopped")}
    assert "ruleset unused is bound to no input and no call reaches it" in why["unused"]
    assert "ruleset relay receives only network input (imtcp)" in why["relay"]
    assert "an unconditional stop at /etc/rsyslog.d/10-all.conf:2 comes first" in why["stopped"]
    assert (
        "rsyslogd -N1 reports an error in it: module name 'omrelp' is unknown"
        in (verdict["no-relp"]["observed"])
    )
    assert (
        "rsyslogd -N1 reports /etc/rsyslog.d/90-remote.conf:2: parameter 'queue.typo' not known"
        in verdict["misspelt"]["evidence"]
    )
