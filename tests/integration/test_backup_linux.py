"""End to end through the CLI: backup controls against real restic and borg repositories.

Every repository lives inside its lab host at the same path, so one policy (tool: any, told
apart by the repository itself) covers hosts in different states in one run. The repository
password is a canary given by an ``env:`` reference: it must not leak into the JSON output, the
store or the HTML report.
"""

from __future__ import annotations

import hashlib
import json
import re
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from baluarte.lab.linux_hosts import LinuxHost
from tests.integration import cli
from tests.integration.cli import baluarte, findings

PASSWORD = "bk-canary-Rp7w2Lq9-repository-password"
REPO = "/srv/backup"
ENV = {"BK_TEST_REPO_PASSWORD": PASSWORD}
CONTROLS = ("configured", "last_success_age", "encrypted", "restore_tested")

POLICY = f"""\
id: backup-test
version: "1"
title: Backups (test)
applies_to: {{platform: linux}}
backup:
  configured:
    repository: {REPO}
    password: "env:BK_TEST_REPO_PASSWORD"
    paths: [/srv/data]
  last_success_age: {{max_hours: 26}}
  encrypted: {{required: true}}
  restore_tested: {{max_days: 30}}
"""

SAMPLES = Path(__file__).parents[1] / "samples/linux/backup"
RECORDED_AT = datetime(2026, 11, 28, 8, 0)  # when the Veeam samples were "recorded" (UTC)


def _local(hours_ago: float) -> str:
    # lab hosts run in UTC, as `date +%z` tells the collector
    return (datetime.now(UTC) - timedelta(hours=hours_ago)).strftime("%Y-%m-%d %H:%M:%S")


def data(host: LinuxHost) -> None:
    host.run("mkdir -p /srv/data/sub && echo invoice-1 > /srv/data/a.txt && "
             "echo ledger > /srv/data/sub/b.txt && touch -d '-3 days' /srv/data/a.txt /srv/data/sub/b.txt")  # fmt: skip


def restic(host: LinuxHost, hours_ago: float, *paths: str, password: str = PASSWORD) -> None:
    data(host)
    env = f"RESTIC_REPOSITORY={REPO} RESTIC_PASSWORD='{password}'"
    host.run(f"{env} restic init -q")
    host.run(f"{env} restic backup -q --time '{_local(hours_ago)}' {' '.join(paths)}")


def borg(host: LinuxHost, hours_ago: float, mode: str = "repokey") -> None:
    data(host)
    env = f"BORG_REPO={REPO} BORG_PASSPHRASE='{PASSWORD}'"
    stamp = _local(hours_ago).replace(" ", "T")  # borg's --timestamp is UTC
    host.run(f"{env} borg init -e {mode} 2>/dev/null")
    host.run(f"{env} borg create --timestamp {stamp} ::nightly /srv/data")


def statuses(got: dict, host: str) -> dict[str, str]:
    return {c: got[(host, f"backup.{c}")]["status"] for c in CONTROLS}


def check(tmp_path: Path, *extra: str) -> dict:
    result = baluarte(tmp_path, "check", "--format", "json", *extra, env=ENV)
    assert PASSWORD not in result.stdout + result.stderr
    return findings(result)


