"""Issue 12, class 1: the sudo password never reaches what another user of the host can read.

Baluarte logs in as ``audit``, whose sudo wants a password (the canary). Meanwhile an
unprivileged user of the host, ``snoop``, samples every process's command line (and every
environment it may read) in a loop, through a ``check`` and an ``apply --yes`` that both work
through sudo. The canary must never be seen, nor be in the host's logs and files, nor in
anything Baluarte printed or stored. A positive control first proves the sampler sees another
user's command line.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pyinfra.api.command import StringCommand

from baluarte.lab.systemd_hosts import SystemdHost, SystemdHostLab
from baluarte.transports.ssh_remote import remote_command
from tests.integration import cli
from tests.integration import conftest as hosts
from tests.integration.test_apply_linux import POLICY, weak_host

# the lab fixtures of tests/integration, here too
lab, systemd_lab, make_systemd_host = hosts.lab, hosts.systemd_lab, hosts.make_systemd_host

SUDO_CANARY = "sudo-Kx7pQ2v9-canary"
ENV = {"BALUARTE_TEST_SUDO": SUDO_CANARY}
SAMPLER = """\
n=0
while [ ! -e /home/snoop/stop ]; do
  cat /proc/[0-9]*/cmdline /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' \\
    | grep -F -f /home/snoop/needle >> /home/snoop/hits
  n=$((n+1)); echo "$n" > /home/snoop/rounds
done
"""


def test_the_command_built_for_sudo_carries_no_password() -> None:
    built = remote_command(None, None, StringCommand("id", "-u"), _sudo=True, _sudo_password="pw-1")
    text = built.get_raw_value()
    assert "pw-1" not in text
    assert "sudo -p BALUARTE_SUDO_PASSWORD -H -A -k" in text
    with pytest.raises(ValueError, match="line break") as caught:
        remote_command(None, None, StringCommand("id"), _sudo=True, _sudo_password="a\nb")
    assert "a\nb" not in str(caught.value)


def users(host: SystemdHost) -> None:
    """``audit``: Baluarte's login, sudo with a password; ``snoop``: a local user, no rights."""
    host.run(
        "useradd -m -s /bin/sh audit && useradd -m -s /bin/sh snoop"
        " && mkdir -p ~audit/.ssh && cp /root/.ssh/authorized_keys ~audit/.ssh/"
        " && chown -R audit: ~audit/.ssh"
        " && echo 'audit ALL=(ALL) ALL' > /etc/sudoers.d/audit && chmod 440 /etc/sudoers.d/audit"
    )
    host.run("chpasswd", input=f"audit:{SUDO_CANARY}\n")
    host.run("install -o snoop -m 600 /dev/stdin /home/snoop/needle", input=SUDO_CANARY + "\n")
    host.run("install -o snoop -m 700 /dev/stdin /home/snoop/sampler.sh", input=SAMPLER)


def sampled(host: SystemdHost) -> tuple[int, str]:
    rounds = host.run("cat /home/snoop/rounds", check=False).stdout.strip()
    hits = host.run("cat /home/snoop/hits", check=False).stdout
    return int(rounds or 0), hits


def as_audit_with_sudo_password(tmp: Path) -> None:
    text = (tmp / "inventory.yaml").read_text()
    text = re.sub(
        r"( +)user: root",
        r'\1user: audit\n\1sudo: true\n\1sudo_password: "env:BALUARTE_TEST_SUDO"',
        text,
    )
    (tmp / "inventory.yaml").write_text(text)


@pytest.mark.hosts
def test_the_sudo_password_is_never_on_the_hosts_command_lines(
    tmp_path: Path, systemd_lab: SystemdHostLab, make_systemd_host: Callable[..., SystemdHost]
) -> None:
    host = weak_host(make_systemd_host, "cmdline1")
    users(host)
    host.run("systemd-run --uid=snoop --unit=snoop-sampler sh /home/snoop/sampler.sh")
    # positive control: snoop sees another user's command line while it runs
    # (setpriv, not runuser: no PAM session whose log would keep the command line)
    host.run(
        "setpriv --reuid=audit --regid=audit --clear-groups"
        f" sh -c 'sleep 2' {SUDO_CANARY} </dev/null >/dev/null 2>&1 &"
    )
    deadline = time.monotonic() + 20
    while SUDO_CANARY not in sampled(host)[1]:
        assert time.monotonic() < deadline, "the sampler does not see other users' processes"
        time.sleep(0.2)
    time.sleep(2.5)
    host.run(": > /home/snoop/hits")
    before = sampled(host)[0]

    cli.write_inputs(tmp_path, systemd_lab, [host], policy=POLICY)
    as_audit_with_sudo_password(tmp_path)
    checked = cli.baluarte(tmp_path, "check", "--format", "json", env=ENV)
    found = cli.findings(checked)
    # sudo worked with the password: the root-only facts were read and judged
    assert checked.returncode == 1, checked.stderr
    assert found[("cmdline1", "access.ssh_root_login")]["status"] == "fail"
    applied = cli.baluarte(tmp_path, "apply", "--format", "json", "--yes", "--all", env=ENV)
    assert applied.returncode == 0, applied.stdout[-2000:] + applied.stderr
    records = json.loads(applied.stdout)["run"]["remediations"]
    assert records and {r["result"] for r in records} == {"applied"}

    host.run("touch /home/snoop/stop")
    rounds, hits = sampled(host)
    assert rounds - before > 20  # it kept sampling all along
    assert hits == ""
    # nor in the host's logs and files (the needle file itself aside)
    journal = host.run("journalctl --no-pager -o export", check=False).stdout  # every field
    assert journal and SUDO_CANARY not in journal
    leftover = host.run(
        f"grep -rlF {SUDO_CANARY} /var/log /tmp /var/tmp /run /root /home/audit /etc",
        check=False,
    )
    assert leftover.stdout == ""
    # nor in anything Baluarte printed or stored
    for text in (checked.stdout, checked.stderr, applied.stdout, applied.stderr):
        assert SUDO_CANARY not in text
    assert SUDO_CANARY.encode() not in (tmp_path / "runs.db").read_bytes()
