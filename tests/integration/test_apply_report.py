"""`baluarte apply` says what each change did (issue 16, part 3), end to end on the FortiOS
emulator: after --yes a line per change (result, status at the re-check, why not applied) and
the configuration backup; `show RUN` lists the same; the exit codes of a plan; the progress bar
on a terminal only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from baluarte.lab.fortigate import FortigateLab
from tests.integration.cli import CANARY, assert_no_canary, baluarte
from tests.integration.test_apply_fortigate import CONTROLS, inputs, office_state
from tests.integration.test_check_fortigate import write_inputs
from tests.terminal import run_in_terminal

HEADER = "# device\tcontrol\tresult\tverified\treason"
BACKUP = re.compile(r"^# configuration backup of acme/fw-office: (.+) \(sha256 ([0-9a-f]{64})\)$")
NO_BACKUP = "nothing applied: no configuration backup (the unit refused the configuration backup"
SGR = re.compile("\x1b\\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def read_write() -> Iterator[FortigateLab]:
    with FortigateLab(office_state(), tokens={CANARY: "baluarte-rw"}, mgmt_interface="internal") as unit:  # fmt: skip
        yield unit


@pytest.fixture
def read_only() -> Iterator[FortigateLab]:
    """Baluarte's read-only API user: it may read everything, but take no backup."""
    with FortigateLab(office_state(), tokens={CANARY: "baluarte-ro"}, mgmt_interface="internal") as unit:  # fmt: skip
        yield unit