def test_restic_and_borg_states_end_to_end_and_the_password_never_leaks(tmp_path, lab, make_host):
    hosts = {n: make_host(n) for n in ("rgood", "rstale", "rchanged", "rwrongpw", "nobackup", "bgood", "bplain")}  # fmt: skip
    setups = [
        lambda: restic(hosts["rgood"], 2, "/srv/data", "/etc/hostname"),
        lambda: restic(hosts["rstale"], 72, "/etc/hostname"),
        lambda: restic(hosts["rchanged"], 1, "/srv/data"),
        lambda: restic(hosts["rwrongpw"], 1, "/srv/data", password="another-password"),
        lambda: data(hosts["nobackup"]),
        lambda: borg(hosts["bgood"], 1),
        lambda: borg(hosts["bplain"], 50, mode="none"),
    ]
    with ThreadPoolExecutor(len(setups)) as pool:
        list(pool.map(lambda f: f(), setups))
    # changed after the backup: the restored copy cannot match
    hosts["rchanged"].run("echo tampered > /srv/data/a.txt; rm /srv/data/sub/b.txt")
    cli.write_inputs(tmp_path, lab, list(hosts.values()), policy=POLICY)

    got = check(tmp_path, "--restore-test")
    assert statuses(got, "rgood") == dict.fromkeys(CONTROLS, "pass")
    assert statuses(got, "bgood") == dict.fromkeys(CONTROLS, "pass")
    assert statuses(got, "rstale") == {
        "configured": "fail",  # /srv/data is not in the snapshot
        "last_success_age": "fail",
        "encrypted": "pass",
        "restore_tested": "pass",  # /etc/hostname restored and identical
    }
    assert statuses(got, "rchanged")["restore_tested"] == "fail"
    assert statuses(got, "rwrongpw") == dict.fromkeys(CONTROLS, "error")
    assert statuses(got, "nobackup") == {
        "configured": "fail",
        "last_success_age": "fail",
        "encrypted": "fail",  # no backup, so no encrypted one (issue 12: not "could not check")
        "restore_tested": "fail",
    }
    assert statuses(got, "bplain") == {
        "configured": "pass",
        "last_success_age": "fail",
        "encrypted": "fail",
        "restore_tested": "pass",
    }

    good = got[("rgood", "backup.restore_tested")]
    lines = dict(line.split(" ", 1) for line in good["evidence"].splitlines()[1:4])
    restored_file = lines["tool"].rpartition("file ")[2]
    source = hashlib.sha256((hosts["rgood"].root / restored_file.lstrip("/")).read_bytes())
    assert lines["source"].split()[-1] == lines["restored"].split()[-1] == source.hexdigest()
    assert "sha256 identical" in good["observed"]
    changed = got[("rchanged", "backup.restore_tested")]
    assert "/srv/data/a.txt" in changed["observed"] and "hashes differ" in changed["observed"]
    assert "after the backup" in changed["observed"]
    assert "wrong repository password" in got[("rwrongpw", "backup.configured")]["reason"]
    assert "encryption none" in got[("bplain", "backup.encrypted")]["observed"]
    assert "encryption restic" in got[("rgood", "backup.encrypted")]["observed"]
    assert "does not include /srv/data" in got[("rstale", "backup.configured")]["observed"]
    assert "does not exist" in got[("nobackup", "backup.configured")]["observed"]
    # the restore test left nothing behind but its record, which holds no password
    for host in (hosts["rgood"], hosts["bgood"]):
        assert host.run("ls /tmp").stdout == ""
        record = (host.root / "var/lib/baluarte/restore-test.json").read_text()
        assert json.loads(record)["result"] == "pass" and PASSWORD not in record

    # Without --restore-test the records decide: recent and passing, failed, or too old.
    old = json.loads((hosts["rstale"].root / "var/lib/baluarte/restore-test.json").read_text())
    old["time"] = int(time.time()) - 40 * 86400
    (hosts["rstale"].root / "var/lib/baluarte/restore-test.json").write_text(json.dumps(old))
    got = check(tmp_path)
    assert got[("rgood", "backup.restore_tested")]["status"] == "pass"
    assert "last restore test" in got[("rgood", "backup.restore_tested")]["observed"]
    assert got[("rchanged", "backup.restore_tested")]["status"] == "fail"
    assert got[("rstale", "backup.restore_tested")]["status"] == "fail"
    # a restore test that could not run leaves no record: the last real one still counts
    assert "no restore test on record" in got[("rwrongpw", "backup.restore_tested")]["observed"]
    assert "40.0 days ago" in got[("rstale", "backup.restore_tested")]["observed"]

    # The canary password is in no output: the store file and an HTML report of the run.
    assert PASSWORD.encode() not in (tmp_path / "runs.db").read_bytes()
    html = tmp_path / "report.html"
    report = baluarte(tmp_path, "report", "1", "--format", "html", "-o", str(html), env=ENV)
    assert report.returncode == 0, report.stderr
    assert "rgood" in html.read_text() and PASSWORD not in html.read_text()
    assert PASSWORD not in report.stdout + report.stderr


def test_policy_switch_runs_the_restore_test_without_the_flag(tmp_path, lab, linux_host):
    borg(linux_host, 1)
    policy = POLICY.replace("restore_tested: {max_days: 30}", "restore_tested: {max_days: 30, run: true}")  # fmt: skip
    cli.write_inputs(tmp_path, lab, [linux_host], policy=policy)
    got = check(tmp_path)
    finding = got[("testhost", "backup.restore_tested")]
    assert finding["status"] == "pass", finding
    assert finding["observed"].startswith("restore test now: /srv/data/")


VEEAM_POLICY = """\
id: veeam-test
version: "1"
title: Veeam Agent (test)
applies_to: {platform: linux}
backup:
  configured: {tool: veeam}
  last_success_age: {tool: veeam, max_hours: 26}
"""


