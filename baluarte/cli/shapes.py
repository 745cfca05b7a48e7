"""Tables shaped for where they go: a Rich table on a terminal, tab-separated lines elsewhere.

On a terminal a table fits the window and its id columns (control ids, device names, run ids,
days) never split: only free text folds. In a pipe or a file every record is one line of
tab-separated cells, preceded by ``# `` lines (a title, notes, the column names), so
``grep -v '^#'`` leaves the records and ``awk -F'\\t'`` reads them: no box drawing, no
wrapping, no colour.

A cell is made inert (``baluarte.text.inert``) on one line: a newline becomes ``\\n`` and a tab
``\\t``, so no text a device chose can add a line or a field. A CSV cell is also kept from being
read as a spreadsheet formula (``csv_cell``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import IO, Any, Literal

from rich import box
from rich.cells import cell_len
from rich.columns import Columns
from rich.console import Console
from rich.measure import Measurement
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from baluarte.text import inert, spreadsheet_cell

__all__ = [
    "FREE_MIN",
    "Cell",
    "Column",
    "add_columns",
    "cell",
    "comment",
    "csv_cell",
    "layout",
    "new_table",
    "print_blocks",
    "print_table",
    "tsv_cell",
    "tsv_line",
    "write_lines",
]

Cell = str | Text

# The narrowest a free-text column gets on a terminal, unless its Column says otherwise.
FREE_MIN = 20


@dataclass(frozen=True)
class Column:
    """A table column. ``key``: an id (control, device, run, day) that is never split on a
    terminal; other columns fold their text to fit the window, down to ``narrowest``
    characters (below that, the records are shown one per block)."""

    name: str
    key: bool = False
    justify: Literal["left", "right"] = "left"
    narrowest: int = FREE_MIN


def tsv_cell(value: object) -> str:
    """A value as one tab-separated cell: inert, on one line, no tab in it."""
    text = inert(str(value), newlines=False)
    return text.replace("\t", "\\t") if "\t" in text else text


def tsv_line(cells: Iterable[object]) -> str:
    return "\t".join(tsv_cell(c.plain if isinstance(c, Text) else c) for c in cells)


def comment(text: str) -> str:
    """A ``# `` line: what a reader of a pipe's output is told besides the records."""
    return "# " + tsv_cell(text)


def csv_cell(value: str | None, *, elsewhere: str = "--format json") -> str:
    """A CSV cell of the commands' output (``baluarte.text.spreadsheet_cell``)."""
    return spreadsheet_cell(value, elsewhere=elsewhere)


def print_table(
    console: Console,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Cell]],
    *,
    title: str | None = None,
    notes: Sequence[Cell] = (),
    grouped: bool = False,
) -> None:
    """``rows`` as a Rich table on a terminal (one record per block where the window is too
    narrow for its ids), else as ``# title``, ``# note`` lines, the column names on a ``# ``
    line and one tab-separated line per row. A ``str`` cell is untrusted text: never markup.

    ``grouped``: on a terminal the first column (a device) is a heading over its rows, not a
    column: the room it would take goes to the others. A pipe keeps it on every line."""
    if not console.is_terminal:
        out = console.file
        lines = [comment(title)] if title is not None else []
        lines += [comment(n.plain if isinstance(n, Text) else n) for n in notes]
        lines.append("# " + "\t".join(tsv_cell(c.name) for c in columns))
        write_lines(out, lines)
        write_lines(out, (tsv_line(row) for row in rows))
        return
    cells = [[cell(c) for c in row] for row in rows]
    groups: list[tuple[Text | None, list[list[Text]]]] = [(None, cells)]
    if grouped:
        columns = columns[1:]
        groups = [
            (Text(label, style="bold underline"), [row[1:] for row in own])
            for label, own in groupby(cells, key=lambda row: row[0].plain)
        ]
    headings = [[label, *(Text() for _ in columns[1:])] for label, _ in groups if label]
    widths = layout(console, columns, [*(row for _, own in groups for row in own), *headings])
    if widths is None:
        if title is not None:
            console.print(cell(title), style="italic")
        for label, own in groups:
            if label is not None:
                console.print(label)
            print_blocks(console, columns, own)
    else:
        table = new_table(title)
        add_columns(table, columns, widths)
        for label, own in groups:
            if label is not None:
                if table.rows:
                    table.add_section()  # a blank line: SIMPLE_HEAD draws no rule
                table.add_row(label)
            for row in own:
                table.add_row(*row)
        console.print(table)
    for note in notes:
        console.print(cell(note))


