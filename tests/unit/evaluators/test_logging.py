"""The logging evaluators: facts + parameters -> verdict, no I/O."""

from datetime import UTC, datetime

import pytest

from baluarte.controls import EvalContext
from baluarte.findings import Status
from checks.evaluators import logging as ev
from checks.facts.logging import ForwardTarget, LoggingFacts, TimeSyncFacts
from checks.policy.logging import RemoteForwarding, TimeSync

CTX = EvalContext(now=datetime(2026, 11, 28, 12, 0, tzinfo=UTC))
TCP = ForwardTarget(
    via="rsyslog",
    host="logs.example.net",
    port=6514,
    protocol="tcp",
    source="/etc/rsyslog.d/90-remote.conf:1",
    active=True,
)
SYNCED = TimeSyncFacts(
    synchronized=True,
    source="chronyc tracking",
    detail="chronyd: reference C0A80001 (10.0.0.1), leap status Normal",
    reference="10.0.0.1",
    offset_seconds=0.002,
    servers=("ntp1.example.net",),
)


def facts(**kw) -> LoggingFacts:
    base = dict(forward_targets=(TCP,), forwarders_seen=("rsyslog (running)",), time_sync=SYNCED)
    return LoggingFacts(**(base | kw))


def test_active_forwarding_passes_and_names_the_target():
    out = ev.remote_forwarding(facts(), RemoteForwarding(), CTX)
    assert out.status is Status.PASS
    assert out.observed == "forwarding to logs.example.net:6514/tcp via rsyslog"
    assert "90-remote.conf:1" in out.evidence


def test_no_forwarding_fails_saying_what_was_looked_at():
    out = ev.remote_forwarding(facts(forward_targets=()), RemoteForwarding(), CTX)
    assert out.status is Status.FAIL and "rsyslog (running)" in out.observed


def test_configured_but_daemon_stopped_fails():
    stopped = TCP.model_copy(update={"active": False, "inactive_reason": "rsyslogd is not running"})
    out = ev.remote_forwarding(facts(forward_targets=(stopped,)), RemoteForwarding(), CTX)
    assert out.status is Status.FAIL and "rsyslogd is not running" in out.observed


@pytest.mark.parametrize(
    ("wanted", "status"),
    [
        (("logs.example.net",), Status.PASS),
        (("LOGS.example.net:6514",), Status.PASS),
        (("logs.example.net:514",), Status.FAIL),
        (("siem.example.net",), Status.FAIL),
    ],
)
def test_required_collectors_must_be_among_active_targets(wanted, status):
    out = ev.remote_forwarding(facts(), RemoteForwarding(targets=wanted), CTX)
    assert out.status is status
    if status is Status.FAIL:
        assert f"not forwarding to {wanted[0]}" in out.observed


def test_unreadable_forwarding_is_error():
    f = facts(forward_targets=None, problems={"forward_targets": "no /proc"})
    out = ev.remote_forwarding(f, RemoteForwarding(), CTX)
    assert out.status is Status.ERROR and out.reason == "no /proc"


def test_synchronised_clock_passes():
    out = ev.time_sync(facts(), TimeSync(), CTX)
    assert out.status is Status.PASS and "10.0.0.1" in out.observed


def test_unsynchronised_clock_fails():
    unsynced = SYNCED.model_copy(
        update={"synchronized": False, "detail": "no NTP client is running"}
    )
    out = ev.time_sync(facts(time_sync=unsynced), TimeSync(), CTX)
    assert (
        out.status is Status.FAIL and out.observed == "not synchronised: no NTP client is running"
    )


def test_required_servers_and_offset():
    ok = TimeSync(servers=("ntp1.example.net", "10.0.0.1"), max_offset_seconds=0.01)
    assert ev.time_sync(facts(), ok, CTX).status is Status.PASS
    out = ev.time_sync(facts(), TimeSync(servers=("ntp.other.net",)), CTX)
    assert out.status is Status.FAIL and "not configured: ntp.other.net" in out.observed
    out = ev.time_sync(facts(), TimeSync(max_offset_seconds=0.001), CTX)
    assert out.status is Status.FAIL and "offset 0.002 s > 0.001 s" in out.observed


def test_unreadable_time_sync_is_error():
    f = facts(time_sync=None, problems={"time_sync": "chronyd runs but chronyc tracking failed"})
    out = ev.time_sync(f, TimeSync(), CTX)
    assert out.status is Status.ERROR and "chronyc" in out.reason


def test_offset_limit_with_unknown_offset_is_error_saying_so():
    no_offset = SYNCED.model_copy(
        update={"offset_seconds": None, "source": "timedatectl", "detail": "timedatectl: NTP=yes"}
    )
    out = ev.time_sync(facts(time_sync=no_offset), TimeSync(max_offset_seconds=0.5), CTX)
    assert out.status is Status.ERROR
    assert out.observed == (
        "timedatectl: NTP=yes; offset unknown: the limit of 500 ms was not checked"
    )
    assert "timedatectl reports no offset" in (out.reason or "")
    # without a limit, synchronised per the daemon is enough
    assert ev.time_sync(facts(time_sync=no_offset), TimeSync(), CTX).status is Status.PASS
    # a definite shortfall still fails, and says what was not checked
    out = ev.time_sync(
        facts(time_sync=no_offset),
        TimeSync(max_offset_seconds=0.5, servers=("ntp.other.net",)),
        CTX,
    )
    assert out.status is Status.FAIL
    assert "offset unknown: the limit of 500 ms was not checked" in (out.observed or "")


def test_tls_transport_is_shown():
    tls = TCP.model_copy(update={"tls": True})
    out = ev.remote_forwarding(facts(forward_targets=(tls,)), RemoteForwarding(), CTX)
    assert out.observed == "forwarding to logs.example.net:6514/tcp+tls via rsyslog"


def test_forwarding_to_the_device_itself_is_not_remote():
    local = TCP.model_copy(update={"host": "127.0.0.1"})
    out = ev.remote_forwarding(facts(forward_targets=(local,)), RemoteForwarding(), CTX)
    assert out.status is Status.FAIL
    assert "127.0.0.1 via rsyslog (the device itself, not a remote collector)" in out.observed


def test_a_control_the_policy_does_not_require_is_not_a_pass():
    ctx = EvalContext(now=CTX.now, policy="office")
    for got in (
        ev.remote_forwarding(facts(forward_targets=()), RemoteForwarding(required=False), ctx),
        ev.time_sync(facts(), TimeSync(required=False), ctx),
    ):
        assert got.status is Status.NOT_APPLICABLE
        assert got.reason.endswith("not required by policy office (required: false)")


def test_a_last_sync_dated_ahead_of_the_run_is_error_not_a_fresh_sync():
    future = datetime(2027, 3, 1, tzinfo=UTC)
    synced = SYNCED.model_copy(update={"last_sync": future, "last_sync_age_hours": -2200.0})
    out = ev.time_sync(facts(time_sync=synced), TimeSync(max_sync_age_hours=192), CTX)
    assert out.status is Status.ERROR
    assert "ahead of this run's clock" in out.reason
    recent = SYNCED.model_copy(
        update={"last_sync": datetime(2026, 11, 28, 13, 0, tzinfo=UTC), "last_sync_age_hours": -1}
    )
    assert ev.time_sync(facts(time_sync=recent), TimeSync(), CTX).status is Status.PASS
