"""The run report (HTML, JSON) with what a hostile device or file could say: shown, never acted on.

The HTML is parsed by tinyhtml5 (the HTML5 parser WeasyPrint uses), which reports every parse
error; control characters are errors ("invalid-codepoint") and must never be written.
"""

from __future__ import annotations

import json
import re

from tinyhtml5.parser import HTMLParser

from baluarte.findings import Status, WaiverRef
from baluarte.remediation import RemediationRecord, RemediationResult
from baluarte.run import RunKind
from reports.html_report import render_html
from reports.html_text import VALUE_MAX_CHARS
from reports.json_report import render_json

from ._sample import _f, sample_controls, sample_run

HOSTILE = (
    "[/x][link=https://evil.example/]click[/link][green]PASS[/green] <b>bold</b> & "
    "\x1b[2J\x1b]8;;https://evil.example/\x07\x9b31m\u202eevil\ud800"
)
SHOWN = (
    "[/x][link=https://evil.example/]click[/link][green]PASS[/green] &lt;b&gt;bold&lt;/b&gt; "
    "&amp; \\x1b[2J\\x1b]8;;https://evil.example/\\x07\\x9b31m\\u202eevil\\ud800"
)
# what no output may carry: C0 but tab/newline, DEL, C1, bidi controls, lone surrogates
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
MEGABYTE = "A" * 1_000_000


def _run() -> object:
    acme = ("acme", "madrid-hq")
    findings = (
        _f(*acme, "srv-files", "linux", "patching.updates_pending", Status.FAIL,
           expected=HOSTILE, observed=HOSTILE, reason=HOSTILE, evidence=HOSTILE),
        _f(*acme, "srv-files", "linux", "access.admin_accounts", Status.ERROR, reason=HOSTILE),
        _f(*acme, "fw-hq", "fortigate", "firewall.no_any_any_accept", Status.WAIVED,
           observed=MEGABYTE, evidence=MEGABYTE,
           waiver=WaiverRef(reason=HOSTILE, approved_by=HOSTILE, expires="2030-01-01")),
    )  # fmt: skip
    remediation = RemediationRecord(
        client="acme",
        site="madrid-hq",
        device="srv-files",
        platform="linux",
        control="patching.updates_pending",
        result=RemediationResult.FAILED,
        before=HOSTILE,
        action=HOSTILE,
        after=MEGABYTE,
        detail=HOSTILE,
    )
    return sample_run(findings=findings, kind=RunKind.APPLY, remediations=(remediation,))


def test_html_parses_without_error_and_shows_hostile_text_as_text() -> None:
    html = render_html(_run(), controls=sample_controls())  # type: ignore[arg-type]
    parser = HTMLParser()
    parser.parse(html)
    assert parser.errors == []
    assert not RAW_CONTROL.search(html)
    assert SHOWN in html
    assert "<b>bold" not in html and 'href="https://evil.example' not in html
    html.encode("utf-8")


def test_html_cuts_a_megabyte_value_and_says_where_the_whole_is() -> None:
    html = render_html(_run(), controls=sample_controls())  # type: ignore[arg-type]
    assert len(html) < 100_000
    assert "A" * VALUE_MAX_CHARS + "…" in html
    assert f"longer than {VALUE_MAX_CHARS} characters are cut" in html
    assert "the full text is in the JSON report" in html


def test_json_keeps_the_whole_value_and_parses() -> None:
    text = render_json(_run())  # type: ignore[arg-type]
    doc = json.loads(text)
    observed = {f["control"]: f["observed"] for f in doc["findings"]}
    assert observed["firewall.no_any_any_accept"] == MEGABYTE  # machine-readable: whole
