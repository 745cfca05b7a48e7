"""`evidence export` through the CLI: configuration backups, findings.csv, progress.

`check` against the FortiOS emulator keeps the unit's backup in ``./baluarte-artifacts`` (no
option given); `evidence export` from the same folder finds it there, masked; a backup a run
names but that is gone is a warning and a line in backups/index.json, never silence. The
progress bar shows on a terminal (a pseudo-terminal here) and never in a pipe.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from baluarte.evidence.keys import init_key
from baluarte.lab.fortigate import FortigateLab
from baluarte.lab.fortigate.shipped import shipped_state
from tests.integration.cli import CANARY, baluarte
from tests.integration.test_check_fortigate import write_inputs
from tests.terminal import run_with_stderr_on_terminal


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder where `check` ran once against a hardened unit, without --artifacts."""
    tmp = tmp_path_factory.mktemp("artifacts")
    with FortigateLab(shipped_state("hardened"), tokens={CANARY: "baluarte-ro"}) as unit:
        write_inputs(tmp, {"fw-hq": unit})
        result = baluarte(tmp, "check", "--format", "json")
        assert result.returncode == 0, result.stderr[-3000:]
    init_key(tmp / "keys" / "signing-key.pem")
    yield tmp


def export(
    tmp: Path, name: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return baluarte(
        tmp, "evidence", "export", "--client", "acme", "--key", str(tmp / "keys/signing-key.pem"),
        "-o", str(tmp / name), env=env,
    )  # fmt: skip


def backups(pack: Path) -> list[dict[str, str]]:
    index: list[dict[str, str]] = json.loads((pack / "backups" / "index.json").read_text())
    return index


def test_export_finds_the_backup_check_kept_in_the_default_folder(checked: Path) -> None:
    kept = list((checked / "baluarte-artifacts").rglob("*.conf"))
    assert len(kept) == 1
    done = export(checked, "pack")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "warning" not in done.stderr
    [entry] = backups(checked / "pack")
    assert entry["status"] == "included" and entry["device"] == "fw-hq"
    text = (checked / "pack" / entry["file"]).read_text()
    assert text.startswith("#config-version=")
    # secrets masked, the settings an auditor reads kept
    assert "set password ENC ********" in text and "set api-key ENC ********" in text
    assert "ENC 5c496f9c" not in text
    for setting in (
        "    set admin-ssh-password enable",
        "    set reuse-password disable",
        "        set force-password-change disable",
    ):
        assert setting in text.splitlines()
    # a Spanish pack: findings.csv for Spanish Excel, and VERIFY.txt says so
    raw = (checked / "pack" / "findings.csv").read_bytes()
    assert raw.startswith("\ufeffrun_id;run_started_at;".encode())
    said = " ".join((checked / "pack" / "VERIFY.txt").read_text().split())
    assert "celdas separadas por punto y coma (;)" in said


def test_the_artifacts_variable_names_the_folder_for_export_too(checked: Path) -> None:
    moved = checked / "moved-artifacts"
    (checked / "baluarte-artifacts").rename(moved)
    try:
        done = export(checked, "pack-env", env={"BALUARTE_ARTIFACTS": str(moved)})
        assert done.returncode == 0, done.stderr[-3000:]
        assert [b["status"] for b in backups(checked / "pack-env")] == ["included"]
    finally:
        moved.rename(checked / "baluarte-artifacts")


def test_a_backup_the_run_names_but_that_is_gone_is_a_warning(checked: Path) -> None:
    [kept] = (checked / "baluarte-artifacts").rglob("*.conf")
    hidden = kept.with_suffix(".away")
    kept.rename(hidden)
    try:
        done = export(checked, "pack-missing")
    finally:
        hidden.rename(kept)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "warning: run 1 names a configuration backup of fw-hq that is missing" in done.stderr
    assert f"not found at {kept.relative_to(checked)}" in done.stderr
    [entry] = backups(checked / "pack-missing")
    assert entry["status"] == "missing" and "file" not in entry
    assert entry["note"] == f"not found at {kept.relative_to(checked)}"


def test_export_in_a_pipe_shows_no_progress(checked: Path) -> None:
    done = export(checked, "pack-pipe")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "exporting" not in done.stderr and "\x1b" not in done.stderr
    assert done.stderr.startswith("wrote ")
    # the runs packed, counted and as ranges of ids, not one number each
    assert re.search(r"^wrote \S+: \d+ runs? \((\d+(-\d+)?)(, \d+(-\d+)?)*\), signed by SHA256:",
                     done.stderr)  # fmt: skip


def test_export_on_a_terminal_shows_its_steps(checked: Path) -> None:
    args = ["evidence", "export", "--client", "acme", "--db", str(checked / "runs.db"),
            "--key", str(checked / "keys/signing-key.pem"), "-o", str(checked / "pack-tty")]  # fmt: skip
    code, text, _ = run_with_stderr_on_terminal(args, cwd=checked, timeout=300)
    assert code == 0, text[-3000:]
    assert "exporting" in text and "verifying chain" in text
    assert "rendering PDF" in text
    assert "wrote " in text
