"""The command's own options: --version, and shell completion (Typer's) that really completes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from baluarte import __version__

BIN = Path(sys.executable).parent / "baluarte"


def test_version_is_printed_alone_with_exit_0(tmp_path: Path):
    done = subprocess.run(
        [str(BIN), "--version"], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, f"baluarte {__version__}\n", "")


def test_bash_completion_script_and_its_answers(tmp_path: Path):
    script = subprocess.run(
        [str(BIN), "--show-completion", "bash"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        env={**os.environ, "SHELL": "/bin/bash"},
    )
    assert script.returncode == 0 and "_BALUARTE_COMPLETE=complete_bash" in script.stdout

    def complete(words: str) -> list[str]:
        env = {
            **os.environ,
            "_BALUARTE_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - 1),
        }
        done = subprocess.run(
            [str(BIN)], capture_output=True, text=True, cwd=tmp_path, timeout=60, env=env
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert complete("baluarte se") == ["serve"]
    assert "--format" in complete("baluarte check --for")


def test_every_command_has_an_example_and_every_example_a_command():
    import typer

    from baluarte.cli.app import app
    from baluarte.cli.examples import EXAMPLES

    # Typer may carry its own copy of click: groups are told by their commands
    def leaves(command, path: str) -> dict:
        if hasattr(command, "commands"):
            out: dict = {}
            for name, sub in command.commands.items():
                out.update(leaves(sub, f"{path} {name}".strip()))
            return out
        return {path: command}

    commands = leaves(typer.main.get_command(app), "")
    assert len(commands) > 20
    missing = [p for p, c in commands.items() if not (c.epilog or "").startswith("Example: ")]
    assert missing == []
    assert set(EXAMPLES) == set(commands)  # no example left for a command that is gone
    for path, command in commands.items():
        assert f"baluarte {path}" in (command.epilog or ""), path
