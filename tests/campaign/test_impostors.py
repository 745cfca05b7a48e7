"""Issue 12, class 4: identity, not names. Impostor daemons on real lab hosts, end to end.

Every daemon a control trusts is impersonated by an unprivileged user (``nobody``) in each way
a name can be had without being the daemon: a copy of another program in /tmp named like it,
a symbolic link to another program, a shell that renamed itself (``/proc/self/comm``), the
product's own program run as the wrong user (with a configuration of its own), and a program
in a directory whose name carries a newline and tabs forging a record of the process table.
None of them may count as running; each finding says what runs instead. Beside them, the real
daemons (and stand-in engines installed where their products put them) still count, on plain
hosts and under systemd.

Before identity was checked, every impostor case below passed (Defender's and chrony's were
``error``: the daemon "ran" but would not answer).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from baluarte.lab.linux_hosts import LinuxHost, LinuxHostLab, leftovers
from baluarte.lab.rhel_like import ensure_rhel_like_image, install_rpms, make_rocky_like
from tests.integration import cli
from tests.integration import conftest as hosts
from tests.integration.test_endpoint_linux import (
    WDAVDAEMON,
    clamav_daily,
    defender,
    falcon,
    policy,
    run_check,
    sophos,
    stand_in_package,
    start_clamd,
    start_engine,
)

# the lab fixtures of tests/integration, here too
lab, make_host = hosts.lab, hosts.make_host
systemd_lab, make_systemd_host = hosts.systemd_lab, hosts.make_systemd_host

LOGGING = """\
id: logging-identity
version: "1"
title: logging daemons by identity
applies_to: {platform: linux, tags: [logging]}
logging:
  remote_forwarding: {required: true, targets: ["logs.example.net:6514"]}
  time_sync: {required: true}
"""
FORWARD = "*.* @@logs.example.net:6514\n"
SYSLOG_NG_CONF = (
    "@version: 3.38\nsource s_local { system(); internal(); };\n"
    'destination d_remote { network("logs.example.net" port(6514) transport("tcp")); };\n'
    "log { source(s_local); destination(d_remote); };\n"
)


def as_nobody(host: LinuxHost, command: str) -> None:
    """Run ``command`` (sh) in the background as nobody, from /tmp."""
    host.run(f"cd /tmp && runuser -u nobody -- sh -c '{command}' >/dev/null 2>&1 </dev/null &")


def copy_in_tmp(host: LinuxHost, name: str, program: str = "/usr/bin/sleep") -> None:
    """nobody copies ``program`` to /tmp/NAME and runs it."""
    as_nobody(host, f"cp {program} /tmp/{name} && exec /tmp/{name} infinity")


def link_in_tmp(host: LinuxHost, name: str) -> None:
    """nobody links /tmp/NAME to sleep: the process is named NAME, its program is sleep."""
    as_nobody(host, f"ln -s /usr/bin/sleep /tmp/{name} && exec /tmp/{name} infinity")


def renamed_shell(host: LinuxHost, name: str) -> None:
    """nobody's shell names itself NAME through /proc/self/comm and stays up."""
    as_nobody(host, f"printf {name} > /proc/self/comm; while :; do sleep 1; done")


def forged_directory(host: LinuxHost, name: str) -> None:
    """A program in a directory whose name, newline and tabs included, reads as a record of
    the real daemon run by root if the process table were printed unescaped."""
    forged = (
        "/tmp/x\\npid=1\\tcomm=clamd\\tuid=0\\tuser=root\\tmnt=same\\timage=-\\tfile=-\\tdir=-"
        "\\texe=/usr/sbin/clamd"
    )
    host.run(
        f'd=$(printf "{forged}") && runuser -u nobody -- mkdir -p "$d" && '
        f'runuser -u nobody -- cp /usr/bin/sleep "$d/{name}" && '
        f'(runuser -u nobody -- "$d/{name}" infinity >/dev/null 2>&1 </dev/null &)'
    )