def cell(value: Cell) -> Text:
    """A cell for Rich: untrusted text made inert, never read as markup."""
    return value if isinstance(value, Text) else Text(inert(value))


def new_table(title: str | Text | None = None, **options: Any) -> Table:
    """A table in the commands' one style: a rule under the header, no frame."""
    return Table(
        title=cell(title) if title is not None else None,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
        **options,
    )


def add_columns(
    table: Table, columns: Sequence[Column], widths: Sequence[int | None] | None = None
) -> None:
    """``widths``: ``layout``'s, a free-text column's width where the window needs it fixed."""
    for col, width in zip(columns, widths or [None] * len(columns), strict=True):
        # an id is never wrapped; free text folds (a long word too) rather than being cut
        table.add_column(
            col.name, no_wrap=col.key, overflow="fold", justify=col.justify, width=width
        )


def layout(
    console: Console, columns: Sequence[Column], rows: Sequence[Sequence[Text]]
) -> list[int | None] | None:
    """How a table of ``rows`` fits the window: None when even its ids whole and each
    free-text column at its ``narrowest`` do not (then a block per record); else the width of
    each free-text column that must fold to fit (None: as wide as its text).

    Rich left to itself narrows the widest free column first, down to nothing (an observed
    value disappears); here each keeps at least its ``narrowest`` and they share what is left
    in proportion to their text."""
    natural, least = [], []
    for i, col in enumerate(columns):
        widest = max([_widest_line(row[i]) for row in rows] + [_widest_line(Text(col.name))])
        natural.append(widest)
        header_word = max(cell_len(w) for w in col.name.split()) if col.name.strip() else 0
        least.append(widest if col.key else max(min(widest, col.narrowest), header_word))
    probe = new_table()
    add_columns(probe, [Column("", key=True) for _ in columns])
    probe.add_row(*("x" * w for w in least))
    unbounded = console.options.update_width(1_000_000)  # measured as wide as it wants
    needed = Measurement.get(console, unbounded, probe).maximum
    if needed > console.width:
        return None
    free = [i for i, col in enumerate(columns) if not col.key]
    room = console.width - needed + sum(least[i] for i in free)  # for the free columns
    if sum(natural[i] for i in free) <= room:
        return [None] * len(columns)
    widths: list[int | None] = [None] * len(columns)
    spare = room - sum(least[i] for i in free)
    excess = {i: natural[i] - least[i] for i in free}
    total = sum(excess.values()) or 1
    for i in free:
        widths[i] = max(1, least[i] + spare * excess[i] // total)
    # what the rounding left goes to the columns with the most text still folded
    for i in sorted(free, key=lambda i: -(natural[i] - (widths[i] or 0))):
        if sum(w or 0 for w in widths) >= room:
            break
        if (widths[i] or 0) < natural[i]:
            widths[i] = (widths[i] or 0) + 1
    return widths


def print_blocks(
    console: Console, columns: Sequence[Column], rows: Sequence[Sequence[Text]]
) -> None:
    """Records for a window too narrow for their table: the first cell on a line of its own,
    the others under it as ``column: value``, wrapped."""
    for row in rows:
        console.print(row[0], style="bold")
        pairs = [
            Text.assemble((f"{col.name}: ", "dim"), value)
            for col, value in zip(columns[1:], row[1:], strict=True)
            if value.plain
        ]
        # each "column: value" whole on its line, as many to a line as the window holds
        console.print(Padding(Columns(pairs, padding=(0, 3)), (0, 0, 0, 2)))


def _widest_line(text: Text) -> int:
    return max((cell_len(line) for line in text.plain.split("\n")), default=0)


def write_lines(out: IO[str], lines: Iterable[str]) -> None:
    for line in lines:
        out.write(line + "\n")
    out.flush()