def apply(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = baluarte(tmp, "apply", "--artifacts", str(tmp / "artifacts"), *args)
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert_no_canary(done.stdout, done.stderr)
    return done


def change_lines(stdout: str) -> list[list[str]]:
    """The change records a pipe gets: the lines after their column names, up to the next
    ``# `` line; each must have exactly the five fields."""
    lines = stdout.splitlines()
    assert lines.count(HEADER) == 1, stdout[-3000:]
    records = []
    for line in lines[lines.index(HEADER) + 1 :]:
        if line.startswith("# "):
            break
        fields = line.split("\t")
        assert len(fields) == 5, line
        records.append(fields)
    return records


def by_control(records: list[list[str]]) -> dict[str, tuple[str, str, str]]:
    assert {r[0] for r in records} == {"acme/fw-office"}
    return {control: (result, verified, reason) for _d, control, result, verified, reason in records}  # fmt: skip


def test_apply_yes_lists_every_change_applied_and_verified_and_the_backup(
    tmp_path: Path, read_write: FortigateLab
) -> None:
    inputs(tmp_path, read_write)
    done = apply(tmp_path, "--yes", "--all")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    changes = by_control(change_lines(done.stdout))
    assert changes == dict.fromkeys(CONTROLS, ("applied", "pass", "-"))
    assert "# changes of run 1: 9 applied" in done.stdout.splitlines()
    # the backup taken before the first write: where it is, and its digest
    backups = [m for line in done.stdout.splitlines() if (m := BACKUP.match(line))]
    assert len(backups) == 1, done.stdout[-3000:]
    path, sha256 = Path(backups[0].group(1)), backups[0].group(2)
    assert path.is_file() and path.is_relative_to(tmp_path / "artifacts")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256
    # then the state after apply; no progress bar outside a terminal
    after = done.stdout.index("# after apply:")
    assert done.stdout.index(HEADER) < after < done.stdout.index("# run 1 (apply, complete)")
    assert "checking" not in done.stderr and "\x1b" not in done.stdout + done.stderr


def test_a_saved_plan_applied_lists_its_changes(tmp_path: Path, read_write: FortigateLab) -> None:
    inputs(tmp_path, read_write)
    plan = tmp_path / "plan.json"
    saved = apply(tmp_path, "--out", str(plan), "--control", "logging.time_sync")
    assert saved.returncode == 1 and HEADER not in saved.stdout  # nothing applied, no records
    done = apply(tmp_path, "--plan", str(plan), "--yes")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert by_control(change_lines(done.stdout)) == {"logging.time_sync": ("applied", "pass", "-")}
    assert any(BACKUP.match(line) for line in done.stdout.splitlines())


def test_a_read_only_token_fails_every_change_and_says_why_here_and_in_show(
    tmp_path: Path, read_only: FortigateLab
) -> None:
    inputs(tmp_path, read_only)
    done = apply(tmp_path, "--yes", "--all")
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr
    changes = by_control(change_lines(done.stdout))
    assert set(changes) == CONTROLS
    for result, verified, reason in changes.values():
        assert (result, verified) == ("failed", "fail")
        assert reason.startswith(NO_BACKUP) and reason.endswith("…"), reason  # shortened
    assert "# changes of run 1: 9 failed" in done.stdout.splitlines()
    assert not [line for line in done.stdout.splitlines() if BACKUP.match(line)]

    shown = baluarte(tmp_path, "show", "1")
    assert shown.returncode == 0, shown.stderr
    assert by_control(change_lines(shown.stdout)) == changes
    # the store keeps the whole detail
    doc = json.loads(baluarte(tmp_path, "show", "1", "--format", "json").stdout)
    records = {r["control"]: r for r in doc["remediations"]}
    assert {r["result"] for r in records.values()} == {"failed"}
    assert all(
        "allow the API user's profile to run backups" in r["detail"] for r in records.values()
    )


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_plan_exit_codes_manual_work_nothing_failing_unreachable(
    tmp_path: Path, read_only: FortigateLab, read_write: FortigateLab
) -> None:
    # the shipped baseline; backup.config_saved has no automatic remedy
    only_manual, clean, gone = (tmp_path / name for name in ("manual", "clean", "gone"))
    for folder, unit in ((only_manual, read_only), (clean, read_write), (gone, read_write)):
        folder.mkdir()
        write_inputs(folder, {"fw-office": unit})
    # read-only, the unit refuses the check's backup: the control fails, a technician must act
    manual = apply(only_manual, "--control", "backup.config_saved")
    assert "0 change(s) to make, 1 manual" in manual.stdout, manual.stdout[-2000:]
    assert manual.returncode == 1
    # read-write, the backup is taken: nothing fails, nothing to change
    passing = apply(clean, "--control", "backup.config_saved")
    assert "0 change(s) to make, 0 manual" in passing.stdout, passing.stdout[-2000:]
    assert passing.returncode == 0
    inventory = gone / "inventory.yaml"
    inventory.write_text(
        inventory.read_text().replace(f"port: {read_write.port}", f"port: {closed_port()}")
    )
    unreachable = apply(gone, "--control", "backup.config_saved", "--timeout", "5")
    assert "not checked" in unreachable.stdout and "unreachable" in unreachable.stdout
    assert unreachable.returncode == 3


def test_on_a_terminal_a_table_whose_ids_never_split_and_a_progress_bar(
    tmp_path: Path, read_only: FortigateLab
) -> None:
    inputs(tmp_path, read_only)
    args = [
        "apply", "--yes", "--all", "--artifacts", str(tmp_path / "artifacts"),
        "--db", str(tmp_path / "runs.db"), "--inventory", str(tmp_path / "inventory.yaml"),
        "--policies", str(tmp_path / "policies"), "--waivers", str(tmp_path / "waivers.yaml"),
    ]  # fmt: skip
    env = {**os.environ, "BALUARTE_TEST_CANARY": CANARY}
    code, raw = run_in_terminal(args, cwd=tmp_path, env=env)
    assert code == 1, raw[-3000:]
    text = SGR.sub("", raw).replace("\r\n", "\n")
    # the bar (on standard error), as it stood when it stepped aside for the plan and at the end
    assert re.search(r"apply\W+1/1 planning", text), raw[:3000]
    assert re.search(r"apply\W+1/1 re-checking, 9 control\(s\) not passing so far", text)
    assert "changes of run 1: 9 failed" in text
    table = text[text.index("changes of run 1") : text.index("After apply")]
    assert "\t" not in table and HEADER not in table  # a table, not the pipe's lines
    # the device is a heading over its rows (the room goes to the reason), each id whole on
    # its row, beside its result
    assert [line.strip() for line in table.splitlines()].count("acme/fw-office") == 1, table
    rows = [line for line in table.splitlines() if re.match(r"\S+\.\S+ +failed ", line)]
    assert len(rows) == len(CONTROLS), table
    for control in CONTROLS:
        assert any(control in row for row in rows), (control, table)
    assert "no configuration backup" in re.sub(r"\s+", " ", table.replace("│", ""))
