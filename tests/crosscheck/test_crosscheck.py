"""The cross-check's claims, read from one run of every state on real lab hosts.

* Baluarte's verdict equals ground truth in every cell; where the state takes away the only
  evidence, it says ``error`` (never ``pass``, never ``waived``); where the host cannot tell,
  ``error`` or the truth. The cells it still gets wrong are listed in expected.BALUARTE_GAPS.
* Every wrong pass or fail of any tool has its cause recorded (expected.CAUSES).
* docs/crosscheck.md shows exactly what this run measured: OpenSCAP's and Lynis's verdicts
  cannot drift from the document that quotes them.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from tests.crosscheck.expected import BALUARTE_GAPS, CAUSES
from tests.crosscheck.matrix import Matrix
from tests.crosscheck.report import DOC, block, disagreements, render
from tests.crosscheck.rows import ROWS
from tests.crosscheck.states import STATES, HostState

# One run of every state is set up by the first test that asks for it (several minutes).
pytestmark = pytest.mark.timeout(1800)


def allowed(state: HostState, row: str, truth: str) -> set[str]:
    """Baluarte verdicts that are right for a cell."""
    if row in state.blind:
        return {"error"}
    if row in state.unknowable:
        return {"error", truth}
    return {truth}


def test_baluarte_verdicts_equal_ground_truth(crosscheck: Matrix) -> None:
    wrong: dict[tuple[str, str], str] = {}
    now_right: list[tuple[str, str]] = []
    for state in STATES:
        for row in ROWS:
            cells = crosscheck.cells[state.name][row.id]
            got, truth = cells["baluarte"], cells["truth"]
            ok = got.verdict in allowed(state, row.id, truth.verdict)
            if (state.name, row.id) in BALUARTE_GAPS:
                if ok:
                    now_right.append((state.name, row.id))
            elif not ok:
                wrong[(state.name, row.id)] = (
                    f"Baluarte {got.verdict} ({got.detail}); ground truth {truth.verdict}"
                    f" ({truth.detail})"
                )
    assert wrong == {}
    assert now_right == [], "Baluarte gets these right now: remove them from BALUARTE_GAPS"


def test_baluarte_never_passes_or_waives_what_it_could_not_establish(crosscheck: Matrix) -> None:
    blinded = [(s, r) for s in STATES for r in sorted(s.blind)]
    assert blinded, "a state must take Baluarte's evidence away, or this proves nothing"
    for state, row in blinded:
        got = crosscheck.cells[state.name][row]["baluarte"]
        # the state waives these very controls: a waiver must not hide the error
        assert got.verdict == "error", (state.name, row, got)
        assert "waiver" in got.detail, (state.name, row, got)
    for state in STATES:
        for row in state.unknowable:
            cells = crosscheck.cells[state.name][row]
            assert cells["baluarte"].verdict not in ("pass", "waived"), (state.name, row, cells)


def test_every_disagreement_has_its_cause_recorded(crosscheck: Matrix) -> None:
    found = {(tool, state, row) for tool, state, row, _, _ in disagreements(crosscheck)}
    assert sorted(found - CAUSES.keys()) == [], "explain these in tests/crosscheck/expected.py"
    assert sorted(CAUSES.keys() - found) == [], "no longer disagreements: remove their causes"


def test_docs_crosscheck_md_shows_this_run(crosscheck: Matrix, crosscheck_json: Path) -> None:
    fresh = render(crosscheck)["verdicts"].strip()
    recorded = block(DOC.read_text(), "verdicts").strip()
    if recorded != fresh:
        diff = "\n".join(
            difflib.unified_diff(
                recorded.splitlines(), fresh.splitlines(), "docs/crosscheck.md", "this run",
                lineterm="", n=1,
            )
        )  # fmt: skip
        pytest.fail(
            "docs/crosscheck.md differs from this run; if the change is right, rewrite it with\n"
            f"  python -m tests.crosscheck.report --write --from-json {crosscheck_json}\n{diff}"
        )
