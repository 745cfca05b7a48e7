"""The lab's systemd hosts boot real systemd as PID 1 and behave like separate machines."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from baluarte.lab.aptrepo import publish_updates
from baluarte.lab.linux_hosts import reap_stale_labs
from baluarte.lab.systemd_hosts import (
    MAX_RUNNING,
    LabError,
    SystemdHost,
    SystemdHostLab,
    _claim_slot,
    inotify_headroom,
    leftovers,
)
from tests.integration import cli
from tests.integration.cli import baluarte, findings, ssh

pytestmark = pytest.mark.hosts
INOTIFY_LIMIT = Path("/proc/sys/fs/inotify/max_user_instances")

BACKUP_SERVICE = """\
[Unit]
Description=Lab backup job

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo backed up > /var/tmp/bl-backup.done'
"""
BACKUP_TIMER = """\
[Unit]
Description=Lab backup schedule

[Timer]
OnActiveSec=1s
AccuracySec=1ms

[Install]
WantedBy=timers.target
"""
PATCHING_ONLY = """\
id: patch-only
version: "1"
title: Patch level only (systemd host)
applies_to: {platform: linux}
patching:
  security_updates_pending: {max: 0}
  updates_pending: {max: 0}
  automatic_updates: {required: true}
  reboot_required: {grace_days: 7}
