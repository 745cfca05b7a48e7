"""The evidence report's HTML: every section in Spanish and English, locale dates, honest data."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest
from markupsafe import escape

from baluarte.controls import catalogue
from reports.evidence import render_html
from reports.evidence._common import evidence_sha256, posture_of
from reports.evidence.i18n import translations

from ._sample import DEVICES, EXPIRED_WAIVER, NOT_CHECKED, UNREACHABLE, evidence_data

HEADINGS = {
    "es": [
        "Informe de evidencias",
        "Resumen ejecutivo",
        "Alcance",
        "Metodología",
        "Resultados por control",
        "Resultados por dispositivo",
        "Desviaciones en el periodo",
        "Tendencia de cumplimiento",
        "Registro de remediación",
        "Registro de excepciones",
        "Correspondencia de controles",
        "Integridad",
    ],
    "en": [
        "Evidence report",
        "Executive summary",
        "Scope",
        "Method",
        "Results by control",
        "Results by device",
        "Drift over the period",
        "Compliance trend",
        "Remediation log",
        "Waiver register",
        "Control mapping",
        "Integrity",
    ],
}


@pytest.fixture(scope="module")
def html() -> dict[str, str]:
    return {lang: render_html(evidence_data(lang)) for lang in ("es", "en")}


def _section(page: str, section_id: str) -> str:
    start = page.index(f'id="{section_id}"')
    return page[start : page.index("</section>", start)]


@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_section_heading_is_in_the_language(html, lang):
    headings = re.findall(r"<h[12][^>]*>(.*?)</h[12]>", html[lang])
    assert headings == HEADINGS[lang]
    assert f'<html lang="{lang}">' in html[lang]


def test_the_other_language_does_not_leak(html):
    assert "Resumen ejecutivo" not in html["en"]
    assert "Executive summary" not in html["es"]


def test_dates_are_formatted_for_the_locale(html):
    assert "28 de noviembre de 2026" in html["es"]
    assert "28 November 2026" in html["en"]
    # times in Madrid with their offset: 01:00 UTC is 02:00 (+01:00)
    assert "28/11/2026 02:00 (+01:00)" in html["es"]


def test_numbers_are_formatted_for_the_locale(html):
    # posture: 4 pass of 9 judged = 44.4 % — srv-backup's last attempt (run 42) could not read
    # it, so its controls are errors now, not the passes run 41 saw (they would be stale)
    assert "44,4\u00a0%" in _section(html["es"], "summary")
    assert "44.4%" in _section(html["en"], "summary")


def test_scope_names_unreachable_and_unchecked_devices(html):
    scope = _section(html["es"], "scope")
    for d in DEVICES:
        assert d in scope
    assert "No verificado" in scope and "no se verificó en el periodo" in scope
    # observed by run 41, unreadable in run 42: not verified now, when it was last read given
    row = scope[scope.index(UNREACHABLE) :]
    row = row[: row.index("</tr>")]
    assert "Inaccesible" in row and "14/11/2026 10:30 (+01:00)" in row
    assert "el intento del 28/11/2026 02:00 (+01:00) (ejecución 42) no pudo leerlo" in row
    assert "connection timed out" in row
    summary = _section(html["es"], "summary")
    assert NOT_CHECKED in summary and UNREACHABLE in summary
    # 3 of 5 devices are verified at the period's end
    assert "3 de 5 en el alcance (60,0\u00a0%)" in summary


def test_results_put_failures_first(html):
    by_control = _section(html["en"], "results-control")
    rows = re.findall(r'class="badge badge-(\w+)"', by_control)
    order = ["fail", "error", "waived", "pass", "not_applicable"]
    assert rows == sorted(rows, key=order.index)
    assert rows[0] == "fail"


def test_results_by_device_show_expected_and_observed(html):
    by_device = _section(html["en"], "results-device")
    assert "policy 7: any → any accept" in by_device
    assert "SMBv1 off" in by_device and "SMBv1 on" in by_device
    assert "Waiver expired on 20 November 2026" in by_device


def test_drift_shows_failing_since_and_time_to_remediate(html):
    drift = _section(html["en"], "drift")
    assert "(up to run 42)" in drift and "(from run 40)" in drift
    assert "12.4 days" in drift  # 2 Nov 01:00 → 14 Nov 09:30
    assert "02/11/2026 02:00 (+01:00)" in drift  # still failing since run 40


def test_trend_is_posture_per_day_with_labels_apart(html):
    trend = _section(html["es"], "trend")
    svg = trend[trend.index("<svg") : trend.index("</svg>")]
    # 1–28 November: a point a day from the first run (2 Nov), the run days drawn bigger
    assert svg.count("<circle") == 27 and svg.count('r="3.5"') == 3
    labels = [float(x) for x in re.findall(r'<text x="([\d.]+)" y="202"', svg)]
    assert 2 <= len(labels) <= 7
    assert min(b - a for a, b in pairwise(labels)) >= 60  # never overlap
    # the table: the days with a run, each the posture at the day's end
    rows = re.findall(r"<tr><td>(\d+ de noviembre de 2026)</td><td>(\d+)</td>", trend)
    assert rows == [("2 de noviembre de 2026", "40"), ("14 de noviembre de 2026", "41"),
                    ("28 de noviembre de 2026", "42")]  # fmt: skip
    assert "75,0\u00a0%" in trend and "87,5\u00a0%" in trend and "44,4\u00a0%" in trend


def test_remediation_log_has_before_action_after_and_verification(html):
    log = _section(html["en"], "remediation")
    for text in (
        "PasswordAuthentication yes",
        "sshd drop-in",
        "Applied",
        "Manual",
        "not re-checked",
    ):
        assert text in log
    # the commands are in the record's file, which the block cites
    assert "sshd -t" not in log and "remediations/041-01.txt" in log


def test_waiver_register_flags_the_expired_waiver(html):
    waivers = _section(html["es"], "waivers")
    assert waivers.count("<tr") == 3  # header + two waivers
    rows = waivers.split("<tr")[2:]
    (expired,) = [r for r in rows if EXPIRED_WAIVER.reason in r]
    assert expired.startswith(' class="expired"') and "Caducada" in expired
    assert "Vigente" in waivers
    assert "20 de noviembre de 2026" in waivers


def test_mapping_lists_frameworks_from_the_catalogue(html):
    mapping = _section(html["en"], "mapping")
    assert "op.exp.4" in mapping  # ENS, patching
    assert "8.8" in mapping  # ISO 27001:2022
    assert "CIS FortiGate" in mapping  # CIS Benchmark of a FortiGate control


def test_mapping_shows_the_benchmark_notes_in_the_language(html):
    es = translations("es")
    mapping = _section(html["es"], "mapping")
    notes = {c.benchmark for c in catalogue().values() if c.benchmark}
    shown = [n for n in notes if str(escape(n)) in _section(html["en"], "mapping")]
    changed = [n for n in shown if es.gettext(n) != n]
    assert changed  # the sample checks controls whose note reads differently in Spanish
    for note in changed:
        assert str(escape(es.gettext(note))) in mapping
        assert str(escape(note)) not in mapping


def test_integrity_shows_the_chain_ends(html):
    data = evidence_data("en")
    integrity = _section(html["en"], "integrity")
    assert data.chain[0].record_sha256 in integrity
    assert data.chain[-1].record_sha256 in integrity
    assert "MANIFEST.sha256" in integrity and "broken" not in integrity


def test_a_broken_chain_is_called_out():
    data = evidence_data("en")
    links = list(data.chain)
    links[1] = links[1].__class__(**{**links[1].__dict__, "previous_sha256": "0" * 64})
    page = render_html(data.__class__(**{**data.__dict__, "chain": tuple(links)}))
    assert "The chain is broken before run(s): 41." in _section(page, "integrity")


def test_control_titles_are_translated(html):
    assert "Sin actualizaciones de seguridad pendientes" in html["es"]
    assert "No pending security updates" in html["en"]


def test_no_external_resources(html):
    for page in html.values():
        assert not re.search(r"""(src|href)=["'](?!#)""", page)
        assert "@import" not in page and "url(" not in page