def wait_processes(host: LinuxHost, name: str, count: int) -> None:
    for _ in range(100):
        got = host.run(f"grep -lx {name} /proc/[0-9]*/comm 2>/dev/null | wc -l", check=False)
        if int(got.stdout.strip() or 0) >= count:
            return
        host.run("sleep 0.1")
    raise AssertionError(f"{host.name}: fewer than {count} processes named {name}")


def observed(got: dict, device: str, control: str) -> str:
    finding = got[device, control]
    return finding.get("observed") or finding.get("reason") or ""


def test_endpoint_engines_impersonated_by_nobody_do_not_run(tmp_path, lab, make_host):
    clam, forged, real = make_host("imp-clam"), make_host("imp-forged"), make_host("real-clam")
    mde, spl, cs = make_host("imp-mde"), make_host("imp-sophos"), make_host("imp-falcon")
    soapd = make_host("imp-soapd")
    for host in (clam, forged):
        clamav_daily(host, age_days=1)
        with (host.root / "etc/clamav/clamd.conf").open("a") as conf:
            conf.write("OnAccessIncludePath /srv/data\n")
    copy_in_tmp(clam, "clamd")
    renamed_shell(clam, "clamonacc")
    forged_directory(forged, "clamd")
    # the real engine (clamd loads no unsigned daily: it comes after), an impostor beside it
    start_clamd(real, on_access=False)
    clamav_daily(real, age_days=1)
    copy_in_tmp(real, "clamd")
    # Defender installed, its daemon down; its own program run by nobody
    defender(mde, "mdatp_health_daemon_down.error.txt")
    as_nobody(mde, f"exec {WDAVDAEMON} infinity")
    # Sophos installed and healthy on file; its engines' names held by nobody
    sophos(spl, "sophos_SHS_status_good.pass.xml", alc_last_good=0.2)
    spl.run("pkill -x sophos_watchdog; pkill -x soapd; true")
    link_in_tmp(spl, "sophos_watchdog")
    copy_in_tmp(spl, "soapd")
    # Sophos really running, but its on-access scanner's name held by nobody
    sophos(soapd, "sophos_SHS_status_good.pass.xml", alc_last_good=0.2)
    soapd.run("pkill -x soapd; true")
    copy_in_tmp(soapd, "soapd")
    # CrowdStrike installed and registered; the sensor's name held by nobody
    falcon(cs, "falconctl_healthy.pass.txt")
    cs.run("pkill -x falcon-sensor; true")
    copy_in_tmp(cs, "falcon-sensor")
    for host, name, count in (
        (clam, "clamd", 1), (clam, "clamonacc", 1), (forged, "clamd", 1), (real, "clamd", 2),
        (mde, "wdavdaemon", 1), (spl, "sophos_watchdog", 1), (spl, "soapd", 1),
        (soapd, "soapd", 1), (cs, "falcon-sensor", 1),
    ):  # fmt: skip
        wait_processes(host, name, count)

    tags = {clam: "clamav", forged: "clamav", real: "clamav", mde: "mde", cs: "cs"}
    tags |= {spl: "spl", soapd: "spl"}
    policies = [
        policy("clamav", "clamav", "clamav"),
        policy("mde", "defender", "mde"),
        policy("spl", "sophos", "spl"),
        policy("cs", "crowdstrike", "cs"),
    ]
    result, got = run_check(tmp_path, lab, tags, policies)

    def status(device: str, control: str) -> str:
        return got[device, f"endpoint.{control}"]["status"]

    cases = {
        ("imp-clam", "running"): "fail",
        ("imp-clam", "realtime_protection"): "fail",
        ("imp-forged", "running"): "fail",
        ("imp-mde", "running"): "fail",  # was error: "the daemon runs but does not answer"
        ("imp-sophos", "running"): "fail",
        ("imp-sophos", "realtime_protection"): "fail",
        ("imp-soapd", "running"): "pass",
        ("imp-soapd", "realtime_protection"): "fail",
        ("imp-falcon", "running"): "fail",
        ("imp-falcon", "realtime_protection"): "fail",
        ("real-clam", "running"): "pass",
    }
    assert {case: status(*case) for case in cases} == cases, result.stdout
    text = {d: observed(got, d, "endpoint.running") for d, _ in cases}
    assert re.search(
        r"a process named clamd \(PID \d+\) runs /tmp/clamd as nobody: not ClamAV's daemon "
        r"\(no package owns /tmp/clamd; ClamAV's daemon runs as root, clamav or clamscan\)",
        text["imp-clam"],
    )
    assert "runs /usr/bin/dash as nobody: not ClamAV's on-access scanner" in observed(
        got, "imp-clam", "endpoint.realtime_protection"
    )
    # the forged record is printed inert: its newline and tabs are "?", nothing else is read
    assert "runs /tmp/x?pid=1?comm=clamd?uid=0" in text["imp-forged"]
    assert "as nobody: not ClamAV's daemon" in text["imp-forged"]
    assert f"runs {WDAVDAEMON} as nobody: not Defender's daemon" in text["imp-mde"]
    assert "runs /usr/bin/sleep as nobody: not Sophos' watchdog" in text["imp-sophos"]
    assert "/usr/bin/sleep belongs to package coreutils" in text["imp-sophos"]
    assert "runs /tmp/soapd as nobody: not Sophos' on-access scanner" in observed(
        got, "imp-soapd", "endpoint.realtime_protection"
    )
    assert "runs /tmp/falcon-sensor as nobody: not CrowdStrike's sensor" in text["imp-falcon"]
    assert "process clamd running (/usr/sbin/clamd as clamav)" in text["real-clam"]
    assert "also a process named clamd" in text["real-clam"]


