"""borg: parse ``borg list --json --last 1 --format '{hostname}{command_line}'`` (pure)."""

from __future__ import annotations

import json
import shlex
from datetime import datetime, tzinfo

from checks.facts.backup import Snapshot

__all__ = ["archive_paths", "borg_problem", "parse_list"]

# `borg create` options that take a value as the next argument
_VALUED = frozenset(
    (
        *("-e", "--exclude", "--exclude-from", "--pattern", "--patterns-from", "--comment"),
        *("--timestamp", "-c", "--checkpoint-interval", "--chunker-params", "-C"),
        *("--compression", "--exclude-if-present", "--files-cache", "--stdin-name"),
        *("--stdin-user", "--stdin-group", "--stdin-mode", "--paths-delimiter", "--lock-wait"),
        *("--remote-path", "--upload-ratelimit", "--remote-ratelimit", "--upload-buffer"),
        *("--remote-buffer", "--rsh", "--umask", "--debug-topic", "--debug-profile"),
    )
)


def archive_paths(command_line: object) -> tuple[str, ...] | None:
    """The paths a ``borg create`` command line archived; None when not all are absolute."""
    if isinstance(command_line, str):
        argv = shlex.split(command_line)
    elif isinstance(command_line, list):
        argv = [str(a) for a in command_line]
    else:
        return None
    paths: list[str] = []
    seen_archive = skip = False
    for arg in argv[2:] if len(argv) > 1 and argv[1] == "create" else argv:
        if skip:
            skip = False
        elif arg.startswith("-"):
            skip = arg in _VALUED
        elif not seen_archive:
            seen_archive = "::" in arg
        else:
            paths.append(arg)
    if not seen_archive or not paths:
        return None
    # relative paths depend on the job's working directory, which the archive does not record
    return tuple(paths) if all(p.startswith("/") for p in paths) else None


def parse_list(text: str, tz: tzinfo) -> tuple[Snapshot | None, str | None]:
    """(newest archive, encryption mode). borg 1.x times are the host's naive local time.

    Raises ValueError when the output is not borg's JSON listing.
    """
    doc = json.loads(text or "null")
    if not isinstance(doc, dict) or not isinstance(doc.get("archives"), list):
        raise ValueError("borg list did not print its JSON listing")
    encryption = doc.get("encryption")
    mode = str(encryption.get("mode")) if isinstance(encryption, dict) else None
    newest: Snapshot | None = None
    for item in doc["archives"]:
        if not isinstance(item, dict) or "time" not in item or "name" not in item:
            raise ValueError("borg archive without name or time")
        when = datetime.fromisoformat(str(item.get("start") or item["time"]))
        if when.tzinfo is None:
            when = when.replace(tzinfo=tz)
        archive = Snapshot(
            id=str(item["name"]),
            time=when,
            paths=archive_paths(item.get("command_line")),
            hostname=str(item["hostname"]) if item.get("hostname") else None,
        )
        if newest is None or archive.time > newest.time:
            newest = archive
    return newest, mode


def borg_problem(text: str, rc: int) -> tuple[str, str]:
    """(state, reason) for a failed borg command: state ``missing`` or ``unreadable``."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if any(x.endswith("does not exist.") or "is not a valid repository" in x for x in lines):
        return "missing", "no borg repository at this location"
    if any("passphrase supplied" in x and "incorrect" in x for x in lines):
        return "unreadable", "wrong repository passphrase"
    if any("passphrase" in x.lower() for x in lines):
        return "unreadable", "no repository passphrase: name it in the policy (password: env:…)"
    if rc == 127 or any("borg: not found" in x for x in lines):
        return "unreadable", "borg is not installed"
    tail = " / ".join(lines[-2:]) or "no output"
    return "unreadable", f"borg failed (exit {rc}): {tail}"
