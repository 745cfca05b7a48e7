"""The pack's drift is the posture at the period's end against its start (issue 13, item 1):
a full check of two devices, then a check scoped to one (``--device``), then ``evidence
export``: the other device's failures are still in the drift section, as still failing."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.integration.cli import baluarte
from tests.integration.fortigate_client import fortigate_device, fortigate_inputs, fortigate_lab

ANY_ANY = "firewall.no_any_any_accept"


@pytest.fixture(scope="module")
def drift_section(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, int, int]:
    root = tmp_path_factory.mktemp("drift")
    env, key = fortigate_inputs(root)
    with fortigate_lab(root, env) as firewall:
        devices = [fortigate_device(firewall, name) for name in ("fw-a", "fw-b")]
        client = {"name": "acme", "legal_name": "ACME S.L.", "sites": [{"name": "hq", "devices": devices}]}  # fmt: skip
        (root / "inventory.yaml").write_text(yaml.safe_dump({"clients": [client]}))
        ids = []
        for scope in (("--client", "acme"), ("--device", "fw-b")):
            run = baluarte(root, "check", *scope, "--format", "json", env=env)
            assert run.returncode in (0, 1), run.stderr
            ids.append(json.loads(run.stdout)["run"]["id"])
    out = root / "pack"
    export = baluarte(
        root, "evidence", "export", "--client", "acme", "-o", str(out), "--lang", "en",
        "--key", str(key),
    )  # fmt: skip
    assert export.returncode == 0, export.stderr
    html = (out / "report.html").read_text().replace("<wbr>", "")
    start = html.index('id="drift"')
    return html[start : html.index("</section>", start)], ids[0], ids[1]


def test_a_scoped_run_after_a_full_check_leaves_every_device_in_the_drift(drift_section):
    section, full, scoped = drift_section
    assert f"(from run {full})" in section and f"(up to run {scoped})" in section
    still = section[section.index("Still failing") :]
    # both firewalls fail the any-to-any rule; the last run looked at fw-b only
    for device in ("fw-a", "fw-b"):
        assert f">{device}<" in still
    assert ANY_ANY in still
