"""Issue 16: output that fits where it goes.

The real ``baluarte`` command against the FortiOS emulator and the WinRM lab server (a typical
small office, a typical office PC), run in a pipe and in a 100-column pseudo-terminal. The PC's
system drive is named by whoever set it up: a spreadsheet formula with a tab and a newline in
it, which lands at the start of a finding's observed value.

In a pipe: ``# `` lines, then one finding per line, four tab-separated fields, no box drawing,
no colour, nothing on standard error. On a terminal: a tally per device and domain first, then
the findings, ids never split. ``--format csv``: a row per finding, no cell a formula.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from baluarte.cli.run_shapes import CSV_COLUMNS
from baluarte.controls import DOMAINS, catalogue
from baluarte.lab.fortigate import FortigateLab
from baluarte.lab.fortigate.shipped import shipped_state as fortigate_state
from baluarte.lab.windows import WindowsLab
from baluarte.lab.windows.shipped import shipped_state as windows_state
from tests.integration.cli import BIN, CANARY, assert_no_canary
from tests.terminal import run_in_terminal

ROOT = Path(__file__).resolve().parents[2]
# what the PC's owner called its system drive: a formula, a tab and a newline
DRIVE = '=HYPERLINK("http://evil.example/x","C:")\tcol\nline'
DRIVE_ON_ONE_LINE = '=HYPERLINK("http://evil.example/x","C:")\\tcol\\nline'
BOX = re.compile("[\u2500-\u257f\u2580-\u259f]")  # box drawing and block elements
ESCAPE = re.compile("\x1b|\x9b")
CSI = re.compile("\x1b\\[[0-9;?]*[A-Za-z]")
WIDTH = 100
# the longest control id a device of this world fails: a table must not split it
LONGEST = "firewall.security_services_current"


@dataclass
class World:
    tmp: Path
    env: dict[str, str]
    check: subprocess.CompletedProcess[str]  # the first check, in a pipe
    doc: dict[str, Any]  # run 1 as `show --format json` has it


def _windows() -> dict[str, Any]:
    state = windows_state("office-pc")
    volumes = state["output"]["checks"]["bitlocker.volumes"]["data"]
    volumes["SystemDrive"] = volumes["Volumes"][0]["MountPoint"] = DRIVE
    return state


def _inputs(tmp: Path, fg: FortigateLab, win: WindowsLab) -> None:
    devices = f"""\
        - name: fw-hq
          platform: fortigate
          address: {fg.host}
          port: {fg.port}
          fortios: {{token: "env:BALUARTE_TEST_CANARY", vdom: root, ca_bundle: "{fg.ca_path}"}}
        - name: pc-recepcion
          platform: windows
          address: {win.host}
          port: {win.port}
          winrm: {{user: baluarte, password: "env:BALUARTE_TEST_CANARY", auth: ntlm, https: false}}
    """
    (tmp / "inventory.yaml").write_text(
        "clients:\n  - name: acme\n    legal_name: ACME Asesores S.L.\n    sites:\n"
        "      - name: hq\n        devices:\n" + textwrap.indent(textwrap.dedent(devices), " " * 10)
    )
    (tmp / "policies").mkdir()
    for name in ("fortigate-baseline.yaml", "windows-baseline.yaml"):
        shutil.copy(ROOT / "policies" / name, tmp / "policies" / name)
    (tmp / "waivers.yaml").write_text("waivers: []\n")


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE",
                                                            "TTY_INTERACTIVE", "NO_COLOR")}  # fmt: skip
    return env | {"BALUARTE_TEST_CANARY": CANARY, "BALUARTE_DB": str(tmp / "runs.db"),
                  "BALUARTE_ARTIFACTS": str(tmp / "artifacts")}  # fmt: skip


def _check_args(tmp: Path) -> list[str]:
    return ["check", "--inventory", str(tmp / "inventory.yaml"), "--policies",
            str(tmp / "policies"), "--waivers", str(tmp / "waivers.yaml")]  # fmt: skip


def piped(world: World, *args: str) -> subprocess.CompletedProcess[str]:
    """The command with its standard output and error in pipes, COLUMNS=80."""
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, cwd=world.tmp,
                          env=world.env | {"COLUMNS": "80"}, timeout=120)  # fmt: skip


def on_terminal(world: World, *args: str, width: int = WIDTH) -> tuple[int, str, str]:
    """The command on a pseudo-terminal ``width`` columns wide (standard error too): its exit
    code, everything it wrote, and that text as a reader sees it (no escapes, LF)."""
    code, raw = run_in_terminal(args, cwd=world.tmp, env=world.env, columns=width)
    return code, raw, CSI.sub("", raw).replace("\r\n", "\n").replace("\r", "\n")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("shapes")
    with (
        FortigateLab(fortigate_state("small-office"), tokens={CANARY: "baluarte-ro"}) as fg,
        WindowsLab(_windows(), users={"baluarte": CANARY}, auth="ntlm") as win,
    ):
        _inputs(tmp, fg, win)
        env = _env(tmp)
        check = subprocess.run([str(BIN), *_check_args(tmp)], capture_output=True, text=True,
                               cwd=tmp, env=env | {"COLUMNS": "80"}, timeout=120)  # fmt: skip
        shown = subprocess.run([str(BIN), "show", "1", "--format", "json"], capture_output=True,
                               text=True, cwd=tmp, env=env, timeout=60, check=True)  # fmt: skip
        yield World(tmp, env, check, json.loads(shown.stdout))


def _records(text: str) -> list[list[str]]:
    return [line.split("\t") for line in text.splitlines() if not line.startswith("#")]


def _not_passing(world: World) -> list[dict[str, Any]]:
    return [f for f in world.doc["findings"] if f["status"] in ("fail", "error")]


# -- a pipe ----------------------------------------------------------------------------------


def test_check_in_a_pipe_is_summary_lines_then_one_finding_per_line(world: World) -> None:
    done = world.check
    assert done.returncode == 1, done.stderr[-2000:]
    assert done.stderr == ""  # no progress bar, nothing else
    assert_no_canary(done.stdout)
    text = done.stdout
    assert not BOX.search(text) and not ESCAPE.search(text)
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    assert all(not line.startswith("#") for line in lines[first:])  # summary first, then findings
    assert lines[0].startswith("# run 1 (check, complete): devices 2; pass ")
    assert "# device\t" + "\t".join(DOMAINS) in lines
    assert lines[first - 1] == "# device\tcontrol\tstatus\tobserved"
    records = _records(text)
    assert records and all(len(r) == 4 for r in records), [r for r in records if len(r) != 4]
    expected = {(f"acme/{f['device']}", f["control"], f["status"]) for f in _not_passing(world)}
    assert {(d, c, s) for d, c, s, _ in records} == expected
    assert len(records) == len(expected)


def test_a_finding_line_holds_the_whole_value_and_nothing_a_device_says_adds_a_line(
    world: World,
) -> None:
    by_control = {(r[0], r[1]): r[3] for r in _records(world.check.stdout)}
    disk = by_control[("acme/pc-recepcion", "endpoint.disk_encryption")]
    assert disk.startswith(DRIVE_ON_ONE_LINE + " BitLocker")  # the tab and newline made visible
    longest = max(_not_passing(world), key=lambda f: len(f["observed"] or ""))
    assert len(longest["observed"]) > 200  # no wrapping at 80 columns, nothing cut
    assert by_control[(f"acme/{longest['device']}", longest["control"])] == longest["observed"]


def test_awk_picks_the_failing_controls(world: World) -> None:
    done = subprocess.run(["awk", "-F", "\t", '$3=="fail"{print $1 " " $2}'],
                          input=world.check.stdout, capture_output=True, text=True, check=True)  # fmt: skip
    got = sorted(done.stdout.splitlines())
    want = sorted(f"acme/{f['device']} {f['control']}" for f in _not_passing(world)
                  if f["status"] == "fail")  # fmt: skip
    assert got == want and got


def test_show_in_a_pipe_keeps_its_time_line_and_all_lists_every_finding(world: World) -> None:
    done = piped(world, "show", "1", "--all")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    comments = [line for line in done.stdout.splitlines() if line.startswith("#")]
    assert any(line.startswith("# started: ") and "time zone: " in line for line in comments)
    records = _records(done.stdout)
    assert len(records) == len(world.doc["findings"]) and all(len(r) == 4 for r in records)
    assert {r[2] for r in records} >= {"pass", "fail"}


def test_csv_has_a_row_per_finding_and_no_cell_is_a_formula(world: World) -> None:
    done = piped(world, "show", "1", "--format", "csv")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout, newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    body = [dict(zip(CSV_COLUMNS, r, strict=True)) for r in rows[1:]]
    assert len(body) == len(world.doc["findings"])
    disk = next(r for r in body if r["control"] == "endpoint.disk_encryption")
    assert disk["observed"].startswith("'" + DRIVE)  # inert: quoted, the text kept whole
    assert (
        disk["device"] == "pc-recepcion" and disk["status"] == "fail" and disk["error_kind"] == ""
    )
    assert not [c for r in body for c in r.values() if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert not ESCAPE.search(done.stdout)


def test_check_writes_csv_too(world: World) -> None:
    done = subprocess.run([str(BIN), *_check_args(world.tmp), "--format", "csv"],
                          capture_output=True, text=True, cwd=world.tmp, env=world.env,
                          timeout=120)  # fmt: skip
    assert done.returncode == 1 and done.stderr == "", done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout, newline="")))
    assert len(rows) == len(world.doc["findings"])
    assert {r["device"] for r in rows} == {"fw-hq", "pc-recepcion"}


def test_csv_is_not_a_format_of_the_other_commands(world: World) -> None:
    done = piped(world, "runs", "--format", "csv")
    assert done.returncode == 2 and "csv" in done.stderr


def test_controls_in_a_pipe_is_one_control_per_line(world: World) -> None:
    done = piped(world, "controls")
    assert done.returncode == 0 and done.stderr == ""
    assert not BOX.search(done.stdout) and not ESCAPE.search(done.stdout)
    assert "# id\ttitle\tseverity\tplatforms\tISO 27001\tENS\tGDPR\tbuilt" in done.stdout
    records = _records(done.stdout)
    assert [r[0] for r in records] == list(catalogue())
    assert all(len(r) == 8 for r in records)


def test_runs_diff_and_history_in_a_pipe_are_one_record_per_line(world: World) -> None:
    runs = piped(world, "runs")
    assert runs.returncode == 0 and runs.stderr == ""
    listed = _records(runs.stdout)
    assert all(len(r) == 8 for r in listed) and [r[0] for r in listed][-1] == "1"
    assert {r[2] for r in listed} == {"complete"}
    diff = piped(world, "diff", "1", listed[0][0])
    assert diff.returncode == 0 and diff.stderr == ""
    changes = _records(diff.stdout)
    assert changes and all(len(r) == 7 for r in changes)
    assert {r[0] for r in changes} == {"still_failing"}  # the same devices, the same state
    history = piped(world, "history", "--client", "acme")
    assert history.returncode == 0 and history.stderr == ""
    points = _records(history.stdout)
    assert next(r[0] for r in points) == "1" and all(len(r) == 9 for r in points)
    for done in (runs, diff, history):
        assert not BOX.search(done.stdout) and not ESCAPE.search(done.stdout)
        assert done.stdout.startswith("# ")


# -- a terminal ------------------------------------------------------------------------------


def test_check_on_a_terminal_tallies_first_then_findings_ids_whole(world: World) -> None:
    code, raw, text = on_terminal(world, *_check_args(world.tmp))
    assert code == 1, text[-3000:]
    assert "\x1b[" in raw  # a terminal: colour
    # the progress: devices done of the total, and how many of them fail so far
    assert "2/2" in text and "2 with a failure or error" in text
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= WIDTH
    tally = next(i for i, line in enumerate(lines) if line.split()[:7] == ["device", *DOMAINS])
    details = next(i for i, line in enumerate(lines) if line.startswith("Not passing ("))
    totals = next(i for i, line in enumerate(lines) if "run id: " in line)
    assert tally < details < totals
    assert any(line.split()[:1] == ["acme/pc-recepcion"] for line in lines[tally:details])
    words = {w for line in lines[details:totals] for w in line.split()}
    assert LONGEST in words  # not split over two lines
    assert {f["control"] for f in _not_passing(world)} <= words
    assert {"acme/fw-hq", "acme/pc-recepcion"} <= words


def test_show_on_a_terminal_keeps_its_time_line_after_the_totals(world: World) -> None:
    code, _, text = on_terminal(world, "show", "1")
    assert code == 0, text[-3000:]
    lines = [line for line in text.splitlines() if line.strip()]
    totals = next(i for i, line in enumerate(lines) if "run id: 1" in line)
    assert lines[totals + 1].startswith("started: ") and "time zone: " in lines[totals + 1]
    assert DRIVE_ON_ONE_LINE[:30] in text  # device text shown inert


def test_a_narrow_terminal_shows_a_block_per_finding_never_a_split_id(world: World) -> None:
    code, _, text = on_terminal(world, "show", "1", width=50)
    assert code == 0, text[-3000:]
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 50
    words = {w for line in lines for w in line.split()}
    assert {f["control"] for f in _not_passing(world)} <= words


def test_runs_and_controls_on_a_terminal_keep_ids_and_times_whole(world: World) -> None:
    code, _, text = on_terminal(world, "runs")
    assert code == 0, text
    # each run's started and ended: the date and time on one line (only the offset may fold)
    times = re.findall(r"\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\b", text)
    assert len(times) == 2 * len(_records(piped(world, "runs").stdout))
    code, _, text = on_terminal(world, "controls")
    assert code == 0
    words = {w for line in text.splitlines() for w in line.split()}
    assert set(catalogue()) <= words
    assert max(len(line) for line in text.splitlines()) <= WIDTH
