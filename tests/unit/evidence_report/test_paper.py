"""The report on paper: the PDF is laid out from the same HTML, and a big pack stays short
where paper adds nothing (fixes grouped by control, record hashes by their first 16 digits, a
run per line, runs of a week as a range) without losing what an auditor reads; control ids are
never broken across lines."""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from baluarte.evidence.data import Lang
from baluarte.findings import Finding, Status
from baluarte.history import Drift
from reports.evidence import render_html, render_pdf
from reports.evidence._common import evidence_sha256, posture_of
from reports.evidence.i18n import Formats
from reports.evidence.view import results_by_device
from reports.evidence.view_history import FIXES_PER_DEVICE_UP_TO, trend_chart
from reports.json_report import load_controls

from ._sample import RUN_STARTS, _state, evidence_data
from .test_html import _section

WAIVERS = {"es": "Registro de excepciones", "en": "Waiver register"}
MAPPING = {"es": "Correspondencia de controles", "en": "Control mapping"}


def _pdf_text(html: str, folder: Path) -> str:
    pdf = folder / "report.pdf"
    pdf.write_bytes(render_pdf(html))
    return subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str]]:
    """The sample pack's (HTML, PDF text) in each language."""
    out = {}
    for lang in ("es", "en"):
        html = render_html(evidence_data(lang))
        out[lang] = (html, _pdf_text(html, tmp_path_factory.mktemp(lang)))
    return out


def _words(html: str) -> set[str]:
    return set(re.sub(r"<[^>]+>", "", html).split())


@pytest.mark.parametrize("lang", ["es", "en"])
def test_control_ids_are_never_broken_across_lines(sample, lang):
    html, text = sample[lang]
    # the waiver register's narrow column may break an id, after a dot or an underscore only
    text = text[: text.rindex(WAIVERS[lang])] + text[text.rindex(MAPPING[lang]) :]  # not the TOC
    ids = set(load_controls())
    pieces = {
        t
        for t in text.split()
        if t.endswith((".", "_")) and any(i.startswith(t) and i != t for i in ids)
    }
    # a word the report itself writes ("backup." ending a sentence) is not a broken id
    assert not pieces - _words(html)


def test_a_record_hash_is_cut_to_16_digits_on_paper_and_whole_on_screen(sample):
    html, text = sample["en"]
    middle = evidence_data("en").chain[1].record_sha256  # neither end, both cited in full
    flat = "".join(text.split())
    assert middle[:16] + "…" in flat and middle not in flat
    assert "chain.json in this pack holds them whole" in " ".join(text.split())
    assert middle in _section(html, "integrity")  # on screen, whole


