"""How the cross-check reads OpenSCAP results and Lynis reports, and edits its document (no hosts).

These are the places where the cross-check itself could turn "no signal" into a verdict.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest

from tests.crosscheck import lynis, oscap
from tests.crosscheck.matrix import Cell
from tests.crosscheck.report import block, classify, replace_blocks
from tests.crosscheck.rows import ROWS

ROW = {row.id: row for row in ROWS}

# Shaped like a real report (Lynis 3.0.8, weak host), trimmed
REPORT = """\
# Lynis Report
report_version_major=1
warning[]=FIRE-4512|iptables module(s) loaded, but no rules active|-|-|
suggestion[]=SSH-7408|Consider hardening SSH configuration|PermitRootLogin (set YES to (FORCED-COMMANDS-ONLY|NO|PROHIBIT-PASSWORD|WITHOUT-PASSWORD))|-|
suggestion[]=SSH-7408|Consider hardening SSH configuration|LogLevel (set INFO to VERBOSE)|-|
warning[]=AUTH-9204|Multiple users with UID 0 found in passwd file|-|-|
remote_syslog_configured=0
vm=1
tests_executed=SSH-7408|FIRE-4512|FIRE-4590|AUTH-9204|LOGG-2154|PKGS-7420|
"""


def test_oscap_row_fails_when_any_rule_fails_and_never_passes_without_a_pass() -> None:
    rules = ("service_chronyd_enabled", "chronyd_specify_remote_server")
    assert oscap.combine({rules[0]: "pass", rules[1]: "fail"}, rules)[0] == "fail"
    assert oscap.combine({rules[0]: "pass", rules[1]: "pass"}, rules)[0] == "pass"
    assert oscap.combine({rules[0]: "pass", rules[1]: "notapplicable"}, rules)[0] == "pass"
    assert oscap.combine({rules[0]: "notchecked"}, rules[:1])[0] == "notchecked"
    # a rule oscap did not report is not a pass
    assert oscap.combine({rules[0]: "pass"}, rules)[0] == "error"
    assert oscap.combine({}, ())[0] == "—"


def test_oscap_tailoring_selects_every_compared_rule_and_sets_the_policy_numbers() -> None:
    root = ET.fromstring(oscap.tailoring())
    ns = {"x": "http://checklists.nist.gov/xccdf/1.2"}
    selected = {e.get("idref") for e in root.iterfind(".//x:select", ns)}
    assert selected == {oscap.RULE_PREFIX + r for row in ROWS for r in row.oscap}
    values = {
        e.get("idref", "").rsplit("_value_", 1)[1]: e.text
        for e in root.iterfind(".//x:set-value", ns)
    }
    assert values["var_password_pam_minlen"] == "14"
    assert values["var_accounts_passwords_pam_faillock_deny"] == "5"


def test_lynis_verdicts_count_only_findings_about_the_row() -> None:
    report = lynis.parse_report(REPORT)
    assert lynis.verdict(ROW["root_login"], report)[0] == "fail"
    assert lynis.verdict(ROW["firewall_enabled"], report)[0] == "fail"
    assert lynis.verdict(ROW["admin_accounts"], report)[0] == "fail"
    assert lynis.verdict(ROW["remote_logging"], report)[0] == "fail"
    # PKGS-7420 ran and said nothing
    assert lynis.verdict(ROW["automatic_updates"], report)[0] == "pass"
    # TIME-3104 did not run: no verdict, not a pass
    assert lynis.verdict(ROW["time_sync"], report)[0] == "skipped"
    assert lynis.verdict(ROW["lockout"], report) == ("—", "no test")


def test_lynis_ssh_finding_about_another_option_is_not_a_root_login_failure() -> None:
    text = REPORT.replace("PermitRootLogin (set YES", "MaxAuthTries (set 6")
    assert lynis.verdict(ROW["root_login"], lynis.parse_report(text))[0] == "pass"


@pytest.mark.parametrize(
    ("verdict", "truth", "kind"),
    [
        ("pass", "pass", "agree"),
        ("pass", "fail", "false pass"),
        ("fail", "pass", "false fail"),
        ("error", "fail", "no verdict"),
        ("waived", "pass", "no verdict"),
        ("notchecked", "fail", "no verdict"),
        ("—", "fail", "no rule"),
    ],
)
def test_cells_are_classified_against_ground_truth(verdict: str, truth: str, kind: str) -> None:
    assert classify(Cell(verdict, ""), truth) == kind


def test_generated_blocks_are_replaced_in_place_and_read_back() -> None:
    begin = "<!-- generated:verdicts:begin (tests/crosscheck/report.py) -->"
    end = "<!-- generated:verdicts:end (tests/crosscheck/report.py) -->"
    doc = f"# Title\n\nhand-written\n\n{begin}\nold\n{end}\n\nmore prose\n"
    new = replace_blocks(doc, {"verdicts": "new table\n"})
    assert new == f"# Title\n\nhand-written\n\n{begin}\nnew table\n{end}\n\nmore prose\n"
    assert block(new, "verdicts").strip() == "new table"
    with pytest.raises(ValueError, match="observed"):
        replace_blocks(doc, {"observed": "x"})
