"""The control catalogue as Markdown: docs/controls.md is this output, kept equal by a test."""

from __future__ import annotations

from collections.abc import Iterable

from baluarte.controls import DOMAINS, FRAMEWORKS, PLATFORMS, Control

__all__ = ["render_catalogue"]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_catalogue(controls: Iterable[Control]) -> str:
    by_domain: dict[str, list[Control]] = {d: [] for d in DOMAINS}
    for control in controls:
        by_domain[control.domain].append(control)
    lines = [
        "# Controls",
        "",
        "Generated from the catalogue in code (`baluarte controls --format markdown`); "
        "a test keeps this file equal to it. Control ids are a contract: they never change "
        "meaning and are never removed.",
        "",
    ]
    for domain, members in by_domain.items():
        if not members:
            continue
        lines += [f"## {domain}", ""]
        header = ["id", "title", "severity", *PLATFORMS, *FRAMEWORKS.values(), "built"]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        for c in members:
            row = [
                f"`{c.id}`",
                _cell(c.title),
                str(c.severity),
                *("✓" if p in c.platforms else "" for p in PLATFORMS),
                *(", ".join(c.mappings.get(f, ())) for f in FRAMEWORKS),
                "yes" if c.evaluate is not None else "not yet",
            ]
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
        for c in members:
            cite = f" Benchmark: {c.benchmark}." if c.benchmark else ""
            lines.append(f"- `{c.id}` — {_cell(c.rationale)}{cite}")
        lines.append("")
    return "\n".join(lines)