def _many_fixes(lang: Lang):
    """The sample with more controls newly passing than paper lists device by device."""
    data = evidence_data(lang)
    controls = ["backup.encrypted", "endpoint.installed", "firewall.enabled"]
    devices = [f"pc-{n:02d}" for n in range(FIXES_PER_DEVICE_UP_TO // len(controls) + 1)]
    fixed = tuple(
        _state(
            device,
            control,
            Status.PASS,
            Status.FAIL,
            failing_since=RUN_STARTS[0],
            time_to_remediate=timedelta(days=1 + i + 10 * j),
        )
        for j, control in enumerate(controls)
        for i, device in enumerate(devices)
    )
    assert len(fixed) > FIXES_PER_DEVICE_UP_TO
    drift = Drift(from_run=40, to_run=42, newly_failing=(), newly_passing=fixed, still_failing=())
    return replace(data, drift=drift), devices, controls


def test_many_fixes_are_grouped_by_control_on_paper_and_listed_by_device_on_screen(tmp_path):
    data, devices, controls = _many_fixes("en")
    html = render_html(data)
    text = " ".join(_pdf_text(html, tmp_path).split())
    fixes = text[text.index("Newly passing") : text.index("Still failing")]
    assert "LONGEST TIME TO REMEDIATE" in fixes  # a header: upper case on the page
    for control in controls:
        assert fixes.count(control) == 1  # one row per control
    # endpoint.installed: every device with its time, and the longest of them
    assert "pc-00 (11.0 days), pc-01 (12.0 days)" in fixes
    longest = f"{10 + len(devices)}.0 days"
    assert fixes.count(f"{devices[-1]} ({longest})") == 1 and fixes.count(longest) == 2
    assert "02/11/2026" not in fixes  # each one's date is left to the screen's table
    # on screen (report.html) a row per device, with the date each began failing
    drift = _section(html, "drift")
    screen = drift[: drift.index('class="print-only"')]
    assert screen.count("<tr>") == 1 + len(devices) * len(controls)
    assert "02/11/2026 02:00 (+01:00)" in screen


def test_few_fixes_stay_a_row_per_device_on_paper(sample):
    _, text = sample["en"]
    flat = " ".join(text.split())
    fixes = flat[flat.index("Newly passing") : flat.index("Still failing")]
    assert "LONGEST TIME TO REMEDIATE" not in fixes
    assert "access.ssh_password_authentication" in fixes
    assert "02/11/2026 02:00 (+01:00)" in fixes and "12.4 days" in fixes


def test_a_run_ending_on_its_day_shows_only_the_time_it_ended():
    data = evidence_data("es")
    late = data.runs[-1].info.model_copy(
        update={"ended_at": data.runs[-1].info.started_at + timedelta(hours=23)}
    )
    runs = (*data.runs[:-1], data.runs[-1].model_copy(update={"info": late}))
    method = _section(render_html(replace(data, runs=runs)), "method")
    table = method[method.index('class="compact runs"') :]
    row40 = table[table.index('<td class="num">40</td>') :]
    assert "<td>02/11/2026 02:00 (+01:00)</td><td>02:03</td>" in row40[: row40.index("</tr>")]
    row42 = table[table.index('<td class="num">42</td>') :]
    # 02:00 plus 23 hours is the next day: the end is written whole
    assert "<td>29/11/2026 01:00 (+01:00)</td>" in row42[: row42.index("</tr>")]


def test_the_runs_of_a_day_or_week_are_written_as_ranges():
    points = list(evidence_data("en").trend)
    points[-1] = replace(points[-1], runs=(1, 2, 3, 4, 5, 6, 9, 11, 12))
    rows = trend_chart(points, Formats("en"))["rows"]
    assert rows[-1]["run_ranges"] == "1–6, 9, 11–12"


def test_passing_controls_resting_on_one_evidence_share_its_citation():
    data = evidence_data("en")
    last = data.runs[-1]
    shared = "fortios: GET /api/v2/cmdb/system/admin → 1 admin"

    def passing(control: str, evidence: str) -> Finding:
        f = next(f for f in last.findings if f.device == "fw-hq")
        return f.model_copy(
            update={"control": control, "status": Status.PASS, "evidence": evidence}
        )

    added = (
        passing("access.admin_mfa", shared),
        passing("access.admin_session_timeout", shared),
        passing("access.strong_crypto", "another output"),
    )
    runs = (*data.runs[:-1], last.model_copy(update={"findings": (*last.findings, *added)}))
    data = replace(data, runs=runs)
    [fw] = [d for d in results_by_device(posture_of(data), Formats("en")) if d["device"] == "fw-hq"]
    groups = {tuple(g["controls"]): g["evidence_sha256"] for g in fw["passed"]}
    assert groups[("access.admin_mfa", "access.admin_session_timeout")] == evidence_sha256(added[0])
    assert groups[("access.strong_crypto",)] == evidence_sha256(added[2])
    assert fw["passed_count"] == sum(len(g) for g in groups)
    page = _section(render_html(data), "results-device")
    cite = f'data-evidence="{evidence_sha256(added[0])}" data-run="42">'
    assert f"{cite}access.admin_mfa, access.admin_session_timeout</span>" in page
