"""The plan ``baluarte apply`` shows a technician: what would change, device by device.

One line per change says what it does in words (``change  pc1  endpoint.realtime_protection
turn on Defender real-time protection``); the before and after values, the diff and one line
per step follow, indented, a multi-line value keeping its own indentation. The exact commands
(a Windows fix script, pyinfra's shell lines, FortiOS PUTs) are shown with ``--show-scripts``
only: a plan is read by a person, and the saved plan (``--out``) keeps them all anyway.

On a terminal Rich styles the words and wraps long lines under their indentation; in a pipe
or a file each line is written whole (no colour, no wrapping), so one change stays one line
for ``grep``. What a device or an input file said is untrusted: it reaches Rich as ``Text``
made inert (``baluarte.text.inert``), never as markup, and the change line shows a line break
in it as ``\\n``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from baluarte.remediation import ChangeKind, PlannedChange, Step
from baluarte.text import inert

if TYPE_CHECKING:
    from baluarte.apply import ApplyOutcome

__all__ = ["print_plan", "print_verdicts"]

_MARK = {ChangeKind.CHANGE: ("change", "bold yellow"), ChangeKind.MANUAL: ("manual", "cyan"),
         ChangeKind.REFUSED: ("refused", "bold red")}  # fmt: skip
_KIND_WIDTH = max(len(word) for word, _style in _MARK.values())
_DETAIL = 6  # where an item's details start: under its kind word
_HIDDEN_HINT = "{count} step(s) hidden: --show-scripts shows the exact commands"


def _text(value: object, style: str = "", *, one_line: bool = False) -> Text:
    """Untrusted text as Rich ``Text``: inert, and on one line when ``one_line``; tabs made
    spaces from the start of the text (where a file's own indentation counts them from)."""
    return Text(inert(str(value), newlines=not one_line).expandtabs(8), style=style)


def _emit(console: Console, line: Text, indent: int = 0) -> None:
    """One line of the plan. On a terminal a long line wraps under its indentation; elsewhere
    it is written whole (soft wrap: no line breaks added, nothing cropped)."""
    if console.is_terminal:
        console.print(Padding(line, (0, 0, 0, indent), expand=False))
        return
    whole = Text(" " * indent) + line
    whole.rstrip()
    console.print(whole, soft_wrap=True)


def _emit_item(console: Console, head: Text, said: Text, indent: int) -> None:
    """An item's line: ``head`` (kind, device, control) then what it does in words, which on a
    terminal wraps under itself."""
    if not console.is_terminal:
        _emit(console, head + said, indent)
        return
    grid = Table.grid(padding=0)
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(head, said)
    console.print(Padding(grid, (0, 0, 0, indent), expand=False))


def _block(console: Console, label: str, value: str, indent: int, style: str = "") -> None:
    """``label value`` on one line, or a multi-line value under its label, each of its lines
    indented two more and keeping its own leading spaces."""
    lines = value.split("\n")
    if len(lines) == 1:
        _emit(console, Text.assemble((label, "dim"), " ", _text(value, style)), indent)
        return
    _emit(console, Text(label.rstrip(), style="dim"), indent)
    for line in lines:
        _emit(console, _text(line, style), indent + 2)


def _diff(console: Console, diff: str, indent: int) -> None:
    for line in diff.splitlines():
        if line.startswith(("---", "+++", "@@")):
            style = "dim"
        else:
            style = "green" if line.startswith("+") else "red" if line.startswith("-") else ""
        _emit(console, _text(line, style), indent)


def _step_line(step: Step, change: PlannedChange) -> str:
    """A step in words, without a tail that repeats the change's summary (a Windows step is
    "run fix <id>: <summary>")."""
    what = step.what
    if change.summary and what.endswith(": " + change.summary):
        what = what.removesuffix(": " + change.summary)
    return what


def _steps(console: Console, change: PlannedChange, show_scripts: bool) -> int:
    """The change's steps; with ``show_scripts`` their exact commands. How many were hidden."""
    from baluarte.apply import command_lines  # loaded already: the plan was made by apply

    hidden = 0
    for step in change.steps:
        what = _step_line(step, change)
        if what != change.summary or show_scripts:
            _emit(console, _text(f"- {what}", one_line=True), _DETAIL)
        if not show_scripts:
            hidden += bool(step.commands)
            continue
        for line in command_lines(step.commands):
            _emit(console, _text(line), _DETAIL + 4)
    return hidden


def _headline(change: PlannedChange, width: int) -> tuple[Text, Text]:
    """The change's one line: kind, device and control, then what it does in words."""
    word, style = _MARK[change.kind]
    head = Text.assemble(
        (word.ljust(_KIND_WIDTH), style),
        "  ",
        _text(change.device, "bold", one_line=True),
        "  ",
        _text(change.control.ljust(width), one_line=True),
        "  ",
    )
    return head, _text(change.summary or change.reason or "no remediation text", one_line=True)


def _same_as(change: PlannedChange, earlier: Sequence[PlannedChange]) -> PlannedChange | None:
    """An earlier item of the device saying the very same (Windows plans one firewall change,
    or refuses it, for two controls): its details need not be read twice."""
    said = change.model_dump(include=_SAID)
    return next((other for other in earlier if other.model_dump(include=_SAID) == said), None)


# what an item says, beside which control and device it is for
_SAID = {"kind", "summary", "reason", "before", "after", "diff", "steps"}


def _parts(value: str) -> list[str]:
    return [p for line in value.split("\n") for p in line.split("; ") if p]


def _shown_by_diff(change: PlannedChange) -> bool:
    """The diff holds every part of before and after: its old side each part of before, its
    new side each part of after (a state diff of the same lines); they need not be repeated."""
    old: set[str] = set()
    new: set[str] = set()
    for line in change.diff.splitlines():
        if line.startswith(("---", "+++", "@@")):
            continue
        sign, text = line[:1], line[1:]
        if sign in (" ", "-"):
            old.add(text)
        if sign in (" ", "+"):
            new.add(text)
    return (
        bool(old or new) and set(_parts(change.before)) <= old and set(_parts(change.after)) <= new
    )


def _change(
    console: Console, change: PlannedChange, earlier: Sequence[PlannedChange], show_scripts: bool
) -> int:
    """One item's details under its line; how many steps' commands were hidden."""
    if change.kind is not ChangeKind.CHANGE and not change.summary:
        return 0  # its text is the line's words: nothing below it
    twin = _same_as(change, earlier)
    if twin is not None:
        _emit(console, _text(f"the same as {twin.control}", "dim"), _DETAIL)
        return 0 if show_scripts else sum(bool(s.commands) for s in change.steps)
    if change.kind is not ChangeKind.CHANGE:
        if change.reason:
            for line in change.reason.split("\n"):
                _emit(console, _text(line), _DETAIL)
        return 0
    if not _shown_by_diff(change):
        if change.before:
            _block(console, "before:", change.before, _DETAIL)
        if change.after:
            _block(console, "after: ", change.after, _DETAIL)
    _diff(console, change.diff, _DETAIL)
    return _steps(console, change, show_scripts)


def print_plan(
    console: Console,
    changes: list[PlannedChange],
    unreachable: dict[str, str],
    *,
    show_scripts: bool = False,
) -> None:
    """The plan device by device, then the devices not checked, the totals, and how many
    steps' commands ``--show-scripts`` would show."""
    hidden = 0
    sections: dict[str, list[PlannedChange]] = {}
    for change in changes:
        sections.setdefault(change.device_key, []).append(change)
    for key, section in sections.items():
        console.print()
        header = Text.assemble(_text(key, "bold", one_line=True), f" ({section[0].platform})")
        _emit(console, header)
        width = max(len(c.control) for c in section)
        for i, change in enumerate(section):
            _emit_item(console, *_headline(change, width), 2)
            hidden += _change(console, change, section[:i], show_scripts)
    for key, why in unreachable.items():
        console.print()
        line = Text.assemble(_text(key, "bold", one_line=True), ": ", ("not checked", "red"))
        _emit(console, line + Text(" — ") + _text(why, one_line=True))
    pending = sum(c.kind is ChangeKind.CHANGE for c in changes)
    manual = sum(c.kind is ChangeKind.MANUAL for c in changes)
    refused = sum(c.kind is ChangeKind.REFUSED for c in changes)
    console.print()
    _emit(
        console,
        Text(
            f"{pending} change(s) to make, {manual} manual, {refused} refused by a lockout guard"
            + (f", {len(unreachable)} device(s) not checked" if unreachable else "")
        ),
    )
    if hidden:
        _emit(console, Text(_HIDDEN_HINT.format(count=hidden), style="dim"))


def print_verdicts(
    console: Console, outcome: ApplyOutcome, path: Path, *, show_scripts: bool = False
) -> None:
    """A saved plan, where it came from, and whether it still holds device by device."""
    saved = outcome.saved
    assert saved is not None
    made = saved.made_from
    scope = ", ".join(f"{k} {v}" for k, v in made.selectors.items()) or "every device"
    controls = f"; controls {', '.join(made.controls)}" if made.controls else ""
    _emit(
        console,
        Text.assemble(
            ("Saved plan", "bold"),
            " ",
            _text(path, one_line=True),
            f" (sha256 {outcome.plan_sha256}), made {made.made_at:%Y-%m-%d %H:%M} UTC by ",
            _text(made.operator, one_line=True),
            " for ",
            _text(scope + controls, one_line=True),
        ),
    )
    changes = [c for d in saved.devices for c in d.planned_changes()]
    not_checked = {d.key: d.not_checked for d in saved.devices if d.not_checked}
    print_plan(console, changes, not_checked, show_scripts=show_scripts)
    console.print()
    for key, diffs in outcome.differences.items():
        if not diffs:
            line = Text.assemble(("holds", "green"), " ", _text(key, one_line=True))
            _emit(console, line + Text(": the device is as the plan saw it"))
            continue
        line = Text.assemble(("refused", "bold red"), " ", _text(key, one_line=True))
        _emit(console, line + Text(": the plan no longer holds, nothing will run on it:"))
        for diff in diffs:
            _emit(console, _text(diff, one_line=True), _DETAIL)