def veeam_standin(host: LinuxHost, jobs: str, sessions: str) -> None:
    """A ``veeamconfig`` on the host printing recorded tables (the product cannot run here)."""
    share = host.root / "usr/share/veeam-standin"
    share.mkdir(parents=True)
    (share / "jobs").write_text((SAMPLES / jobs).read_text())
    # the recordings were made at RECORDED_AT: shift their times so ages stay what they were
    shift = datetime.now(UTC).replace(tzinfo=None) - RECORDED_AT

    def moved(m: re.Match[str]) -> str:
        return (datetime.strptime(m[0], "%Y-%m-%d %H:%M") + shift).strftime("%Y-%m-%d %H:%M")

    text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d", moved, (SAMPLES / sessions).read_text())
    (share / "sessions").write_text(text)
    tool = host.root / "usr/local/bin/veeamconfig"
    tool.write_text(
        '#!/bin/sh\ncase "$1 $2" in\n'
        '  "job list") cat /usr/share/veeam-standin/jobs ;;\n'
        '  "session list") cat /usr/share/veeam-standin/sessions ;;\n'
        '  *) echo "unknown command" >&2; exit 1 ;;\nesac\n'
    )
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)


def test_veeam_agent_healthy_failed_and_malformed(tmp_path, lab, make_host):
    healthy, failed, malformed = make_host("vhealthy"), make_host("vfailed"), make_host("vbroken")
    veeam_standin(healthy, "veeam_jobs.txt", "veeam_sessions_healthy.txt")
    veeam_standin(failed, "veeam_jobs.txt", "veeam_sessions_failing.txt")
    veeam_standin(malformed, "veeam_jobs_malformed.txt", "veeam_sessions_malformed.txt")
    cli.write_inputs(tmp_path, lab, [healthy, failed, malformed], policy=VEEAM_POLICY)
    got = check(tmp_path)
    status = {(d, c): f["status"] for (d, c), f in got.items()}
    assert status == {
        ("vhealthy", "backup.configured"): "pass",
        ("vhealthy", "backup.last_success_age"): "pass",
        ("vfailed", "backup.configured"): "pass",
        ("vfailed", "backup.last_success_age"): "fail",
        ("vbroken", "backup.configured"): "error",
        ("vbroken", "backup.last_success_age"): "error",
    }
    assert "2 failed sessions since" in got[("vfailed", "backup.last_success_age")]["observed"]


SYSTEMD_POLICY = """\
id: systemd-job-test
version: "1"
title: Backup job run by a systemd timer (test)
applies_to: {platform: linux}
backup:
  configured: {tool: systemd, unit: borg-backup.service, paths: [/srv/data]}
  last_success_age: {max_hours: 26}
  restore_tested: {max_days: 30}
"""
BORG_SERVICE = f"""\
[Service]
Type=oneshot
Environment=BORG_REPO={REPO} BORG_PASSPHRASE=job-passphrase
ExecStart=/usr/bin/borg create ::nightly-{{now}} /srv/data
"""
BORG_TIMER = "[Timer]\nOnCalendar=*-*-* 02:00:00\n[Install]\nWantedBy=timers.target\n"


def test_systemd_timer_job_judged_by_its_service_run(tmp_path, systemd_lab, make_systemd_host):
    good, broken = make_systemd_host("sdgood"), make_systemd_host("sdbroken")
    for host in (good, broken):
        data(host)
        host.write_unit("borg-backup.service", BORG_SERVICE)
        host.write_unit("borg-backup.timer", BORG_TIMER)
    good.run(f"BORG_REPO={REPO} BORG_PASSPHRASE=job-passphrase borg init -e repokey 2>/dev/null")
    good.systemctl("enable", "--now", "borg-backup.timer")
    # the broken host's job has no repository to write to, and its timer is not enabled
    for host in (good, broken):
        host.systemctl("start", "borg-backup.service", check=False)
        host.wait_unit_ran("borg-backup.service", timeout=60)
    cli.write_inputs(tmp_path, systemd_lab, [good, broken], policy=SYSTEMD_POLICY)
    got = check(tmp_path, "--restore-test")
    status = {(d, c): f["status"] for (d, c), f in got.items()}
    assert status == {
        ("sdgood", "backup.configured"): "pass",
        ("sdgood", "backup.last_success_age"): "pass",
        ("sdbroken", "backup.configured"): "fail",
        ("sdbroken", "backup.last_success_age"): "fail",
        # a systemd job names no repository to restore from: asked for, it cannot be made
        ("sdgood", "backup.restore_tested"): "error",
        ("sdbroken", "backup.restore_tested"): "error",
    }, got
    assert "restic and borg" in got[("sdgood", "backup.restore_tested")]["reason"]
    assert (
        "borg-backup.service last succeeded"
        in got[("sdgood", "backup.last_success_age")]["observed"]
    )
    failed = got[("sdbroken", "backup.last_success_age")]["observed"]
    assert "failed (Result=exit-code, exit status 2)" in failed
    assert "not scheduled" in got[("sdbroken", "backup.configured")]["observed"]


