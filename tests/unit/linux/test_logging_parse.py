"""parse() of the logging fragment's raw output, from outputs recorded on Debian 12 lab hosts.

Every sample in tests/samples/linux/logging/ is ``<what it sets up>.<status>.json``: the raw
``logging`` section, and the verdict each listed control must reach on it.
"""

from datetime import UTC, datetime

import pytest

from baluarte.controls import EvalContext
from checks.linux.logging import (
    parse,
    parse_journal_upload,
    parse_rsyslog,
    parse_syslog_ng,
    parse_time_sync,
)
from tests.unit.linux import samples
from tests.unit.linux.daemon_table import proc, table

CTX = EvalContext(now=datetime(2026, 11, 28, 12, 0, tzinfo=UTC))


def load(name: str) -> dict:
    return samples.load("logging", name)


@pytest.mark.parametrize("sample", samples.names("logging"))
def test_recorded_sample_reaches_its_verdict(sample):
    samples.assert_verdicts("logging", sample)


def test_module_named_logging_does_not_shadow_the_standard_library():
    import logging

    assert hasattr(logging, "getLogger")


RSYSLOG = """== /etc/rsyslog.conf
module(load="imuxsock")
*.*;auth,authpriv.none\t\t-/var/log/syslog
# *.* @@commented.example.net:514
*.emerg\t\t\t\t:omusrmsg:*
$IncludeConfig /etc/rsyslog.d/*.conf
== /etc/rsyslog.d/60-remote.conf
auth,authpriv.* @10.0.0.5
*.* @@(z9)[2001:db8::5]:6514;RSYSLOG_SyslogProtocol23Format
*.* :omrelp:relp.example.net:2514
if $programname == "sshd" then {
  action(type="omfwd" # the collector
         target="siem.example.net" port="10514"
         protocol="tcp" template="x#y")
}
action(type="omfile" file="/var/log/all.log")
"""


def test_rsyslog_legacy_and_rainerscript_forwarding():
    targets = parse_rsyslog(RSYSLOG, running=True)
    got = [(t.host, t.port, t.protocol, t.source) for t in targets]
    assert got == [
        ("10.0.0.5", 514, "udp", "/etc/rsyslog.d/60-remote.conf:1"),
        ("2001:db8::5", 6514, "tcp", "/etc/rsyslog.d/60-remote.conf:2"),
        ("relp.example.net", 2514, "relp", "/etc/rsyslog.d/60-remote.conf:3"),
        ("siem.example.net", 10514, "tcp", "/etc/rsyslog.d/60-remote.conf:5"),
    ]
    assert all(t.active for t in targets)


def test_rsyslog_not_running_makes_targets_inactive():
    targets = parse_rsyslog(RSYSLOG, running=False)
    assert targets and not any(t.active for t in targets)
    assert targets[0].inactive_reason == "rsyslogd is not running"


def test_syslog_ng_destinations_only():
    conf = """== /etc/syslog-ng/syslog-ng.conf
source s_net { tcp(ip(0.0.0.0) port(514)); };
destination d_remote { network("logs.example.net" port(6514) transport("tls")); };
destination d_old { udp("10.1.1.1"); };
# destination d_off { tcp("off.example.net"); };
"""
    got = [(t.host, t.port, t.protocol) for t in parse_syslog_ng(conf, running=True)]
    assert got == [("logs.example.net", 6514, "tls"), ("10.1.1.1", 514, "udp")]


def test_journal_upload_needs_enabled_and_active_service():
    conf = "== /etc/systemd/journal-upload.conf\n[Upload]\nURL=http://10.0.0.9\n"
    (on,) = parse_journal_upload("@@enabled enabled\n@@active active\n" + conf)
    assert (on.host, on.port, on.protocol, on.active) == ("10.0.0.9", 19532, "http", True)
    (off,) = parse_journal_upload("@@enabled disabled\n@@active inactive\n" + conf)
    assert not off.active and "not enabled" in off.inactive_reason
    # enabled by symlink on a host where systemd is not PID 1: nothing will start it
    (stuck,) = parse_journal_upload("@@enabled enabled\n" + conf)
    assert not stuck.active
    assert parse_journal_upload("@@enabled enabled\n@@active active\n") == []


TRACKING_SYNCED = load("forwarding_synced.pass.json")["raw"]["chrony"]["out"]


def test_chrony_synced_reference_and_offset():
    sync = parse_time_sync(("@@no-systemd", 0), (TRACKING_SYNCED, 0), ("@@not-running", 0), "")
    assert sync.synchronized and sync.reference == "127.0.0.1"
    assert sync.offset_seconds == pytest.approx(2.535e-6)


def test_chrony_running_but_unreachable_is_unknown():
    with pytest.raises(ValueError, match="chronyc tracking failed"):
        parse_time_sync(
            ("@@no-systemd", 0), ("506 Cannot talk to daemon", 1), ("@@not-running", 0), ""
        )


def test_garbled_tracking_is_unknown_never_synced():
    with pytest.raises(ValueError, match="unexpected chronyc tracking"):
        parse_time_sync(("@@no-systemd", 0), ("Leap sta", 0), ("@@not-running", 0), "")


NTPQ = """     remote           refid      st t when poll reach   delay   offset  jitter
==============================================================================
*10.0.0.1        .GPS.            1 u   33   64  377    0.234  -12.500   0.021
+10.0.0.2        10.0.0.1         2 u   30   64  377    0.301   -0.020   0.030
"""


