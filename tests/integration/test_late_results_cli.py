"""``baluarte show RUN`` with late results (a collector's answer that came after the run ended):
after the run, a section saying they were ignored; in a pipe only ``# `` lines, so the findings
read as before; in ``--format json`` a ``late_results`` list. Nothing when there are none.

The runs are built with the Store API in a SQLite store; client ``mx``'s inventory names
America/Mexico_City (UTC-06:00), so times shown in the run's zone carry ``(-06:00)``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from baluarte.findings import Finding, Severity, Status
from baluarte.run import InputFile, RunKind
from baluarte.store import Store
from tests.integration.cli import BIN
from tests.terminal import run_in_terminal

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HOSTILE = "\x1b[2J[bold]boom[/bold]\tcol\nline 2"
INVENTORY = """\
clients:
  - name: mx
    legal_name: MX S.A.
    timezone: America/Mexico_City
    sites:
      - name: hq
        devices:
          - name: srv1
            platform: linux
            address: "@local"
"""
CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass(frozen=True)
class World:
    tmp: Path
    env: dict[str, str]
    late: int  # a run with two late results
    quiet: int  # a run with none


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    tmp = tmp_path_factory.mktemp("late")
    inventory = tmp / "inventory.yaml"
    inventory.write_text(INVENTORY)
    digest = hashlib.sha256(inventory.read_bytes()).hexdigest()
    files = [InputFile(role="inventory", path=str(inventory), sha256=digest)]
    db = str(tmp / "baluarte.db")
    with Store.open(db, signing_key=None) as s:
        ids = []
        for day in (0, 1):
            started = T0 + timedelta(days=day)
            run_id = s.start_run(
                kind=RunKind.CHECK, operator="ana", tool_version="0.1.0",
                inventory_sha256=digest, files=files, scope={"client": "mx"}, devices_total=1,
                started_at=started,
            )  # fmt: skip
            s.add_findings(run_id, [_finding(Status.FAIL), _finding(Status.PASS, "fw")])
            s.finish_run(run_id, ended_at=started + timedelta(minutes=5))
            ids.append(run_id)
        s.add_late_result(
            ids[0], device="mx/hq/srv1", collector="mx-hq", received_at=T0 + timedelta(minutes=9),
            sent_at=None, outcome="error", detail=HOSTILE,
        )  # fmt: skip
        s.add_late_result(
            ids[0], device="mx/hq/srv1", collector="mx-hq", received_at=T0 + timedelta(minutes=7),
            sent_at=T0 + timedelta(minutes=6), outcome="facts", detail="facts for 3 domains",
        )  # fmt: skip
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp), "BALUARTE_DB": db, "COLUMNS": "120"}
    return World(tmp, env, ids[0], ids[1])


def _finding(status: Status, device: str = "srv1") -> Finding:
    return Finding(
        client="mx", site="hq", device=device, platform="linux",
        control="access.ssh_root_login", status=status, severity=Severity.HIGH,
        observed="PermitRootLogin yes",
    )  # fmt: skip


def piped(world: World, *args: str) -> str:
    done = subprocess.run([str(BIN), *args], capture_output=True, text=True, cwd=world.tmp,
                          env=world.env, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_in_a_pipe_late_results_are_comment_lines_after_the_findings(world: World) -> None:
    out = piped(world, "show", str(world.late), "--all")
    lines = out.splitlines()
    # the records are the findings alone, as without late results
    assert [line.split("\t")[:3] for line in lines if not line.startswith("#")] == [
        ["mx/fw", "access.ssh_root_login", "pass"],
        ["mx/srv1", "access.ssh_root_login", "fail"],
    ]
    at = lines.index("# late results ignored: 2")
    assert not any(line for line in lines[:at] if "late" in line)
    assert [line.split("\t") for line in lines[at + 1 :]] == [
        ["# late", "mx/hq/srv1", "mx-hq", "2026-11-02 03:07:00 (-06:00)", "facts",
         "facts for 3 domains"],
        # whole, on one line, every control character shown, no field added by the tab
        ["# late", "mx/hq/srv1", "mx-hq", "2026-11-02 03:09:00 (-06:00)", "error",
         "\\x1b[2J[bold]boom[/bold]\\tcol\\nline 2"],
    ]  # fmt: skip
    assert "\x1b" not in out


def test_a_run_without_late_results_shows_no_such_section(world: World) -> None:
    out = piped(world, "show", str(world.quiet), "--all")
    assert "late" not in out.lower()
    doc = json.loads(piped(world, "show", str(world.quiet), "--format", "json"))
    assert doc["late_results"] == []
    code, raw = run_in_terminal(["show", str(world.quiet)], cwd=world.tmp, env=world.env)
    assert code == 0, raw
    assert "run id: " in raw and "Late results" not in raw


def test_json_lists_late_results_in_utc_with_the_collectors_text_inert(world: World) -> None:
    doc = json.loads(piped(world, "show", str(world.late), "--format", "json"))
    assert doc["late_results"] == [
        {"device": "mx/hq/srv1", "collector": "mx-hq", "sent_at": "2026-11-02T09:06:00+00:00",
         "received_at": "2026-11-02T09:07:00+00:00", "outcome": "facts",
         "detail": "facts for 3 domains"},
        {"device": "mx/hq/srv1", "collector": "mx-hq", "sent_at": None,
         "received_at": "2026-11-02T09:09:00+00:00", "outcome": "error",
         "detail": "\\x1b[2J[bold]boom[/bold]\tcol\nline 2"},
    ]  # fmt: skip
    assert len(doc["findings"]) == 2  # never findings


def test_on_a_terminal_late_results_are_a_section_after_the_run(world: World) -> None:
    code, raw = run_in_terminal(
        ["show", str(world.late)], cwd=world.tmp, env=world.env, columns=160
    )
    assert code == 0, raw
    assert "\x1b[2J" not in raw  # the collector's escape is shown, never sent to the terminal
    text = CSI.sub("", raw).replace("\r\n", "\n")
    summary = text.index("run id: ")
    at = text.index("Late results (ignored: they arrived after the run ended)")
    assert summary < text.index("time zone: America/Mexico_City") < at
    section = text[at:]
    rows = [line.split() for line in section.splitlines() if "mx/hq/srv1" in line]
    assert rows == [
        ["mx/hq/srv1", "mx-hq", "2026-11-02", "03:07:00", "(-06:00)", "facts", "facts", "for",
         "3", "domains"],
        # shown as sent, on one line: no markup read, no escape acted on
        ["mx/hq/srv1", "mx-hq", "2026-11-02", "03:09:00", "(-06:00)", "error",
         "\\x1b[2J[bold]boom[/bold]\\tcol\\nline", "2"],
    ]  # fmt: skip
    assert "boom" in section and "[bold]" in section  # not read as Rich markup
