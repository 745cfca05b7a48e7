"""Veeam Agent for Linux: parse ``veeamconfig job list`` and ``session list`` tables (pure).

Columns are cut at the header's offsets, not split on blanks: job names may contain spaces.
Times are the host's local time, minute precision (linux-checks.md §4.3).
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from checks.facts.backup import VeeamJob, VeeamSession

__all__ = ["parse_jobs", "parse_sessions", "parse_table"]

_JOB_COLUMNS = ("Name", "ID", "Type", "Repository")
_SESSION_COLUMNS = ("Job name", "Type", "ID", "State", "Started at", "Finished at")


def parse_table(text: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """Rows as {column: value}. Raises ValueError when the header is not the expected one."""
    lines = [line.rstrip() for line in text.splitlines()]
    header_at = next((i for i, line in enumerate(lines) if line.startswith(columns[0])), None)
    if header_at is None:
        raise ValueError(f"no '{columns[0]}' header in the veeamconfig table")
    header = lines[header_at]
    starts: list[int] = []
    for name in columns:
        at = header.find(name, starts[-1] + 1 if starts else 0)
        if at < 0:
            raise ValueError(f"veeamconfig table header lacks the '{name}' column")
        starts.append(at)
    rows: list[dict[str, str]] = []
    for line in lines[header_at + 1 :]:
        if not line.strip() or line.startswith("Total amount:"):
            continue
        ends = [*starts[1:], len(line)]
        row = {n: line[s:e].strip() for n, s, e in zip(columns, starts, ends, strict=True)}
        if not row[columns[0]] or not row[columns[1]]:
            raise ValueError(f"veeamconfig table row does not fit the header: {line.strip()!r}")
        rows.append(row)
    return rows


def parse_jobs(text: str) -> tuple[VeeamJob, ...]:
    return tuple(
        VeeamJob(name=r["Name"], id=r["ID"], type=r["Type"], repository=r["Repository"])
        for r in parse_table(text, _JOB_COLUMNS)
    )


def _time(value: str, tz: tzinfo) -> datetime | None:
    if not value:
        return None
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=tz)
        except ValueError:
            continue
    raise ValueError(f"unrecognised veeamconfig time {value!r}")


def parse_sessions(text: str, tz: tzinfo) -> tuple[VeeamSession, ...]:
    return tuple(
        VeeamSession(
            job=r["Job name"],
            type=r["Type"],
            id=r["ID"],
            state=r["State"],
            started=_time(r["Started at"], tz),
            finished=_time(r["Finished at"], tz),
        )
        for r in parse_table(text, _SESSION_COLUMNS)
    )