"""


def test_ssh_reaches_a_booted_systemd_with_strict_host_key_checking(systemd_lab, systemd_host):
    done = ssh(systemd_lab, systemd_host, "hostname; systemctl is-system-running; ps -o comm= 1")
    assert done.returncode == 0, done.stderr
    name, state, pid1 = done.stdout.split()
    assert name == "sdhost"
    assert state in ("running", "degraded")
    assert pid1 == "systemd"
    assert systemd_host.address.startswith("10.200.")
    assert systemd_host.run("systemctl is-active ssh.service").stdout.strip() == "active"


def test_a_timer_runs_its_oneshot_service_and_systemd_records_the_result(systemd_host):
    systemd_host.write_unit("bl-backup.service", BACKUP_SERVICE)
    systemd_host.write_unit("bl-backup.timer", BACKUP_TIMER)
    before = int(systemd_host.run("date +%s").stdout)
    systemd_host.systemctl("enable", "--now", "bl-backup.timer")
    ran = systemd_host.wait_unit_ran("bl-backup.service", timeout=30)
    assert ran["Result"] == "success"
    assert ran["ExecMainStatus"] == "0"
    assert systemd_host.run("cat /var/tmp/bl-backup.done").stdout == "backed up\n"
    # The timestamp a backup-age check reads: the end of the service run, from this boot.
    shown = systemd_host.run(
        "systemctl show -p Result -p ExecMainExitTimestamp bl-backup.service"
    ).stdout
    assert "Result=success" in shown.splitlines()
    stamp = ran["ExecMainExitTimestamp"]
    assert f"ExecMainExitTimestamp={stamp}" in shown.splitlines()
    epoch = int(systemd_host.run(f"date -d '{stamp}' +%s").stdout)
    assert before <= epoch <= before + 30
    enabled = systemd_host.run("systemctl is-enabled bl-backup.timer").stdout.strip()
    assert enabled == "enabled"


def test_a_failing_service_run_is_recorded_as_a_failure(systemd_host):
    systemd_host.write_unit(
        "bl-broken.service", "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'exit 3'\n"
    )
    assert systemd_host.systemctl("start", "bl-broken.service", check=False).returncode != 0
    ran = systemd_host.wait_unit_ran("bl-broken.service", timeout=10)
    assert ran["Result"] == "exit-code"
    assert ran["ExecMainStatus"] == "3"


def test_timedatectl_answers_over_dbus(systemd_host):
    shown = systemd_host.run("timedatectl show").stdout.splitlines()
    props = dict(line.split("=", 1) for line in shown)
    assert props["Timezone"] == "Etc/UTC"
    # chrony is installed (an NTP unit exists) but skipped: no CAP_SYS_TIME in the container.
    assert props["CanNTP"] == "yes"
    assert props["NTP"] == "no"
    # The kernel clock's state, shared with the machine: present, value not ours to choose.
    assert props["NTPSynchronized"] in ("yes", "no")


def test_units_written_before_boot_are_in_place_at_boot(make_systemd_host):
    def enable_at_boot(host: SystemdHost) -> None:
        units = host.root / "etc/systemd/system"
        (units / "bl-early.service").write_text(
            BACKUP_SERVICE.replace("bl-backup.done", "bl-early.done")
            + "\n[Install]\nWantedBy=multi-user.target\n"
        )
        wants = units / "multi-user.target.wants"
        wants.mkdir(exist_ok=True)
        (wants / "bl-early.service").symlink_to("/etc/systemd/system/bl-early.service")

    host = make_systemd_host("early", before_boot=enable_at_boot)
    assert host.unit_properties("bl-early.service", "Result")["Result"] == "success"
    assert host.run("cat /var/tmp/bl-early.done").stdout == "backed up\n"


def test_stopped_ssh_service_refuses_connections_until_started(systemd_lab, systemd_host):
    systemd_host.stop_sshd()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((systemd_host.address, systemd_host.port), timeout=5).close()
    assert systemd_host.run("systemctl is-active ssh.service", check=False).stdout.strip() == (
        "inactive"
    )
    systemd_host.start_sshd()
    assert ssh(systemd_lab, systemd_host, "true").returncode == 0


def test_three_hosts_at_once_are_separate_and_leave_nothing(lab):  # `lab`: skip where needed
    with SystemdHostLab() as own:
        hosts = [own.up(f"sd{i}") for i in range(3)]
        assert len({h.address for h in hosts}) == 3
        for host in hosts:
            assert ssh(own, host, "hostname").stdout.strip() == host.name
        ids = {h.run("cat /etc/machine-id").stdout for h in hosts}
        assert len(ids) == 3
        # One host's systemd does not manage another's processes (own control groups).
        hosts[0].systemctl("stop", "ssh.service")
        assert ssh(own, hosts[1], "systemctl is-active ssh.service").stdout.strip() == "active"
        hosts[0].systemctl("start", "ssh.service")
        found = leftovers(own.prefix)
        assert any(item.startswith("cgroup ") for item in found)
        assert any(item.startswith("nspawn ") for item in found)
        own.down(hosts[0])
        assert not any(hosts[0].machine in item for item in leftovers(own.prefix))
        # Closing the lab halts the other two.
    assert leftovers(own.prefix) == []
    assert not own.dir.exists()
    assert (
        hosts[1].machine
        not in subprocess.run(
            ["ip", "netns", "list"], capture_output=True, text=True, check=False
        ).stdout
    )


def test_a_failing_boot_raises_with_the_console_tail(systemd_lab):
    def break_init(host: SystemdHost) -> None:
        init = host.root / "usr/lib/systemd/systemd"
        init.unlink()
        init.write_text("#!/bin/sh\necho 'lab init deliberately broken' >&2\nexit 1\n")
        init.chmod(0o755)

    with pytest.raises(LabError, match="did not boot") as raised:
        systemd_lab.up("broken", before_boot=break_init)
    assert "lab init deliberately broken" in str(raised.value)
    assert "broken" not in systemd_lab.hosts
    assert not any("/broken/" in item for item in leftovers(systemd_lab.prefix))


def test_check_collects_on_a_systemd_host(tmp_path: Path, systemd_lab, systemd_host):
    # fresh package lists: the pending counts are trusted only from those
    publish_updates(systemd_host, normal=[])
    cli.write_inputs(tmp_path, systemd_lab, [systemd_host], policy=PATCHING_ONLY)
    result = baluarte(tmp_path, "check", "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    got = findings(result)
    statuses = {control: f["status"] for (_, control), f in got.items()}
    assert set(statuses) == {
        "patching.security_updates_pending",
        "patching.updates_pending",
        "patching.automatic_updates",
        "patching.reboot_required",
    }
    assert "error" not in statuses.values(), got
    assert statuses["patching.updates_pending"] == "pass"  # the image has no pending updates
    # systemd-nspawn is a proven container: its kernel is the host's
    assert statuses["patching.reboot_required"] == "not_applicable"


def test_slots_cap_the_hosts_running_at_once_and_free_with_their_holder(tmp_path):
    held = [_claim_slot(tmp_path, timeout=1) for _ in range(MAX_RUNNING)]
    with pytest.raises(LabError, match=f"{MAX_RUNNING} systemd lab hosts already running"):
        _claim_slot(tmp_path, timeout=0.3)
    os.close(held.pop())
    held.append(_claim_slot(tmp_path, timeout=1))  # a closed (or dead) holder frees its slot
    for fd in held:
        os.close(fd)
    assert 0 < inotify_headroom() <= int(INOTIFY_LIMIT.read_text())


def test_a_systemd_lab_whose_owner_was_killed_is_reaped(lab):  # `lab`: skip where needed
    script = (
        "import os, signal\n"
        "from baluarte.lab.systemd_hosts import SystemdHostLab\n"
        "lab = SystemdHostLab()\n"
        "lab.up('orphan')\n"
        "print(lab.prefix, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    prefix = done.stdout.strip()
    assert prefix.startswith("blab"), done.stderr
    kinds = {item.split()[0] for item in leftovers(prefix)}
    assert {"process", "cgroup", "nspawn", "netns"} <= kinds
    assert prefix in reap_stale_labs()
    assert leftovers(prefix) == []