def test_ntpd_system_peer_and_offset_in_seconds():
    sync = parse_time_sync(("@@no-systemd", 0), ("@@not-installed", 0), (NTPQ, 0), "")
    assert sync.synchronized and sync.reference == "10.0.0.1"
    assert sync.offset_seconds == pytest.approx(0.0125)
    unsynced = NTPQ.replace("*10.0.0.1", " 10.0.0.1").replace("+10.0.0.2", " 10.0.0.2")
    assert not parse_time_sync(
        ("@@no-systemd", 0), ("@@not-installed", 0), (unsynced, 0), ""
    ).synchronized


def test_timedatectl_is_authoritative_under_systemd():
    tdc = "NTP=yes\nNTPSynchronized=no\n"
    sync = parse_time_sync((tdc, 0), ("@@not-installed", 0), ("@@not-running", 0), "")
    assert not sync.synchronized and sync.source == "timedatectl"
    with pytest.raises(ValueError):
        parse_time_sync(("Failed to connect to bus", 1), ("@@not-installed", 0), ("", -1), "")


def test_no_client_running_is_a_definite_no():
    sync = parse_time_sync(
        ("@@no-systemd", 0),
        ("@@not-running", 0),
        ("@@not-running", 0),
        "== /etc/chrony/chrony.conf\npool 2.debian.pool.ntp.org iburst\n",
    )
    assert not sync.synchronized and "chrony is installed" in sync.detail
    assert sync.servers == ("2.debian.pool.ntp.org",)


def test_missing_fields_give_problems_not_crashes():
    facts = parse({}, {})
    assert facts.forward_targets is None
    assert facts.time_sync is None
    assert set(facts.problems) == {"forward_targets", "time_sync"}


# -- identity, not names: rsyslogd, syslog-ng, chronyd and ntpd (checks/linux/logging_daemons.py)


def with_procs(name: str, procs: dict, **fields: dict) -> dict:
    raw = load(name)["raw"]
    raw["procs"] = procs
    raw.update(fields)
    return raw


RSYSLOG_OWNER = ("rsyslog: /usr/sbin/rsyslogd",)


def test_rsyslogd_impostor_forwards_nothing_and_is_named():
    impostor = table(
        proc(35, "rsyslogd", "/usr/bin/sleep", "nobody"), owners=("coreutils: /bin/sleep",)
    )
    facts = parse(with_procs("forwarding_synced.pass.json", impostor), {})
    assert facts.forward_targets and not any(t.active for t in facts.forward_targets)
    reason = facts.forward_targets[0].inactive_reason
    assert reason.startswith("rsyslogd is not running: a process named rsyslogd (PID 35) runs")
    assert "/usr/bin/sleep belongs to package coreutils" in reason
    assert "rsyslog's daemon runs as root or syslog" in reason


def test_rsyslog_configuration_taken_from_an_impostors_command_line_is_not_trusted():
    both = table(
        proc(30, "rsyslogd", "/usr/sbin/rsyslogd"),
        proc(36, "rsyslogd", "/usr/sbin/rsyslogd", "alice"),
        owners=RSYSLOG_OWNER,
    )
    raw = with_procs("forwarding_synced.pass.json", both, rsyslog_pid={"out": "36", "rc": 0})
    facts = parse(raw, {})
    assert facts.forward_targets is None
    assert "taken from process 36's command line" in facts.problems["forward_targets"]
    raw["rsyslog_pid"] = {"out": "30", "rc": 0}
    assert parse(raw, {}).forward_targets


def test_rsyslogd_under_systemd_is_judged_by_its_units_main_process():
    units = {"out": "Id=rsyslog.service\nActiveState=active\nMainPID=30\nUser=\n", "rc": 0}
    real = table(proc(30, "rsyslogd", "/usr/sbin/rsyslogd"), owners=RSYSLOG_OWNER)
    facts = parse(with_procs("forwarding_synced.pass.json", real, units=units), {})
    assert facts.forward_targets and all(t.active for t in facts.forward_targets)
    other = table(proc(30, "rsyslogd", "/tmp/rsyslogd"))
    facts = parse(with_procs("forwarding_synced.pass.json", other, units=units), {})
    assert not any(t.active for t in facts.forward_targets or ())
    assert "systemd: rsyslog.service active, but" in facts.forward_targets[0].inactive_reason


def test_chronyd_impostor_is_no_ntp_client_a_fact_not_an_unreadable_daemon():
    # the shell saw the name and asked chronyc, which found no daemon to talk to
    impostor = table(proc(37, "chronyd", "/usr/bin/dash", "nobody"), owners=("dash: /bin/dash",))
    raw = with_procs(
        "forwarding_synced.pass.json",
        impostor,
        chrony={"out": "506 Cannot talk to daemon", "rc": 1},
    )
    facts = parse(raw, {})
    assert "time_sync" not in facts.problems
    assert facts.time_sync is not None and not facts.time_sync.synchronized
    assert facts.time_sync.detail.startswith("no NTP client is running")
    assert "a process named chronyd (PID 37) runs /usr/bin/dash as nobody" in facts.time_sync.detail


def test_an_unreadable_process_table_is_a_problem_not_a_stopped_daemon():
    raw = with_procs("forwarding_synced.pass.json", table(rc=1))
    facts = parse(raw, {})
    assert facts.forward_targets is None
    assert facts.problems["forward_targets"] == "the running processes could not be listed (/proc)"