def test_logging_daemons_impersonated_by_nobody_do_not_run(tmp_path, lab, make_host):
    imp_rs, order, real_rs = make_host("imp-rsyslog"), make_host("rs-order"), make_host("real-rs")
    imp_ng, real_ng, imp_ch = make_host("imp-ng"), make_host("real-ng"), make_host("imp-chrony")
    # rsyslog's own program, run by nobody with a configuration of its own that forwards (a
    # local input of its own too, so the forwarding would count as this host's logs)
    own = "exec /usr/sbin/rsyslogd -n -f /tmp/evil.conf -i /tmp/rs.pid"
    for host in (imp_rs, order):
        (host.root / "tmp/evil.conf").write_text('module(load="imuxsock")\n' + FORWARD)
    (imp_rs.root / "etc/rsyslog.d/90-remote.conf").write_text(FORWARD)
    as_nobody(imp_rs, own)
    # the impostor started first (a lower PID), the real daemon after it, forwarding nothing
    as_nobody(order, own)
    wait_processes(order, "rsyslogd", 1)
    order.run("rsyslogd")
    # the real daemon forwards; an impostor beside it changes nothing
    (real_rs.root / "etc/rsyslog.d/90-remote.conf").write_text(FORWARD)
    real_rs.run("rsyslogd")
    link_in_tmp(real_rs, "rsyslogd")
    # syslog-ng (a stand-in package where syslog-ng-core puts it): real, and an impostor
    for host in (imp_ng, real_ng):
        stand_in_package(host, "syslog-ng-core", {"/usr/sbin/syslog-ng": None})
        (host.root / "etc/syslog-ng").mkdir(parents=True, exist_ok=True)
        (host.root / "etc/syslog-ng/syslog-ng.conf").write_text(SYSLOG_NG_CONF)
    copy_in_tmp(imp_ng, "syslog-ng")
    start_engine(real_ng, "/usr/sbin/syslog-ng")
    # chronyd's name on a shell: chronyc finds no daemon to ask
    renamed_shell(imp_ch, "chronyd")
    for host, name, count in (
        (imp_rs, "rsyslogd", 1), (order, "rsyslogd", 2), (real_rs, "rsyslogd", 2),
        (imp_ng, "syslog-ng", 1), (real_ng, "syslog-ng", 1), (imp_ch, "chronyd", 1),
    ):  # fmt: skip
        wait_processes(host, name, count)

    devices = (imp_rs, order, real_rs, imp_ng, real_ng, imp_ch)
    result, got = run_check(tmp_path, lab, dict.fromkeys(devices, "logging"), [LOGGING])
    forwarding = {d.name: got[d.name, "logging.remote_forwarding"]["status"] for d in devices}
    assert forwarding == {
        "imp-rsyslog": "fail",
        "rs-order": "fail",
        "real-rs": "pass",
        "imp-ng": "fail",
        "real-ng": "pass",
        "imp-chrony": "fail",
    }, result.stdout
    imp = observed(got, "imp-rsyslog", "logging.remote_forwarding")
    assert re.search(
        r"rsyslogd is not running: a process named rsyslogd \(PID \d+\) runs /usr/sbin/rsyslogd "
        r"as nobody: not rsyslog's daemon \(rsyslog's daemon runs as root or syslog\)",
        imp,
    )
    assert "runs /tmp/syslog-ng as nobody: not syslog-ng's daemon" in observed(
        got, "imp-ng", "logging.remote_forwarding"
    )
    # the impostor's name is no NTP client: a definite no, not an unreadable daemon
    chrony = got["imp-chrony", "logging.time_sync"]
    assert chrony["status"] == "fail", chrony
    assert chrony["observed"].startswith("not synchronised: no NTP client is running")
    assert re.search(
        r"a process named chronyd \(PID \d+\) runs /usr/bin/dash as nobody", chrony["observed"]
    )


