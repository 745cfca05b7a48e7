"""README.md's "Walk-through: your first hour", run exactly as written on a fresh copy.

The tracked files (their working-tree versions) are copied to a temporary folder, the ```sh
block under the heading is read from README.md, and each command line runs there in bash, in
turn, with the venv's bin first on PATH, HOME a temporary folder and nothing else in the
environment. Each must exit with the code its comment gives (``# exit N``; none: 0). ``make
demo`` is run as what it runs once the venv exists, ``baluarte demo``. At the end the lab the
walk-through started is down; it is stopped (killed if need be) even when a step fails.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEADING = "## Walk-through: your first hour"
VENV = Path(sys.executable).parent.parent  # the venv running the tests (not resolved)
MAKE_DEMO = "make demo"
# What `make demo` runs once .venv exists (the Makefile's recipe, checked below).
MAKE_DEMO_RECIPE = "demo: $(STAMP)\n\t$(BIN)/baluarte demo\n"
LAB = Path("baluarte-reports/lab")


@dataclass(frozen=True)
class Step:
    command: str
    exit_code: int


def _comment_start(line: str) -> int:
    """Where a shell comment starts in ``line`` (-1: none): a ``#`` after a blank, unquoted."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return i
    return -1


def walkthrough(readme: str) -> list[Step]:
    """The commands of the section's ```sh block, continuation lines joined."""
    assert HEADING in readme, f"README.md has no {HEADING!r}"
    section = readme.split(HEADING, 1)[1].split("\n## ", 1)[0]
    found = re.search(r"^```sh\n(.*?)^```", section, re.S | re.M)
    assert found, "no ```sh block in the walk-through"
    joined = found.group(1).replace("\\\n", " ")
    steps = []
    for line in joined.splitlines():
        at = _comment_start(line)
        command, comment = (line[:at], line[at:]) if at >= 0 else (line, "")
        if not command.strip():
            continue
        code = re.search(r"#\s*exit (\d+)", comment)
        steps.append(Step(" ".join(command.split()), int(code.group(1)) if code else 0))
    return steps


def fresh_copy(to: Path) -> Path:
    """The repository's tracked files, as they are in the working tree, in ``to``."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True)
    for name in listed.stdout.decode().split("\0"):
        source = REPO / name
        if name and source.is_file():  # a tracked file deleted in the working tree is not copied
            (to / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, to / name)
    (to / ".venv").symlink_to(VENV)  # what `make demo` made; its bin is on PATH below
    return to


def _pid(clone: Path) -> int | None:
    try:
        return int((clone / LAB / "lab.pid").read_text())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_the_walkthrough_runs_as_written(tmp_path: Path) -> None:
    steps = walkthrough((REPO / "README.md").read_text())
    commands = [s.command for s in steps]
    # the block is the walk-through the README promises, not an empty or partial one
    assert commands[0] == MAKE_DEMO
    assert MAKE_DEMO_RECIPE in (REPO / "Makefile").read_text()
    for needed in (r"baluarte lab up$", r"baluarte show 1$", r"baluarte report --client demo ",
                   r"baluarte apply .*--device fw-oficina$",
                   r"baluarte apply .*--device fw-oficina .*--yes .*--ticket \S+ --approved-by",
                   r"baluarte show 2\b", r"baluarte evidence export --client demo",
                   r"baluarte report 2 --format pdf -o \S+\.pdf",
                   r"baluarte lab down$"):  # fmt: skip
        assert any(re.search(needed, c) for c in commands), needed
    assert all(c.startswith(("baluarte ", "export PATH=")) for c in commands[1:]), commands

    clone = fresh_copy(tmp_path / "baluarte")
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": f"{clone / '.venv' / 'bin'}:/usr/bin:/bin", "HOME": str(home),
           "LANG": "C.UTF-8"}  # fmt: skip
    lab_pids: set[int] = set()
    try:
        for step in steps:
            command = "baluarte demo" if step.command == MAKE_DEMO else step.command
            started = time.monotonic()
            done = subprocess.run(["bash", "-c", command], cwd=clone, env=env, capture_output=True,
                                  text=True, timeout=120)  # fmt: skip
            took = time.monotonic() - started
            said = f"$ {step.command}  ({took:.1f} s)\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            assert done.returncode == step.exit_code, said
            assert "Traceback" not in done.stderr, said
            if (pid := _pid(clone)) is not None:
                lab_pids.add(pid)
            if step.command == MAKE_DEMO:
                # the demo's own lab stopped with it; its ending says what to try next
                assert lab_pids == set() and "━" not in done.stderr
                for hint in ("baluarte show 1", "baluarte lab up",
                             "baluarte apply --inventory baluarte-reports/lab/inventory.yaml "
                             "--device fw-oficina", "baluarte evidence export --client demo"):  # fmt: skip
                    assert hint in done.stdout, said
                # in a pipe nothing is wrapped at 80 columns: each sentence on its line
                assert any(
                    line.startswith("2. What apply would change")
                    and line.endswith("start it in the background first.")
                    for line in done.stdout.splitlines()
                ), said
                assert list((clone / LAB / "fortigate/demo/lab/fw-oficina").glob("*.conf"))
        assert lab_pids, "the walk-through never started the lab"
        status = subprocess.run(["bash", "-c", "baluarte lab status"], cwd=clone, env=env,
                                capture_output=True, text=True, timeout=60)  # fmt: skip
        assert status.returncode == 1, status.stdout
        assert not (clone / LAB / "lab.pid").exists()
        assert not [p for p in lab_pids if _alive(p)]
        # the demo's backup and the apply's, side by side as the README says
        assert len(list((clone / LAB / "fortigate/demo/lab/fw-oficina").glob("*.conf"))) >= 2
        assert (clone / "baluarte.db").is_file()  # the default store, in the copy's folder
        # the intervention report of the apply, signed with the key `keys init` made
        report = clone / "baluarte-reports" / "informe-intervencion-2.pdf"
        assert report.read_bytes().startswith(b"%PDF")
        assert (report.parent / (report.name + ".sig")).is_file()
    finally:
        subprocess.run(["bash", "-c", "baluarte lab down"], cwd=clone, env=env,
                       capture_output=True, timeout=60)  # fmt: skip
        for pid in lab_pids:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
