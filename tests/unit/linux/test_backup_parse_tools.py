"""Backup jobs run by systemd timers and Veeam Agent for Linux: parsers on recorded output.

The systemd outputs were recorded from systemd 252 in a booted lab container; the Veeam
tables follow linux-checks.md §4.3 (the product cannot run here).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from checks.linux.backup import parse
from checks.linux.backup_systemd import parse_job, parse_timestamp
from checks.linux.backup_veeam import parse_jobs, parse_sessions

SAMPLES = Path(__file__).parents[2] / "samples/linux/backup"
HOST = {"hostname": {"out": "h\n", "rc": 0}, "clock": {"out": "1795854600\n+0000\n", "rc": 0}}
CET = timezone(timedelta(hours=1))


def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


def job(service: str, timer: str = "systemd_timer_enabled.txt"):
    return parse_job(sample(service), sample(timer), sample("systemd_manager.txt"), UTC)


def test_successful_job_is_read_from_the_service_not_the_timer():
    got = job("systemd_service_success.txt")
    assert got.service == "restic-backup.service" and got.service_loaded
    assert got.result == "success" and got.exit_status == 0
    assert got.last_exit == datetime(2026, 11, 28, 2, 7, 41, tzinfo=UTC)
    assert got.last_trigger == datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    assert got.timer_enabled and got.timer_active
    assert got.next_run == datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
    assert got.booted == datetime(2026, 11, 28, 8, 17, 39, tzinfo=UTC)
    assert got.command == ("/usr/bin/restic", "backup", "/etc", "/home", "/srv")


def test_failed_job_keeps_its_result_and_status():
    got = job("systemd_service_failed.txt", "systemd_timer_static_inactive.txt")
    assert (got.result, got.exit_status, got.active_state) == ("exit-code", 2, "failed")
    assert not got.timer_enabled and not got.timer_active and got.next_run is None


def test_never_run_service_has_no_exit_time_although_result_is_success():
    got = job("systemd_service_never_run.txt")
    assert got.result == "success" and got.last_exit is None


def test_unit_not_found():
    assert not job("systemd_service_not_found.txt").service_loaded


def test_systemctl_without_a_bus_is_malformed():
    with pytest.raises(ValueError):
        job("systemd_no_bus.txt")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sat 2026-11-28 05:52:11 UTC", datetime(2026, 11, 28, 5, 52, 11, tzinfo=UTC)),
        ("@1795845131", datetime.fromtimestamp(1795845131, UTC)),
        ("Sat 2026-11-28 05:52:11 CET", datetime(2026, 11, 28, 5, 52, 11, tzinfo=CET)),
        ("", None),
        ("n/a", None),
    ],
)
def test_systemd_timestamps(text, expected):
    assert parse_timestamp(text, CET) == expected


def test_systemd_fields_in_the_document():
    doc = {
        "tool": {"out": "systemd\n", "rc": 0},
        "systemd_service": {"out": sample("systemd_service_failed.txt"), "rc": 0},
        "systemd_timer": {"out": sample("systemd_timer_enabled.txt"), "rc": 0},
        "systemd_manager": {"out": sample("systemd_manager.txt"), "rc": 0},
    }
    facts = parse(doc, HOST)
    assert facts.tool == "systemd" and facts.systemd and facts.systemd.result == "exit-code"
    doc["systemd_service"] = {"out": sample("systemd_no_bus.txt"), "rc": 1}
    broken = parse(doc, HOST)
    assert broken.systemd is None and "Failed to connect to bus" in broken.problems[0]


def test_veeam_job_names_with_spaces_are_cut_at_the_header_offsets():
    (only,) = parse_jobs(sample("veeam_jobs.txt"))
    assert only.name == "SRV Daily Files" and only.repository == "NAS Repository"
    assert only.id == "{3c2b1a90-5d4e-4f6a-8b7c-9d0e1f2a3b4c}" and only.type == "Backup"


def test_veeam_sessions_in_host_local_time_running_has_no_end():
    sessions = parse_sessions(sample("veeam_sessions_failing.txt"), CET)
    assert [s.state for s in sessions] == ["Success", "Failed", "Failed", "Running"]
    assert sessions[0].finished == datetime(2026, 11, 26, 1, 7, tzinfo=UTC)
    assert sessions[-1].finished is None


@pytest.mark.parametrize("name", ["veeam_sessions_malformed.txt", "veeam_jobs_malformed.txt"])
def test_veeam_malformed_tables_raise(name):
    with pytest.raises(ValueError):
        parse_sessions(sample(name), UTC)
    with pytest.raises(ValueError):
        parse_jobs(sample(name))


def test_veeam_in_the_document():
    doc = {
        "tool": {"out": "veeam\n", "rc": 0},
        "veeam_jobs": {"out": sample("veeam_jobs.txt"), "rc": 0},
        "veeam_sessions": {"out": sample("veeam_sessions_malformed.txt"), "rc": 0},
    }
    facts = parse(doc, HOST)
    assert facts.veeam and facts.veeam.jobs and facts.veeam.sessions is None
    assert "Job name" in (facts.veeam.problem or "")
    doc["veeam_jobs"] = {"out": "veeamservice is not running\n", "rc": 1}
    failed = parse(doc, HOST).veeam
    assert failed and failed.jobs is None and "exit 1" in (failed.problem or "")
    absent = parse({"tool": {"out": "veeam\n", "rc": 0}}, HOST).veeam
    assert absent and absent.problem == "veeamconfig is not installed"
