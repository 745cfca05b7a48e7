"""End to end through the CLI: `baluarte check` against real Debian hosts over real SSH."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import textwrap
from datetime import date, timedelta
from pathlib import Path

import pytest

from baluarte.lab.aptrepo import REPO_DIR, SECURITY_SUITE, install_packages, publish_updates
from baluarte.lab.linux_hosts import LinuxHost, LinuxHostLab
from checks.linux.patching_kernel import deb_flavour
from tests.integration import cli
from tests.integration.cli import BIN, CANARY, baluarte, findings
from tests.integration.kernels import install_kernel_debs

POLICY = """\
id: patch-test
version: "1"
title: Patch level (test)
applies_to: {platform: linux}
patching:
  security_updates_pending: {max: 0}
  updates_pending: {max: 0}
  days_since_last_update: {max: 14}
  automatic_updates: {required: true}
  reboot_required: {grace_days: 7}
  kernel_current: {required: true}
  minimum_versions: {packages: {bl-min: "1.5"}}
endpoint:
  tamper_protection: {required: true}
"""


def replace_apt_get(host: LinuxHost, body: str) -> None:
    """Put a stand-in for apt-get on the host: a stuck lock, a broken mirror…"""
    host.run(
        "mv /usr/bin/apt-get /usr/bin/apt-get.real; "
        f"printf '#!/bin/sh\\n%s\\n' '{body}' > /usr/bin/apt-get; chmod +x /usr/bin/apt-get"
    )


def make_compliant(host: LinuxHost) -> None:
    """Fully patched, recently updated, unattended-upgrades on for security, bl-min 2.0, and
    the running kernel shipped by an installed kernel package (the newest)."""
    install_packages(host, [("bl-min", "2.0")])
    running = host.run("uname -r").stdout.strip()
    install_kernel_debs(host, [(f"linux-image-{running}", "1.0-1", running)])
    publish_updates(host, normal=[("bl-done", "1.0", "1.1")])
    host.run("apt-get -y -q dist-upgrade >/dev/null")  # an upgrade in apt's history, now
    host.run(
        'printf \'APT::Periodic::Update-Package-Lists "1";\\n'
        'APT::Periodic::Unattended-Upgrade "1";\\n\' > /etc/apt/apt.conf.d/20auto-upgrades'
    )


def write_inputs(tmp: Path, lab: LinuxHostLab, hosts: list[LinuxHost], waivers: str = "") -> Path:
    return cli.write_inputs(tmp, lab, hosts, policy=POLICY, waivers=waivers)


def test_compliant_host_passes_and_exit_is_zero(tmp_path, lab, linux_host):
    make_compliant(linux_host)
    write_inputs(tmp_path, lab, [linux_host])
    result = baluarte(tmp_path, "check", "--format", "json")
    got = findings(result)
    status = {control: f["status"] for (_, control), f in got.items()}
    assert status == {
        "patching.security_updates_pending": "pass",
        "patching.updates_pending": "pass",
        "patching.days_since_last_update": "pass",
        "patching.automatic_updates": "pass",
        "patching.reboot_required": "pass",  # the kernel comparison: nothing newer installed
        "patching.kernel_current": "pass",
        "patching.minimum_versions": "pass",
        "endpoint.tamper_protection": "not_applicable",
    }, result.stderr
    reason = got[("testhost", "endpoint.tamper_protection")]["reason"]
    assert reason == "endpoint.tamper_protection does not apply to linux devices"
    assert result.returncode == 0, result.stderr


def test_each_drift_fails_its_control_with_the_observed_value(tmp_path, lab, linux_host):
    install_packages(linux_host, [("bl-min", "1.0")])
    running = linux_host.run("uname -r").stdout.strip()
    newer = f"99.1.0-1-{deb_flavour(running)}".rstrip("-")
    install_kernel_debs(
        linux_host,
        [(f"linux-image-{running}", "6.1.0-1", running), (f"linux-image-{newer}", "99.1", newer)],
    )
    publish_updates(
        linux_host, normal=[("bl-demo", "1.0", "1.1")], security=[("bl-sec", "1.0", "1.0+deb12u1")]
    )
    old = (date.today() - timedelta(days=30)).strftime("%Y-%m-%d")
    linux_host.run(
        f"printf 'Start-Date: {old}  10:00:00\\nCommandline: apt-get upgrade\\n"
        f"Upgrade: x:amd64 (1, 2)\\nEnd-Date: {old}  10:00:05\\n' > /var/log/apt/history.log;"
        " : > /var/log/dpkg.log; rm -f /var/lib/apt/periodic/*;"
        " printf 'APT::Periodic::Unattended-Upgrade \"0\";\\n' > /etc/apt/apt.conf.d/20auto-upgrades;"
        " echo libc6 > /var/run/reboot-required.pkgs; touch -d '10 days ago' /var/run/reboot-required"
    )
    write_inputs(tmp_path, lab, [linux_host])
    result = baluarte(tmp_path, "check", "--format", "json")
    assert result.returncode == 1, result.stderr
    got = {control: f for (_, control), f in findings(result).items()}
    sec = got["patching.security_updates_pending"]
    assert sec["status"] == "fail"
    assert sec["observed"] == "1 pending security updates: bl-sec (1.0 → 1.0+deb12u1)"
    assert "Debian-Security:baluarte-security" in sec["evidence"]
    assert got["patching.updates_pending"]["observed"].startswith("2 pending updates: ")
    assert got["patching.updates_pending"]["status"] == "fail"
    days = got["patching.days_since_last_update"]
    assert days["status"] == "fail" and "days ago, from the apt history" in days["observed"]
    assert got["patching.automatic_updates"]["status"] == "fail"
    assert "APT::Periodic::Unattended-Upgrade=0" in got["patching.automatic_updates"]["observed"]
    reboot = got["patching.reboot_required"]
    assert reboot["status"] == "fail" and "package libc6" in reboot["observed"]
    mins = got["patching.minimum_versions"]
    assert mins["status"] == "fail" and mins["observed"] == "bl-min 1.0 < 1.5"
    kernel = got["patching.kernel_current"]
    assert kernel["status"] == "fail" and f"{newer} 99.1 is installed" in kernel["observed"]


def test_stopped_host_is_error_exit_3_and_others_still_checked(tmp_path, lab, make_host):
    up, down = make_host("up1"), make_host("down1")
    make_compliant(up)
    down.stop_sshd()
    write_inputs(tmp_path, lab, [up, down])
    result = baluarte(tmp_path, "check", "--format", "json")
    assert result.returncode == 3, result.stderr
    got = findings(result)
    assert got[("up1", "patching.security_updates_pending")]["status"] == "pass"
    err = got[("down1", "patching.security_updates_pending")]
    assert err["status"] == "error"
    assert err["reason"].startswith("device unreachable"), err["reason"]
    # controls that cannot be evaluated anyway stay not_applicable, never error or pass
    assert got[("down1", "endpoint.tamper_protection")]["status"] == "not_applicable"
    shown = baluarte(tmp_path, "runs")
    assert shown.returncode == 0 and "complete" in shown.stdout


def test_unknown_host_key_is_refused(tmp_path, lab, linux_host):
    write_inputs(tmp_path, lab, [linux_host])
    text = (tmp_path / "inventory.yaml").read_text()
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    (tmp_path / "inventory.yaml").write_text(text.replace(str(lab.known_hosts_path), str(empty)))
    result = baluarte(tmp_path, "check", "--format", "json")
    assert result.returncode == 3
    err = findings(result)[("testhost", "patching.updates_pending")]
    assert err["status"] == "error" and "host key" in err["reason"].lower()


def test_waivers_apply_and_expired_waivers_do_not(tmp_path, lab, linux_host):
    publish_updates(
        linux_host, normal=[("bl-demo", "1.0", "1.1")], security=[("bl-sec", "1.0", "1.0+deb12u1")]
    )
    expired = date.today() - timedelta(days=1)
    waivers = textwrap.dedent(f"""\
        waivers:
          - control: patching.security_updates_pending
            client: acme
            devices: [testhost]
            reason: vendor certifies updates monthly
            approved_by: "María López (DPO, ACME)"
            ticket: ACME-1042
            expires: 2099-01-31
          - control: patching.updates_pending
            client: acme
            devices: [testhost]
            reason: old exception
            approved_by: IT manager
            expires: {expired.isoformat()}
        """)
    write_inputs(tmp_path, lab, [linux_host], waivers=waivers)
    result = baluarte(tmp_path, "check", "--format", "json")
    got = {control: f for (_, control), f in findings(result).items()}
    waived = got["patching.security_updates_pending"]
    assert waived["status"] == "waived"
    assert waived["waiver"]["approved_by"] == "María López (DPO, ACME)"
    assert waived["waiver"]["ticket"] == "ACME-1042"
    lapsed = got["patching.updates_pending"]
    assert lapsed["status"] == "fail"
    assert f"waiver expired on {expired.isoformat()}" in lapsed["reason"]
    assert lapsed["waiver"]["expired"] is True


def test_a_waiver_never_hides_a_host_that_could_not_be_checked(tmp_path, lab, linux_host):
    """A waiver accepts a known failure; an unreachable host is "we don't know": error, exit 3."""
    controls = [line.split(":")[0].strip() for line in POLICY.splitlines()[5:12]]
    waivers = "waivers:\n" + "".join(
        f"  - {{control: patching.{c}, client: acme, devices: [testhost], reason: accepted risk,"
        f" approved_by: IT manager, expires: 2099-01-31}}\n"
        for c in controls
    )
    write_inputs(tmp_path, lab, [linux_host], waivers=waivers)
    linux_host.stop_sshd()
    result = baluarte(tmp_path, "check", "--format", "json")
    assert result.returncode == 3, result.stderr
    got = {control: f for (_, control), f in findings(result).items()}
    for control in controls:
        finding = got[f"patching.{control}"]
        assert finding["status"] == "error", (control, finding)
        assert finding["waiver"] is None
        assert "a waiver (until 2099-01-31: accepted risk) covers this control" in finding["reason"]
    assert not [f for f in got.values() if f["status"] == "waived"]


@pytest.mark.postgres
def test_sqlite_and_postgresql_store_the_same_findings(tmp_path, lab, linux_host, pg_url):
    publish_updates(linux_host, normal=[("bl-demo", "1.0", "1.1")])
    running = linux_host.run("uname -r").stdout.strip()  # a kernel package: no error, exit 1
    install_kernel_debs(linux_host, [(f"linux-image-{running}", "1.0-1", running)])
    write_inputs(tmp_path, lab, [linux_host])
    on_sqlite = baluarte(tmp_path, "check", "--format", "json")
    on_pg = baluarte(tmp_path, "check", "--format", "json", db=pg_url)
    assert on_sqlite.returncode == on_pg.returncode == 1

    def stored(db: str) -> list[tuple]:
        shown = baluarte(tmp_path, "show", "1", "--format", "json", db=db)
        assert shown.returncode == 0, shown.stderr
        doc = json.loads(shown.stdout)
        return sorted(
            (f["device"], f["control"], f["status"], f["expected"], f["observed"])
            for f in doc["findings"]
        )

    assert stored(str(tmp_path / "runs.db")) == stored(pg_url)
    assert len(stored(pg_url)) == 8


def test_no_secret_reaches_store_reports_or_output(tmp_path, lab, linux_host):
    write_inputs(tmp_path, lab, [linux_host])
    outputs = [baluarte(tmp_path, "check", "--format", "json")]
    outputs.append(baluarte(tmp_path, "check"))
    for fmt in ("json", "html"):
        r = subprocess.run(
            [
                str(BIN),
                "report",
                "1",
                "--format",
                fmt,
                "-o",
                str(tmp_path / f"r.{fmt}"),
                "--db",
                str(tmp_path / "runs.db"),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.append(r)
    for r in outputs:
        assert CANARY not in r.stdout + r.stderr
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert CANARY.encode() not in path.read_bytes(), path


def test_killed_check_leaves_an_incomplete_run_with_the_finished_devices(tmp_path, lab, make_host):
    fast, slow = make_host("fast1"), make_host("slow1")
    # the slow host's package manager hangs, as a stuck apt lock would
    replace_apt_get(slow, "sleep 600")
    write_inputs(tmp_path, lab, [fast, slow])
    env = {**os.environ, "BALUARTE_TEST_CANARY": CANARY}
    proc = subprocess.Popen(
        [
            str(BIN),
            "check",
            "--format",
            "json",
            "--inventory",
            str(tmp_path / "inventory.yaml"),
            "--policies",
            str(tmp_path / "policies"),
            "--waivers",
            str(tmp_path / "waivers.yaml"),
            "--db",
            str(tmp_path / "runs.db"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=tmp_path,
    )
    try:
        import time

        deadline = time.monotonic() + 60
        devices: set[str] = set()
        while time.monotonic() < deadline and "fast1" not in devices:
            time.sleep(0.5)
            shown = baluarte(tmp_path, "show", "1", "--format", "json")
            if shown.returncode == 0:
                devices = {f["device"] for f in json.loads(shown.stdout)["findings"]}
        assert devices == {"fast1"}
        proc.kill()
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    runs = json.loads(baluarte(tmp_path, "runs", "--format", "json").stdout)
    assert runs[0]["state"] == "running" and runs[0]["ended_at"] is None
    listed = baluarte(tmp_path, "runs")
    assert "incomplete" in listed.stdout
    kept = json.loads(baluarte(tmp_path, "show", "1", "--format", "json").stdout)
    assert {f["device"] for f in kept["findings"]} == {"fast1"}
    assert len(kept["findings"]) == 8
    slow.run("mv /usr/bin/apt-get.real /usr/bin/apt-get")


def add_audit_user(host: LinuxHost, sudoers: str) -> None:
    host.run(
        "useradd -m -s /bin/sh audit && usermod -p '*' audit"
        " && mkdir -p ~audit/.ssh && cp /root/.ssh/authorized_keys ~audit/.ssh/"
        " && chown -R audit: ~audit/.ssh"
        f" && echo '{sudoers}' > /etc/sudoers.d/audit && chmod 440 /etc/sudoers.d/audit"
    )


def as_audit_user(tmp: Path) -> None:
    text = (tmp / "inventory.yaml").read_text()
    text = re.sub(r"( +)user: root", r"\1user: audit\n\1sudo: true", text)
    (tmp / "inventory.yaml").write_text(text)


def test_unprivileged_user_with_sudo_is_checked(tmp_path, lab, linux_host):
    add_audit_user(linux_host, "audit ALL=(ALL) NOPASSWD: ALL")
    publish_updates(linux_host, normal=[], security=[("bl-sec", "1.0", "1.0+deb12u1")])
    write_inputs(tmp_path, lab, [linux_host])
    as_audit_user(tmp_path)
    got = findings(baluarte(tmp_path, "check", "--format", "json"))
    sec = got[("testhost", "patching.security_updates_pending")]
    assert sec["status"] == "fail" and sec["observed"].startswith("1 pending security updates")


def test_sudo_wanting_a_password_is_an_error_not_a_prompt(tmp_path, lab, linux_host):
    add_audit_user(linux_host, "audit ALL=(ALL) ALL")
    write_inputs(tmp_path, lab, [linux_host])
    as_audit_user(tmp_path)
    result = baluarte(tmp_path, "check", "--format", "json")
    assert result.returncode == 3
    err = findings(result)[("testhost", "patching.updates_pending")]
    assert err["status"] == "error" and "password" in err["reason"]


def test_a_device_that_does_not_answer_in_time_is_an_error(tmp_path, lab, make_host):
    quick, stuck = make_host("quick1"), make_host("stuck1")
    publish_updates(quick, normal=[])  # fresh lists, nothing pending
    replace_apt_get(stuck, "sleep 600")
    write_inputs(tmp_path, lab, [quick, stuck])
    result = baluarte(tmp_path, "check", "--format", "json", "--timeout", "5")
    assert result.returncode == 3
    got = findings(result)
    assert got[("quick1", "patching.updates_pending")]["status"] == "pass"
    err = got[("stuck1", "patching.updates_pending")]
    assert err["status"] == "error" and "timed out" in err["reason"]
    stuck.run("pkill sleep; mv /usr/bin/apt-get.real /usr/bin/apt-get", check=False)


def test_a_half_answer_is_an_error_and_shell_noise_is_not(tmp_path, lab, linux_host):
    publish_updates(linux_host, normal=[])  # fresh lists, nothing pending
    linux_host.run("echo 'echo \"{ welcome to srv }\"' >> /root/.bashrc")
    write_inputs(tmp_path, lab, [linux_host])
    noisy = findings(baluarte(tmp_path, "check", "--format", "json"))
    assert noisy[("testhost", "patching.updates_pending")]["status"] == "pass"
    # an encoder that stops half-way, as a dropped connection or a full disk would leave it
    linux_host.run(
        "mv /usr/bin/mawk /usr/bin/mawk.away; printf '#!/bin/sh\\ncat >/dev/null;"
        ' printf "{\\\\"schema\\\\":1,\\\\"host\\\\":{"\\n\' > /usr/bin/mawk;'
        " chmod +x /usr/bin/mawk"
    )
    result = baluarte(tmp_path, "check", "--format", "json")
    linux_host.run("mv /usr/bin/mawk.away /usr/bin/mawk")
    assert result.returncode == 3
    err = findings(result)[("testhost", "patching.security_updates_pending")]
    assert err["status"] == "error"
    assert err["reason"].startswith("device unparseable answer"), err["reason"]


def test_a_failing_package_manager_is_an_error_for_its_controls_only(tmp_path, lab, linux_host):
    make_compliant(linux_host)
    replace_apt_get(
        linux_host, 'echo "E: Could not get lock /var/lib/dpkg/lock-frontend" >&2; exit 100'
    )
    write_inputs(tmp_path, lab, [linux_host])
    result = baluarte(tmp_path, "check", "--format", "json")
    assert result.returncode == 3
    got = {control: f for (_, control), f in findings(result).items()}
    for control in ("patching.security_updates_pending", "patching.updates_pending"):
        assert got[control]["status"] == "error"
        assert (
            "exit 100" in got[control]["reason"] and "Could not get lock" in got[control]["reason"]
        )
    # what could still be read is still judged
    assert got["patching.minimum_versions"]["status"] == "pass"
    # unattended-upgrades is set up, but with apt's sources unreadable nobody can tell whether
    # the automatic run has a security source to install from
    auto = got["patching.automatic_updates"]
    assert auto["status"] == "error" and "package sources could not be read" in auto["reason"]


def test_a_key_the_host_does_not_accept_is_refused_authentication(tmp_path, lab, linux_host):
    write_inputs(tmp_path, lab, [linux_host])
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    text = (tmp_path / "inventory.yaml").read_text()
    (tmp_path / "inventory.yaml").write_text(text.replace(str(lab.key_path), str(other)))
    result = baluarte(tmp_path, "check", "--format", "json")
    assert result.returncode == 3
    err = findings(result)[("testhost", "patching.updates_pending")]
    assert err["status"] == "error"
    assert err["reason"].startswith("device authentication refused"), err["reason"]


def test_an_ansible_inventory_is_checked_as_it_is(tmp_path, lab, linux_host):
    publish_updates(linux_host, normal=[], security=[("bl-sec", "1.0", "1.0+deb12u1")])
    write_inputs(tmp_path, lab, [linux_host])
    (tmp_path / "inventory.yaml").write_text(
        textwrap.dedent(f"""\
        all:
          vars:
            baluarte_client: acme
            baluarte_legal_name: ACME Asesores S.L.
            baluarte_ssh: {{known_hosts: {lab.known_hosts_path}}}
          children:
            servers:
              hosts:
                {linux_host.name}:
                  ansible_host: {linux_host.address}
                  ansible_user: root
                  ansible_ssh_private_key_file: {lab.key_path}
        """)
    )
    got = findings(baluarte(tmp_path, "check", "--format", "json", "--tags", "servers"))
    sec = got[("testhost", "patching.security_updates_pending")]
    assert sec["status"] == "fail" and sec["client"] == "acme"
    assert sec["observed"] == "1 pending security updates: bl-sec (1.0 → 1.0+deb12u1)"


def test_kernel_current_passes_on_the_newest_kernel_and_fails_behind_it(tmp_path, lab, make_host):
    current, behind = make_host("kcurrent"), make_host("kbehind")
    running = current.run("uname -r").stdout.strip()
    newer = f"99.1.0-1-{deb_flavour(running)}".rstrip("-")
    # packages that ship the kernel images, named as Debian names them; the metapackage ships none
    install_kernel_debs(
        current, [(f"linux-image-{running}", "6.1.0-1", running), ("linux-image-amd64", "99", None)]
    )
    install_kernel_debs(
        behind,
        [(f"linux-image-{running}", "6.1.0-1", running), (f"linux-image-{newer}", "99.1", newer)],
    )
    write_inputs(tmp_path, lab, [current, behind])
    got = findings(baluarte(tmp_path, "check", "--format", "json"))
    ok = got[("kcurrent", "patching.kernel_current")]
    assert ok["status"] == "pass"
    assert ok["observed"] == f"running {running} (6.1.0-1, from package linux-image-{running})"
    old = got[("kbehind", "patching.kernel_current")]
    assert old["status"] == "fail" and old["expected"].endswith(f"({newer} 99.1)")
    reboot = got[("kbehind", "patching.reboot_required")]
    assert reboot["status"] == "fail"
    assert f"{newer} (99.1) installed" in reboot["observed"]


# -- false-pass holes: held and phased updates, what dates an update, unreadable or future logs


def phase_out(host: LinuxHost, package: str, suite: str) -> None:
    """Publish ``package`` in the lab repository's ``suite`` as a phased update at 0% (Ubuntu's
    ``Phased-Update-Percentage``), and give the host a machine-id: apt phases only with one."""
    repo = host.root / REPO_DIR
    dists = repo / "dists" / suite
    packages = dists / "main/binary-all/Packages"
    text = packages.read_text()
    assert f"Package: {package}\n" in text
    packages.write_text(
        text.replace(f"Package: {package}\n", f"Package: {package}\nPhased-Update-Percentage: 0\n")
    )
    # the Release's checksums must follow, under the same headers
    headers = dict(
        line.split(": ", 1) for line in (dists / "Release").read_text().splitlines()
        if line.split(":")[0] in ("Origin", "Label", "Suite", "Codename", "Architectures",
                                  "Components")
    )  # fmt: skip
    options = [f"-oAPT::FTPArchive::Release::{k}={v}" for k, v in headers.items()]
    release = subprocess.run(
        ["apt-ftparchive", *options, "release", f"dists/{suite}"],
        cwd=repo, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    (dists / "Release").write_text(release)
    host.run(
        "echo 0123456789abcdef0123456789abcdef > /etc/machine-id; apt-get update -q >/dev/null"
    )


def versions(host: LinuxHost, *names: str) -> dict[str, str]:
    shown = host.run(f"dpkg-query -W -f='${{Package}} ${{Version}}\\n' {' '.join(names)}").stdout
    return dict(line.split() for line in shown.splitlines())


def test_held_and_phased_security_updates_are_still_pending(tmp_path, lab, linux_host):
    # neither has an Inst line in apt-get -s dist-upgrade: the security count read 0 and passed
    security = [("bl-held", "1.0", "1.0+deb12u1"), ("bl-phased", "1.0", "1.0+deb12u1")]
    publish_updates(linux_host, normal=[], security=security)
    linux_host.run("apt-mark hold bl-held >/dev/null")
    phase_out(linux_host, "bl-phased", SECURITY_SUITE)
    # what the host does: an upgrade run installs neither
    linux_host.run("apt-get -y -q dist-upgrade >/dev/null")
    assert versions(linux_host, "bl-held", "bl-phased") == {"bl-held": "1.0", "bl-phased": "1.0"}
    write_inputs(tmp_path, lab, [linux_host])
    got = findings(baluarte(tmp_path, "check", "--format", "json"))
    sec = got[("testhost", "patching.security_updates_pending")]
    assert sec["status"] == "fail", sec
    assert sec["observed"].startswith("2 pending security updates: ")
    assert "bl-held (1.0 → 1.0+deb12u1, held)" in sec["observed"]
    assert "bl-phased (1.0 → 1.0+deb12u1, kept back)" in sec["observed"]
    assert "bl-held 1.0 -> 1.0+deb12u1 [Debian-Security:baluarte-security] held" in sec["evidence"]
    assert got[("testhost", "patching.updates_pending")]["observed"].startswith("2 pending")
    # and they are there to install, from the security suite, once hold and phasing are lifted
    linux_host.run(
        "apt-get -y -q --allow-change-held-packages -o APT::Get::Always-Include-Phased-Updates=1"
        " install bl-held bl-phased >/dev/null"
    )
    assert versions(linux_host, "bl-held", "bl-phased") == {
        "bl-held": "1.0+deb12u1", "bl-phased": "1.0+deb12u1",
    }  # fmt: skip


def test_a_failed_apt_run_or_a_manual_dpkg_i_is_not_an_update(tmp_path, lab, linux_host):
    # both write "upgrade" lines to dpkg.log, which counted as an update installed today
    old = (date.today() - timedelta(days=30)).strftime("%Y-%m-%d")
    linux_host.run(
        f"printf 'Start-Date: {old}  10:00:00\\nCommandline: apt-get upgrade\\n"
        f"Upgrade: x:amd64 (1, 2)\\nEnd-Date: {old}  10:00:05\\n\\n' > /var/log/apt/history.log;"
        " rm -f /var/lib/apt/periodic/*"
    )
    install_packages(linux_host, [("bl-manual", "1.0"), ("bl-broken", "1.0")])
    install_packages(linux_host, [("bl-manual", "1.1")])  # dpkg -i by hand
    # an apt run that unpacks bl-broken 1.1, whose postinst then fails
    failed = linux_host.run(
        "d=/tmp/bl-broken && mkdir -p $d/DEBIAN"
        " && printf 'Package: bl-broken\\nVersion: 1.1\\nArchitecture: all\\nMaintainer: lab"
        " <lab@example.invalid>\\nDescription: fails to configure\\n' > $d/DEBIAN/control"
        " && printf '#!/bin/sh\\nexit 1\\n' > $d/DEBIAN/postinst && chmod 755 $d/DEBIAN/postinst"
        " && dpkg-deb -Zgzip --root-owner-group -b $d /tmp/bl-broken_1.1_all.deb >/dev/null"
        " && apt-get -y -q install /tmp/bl-broken_1.1_all.deb",
        check=False,
    )
    assert failed.returncode != 0, failed.stdout
    history = (linux_host.root / "var/log/apt/history.log").read_text()
    assert "Error: Sub-process /usr/bin/dpkg returned an error code (1)" in history
    dpkg_log = (linux_host.root / "var/log/dpkg.log").read_text()
    assert " upgrade bl-broken:all 1.0 1.1" in dpkg_log
    assert " upgrade bl-manual:all 1.0 1.1" in dpkg_log
    write_inputs(tmp_path, lab, [linux_host])
    got = findings(baluarte(tmp_path, "check", "--format", "json"))
    days = got[("testhost", "patching.days_since_last_update")]
    assert days["status"] == "fail", days
    assert f"last update installed {old} 10:00" in days["observed"]
    assert "days ago, from the apt history" in days["observed"]


def test_an_apt_history_the_login_cannot_read_is_an_error_not_no_update(tmp_path, lab, linux_host):
    make_compliant(linux_host)  # an upgrade in apt's history, now
    linux_host.run("chgrp adm /var/log/apt/history.log && chmod 640 /var/log/apt/history.log")
    add_audit_user(linux_host, "# no sudo rule")
    write_inputs(tmp_path, lab, [linux_host])
    as_root = findings(baluarte(tmp_path, "check", "--format", "json"))
    assert as_root[("testhost", "patching.days_since_last_update")]["status"] == "pass"
    # the same host through a login without root: the history exists, only it cannot be read
    text = (tmp_path / "inventory.yaml").read_text()
    (tmp_path / "inventory.yaml").write_text(re.sub(r"user: root", "user: audit", text))
    got = findings(baluarte(tmp_path, "check", "--format", "json"))
    days = got[("testhost", "patching.days_since_last_update")]
    assert days["status"] == "error", days
    assert "the apt history could not be read: /var/log/apt/history.log" in days["reason"]


def test_updates_and_reboots_dated_ahead_of_the_clock_are_errors(tmp_path, lab, linux_host):
    # records stamped while the host's clock ran a year ahead: their age was negative, a pass
    ahead = (date.today() + timedelta(days=365)).strftime("%Y-%m-%d")
    linux_host.run(
        f"printf 'Start-Date: {ahead}  10:00:00\\nCommandline: apt-get upgrade\\n"
        f"Upgrade: x:amd64 (1, 2)\\nEnd-Date: {ahead}  10:00:05\\n\\n' > /var/log/apt/history.log;"
        " rm -f /var/lib/apt/periodic/*;"
        " echo libc6 > /var/run/reboot-required.pkgs; touch -d '+30 days' /var/run/reboot-required"
    )
    write_inputs(tmp_path, lab, [linux_host])
    got = findings(baluarte(tmp_path, "check", "--format", "json"))
    days = got[("testhost", "patching.days_since_last_update")]
    assert days["status"] == "error", days
    assert days["reason"].startswith(f"the last update (apt history) is dated {ahead} 10:00")
    assert "the clock that stamped it was wrong" in days["reason"]
    reboot = got[("testhost", "patching.reboot_required")]
    assert reboot["status"] == "error", reboot
    assert reboot["reason"].startswith("the pending reboot is dated ")


def test_a_collection_fragment_missing_from_the_installation_is_an_error(tmp_path, lab, linux_host):
    """An installation that lost checks/linux/firewall.sh (a broken package, a bad copy) must
    say the firewall controls could not be checked, never not_applicable."""
    import checks

    broken = tmp_path / "site"
    shutil.copytree(Path(checks.__file__).parent, broken / "checks")
    (broken / "checks" / "linux" / "firewall.sh").unlink()
    policy = POLICY + "firewall:\n  enabled: {required: true}\n"
    cli.write_inputs(tmp_path, lab, [linux_host], policy=policy)
    env = {"PYTHONPATH": str(broken)}
    result = baluarte(tmp_path, "check", "--format", "json", env=env)
    assert result.returncode == 3, result.stderr
    finding = findings(result)[("testhost", "firewall.enabled")]
    assert finding["status"] == "error"
    assert finding["reason"] == (
        "firewall.enabled cannot be checked: the linux firewall collection is missing from this "
        "installation of Baluarte (reinstall it)"
    )
