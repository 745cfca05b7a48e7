"""What every FortiGate remedy needs: the unit's answers and RestWrites with their before-values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from baluarte.remediation import Manual, Remedy, RemedyContext, RestWrite
from checks.fortigate.snapshot import FortiSnapshot
from deploys.common import needed

__all__ = ["lines", "needed", "obj", "remedy", "rows", "snapshot", "unit", "write"]


def snapshot(ctx: RemedyContext) -> FortiSnapshot | Manual:
    """What the collector read from the unit; Manual when it is not there."""
    snap = ctx.collected.raw
    if isinstance(snap, FortiSnapshot):
        return snap
    return Manual(text="the unit's answers are not available to plan a change; nothing is changed")


def unit(
    control: str, facts: Any, params: Any, ctx: RemedyContext
) -> FortiSnapshot | Manual | None:
    """The unit's answers when the control fails now; else what the remedy returns instead
    (None: it passes; Manual: it cannot be judged or the answers are missing)."""
    if (why := needed(control, facts, params, ctx)) is not True:
        return why
    return snapshot(ctx)


def obj(snap: FortiSnapshot, path: str) -> Mapping[str, Any] | None:
    """A singleton as the unit answered it; None when it was not read."""
    value = snap.cmdb.get(path)
    return value if isinstance(value, Mapping) else None


def rows(snap: FortiSnapshot, path: str) -> list[Mapping[str, Any]] | None:
    """A table's rows as the unit answered them; None when it was not read."""
    value = snap.cmdb.get(path)
    if not isinstance(value, list):
        return None
    return [row for row in value if isinstance(row, Mapping)]


def write(
    path: str,
    mkey: str | int | None,
    data: Mapping[str, Any],
    current: Mapping[str, Any],
    *,
    global_scope: bool = False,
) -> RestWrite | None:
    """A PUT of the fields of ``data`` that differ from ``current``; None when none differ.

    ``before`` takes the current value of each written field (None when the unit did not show
    it), which the plan shows and an undo writes back.
    """
    changed = {k: v for k, v in data.items() if current.get(k) != v}
    if not changed:
        return None
    before = {k: current.get(k) for k in changed}
    return RestWrite(path=path, mkey=mkey, data=changed, before=before, global_scope=global_scope)


def remedy(summary: str, writes: list[RestWrite | None], control: str) -> Remedy | Manual:
    """The remedy making these writes; Manual when the control fails yet nothing is to write."""
    made = tuple(w for w in writes if w is not None)
    if not made:
        return Manual(
            text=f"{control} fails but Baluarte finds no setting of its own to change; see the "
            "finding's observed value"
        )
    before, after = lines(made)
    return Remedy(summary=summary, before=before, after=after, requests=made)


def lines(writes: tuple[RestWrite, ...]) -> tuple[str, str]:
    """(before, after) of these writes, one ``path[/mkey]: field value`` line each."""
    old: list[str] = []
    new: list[str] = []
    for w in writes:
        where = w.path if w.mkey is None else f"{w.path}/{w.mkey}"
        for key, value in w.data.items():
            old.append(f"{where}: {key} {_show(w.before.get(key))}")
            new.append(f"{where}: {key} {_show(value)}")
    return "\n".join(old), "\n".join(new)


def _show(value: Any) -> str:
    if value is None:
        return "(not shown)"
    if isinstance(value, str):
        return repr(value) if value == "" or " " in value else value
    if isinstance(value, list):
        names = [str(m.get("server", m.get("name", m))) if isinstance(m, dict) else str(m)
                 for m in value]  # fmt: skip
        return "[" + ", ".join(names) + "]"
    return str(value)
