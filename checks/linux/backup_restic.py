"""restic: parse ``restic snapshots --json --latest 1`` and restic's errors (pure)."""

from __future__ import annotations

import json
from datetime import datetime

from checks.facts.backup import Snapshot

__all__ = ["parse_snapshots", "restic_problem"]


def parse_snapshots(text: str, hostname: str) -> tuple[Snapshot | None, tuple[str, ...]]:
    """This host's newest snapshot, and the hosts seen when none is this host's.

    ``--latest 1`` answers one snapshot per host and path set; the newest of this host's wins.
    Raises ValueError when the output is not restic's snapshot list.
    """
    doc = json.loads(text or "null")
    if not isinstance(doc, list):
        raise ValueError("restic snapshots did not print a JSON list")
    mine: list[Snapshot] = []
    hosts: set[str] = set()
    for item in doc:
        if not isinstance(item, dict) or "time" not in item or "id" not in item:
            raise ValueError("restic snapshot without id or time")
        host = str(item.get("hostname", ""))
        hosts.add(host)
        if host != hostname:
            continue
        paths = item.get("paths")
        mine.append(
            Snapshot(
                id=str(item.get("short_id") or item["id"])[:16],
                # nanoseconds and an offset: Python >= 3.11 parses them (to microseconds)
                time=datetime.fromisoformat(str(item["time"])),
                paths=tuple(str(p) for p in paths) if isinstance(paths, list) else None,
                hostname=host,
            )
        )
    if not mine:
        return None, tuple(sorted(hosts))
    return max(mine, key=lambda s: s.time), ()


def restic_problem(text: str, rc: int) -> tuple[str, str]:
    """(state, reason) for a failed restic command: state ``missing`` or ``unreadable``."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if rc == 10 or any("Is there a repository at the following location" in x for x in lines):
        return "missing", "no restic repository at this location"
    if rc == 12 or any("wrong password" in x for x in lines):
        return "unreadable", "wrong repository password (restic: no key found for it)"
    if any("empty password" in x or "password from stdin" in x for x in lines):
        return "unreadable", "no repository password: name it in the policy (password: env:…)"
    if rc == 127 or any("restic: not found" in x for x in lines):
        return "unreadable", "restic is not installed"
    tail = " / ".join(lines[-2:]) or "no output"
    return "unreadable", f"restic failed (exit {rc}): {tail}"
