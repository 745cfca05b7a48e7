"""parse() of the backup fragment: restic and borg outputs recorded on Debian 12 (restic 0.14,
borg 1.2.4), restore tests and their record. Malformed output is never a healthy repository."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from checks.linux.backup import mask_location, parse, parse_restore
from checks.linux.backup_borg import archive_paths, borg_problem, parse_list
from checks.linux.backup_restic import parse_snapshots, restic_problem

SAMPLES = Path(__file__).parents[2] / "samples/linux/backup"
HOST = {"hostname": {"out": "testhost\n", "rc": 0}, "clock": {"out": "1795854600\n+0100\n", "rc": 0}}  # fmt: skip


def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


def raw(tool: str, repo: str = "/srv/backup", **fields: tuple[str, int]) -> dict:
    doc = {"tool": {"out": tool + "\n", "rc": 0}, "repository": {"out": repo + "\n", "rc": 0}}
    doc["restore_record"] = {"out": "absent\n", "rc": 0}
    doc.update({k: {"out": out, "rc": rc} for k, (out, rc) in fields.items()})
    return doc


def test_restic_newest_snapshot_of_this_host_across_path_groups():
    latest, others = parse_snapshots(sample("restic_snapshots_two_groups.json"), "testhost")
    assert latest is not None and others == ()
    assert latest.id == "bb5e7473"
    assert latest.time == datetime(2026, 11, 28, 8, 23, 15, 306027, tzinfo=UTC)
    assert latest.paths == ("/etc/hostname", "/srv/data")


def test_restic_snapshots_of_other_hosts_only_are_no_snapshot_of_this_one():
    latest, others = parse_snapshots(sample("restic_snapshots_other_host.json"), "testhost")
    assert latest is None and others == ("nas",)
    assert parse_snapshots("[]", "testhost") == (None, ())


@pytest.mark.parametrize("text", ["", "{}", sample("restic_truncated.json"), '[{"id": "x"}]'])
def test_restic_malformed_snapshot_list_raises(text):
    with pytest.raises(ValueError):
        parse_snapshots(text, "testhost")


@pytest.mark.parametrize(
    ("name", "rc", "state", "words"),
    [
        ("restic_wrong_password.txt", 1, "unreadable", "wrong repository password"),
        ("restic_no_repository.txt", 1, "missing", "no restic repository"),
        ("restic_no_password.txt", 1, "unreadable", "no repository password"),
        ("restic_unreachable.txt", 1, "unreadable", "unable to start the sftp session"),
    ],
)
def test_restic_failures_are_classified(name, rc, state, words):
    got_state, reason = restic_problem(sample(name), rc)
    assert got_state == state and words in reason


def test_borg_archive_time_is_local_to_the_host_and_paths_come_from_its_command_line():
    tz = timezone(timedelta(hours=1))
    latest, mode = parse_list(sample("borg_list_repokey.json"), tz)
    assert mode == "repokey"
    assert latest is not None and latest.id == "two" and latest.hostname == "testhost"
    assert latest.time == datetime(2026, 11, 28, 7, 23, 18, tzinfo=UTC)
    assert latest.paths == ("/srv/data", "/etc/hostname")  # --exclude's value is no path


def test_borg_relative_paths_are_not_reported_as_paths():
    latest, mode = parse_list(sample("borg_list_none.json"), UTC)
    assert mode == "none" and latest is not None and latest.paths is None


def test_borg_empty_repository_has_no_archive():
    assert parse_list(sample("borg_list_authenticated_empty.json"), UTC) == (None, "authenticated")


@pytest.mark.parametrize(
    ("argv", "paths"),
    [
        (["borg", "create", "-C", "zstd", "::a-{now}", "/etc", "/home"], ("/etc", "/home")),
        ("borg create --comment 'x y' repo::a /srv", ("/srv",)),
        (["borg", "create", "--exclude=/srv/tmp", "::a", "/srv"], ("/srv",)),
        (["borg", "create", "/etc"], None),  # no archive argument: not a create line we know
        (None, None),
    ],
)
def test_borg_archive_paths(argv, paths):
    assert archive_paths(argv) == paths


@pytest.mark.parametrize("text", ["", "[]", '{"archives": [{"name": "x"}]}', "Traceback"])
def test_borg_malformed_listing_raises(text):
    with pytest.raises(ValueError):
        parse_list(text, UTC)


def test_borg_failures_are_classified():
    assert borg_problem(sample("borg_wrong_passphrase.txt"), 2)[1] == "wrong repository passphrase"
    assert borg_problem(sample("borg_no_repository.txt"), 2)[0] == "missing"


def test_parse_restic_document():
    facts = parse(
        raw("restic", restic_snapshots=(sample("restic_snapshots_two_groups.json"), 0)), HOST
    )
    repo = facts.repository
    assert facts.tool == "restic" and repo is not None and repo.state == "ok"
    assert repo.encrypted is True and (repo.encryption or "").startswith("restic")
    assert repo.latest is not None and repo.latest.id == "bb5e7473"
    assert facts.problems == () and facts.restore_record is None


def test_parse_borg_unencrypted_and_authenticated_modes_are_not_encrypted():
    for name in ("borg_list_none.json", "borg_list_authenticated_empty.json"):
        facts = parse(raw("borg", borg_list=(sample(name), 0)), HOST)
        assert facts.repository is not None and facts.repository.encrypted is False


def test_parse_malformed_tool_output_is_an_unreadable_repository():
    facts = parse(raw("restic", restic_snapshots=(sample("restic_truncated.json"), 0)), HOST)
    assert facts.repository is not None and facts.repository.state == "unreadable"
    assert "unexpected output" in (facts.repository.problem or "")


def test_parse_missing_local_repository():
    doc = raw("restic", repo_state=("missing\n", 0), restic_snapshots=(sample("restic_no_repository.txt"), 1))  # fmt: skip
    facts = parse(doc, HOST)
    assert facts.repository is not None and facts.repository.state == "missing"


def test_parse_undetectable_tool():
    missing = parse(raw("unknown", repo_state=("missing\n", 0)), HOST)
    assert missing.tool is None and "does not exist" in missing.detail and not missing.problems
    remote = parse(raw("unknown", repo="sftp:u@nas:/b", repo_state=("remote\n", 0)), HOST)
    assert remote.tool is None and "name the tool" in remote.problems[0]
    nothing = parse(raw("none", repo=""), HOST)
    assert nothing.tool is None and "no backup named" in nothing.detail


def test_parse_old_fragment_without_backup_fields_is_a_problem_not_a_crash():
    facts = parse({}, {})
    assert facts.tool is None and facts.problems


def test_url_credentials_are_masked_in_facts():
    assert (
        mask_location("rest:https://bk:s3cret@nas:8000/srv") == "rest:https://bk:***@nas:8000/srv"
    )
    doc = raw("restic", repo="rest:https://bk:s3cret@nas/r", restic_snapshots=("[]", 0))
    facts = parse(doc, HOST)
    assert "s3cret" not in facts.model_dump_json()


def test_restore_now_pass_fail_and_error():
    passed = parse_restore(sample("restore_now_pass.txt"), True, "/srv/backup")
    assert passed.result == "pass" and passed.source_sha256 == passed.restored_sha256
    assert passed.file == "/srv/data/sub/b.txt"
    assert passed.at == datetime.fromtimestamp(1795854540, UTC)
    failed = parse_restore(sample("restore_now_fail.txt"), True, "/srv/backup")
    assert failed.result == "fail" and failed.source_modified and failed.backup_time
    assert failed.source_modified > failed.backup_time
    errored = parse_restore(sample("restore_now_error.txt"), True, "/srv/backup")
    assert errored.result == "error" and errored.file is None and errored.backup_time is None


def test_restore_record_knows_its_repository():
    record = sample("restore_record_pass.json")
    assert parse_restore(record, False, "/srv/backup").same_repository
    assert not parse_restore(record, False, "/srv/other").same_repository
    assert hashlib.sha256(b"/srv/backup").hexdigest() in record


def test_unreadable_restore_record_and_silent_restore_test():
    doc = raw("restic", restic_snapshots=("[]", 0))
    doc["restore_record"] = {"out": sample("restore_record_truncated.json"), "rc": 0}
    doc["restore"] = {"out": "", "rc": 1}
    facts = parse(doc, HOST)
    assert facts.restore_record_read is False
    assert any("restore test printed no result" in p for p in facts.problems)
