"""The HTML report: self-contained, escaped, honest about incomplete runs and expired waivers."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

from baluarte.findings import Finding, Severity, Status
from baluarte.run import RunRecord, RunState
from reports.html_report import EVIDENCE_MAX_CHARS, render_html

from ._sample import (
    LONG_EVIDENCE,
    UNKNOWN_CONTROL,
    sample_controls,
    sample_findings,
    sample_history,
    sample_run,
)


def _html(run: RunRecord | None = None) -> str:
    return render_html(run or sample_run(), controls=sample_controls())


class _Outline(HTMLParser):
    """Collects tags with their attributes, and the text of each element with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.rows: list[str] = []  # text of every <tr>
        self._row: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "tr":
            self._row = []

    def handle_endtag(self, tag):
        if tag == "tr" and self._row is not None:
            self.rows.append(" ".join(" ".join(self._row).split()))
            self._row = None

    def handle_data(self, data):
        if self._row is not None:
            self._row.append(data)


def _outline(html: str) -> _Outline:
    parser = _Outline()
    parser.feed(html)
    return parser


def _section(html: str, section_id: str) -> str:
    start = html.index(f'id="{section_id}"')
    return html[start : html.index("</section>", start)]


def test_every_finding_control_id_is_shown():
    html = _html()
    findings = _section(html, "findings")
    for f in sample_findings():
        assert f.control in findings
        assert f.device in findings


def test_evidence_is_escaped():
    html = _html()
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more" in html


def test_markup_in_any_stored_field_is_escaped():
    hostile = "<img src=x onerror=alert(1)>"
    finding = Finding(
        client=hostile,
        site=hostile,
        device=hostile,
        platform="linux",
        control="patching.security_updates_pending",
        status=Status.FAIL,
        severity=Severity.HIGH,
        expected=hostile,
        observed=hostile,
        reason=hostile,
    )
    html = _html(sample_run(findings=(finding,)))
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_long_evidence_is_cut_to_an_excerpt():
    html = _html()
    lines = LONG_EVIDENCE.splitlines()
    assert lines[0] in html
    assert lines[-1] not in html
    pre = re.findall(r'<pre class="evidence">(.*?)</pre>', html, re.S)
    assert pre and max(len(p) for p in pre) <= EVIDENCE_MAX_CHARS


def test_incomplete_banner_only_for_incomplete_runs():
    def alerts(html: str) -> list[dict[str, str | None]]:
        return [a for t, a in _outline(html).tags if a.get("role") == "alert"]

    complete = _html(sample_run(state=RunState.COMPLETE))
    incomplete = _html(sample_run(state=RunState.RUNNING))
    assert alerts(complete) == [] and ">INCOMPLETE<" not in complete
    assert [a["class"] for a in alerts(incomplete)] == ["banner-incomplete"]
    assert "<strong>INCOMPLETE</strong>" in incomplete
    assert "5 of 6 devices in scope" in incomplete


def test_no_external_assets_and_no_scripts():
    html = _html()
    for tag, attrs in _outline(html).tags:
        assert tag not in {"script", "link", "img", "iframe", "object", "embed"}, tag
        for name in ("src", "href", "action", "srcset"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), (tag, name, value)
    assert not re.search(r"https?://", html)
    assert "@import" not in html and "url(" not in html


def test_expired_waiver_is_flagged():
    rows = _outline(_section(_html(), "waivers")).rows
    expired = next(r for r in rows if "CSUR-77" in r)
    active = next(r for r in rows if "ACME-1042" in r)
    assert "Expired" in expired and "2026-10-01" in expired
    assert "Expired" not in active and "Active" in active
    # ... and beside the finding it was judged under.
    findings = _section(_html(), "findings")
    assert findings.count("Waiver expired") == 1


def test_devices_that_could_not_be_checked_are_named_up_front():
    html = _html()
    callout = html[html.index('id="not-checked"') : html.index('id="findings"')]
    assert "srv-tpv" in callout and "unreachable: connection timed out after 10 s" in callout
    assert "pc-rx" in callout  # partly checked: one control in error
    assert "srv-files" not in callout


def test_no_error_no_callout():
    ok = tuple(f for f in sample_findings() if f.status is not Status.ERROR)
    assert 'id="not-checked"' not in _html(sample_run(findings=ok))


def test_summary_shows_counts_and_compliance():
    summary = _section(_html(), "summary")
    text = " ".join(unescape(re.sub(r"<[^>]+>", " ", summary)).split())
    assert "45.5 %" in text  # 5 pass ÷ (5 + 3 fail + 3 error); split() ate the nbsp
    for client in ("acme", "bodega-lopez", "clinica-sur"):
        assert client in text
    assert "Patching" in text and "Access hardening" in text


def test_header_names_run_and_input_hashes():
    html = _html()
    run = _section(html, "run")
    for h in ("a" * 64, "b" * 64, "c" * 64):
        assert h in run
    assert "ana.garcia" in run and "0.1.0" in run
    assert "2026-11-27 02:00:13 (+01:00)" in run and "Europe/Madrid (UTC+01:00)" in run


def test_control_missing_from_catalogue_is_shown_by_id():
    html = render_html(sample_run())  # live catalogue, whatever of it exists yet
    assert UNKNOWN_CONTROL in _section(html, "findings")


def test_empty_run_renders():
    html = _html(sample_run(findings=()))
    assert "No findings were stored for this run." in html


def test_apply_run_shows_its_remediation_log():
    from baluarte.run import RunKind

    from ._sample import sample_remediations

    html = render_html(
        sample_run(kind=RunKind.APPLY, remediations=sample_remediations()),
        controls=sample_controls(),
    )
    assert 'id="remediations"' in html
    assert "access.ssh_password_authentication" in html and "applied" in html
    assert "refused" in html and "would lock Baluarte out" in html
    plain = render_html(sample_run(), controls=sample_controls())
    assert 'id="remediations"' not in plain


def _with_history() -> str:
    return render_html(sample_run(), controls=sample_controls(), history=sample_history())


def test_drift_section_lists_each_change_with_its_streak_and_remediation_time():
    drift = _section(_with_history(), "drift")
    assert "Compared with run 41" in drift
    rows = _outline(drift).rows
    fixed = next(r for r in rows if "srv-files" in r and "firewall.enabled" in r)
    assert "Pass" in fixed and "2026-11-13 02:00:13" in fixed and "336.0 h" in fixed
    new = next(r for r in rows if "pc-rx" in r)
    assert "not checked" in new and "2026-11-27 02:00:13" in new
    assert re.search(r"Newly failing \(2\)", drift) and re.search(r"Still failing \(1\)", drift)


def test_without_history_the_drift_section_says_there_is_nothing_to_compare():
    assert "No earlier complete run" in _section(_html(), "drift")


def test_trend_chart_is_inline_svg_with_one_point_per_judged_run():
    trend = _section(_with_history(), "trend")
    tags = _outline(trend).tags
    assert [t for t, _ in tags].count("svg") == 1
    circles = [a for t, a in tags if t == "circle"]
    assert len(circles) == 3  # runs 40, 41 and this one
    # 50 % sits halfway between the 0 % and 100 % grid lines; this run's 45.5 % is lower
    lines = sorted(float(a["y1"] or 0) for t, a in tags if t == "line")
    bottom, top = lines[-1], lines[0]
    ys = [float(a["cy"] or 0) for a in circles]
    assert ys[0] == ys[1] == (bottom + top) / 2
    assert ys[2] == round(bottom - (bottom - top) * 0.455, 1)
    polyline = next(a for t, a in tags if t == "polyline")
    assert len((polyline["points"] or "").split()) == 3