URL_PASSWORD = "url-canary:p@ss/w0rd%"  # reserved URL characters: sent URL-encoded


def test_repository_url_credentials_never_leave_the_host_or_reach_a_finding(
    tmp_path, lab, linux_host
):
    """A REST repository's user password: referenced in the policy, sent on stdin, put into the
    URL on the host only; whatever restic echoes back (the URL, the password) is masked."""
    seen = "/root/restic-saw"
    # a stand-in restic that records what it was given and echoes it in its error, as a
    # careless tool (or a hostile host) might
    linux_host.run(
        "cat > /usr/local/bin/restic <<'SH'\n#!/bin/sh\n"
        f'printf "%s\\n%s\\n" "$RESTIC_REPOSITORY" "$RESTIC_PASSWORD" > {seen}\n'
        'echo "Fatal: unable to open repository at $RESTIC_REPOSITORY (password $RESTIC_PASSWORD)" >&2\n'
        "exit 1\nSH\nchmod +x /usr/local/bin/restic"
    )
    policy = POLICY.replace(
        f"    repository: {REPO}\n",
        "    tool: restic\n    repository: rest:http://bk@10.9.9.9:8000/srv\n"
        '    repository_password: "env:BK_TEST_URL_PASSWORD"\n',
    )
    cli.write_inputs(tmp_path, lab, [linux_host], policy=policy)
    env = {**ENV, "BK_TEST_URL_PASSWORD": URL_PASSWORD}
    result = baluarte(tmp_path, "check", "--format", "json", env=env)
    got = findings(result)
    finding = got[("testhost", "backup.configured")]
    assert finding["status"] == "error", finding
    assert "rest:http://bk:***@10.9.9.9:8000/srv" in finding["reason"], finding["reason"]
    encoded = "url-canary%3Ap%40ss%2Fw0rd%25"
    stored = (tmp_path / "runs.db").read_bytes()
    for secret in (URL_PASSWORD, encoded, PASSWORD):
        assert secret not in result.stdout and secret not in result.stderr
        assert secret.encode() not in stored
    # the host's restic did get the full URL and the repository password
    assert linux_host.run(f"cat {seen}").stdout.splitlines() == [
        f"rest:http://bk:{encoded}@10.9.9.9:8000/srv",
        PASSWORD,
    ]


def test_a_password_written_into_the_repository_url_is_refused(tmp_path, lab, linux_host):
    policy = POLICY.replace(
        f"repository: {REPO}", "repository: rest:https://bk:hunter2-xyz@nas:8000/srv"
    )
    cli.write_inputs(tmp_path, lab, [linux_host], policy=policy)
    result = baluarte(tmp_path, "validate")
    assert result.returncode == 2
    assert "hunter2-xyz" not in result.stdout + result.stderr
    assert (
        "test.yaml:7:5: backup.configured.repository: the repository URL contains a password"
        in result.stderr
    )
    assert "repository_password" in result.stderr, result.stderr


def test_a_backup_dated_in_the_future_is_an_error_not_a_fresh_backup(tmp_path, lab, make_host):
    """A snapshot stamped by a clock running ahead (a year, here three days) would otherwise
    look fresh for as long as the clock was wrong; a few minutes of skew still pass."""
    ahead, skewed = make_host("rahead"), make_host("rskew")
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda a: restic(*a), [(ahead, -72, "/srv/data"), (skewed, -0.5, "/srv/data")]))  # fmt: skip
    cli.write_inputs(tmp_path, lab, [ahead, skewed], policy=POLICY)
    got = check(tmp_path, "--restore-test")
    age = got[("rahead", "backup.last_success_age")]
    assert age["status"] == "error", age
    assert "72.0 hours ahead of this run's clock" in age["reason"]
    assert statuses(got, "rskew") == dict.fromkeys(CONTROLS, "pass")
    # a restore test recorded by a clock running ahead cannot say how recent it is either
    record = ahead.root / "var/lib/baluarte/restore-test.json"
    assert json.loads(record.read_text())["result"] == "pass"
    later = json.loads(record.read_text()) | {"time": int(time.time()) + 30 * 86400}
    record.write_text(json.dumps(later))
    restore = check(tmp_path)[("rahead", "backup.restore_tested")]
    assert restore["status"] == "error", restore
    assert "the last restore test is dated" in restore["reason"]
