"""The pack's drift section: the posture at the period's end against its start, so a
one-device apply after a full check keeps every device's failures in it."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from datetime import timedelta

from baluarte.posture_drift import posture_drift
from reports.evidence import render_html, render_pdf
from tests.unit.test_posture import SCOPE, T0, full_check, one_device_apply

from ._sample import drift, evidence_data, runs
from .test_html import _section


def _pack_html(lang: str = "en") -> str:
    rs = (full_check(1, T0), one_device_apply(2, T0 + timedelta(minutes=30)))
    devices = tuple(
        {"client": c, "site": s, "device": d, "platform": p, "tags": []}
        for (c, s, d), p in SCOPE.items()
    )
    data = replace(
        evidence_data(lang),
        client="acme",
        runs=rs,
        devices_in_scope=devices,
        drift=posture_drift(rs, SCOPE),
        trend=(),
        chain=(),
        posture=None,
    )
    return render_html(data)


def test_the_drift_after_a_one_device_apply_names_every_device_still_failing():
    section = _section(_pack_html(), "drift").replace("<wbr>", "")
    assert "(up to run 2)" in section and "(from run 1)" in section
    still = section[section.index("Still failing") :]
    passing = section[section.index("Newly passing") : section.index("Still failing")]
    # the firewall's critical rule from the full check: the apply never looked at it
    assert "firewall.no_any_any_accept" in still and ">fw<" in still
    assert "access.admin_accounts" in still
    assert "firewall.enabled" in passing and "0.5 hours" in passing


def test_the_drift_section_in_the_pdf_keeps_the_firewall(tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(render_pdf(_pack_html("es")))
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    flat = " ".join(text.split())
    start = flat.index("Siguen incumpliendo")
    still = flat[start : flat.index("Tendencia de cumplimiento", start)]
    assert "fw acme / hq firewall.no_any_any_accept" in still
    assert "pc acme / hq access.admin_accounts" in still


def test_the_sample_pack_drift_is_the_posture_drift_of_its_runs():
    rs = runs()
    scope = {(d["client"], d["site"], d["device"]): d["platform"]
             for d in evidence_data().devices_in_scope}  # fmt: skip
    assert posture_drift(rs, scope) == drift()
