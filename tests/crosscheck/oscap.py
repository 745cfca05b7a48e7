"""OpenSCAP inside a lab host: the compared SSG rules only, results parsed from XCCDF.

``oscap-chroot``'s package probe fails on Debian, so oscap runs inside the host against the
pinned Debian 12 data stream copied into its overlay. A tailoring file selects exactly the
compared rules and sets the values Baluarte's policy uses (14 characters, 3 classes, lockout
after 5 failures, sshd required), so both tools judge the same numbers.

Per row, the rule results combine as: any ``fail`` fails; else any ``error``/``unknown`` is
an error; else any ``pass`` passes; else the row has no verdict and shows what oscap said
(``notchecked``, ``notapplicable``).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from xml.etree import ElementTree as ET

from baluarte.lab.systemd_hosts import SystemdHost
from tests.crosscheck.rows import ROWS

__all__ = ["RULE_PREFIX", "combine", "run_oscap", "tailoring"]

RULE_PREFIX = "xccdf_org.ssgproject.content_rule_"
_VALUE_PREFIX = "xccdf_org.ssgproject.content_value_"
PROFILE = "xccdf_baluarte_profile_crosscheck"
VALUES = {
    "var_password_pam_minlen": "14",
    "var_password_pam_minclass": "3",
    "var_accounts_passwords_pam_faillock_deny": "5",
    "sshd_required": "2",
}
_XCCDF = "http://checklists.nist.gov/xccdf/1.2"
_IN_HOST = "root/xc-oscap"


def tailoring() -> str:
    """A tailoring file whose one profile selects every compared rule."""
    rules = sorted({rule for row in ROWS for rule in row.oscap})
    selects = "".join(
        f'    <xccdf:select idref="{RULE_PREFIX}{rule}" selected="true"/>\n' for rule in rules
    )
    values = "".join(
        f'    <xccdf:set-value idref="{_VALUE_PREFIX}{name}">{value}</xccdf:set-value>\n'
        for name, value in VALUES.items()
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<xccdf:Tailoring xmlns:xccdf="{_XCCDF}" id="xccdf_baluarte_tailoring_crosscheck">\n'
        '  <xccdf:version time="2026-01-01T00:00:00">1</xccdf:version>\n'
        f'  <xccdf:Profile id="{PROFILE}">\n'
        "    <xccdf:title>Baluarte cross-check: the rules Baluarte also checks</xccdf:title>\n"
        f"{selects}{values}"
        "  </xccdf:Profile>\n"
        "</xccdf:Tailoring>\n"
    )


def _results(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for element in ET.parse(path).getroot().iter(f"{{{_XCCDF}}}rule-result"):
        rule = element.get("idref", "").removeprefix(RULE_PREFIX)
        result = element.find(f"{{{_XCCDF}}}result")
        if result is not None and result.text:
            found[rule] = result.text
    return found


def run_oscap(host: SystemdHost, data_stream: Path) -> tuple[dict[str, str], float]:
    """{rule: result} for every compared rule on ``host``, and oscap's wall time in seconds."""
    workdir = host.root / _IN_HOST
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(data_stream, workdir / "ds.xml")
    (workdir / "tailoring.xml").write_text(tailoring())
    started = time.monotonic()
    done = host.run(
        f"cd /{_IN_HOST} && oscap xccdf eval --tailoring-file tailoring.xml --profile {PROFILE}"
        " --results results.xml ds.xml",
        check=False,
        timeout=300,
    )
    elapsed = time.monotonic() - started
    # 0: all passed, 2: some rule failed; anything else is oscap failing
    if done.returncode not in (0, 2) or not (workdir / "results.xml").exists():
        raise AssertionError(f"{host.name}: oscap exited {done.returncode}: {done.stderr[-2000:]}")
    return _results(workdir / "results.xml"), elapsed


def combine(results: dict[str, str], rules: tuple[str, ...]) -> tuple[str, str]:
    """(verdict, detail) of a row from its rules' results; '—' when the row has no rule."""
    if not rules:
        return "—", "no rule"
    seen = [results.get(rule, "missing") for rule in rules]
    detail = ", ".join(f"{rule}: {result}" for rule, result in zip(rules, seen, strict=True))
    if "fail" in seen:
        return "fail", detail
    if {"error", "unknown", "missing"} & set(seen):
        return "error", detail
    if "pass" in seen:
        return "pass", detail
    # notchecked / notapplicable / notselected only: oscap gives no verdict
    return sorted(set(seen))[0], detail
