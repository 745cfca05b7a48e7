"""End to end through the CLI: `baluarte apply` on real Debian hosts with systemd as PID 1.

non-compliant → plan (nothing changes) → apply --yes → compliant, re-verified and recorded;
the plan lists exactly what apply ran; a second apply has nothing to do; a lockout guard refuses
what would cut Baluarte's own login; a step failing mid-apply is recorded, rolled back and
leaves the host reachable.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from baluarte.lab.systemd_hosts import SystemdHost, SystemdHostLab
from tests.integration import cli
from tests.integration.cli import CANARY, baluarte, ssh

POLICY = """\
id: apply-test
version: "1"
title: Apply (test)
applies_to: {platform: linux}
access:
  ssh_password_authentication: {required: true}
  ssh_root_login: {allowed: prohibit-password}
logging:
  remote_forwarding: {required: true, targets: ["logs.example.net:6514"]}
"""
CONTROLS = {
    "access.ssh_password_authentication",
    "access.ssh_root_login",
    "logging.remote_forwarding",
}
WEAK_SSHD = r"""
# As admins do on Debian: the setting below the Include line, the lab's own drop-in left alone
sed -i '/^PasswordAuthentication\|^PermitRootLogin\|^KbdInteractiveAuthentication/d' \
    /etc/ssh/sshd_config.d/00-baluarte-lab.conf
printf 'PasswordAuthentication yes\nPermitRootLogin yes\n' >> /etc/ssh/sshd_config
systemctl reload ssh
rm -f /etc/rsyslog.d/90-*.conf
"""


def weak_host(make: Callable[..., SystemdHost], name: str) -> SystemdHost:
    host = make(name)
    host.run(WEAK_SSHD)
    assert "passwordauthentication yes" in host.run("sshd -T").stdout
    return host


def apply(
    tmp: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return baluarte(tmp, "apply", "--format", "json", *args, env=env)


def doc(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    cli.assert_no_canary(result.stdout, result.stderr)
    return json.loads(result.stdout)


def transcript(text: str) -> list[str]:
    """The commands of a record's ``$ ``-transcript (continuation lines indented by two)."""
    commands: list[str] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            commands.append(line[2:])
        elif line.startswith("  ") and commands:
            commands[-1] += "\n" + line[2:]
    return commands


