"""docs/report-schema.md documents exactly the keys the JSON report emits."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from baluarte.run import RunKind, RunState
from reports.json_report import report_dict

from ._sample import sample_controls, sample_history, sample_remediations, sample_run

DOC = Path(__file__).parents[3] / "docs" / "report-schema.md"
ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|")


def documented_fields() -> set[str]:
    return {m.group(1) for line in DOC.read_text().splitlines() if (m := ROW.match(line))}


def emitted_paths(value: Any, prefix: str = "") -> set[str]:
    """Every key path in a JSON value: ``a.b`` for objects, ``a[]`` for list items."""
    paths: set[str] = set()
    if isinstance(value, dict):
        for key, child in value.items():
            path = f"{prefix}.{key}" if prefix else key
            paths.add(path)
            paths |= emitted_paths(child, path)
    elif isinstance(value, list):
        for item in value:
            paths |= emitted_paths(item, f"{prefix}[]")
    return paths


def _pattern(field: str) -> re.Pattern[str]:
    parts = re.split(r"(<[^>]+>)", field)
    return re.compile(
        "".join(r"[^.\[\]]+" if p.startswith("<") else re.escape(p) for p in parts) + r"\Z"
    )


def _full_report() -> dict[str, Any]:
    # The sample fills every optional field at least once (waivers, scope, evidence, end time,
    # every kind of drift).
    run = sample_run(kind=RunKind.APPLY, remediations=sample_remediations())
    return report_dict(run, controls=sample_controls(), history=sample_history())


def test_every_emitted_key_is_documented():
    patterns = [_pattern(f) for f in documented_fields()]
    missing = sorted(
        p for p in emitted_paths(_full_report()) if not any(r.match(p) for r in patterns)
    )
    assert missing == [], f"document these in {DOC.name}: {missing}"


def test_every_documented_field_is_emitted():
    paths = emitted_paths(_full_report()) | emitted_paths(
        report_dict(sample_run(state=RunState.RUNNING), controls=sample_controls())
    )
    stale = sorted(f for f in documented_fields() if not any(_pattern(f).match(p) for p in paths))
    assert stale == [], f"{DOC.name} documents fields the renderer no longer emits: {stale}"


def test_doc_names_the_current_schema_version():
    from reports.json_report import SCHEMA_VERSION

    assert f'**`"{SCHEMA_VERSION}"`**' in DOC.read_text()
