"""docs/crosscheck.md's generated parts, from a cross-check run.

Two blocks between markers: ``verdicts`` (tools, agreement figures, checks, states, every cell,
every disagreement with its cause) is compared with a fresh run by test_crosscheck.py, so the
document cannot drift from what the tools do; ``observed`` (timings, what each tool said where
it was wrong) changes from run to run and is only rewritten.

    python -m tests.crosscheck.report --write                    # run everything (root), rewrite
    python -m tests.crosscheck.report --write --from-json RUN    # rewrite from a saved run
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

from tests.crosscheck.expected import CAUSES, NO_VERDICT
from tests.crosscheck.matrix import TOOLS, Cell, Matrix
from tests.crosscheck.rows import ROWS
from tests.crosscheck.states import STATES

__all__ = ["DOC", "block", "classify", "disagreements", "render", "replace_blocks"]

DOC = Path(__file__).resolve().parents[2] / "docs" / "crosscheck.md"
NAMES = {"baluarte": "Baluarte", "openscap": "OpenSCAP", "lynis": "Lynis"}
_BLOCK = "<!-- generated:{name}:{edge} (tests/crosscheck/report.py) -->"


def classify(cell: Cell, truth: str) -> str:
    """agree | false pass | false fail | no verdict | no rule."""
    if cell.verdict == "—":
        return "no rule"
    if cell.verdict == truth:
        return "agree"
    if cell.verdict == "pass":
        return "false pass"
    if cell.verdict == "fail":
        return "false fail"
    return "no verdict"


def disagreements(matrix: Matrix) -> list[tuple[str, str, str, Cell, Cell]]:
    """(tool, state, row, tool's cell, truth) for every wrong pass or fail, in table order."""
    found = []
    for state in STATES:
        for row in ROWS:
            cells = matrix.cells[state.name][row.id]
            for tool in TOOLS:
                if classify(cells[tool], cells["truth"].verdict) in ("false pass", "false fail"):
                    found.append((tool, state.name, row.id, cells[tool], cells["truth"]))
    return found


def _agreement(matrix: Matrix) -> list[str]:
    lines = [
        "| tool | cells compared | agree with ground truth | false pass | false fail |"
        " no verdict | agreement |",
        "|---|---|---|---|---|---|---|",
    ]
    for tool in TOOLS:
        counts = dict.fromkeys(("agree", "false pass", "false fail", "no verdict", "no rule"), 0)
        for state in STATES:
            for row in ROWS:
                cells = matrix.cells[state.name][row.id]
                counts[classify(cells[tool], cells["truth"].verdict)] += 1
        compared = sum(counts.values()) - counts["no rule"]
        share = f"{100 * counts['agree'] / compared:.0f}%" if compared else "—"
        lines.append(
            f"| {NAMES[tool]} | {compared} | {counts['agree']} | {counts['false pass']} |"
            f" {counts['false fail']} | {counts['no verdict']} | {share} |"
        )
    return lines


def _shown(cell: Cell, truth: str) -> str:
    kind = classify(cell, truth)
    return f"**{cell.verdict}** ✗" if kind in ("false pass", "false fail") else cell.verdict


def _cell_text(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _verdicts_block(matrix: Matrix) -> list[str]:
    out = ["### Tools", ""]
    out += [f"- {NAMES[t]}: {matrix.versions[t]}" for t in ("openscap", "lynis")]
    out += [f"- SCAP content: {matrix.versions['ssg']}", "", "### Agreement", ""]
    out += _agreement(matrix)
    out += [
        "",
        "A cell is compared when the tool has a rule or test for the check. *No verdict*: the"
        " tool answered error, notchecked, notapplicable or skipped.",
        "",
        "### Checks compared",
        "",
        "| check | passes when | ground truth (by behaviour) | Baluarte | OpenSCAP | Lynis |",
        "|---|---|---|---|---|---|",
    ]
    for row in ROWS:
        scap = ", ".join(f"`{r}`" for r in row.oscap) or "—"
        lyn = ", ".join(row.lynis) or "—"
        policy = " (lockout only)" if row.policy == "lockout" else ""
        out.append(
            f"| {row.title} | {_cell_text(row.meaning)} | {_cell_text(row.truth)} |"
            f" `{row.control}`{policy} | {scap} | {lyn} |"
        )
    out += ["", "### Host states", "", "| state | trap | the host |", "|---|---|---|"]
    for state in STATES:
        out.append(f"| `{state.name}` | {state.trap or '—'} | {_cell_text(state.summary)} |")
    out += ["", "### Verdicts", ""]
    for state in STATES:
        out += [
            f"#### `{state.name}`",
            "",
            "| check | ground truth | how the host behaved | Baluarte | OpenSCAP | Lynis |",
            "|---|---|---|---|---|---|",
        ]
        for row in ROWS:
            cells = matrix.cells[state.name][row.id]
            truth = cells["truth"]
            shown = " | ".join(_shown(cells[t], truth.verdict) for t in TOOLS)
            out.append(f"| {row.title} | {truth.verdict} | {_cell_text(truth.detail)} | {shown} |")
        out.append("")
    out += ["### Disagreements", ""]
    titles = {row.id: row.title for row in ROWS}
    for tool, state_name, row_id, cell, truth in disagreements(matrix):
        cause = CAUSES.get((tool, state_name, row_id), "(no cause recorded)")
        out.append(
            f"- **{NAMES[tool]}**, `{state_name}`, {titles[row_id]}: says **{cell.verdict}**,"
            f" the host shows **{truth.verdict}** ({_cell_text(truth.detail)}). {cause}."
        )
    out += ["", "### No verdict", ""]
    for (tool, row_id), why in NO_VERDICT.items():
        out.append(f"- **{NAMES[tool]}**, {titles[row_id]}: {why}.")
    for state in STATES:
        for row_id in sorted(state.blind | state.unknowable):
            verdict = matrix.cells[state.name][row_id]["baluarte"].verdict
            kind = "cannot be established" if row_id in state.blind else "the host cannot tell"
            out.append(
                f"- **Baluarte**, `{state.name}`, {titles[row_id]}: {verdict} ({kind};"
                f" {'must be error' if row_id in state.blind else 'error or fail, never pass'})."
            )
    return out


def _observed_block(matrix: Matrix) -> list[str]:
    out = [
        "### Time per host",
        "",
        f"Whole cross-check: {matrix.total_seconds:.0f} s for {len(matrix.cells)} hosts"
        " (hosts in waves, each wave's hosts concurrently, on a shared 2-core machine).",
        "",
        "| state | setup | OpenSCAP | Lynis | ground-truth probes |",
        "|---|---|---|---|---|",
    ]
    for state in STATES:
        s = matrix.seconds[state.name]
        out.append(
            f"| `{state.name}` | {s['setup']:.1f} s | {s['openscap']:.1f} s | {s['lynis']:.1f} s"
            f" | {s['truth']:.1f} s |"
        )
    waves = ", ".join(f"{s:.1f} s for {n} hosts" for n, s in matrix.baluarte_seconds)
    out += ["", f"Baluarte (two `check` runs at once per wave): {waves}."]
    out += ["", "### What each tool said where it was wrong", ""]
    titles = {row.id: row.title for row in ROWS}
    for tool, state_name, row_id, cell, _truth in disagreements(matrix):
        out.append(f"- {NAMES[tool]}, `{state_name}`, {titles[row_id]}: {_cell_text(cell.detail)}")
    return out


def render(matrix: Matrix) -> dict[str, str]:
    """{block name: generated markdown} for docs/crosscheck.md."""
    return {
        "verdicts": "\n".join(_verdicts_block(matrix)).strip() + "\n",
        "observed": "\n".join(_observed_block(matrix)).strip() + "\n",
    }


def _pattern(name: str) -> re.Pattern[str]:
    begin = re.escape(_BLOCK.format(name=name, edge="begin"))
    end = re.escape(_BLOCK.format(name=name, edge="end"))
    return re.compile(f"({begin}\n)(.*?)(\n?{end})", re.S)


def block(doc: str, name: str) -> str:
    """The generated block ``name`` of ``doc`` ('' when its markers are missing)."""
    found = _pattern(name).search(doc)
    return found.group(2) if found else ""


def replace_blocks(doc: str, blocks: dict[str, str]) -> str:
    for name, text in blocks.items():
        pattern = _pattern(name)
        if not pattern.search(doc):
            raise ValueError(f"docs/crosscheck.md has no {name} markers")
        doc = pattern.sub(lambda m: m.group(1) + text + m.group(3).lstrip("\n"), doc)  # noqa: B023
    return doc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite docs/crosscheck.md")
    parser.add_argument("--from-json", type=Path, help="a saved run (Matrix.to_json)")
    args = parser.parse_args(argv)
    if args.from_json:
        matrix = Matrix.from_json(args.from_json.read_text())
    else:
        from tests.crosscheck.conftest import run_crosscheck

        with tempfile.TemporaryDirectory() as tmp:
            matrix = run_crosscheck(Path(tmp))
    blocks = render(matrix)
    if args.write:
        DOC.write_text(replace_blocks(DOC.read_text(), blocks))
        print(f"rewrote {DOC}")
    else:
        sys.stdout.write(blocks["verdicts"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