def changes(plan: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {c["control"]: c for c in plan["plan"] if c["kind"] == kind}


def inputs(tmp: Path, lab: SystemdHostLab, host: SystemdHost) -> None:
    cli.write_inputs(tmp, lab, [host], policy=POLICY)


def test_plan_changes_nothing_then_apply_makes_the_host_compliant_and_records_it(
    tmp_path: Path, systemd_lab: SystemdHostLab, make_systemd_host: Callable[..., SystemdHost]
) -> None:
    host = weak_host(make_systemd_host, "apply1")
    inputs(tmp_path, systemd_lab, host)

    planned = apply(tmp_path)
    assert planned.returncode == 1, planned.stderr
    plan = doc(planned)
    pending = changes(plan, "change")
    assert set(pending) == CONTROLS, plan["plan"]
    assert all(c["steps"] and all(s["commands"] for s in c["steps"]) for c in pending.values())
    assert plan["run"] is None
    text = baluarte(tmp_path, "apply", "--show-scripts")  # what a technician reads
    assert text.returncode == 1
    assert re.search(
        r"^  change +apply1 +access\.ssh_password_authentication +turn off SSH password logins",
        text.stdout,
        re.M,
    )
    assert "$ " in text.stdout and "Nothing was changed" in text.stdout
    # Nothing changed on the host.
    assert "passwordauthentication yes" in host.run("sshd -T").stdout
    assert host.run("ls /etc/ssh/sshd_config.d/").stdout.split() == ["00-baluarte-lab.conf"]
    assert "logs.example.net" not in host.run("cat /etc/rsyslog.d/*.conf").stdout

    applied = apply(tmp_path, "--yes", "--all")
    assert applied.returncode == 0, applied.stdout[-3000:] + applied.stderr
    run = doc(applied)["run"]
    assert run["run"]["kind"] == "apply"
    records = {r["control"]: r for r in run["remediations"]}
    assert set(records) == CONTROLS
    assert {r["result"] for r in records.values()} == {"applied"}
    assert {r["verification"] for r in records.values()} == {"pass"}
    assert {f["status"] for f in run["findings"]} == {"pass"}
    # The plan was honest: apply ran exactly the commands the plan listed, control by control.
    for control, change in pending.items():
        ran = transcript(records[control]["detail"])
        listed = [c for step in change["steps"] for c in step["commands"]]
        assert ran == listed, control
    # The host changed, and Baluarte still gets in.
    effective = set(host.run("sshd -T").stdout.splitlines())
    assert "passwordauthentication no" in effective, sorted(effective)
    assert effective & {"permitrootlogin prohibit-password", "permitrootlogin without-password"}
    assert "logs.example.net:6514" in host.run("cat /etc/rsyslog.d/*.conf").stdout
    assert host.run("systemctl is-active ssh").stdout.strip() == "active"
    assert ssh(systemd_lab, host, "true").returncode == 0

    again = apply(tmp_path)
    assert again.returncode == 0, again.stdout[-2000:]
    assert changes(doc(again), "change") == {}
    # Applied again: nothing to do, nothing sent, and the run still records the device's state.
    calm = doc(apply(tmp_path, "--yes", "--all"))["run"]
    assert calm["remediations"] == []
    assert {f["control"]: f["status"] for f in calm["findings"]} == dict.fromkeys(CONTROLS, "pass")


def test_a_step_failing_mid_apply_is_recorded_rolled_back_and_the_host_stays_reachable(
    tmp_path: Path, systemd_lab: SystemdHostLab, make_systemd_host: Callable[..., SystemdHost]
) -> None:
    host = weak_host(make_systemd_host, "apply2")
    healthy = weak_host(make_systemd_host, "apply2b")
    # `sshd -t` now rejects every configuration (sshd -T, which collection uses, still works).
    host.run(
        'printf \'#!/bin/sh\\n[ "$1" = -t ] && { echo "line 1: Bad configuration option: X" >&2; exit 255; }\\n'
        'exec /usr/sbin/sshd "$@"\\n\' > /usr/local/sbin/sshd; chmod +x /usr/local/sbin/sshd'
    )
    cli.write_inputs(tmp_path, systemd_lab, [host, healthy], policy=POLICY)
    applied = apply(tmp_path, "--yes", "--all")
    run = doc(applied)["run"]
    # The other device went on and was fixed.
    assert {
        r["control"]: r["result"] for r in run["remediations"] if r["device"] == healthy.name
    } == dict.fromkeys(CONTROLS, "applied")
    records = {r["control"]: r for r in run["remediations"] if r["device"] == host.name}
    first = records["access.ssh_password_authentication"]
    assert first["result"] == "failed" and "Bad configuration option" in first["detail"]
    assert records["logging.remote_forwarding"]["result"] == "not_run"
    assert {r["verification"] for r in records.values()} == {"fail"}
    assert applied.returncode == 1
    # Rolled back: no drop-in left, sshd untouched and reachable.
    assert "passwordauthentication yes" in host.run("/usr/sbin/sshd -T").stdout
    assert ssh(systemd_lab, host, "true").returncode == 0


def test_lockout_guard_refuses_to_turn_off_the_password_login_baluarte_uses(
    tmp_path: Path, systemd_lab: SystemdHostLab, make_systemd_host: Callable[..., SystemdHost]
) -> None:
    host = weak_host(make_systemd_host, "apply3")
    host.run(f"echo 'root:{CANARY}' | chpasswd")
    inputs(tmp_path, systemd_lab, host)
    inventory = tmp_path / "inventory.yaml"
    # Baluarte logs in with root's password only: no key.
    text = "\n".join(line for line in inventory.read_text().splitlines() if "key:" not in line)
    inventory.write_text(text + "\n")
    planned = apply(tmp_path, "--yes", "--all")
    plan = doc(planned)
    refused = changes(plan, "refused")
    assert "access.ssh_password_authentication" in refused
    assert "password" in refused["access.ssh_password_authentication"]["reason"]
    records = {r["control"]: r for r in plan["run"]["remediations"]}
    assert records["access.ssh_password_authentication"]["result"] == "refused"
    # Nothing ran for it: password logins still work for Baluarte.
    assert "passwordauthentication yes" in host.run("sshd -T").stdout


def test_lockout_guard_goes_by_the_login_that_succeeded_not_the_inventory(
    tmp_path: Path, systemd_lab: SystemdHostLab, make_systemd_host: Callable[..., SystemdHost]
) -> None:
    """The inventory offers a key AND a password; the host refuses the key, so Baluarte is in
    by password: turning password logins off would lock it out, whatever the inventory says."""
    host = weak_host(make_systemd_host, "apply5")
    host.run(f"echo 'root:{CANARY}' | chpasswd; : > /root/.ssh/authorized_keys")
    inputs(tmp_path, systemd_lab, host)  # key and password (the canary) both referenced
    planned = apply(tmp_path, "--yes", "--control", "access.ssh_password_authentication")
    plan = doc(planned)
    refused = changes(plan, "refused")
    assert set(refused) == {"access.ssh_password_authentication"}, planned.stdout[-3000:]
    assert (
        "used password authentication, not a key"
        in refused["access.ssh_password_authentication"]["reason"]
    )
    assert "passwordauthentication yes" in host.run("sshd -T").stdout
    # and it is still how Baluarte gets in
    again = apply(tmp_path, "--control", "access.ssh_password_authentication")
    assert again.returncode in (0, 1), again.stderr[-2000:]


def test_waived_controls_are_not_touched(
    tmp_path: Path, systemd_lab: SystemdHostLab, make_systemd_host: Callable[..., SystemdHost]
) -> None:
    host = weak_host(make_systemd_host, "apply4")
    waiver = f"""\
waivers:
  - control: access.ssh_root_login
    client: acme
    devices: [{host.name}]
    reason: Backup appliance agent logs in as root with a password until its upgrade.
    approved_by: Laura Gómez (responsable de seguridad)
    ticket: ACME-77
    expires: 2099-12-31
"""
    cli.write_inputs(tmp_path, systemd_lab, [host], policy=POLICY, waivers=waiver)
    applied = apply(tmp_path, "--yes", "--all")
    run = doc(applied)["run"]
    assert "access.ssh_root_login" not in {r["control"] for r in run["remediations"]}
    assert "access.ssh_root_login" not in {c["control"] for c in doc(applied)["plan"]}
    assert "permitrootlogin yes" in host.run("sshd -T").stdout  # left as it was
    waived = [f for f in run["findings"] if f["control"] == "access.ssh_root_login"]
    assert [f["status"] for f in waived] == ["waived"]