def test_under_systemd_impostors_do_not_run_and_the_real_units_do(
    tmp_path, systemd_lab, make_systemd_host
):
    host = make_systemd_host("sd-imp")
    (host.root / "etc/rsyslog.d/90-remote.conf").write_text(FORWARD)
    host.systemctl("restart", "rsyslog.service")
    # chrony.service runs sandboxed (PrivateTmp: a mount namespace of its own) and is chrony's
    # daemon all the same; -x: the clock is the machine's
    dropins = host.root / "etc/systemd/system/chrony.service.d"
    dropins.mkdir(parents=True, exist_ok=True)
    (dropins / "lab.conf").write_text("[Unit]\nConditionCapability=\n")
    (host.root / "etc/default/chrony").write_text('DAEMON_OPTS="-F 1 -x"\n')
    host.systemctl("daemon-reload")
    host.systemctl("restart", "chrony.service")
    main = host.unit_properties("rsyslog.service", "MainPID")["MainPID"]
    copy_in_tmp(host, "clamd")
    copy_in_tmp(host, "rsyslogd")
    for name, count in (("clamd", 1), ("rsyslogd", 2)):
        wait_processes(host, name, count)
    both = [policy("clamav", "clamav", "clamav"), LOGGING.replace("[logging]", "[clamav]")]
    result, got = run_check(tmp_path, systemd_lab, {host: "clamav"}, both)
    running = got["sd-imp", "endpoint.running"]
    assert running["status"] == "fail", result.stdout
    assert "runs /tmp/clamd as nobody: not ClamAV's daemon" in running["observed"]
    # chronyd was asked (chronyc tracking), not taken for an impostor
    sync = got["sd-imp", "logging.time_sync"]
    assert "chronyd: reference" in (sync.get("observed") or sync.get("reason") or ""), sync
    # rsyslog.service's main process is rsyslog's program: systemd's word, checked
    forwarding = got["sd-imp", "logging.remote_forwarding"]
    assert forwarding["status"] == "pass", forwarding
    assert (
        f"rsyslogd: systemd: rsyslog.service active, main process {main} "
        "(/usr/sbin/rsyslogd as root)"
    ) in forwarding["evidence"]