def test_redacted_pack_says_so():
    page = render_html(evidence_data("es", redacted=True))
    assert "contiene datos seudonimizados" in page


def test_data_is_escaped():
    data = evidence_data("en")
    page = render_html(data.__class__(**{**data.__dict__, "legal_name": "<script>x</script>"}))
    assert "<script>" not in page and "&lt;script&gt;" in page


@pytest.mark.parametrize("lang", ["es", "en"])
def test_results_by_device_show_what_did_not_pass_and_list_what_passed(html, lang):
    """Only non-passing controls take a table row; passing ones are listed by id, each still
    citing its evidence (those resting on one evidence share the citation), and the report
    points to the files that hold them whole."""
    posture = posture_of(evidence_data(lang))
    by_device = _section(html[lang], "results-device")
    passed = [o for o in posture.observations if o.finding.status.value == "pass"]
    assert passed and 'class="st-pass"' not in by_device
    listed = {"es": "controles cumplidos:", "en": "controls passed:"}[lang]
    assert listed in by_device and "findings.csv" in by_device
    cited = set(re.findall(r'data-evidence="([0-9a-f]{64})" data-run="(\d+)"', by_device))
    assert cited == {
        (evidence_sha256(o.finding), str(o.run_id))
        for o in posture.observations
        if o.finding.evidence is not None
    }