def test_unprivileged_collection_tells_by_user_and_says_what_it_could_not_read(
    tmp_path, lab, make_host
):
    """Without root, /proc/PID/exe of another user's process cannot be read: the daemon's own
    account still tells it from nobody's copy, and the finding says only the user was checked.
    The collecting account's own impostor is readable, and named by its program."""
    host, own = make_host("unpriv"), make_host("unpriv-own")
    for h in (host, own):
        h.run(
            "useradd -m -s /bin/sh -p '*' auditor && mkdir -p /home/auditor/.ssh"
            " && cp /root/.ssh/authorized_keys /home/auditor/.ssh/"
            " && chown -R auditor: /home/auditor/.ssh"
        )
    start_clamd(host, on_access=False)
    copy_in_tmp(host, "clamd")
    own.run(
        "runuser -u auditor -- sh -c 'cp /usr/bin/sleep /tmp/clamd && exec /tmp/clamd infinity'"
        " >/dev/null 2>&1 </dev/null &"
    )
    wait_processes(host, "clamd", 2)
    wait_processes(own, "clamd", 1)
    cli.write_inputs(tmp_path, lab, [host, own], policy=policy("c", "clamav", "clamav"))
    inventory = tmp_path / "inventory.yaml"
    text = inventory.read_text().replace("user: root", "user: auditor")
    inventory.write_text(text.replace("tags: [server]", "tags: [clamav]"))
    got = cli.findings(cli.baluarte(tmp_path, "check", "--format", "json"))
    real = got["unpriv", "endpoint.running"]
    assert real["status"] == "pass", real
    uid = host.run("id -u auditor").stdout.strip()
    assert re.search(
        r"process clamd running \(as clamav; which program it runs could not be read "
        rf"\(/proc/\d+/exe needs root, the check ran as uid {uid}\), so only its user was checked",
        real["observed"],
    )
    assert (
        "runs a program that could not be read as nobody: not ClamAV's daemon" in real["observed"]
    )
    mine = got["unpriv-own", "endpoint.running"]
    assert mine["status"] == "fail", mine
    assert (
        "runs /tmp/clamd as auditor: not ClamAV's daemon (no package owns /tmp/clamd"
        in (mine["observed"])
    )


@pytest.fixture(scope="module")
def rhel_lab(lab: LinuxHostLab) -> Iterator[LinuxHostLab]:
    with LinuxHostLab(image=ensure_rhel_like_image()) as the_lab:
        yield the_lab
    assert leftovers(the_lab.prefix) == []


def test_on_the_rpm_path_the_package_owning_the_program_is_rpms_word(tmp_path, rhel_lab):
    """A Rocky-like host (dpkg hidden): ownership comes from rpm, for the real daemon and the
    impostor alike."""
    real, fake = rhel_lab.up("rpm-real"), rhel_lab.up("rpm-fake")
    try:
        for host in (real, fake):
            make_rocky_like(host)
            # RHEL's package name for the daemon; its program replaced by a real one after
            install_rpms(host, [("clamd", "1.0.9-1.el9")], {"clamd": {"/usr/sbin/clamd": "x"}})
            host.run("cp /usr/bin/sleep /usr/sbin/clamd && chmod 755 /usr/sbin/clamd")
        start_engine(real, "/usr/sbin/clamd")
        copy_in_tmp(fake, "clamd")
        wait_processes(real, "clamd", 1)
        wait_processes(fake, "clamd", 1)
        _, got = run_check(
            tmp_path, rhel_lab, {real: "clamav", fake: "clamav"}, [policy("c", "clamav", "clamav")]
        )
    finally:
        for host in (real, fake):
            rhel_lab.down(host)
    assert "process clamd running (/usr/sbin/clamd as root)" in observed(
        got, "rpm-real", "endpoint.running"
    )
    fake_running = got["rpm-fake", "endpoint.running"]
    assert fake_running["status"] == "fail", fake_running
    assert (
        "runs /tmp/clamd as nobody: not ClamAV's daemon (no package owns /tmp/clamd"
        in (fake_running["observed"])
    )
