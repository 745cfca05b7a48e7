"""End to end through the CLI: a saved plan (`apply --out FILE`, then `apply --plan FILE --yes`).

The plan file is an approval, never a script: apply plans every device again and runs only
where that equals the saved plan. A device changed since (a before-value on a FortiGate, a
setting on a Linux host, a Windows PC) is refused whole while the others are applied; a forged step never
reaches the host; an edited file or a changed policy is refused before anything is collected;
`--yes` without a selector changes nothing, `--all --yes` does. No secret ever reaches the file.
"""

from __future__ import annotations

import hashlib
import json
import re
import ssl
import stat
import subprocess
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from baluarte.lab.fortigate import FortigateLab
from baluarte.lab.systemd_hosts import SystemdHost, SystemdHostLab
from baluarte.lab.windows import WindowsLab
from baluarte.lab.windows.shipped import shipped_state
from tests.integration import cli
from tests.integration.cli import CANARY, baluarte
from tests.integration.test_apply_fortigate import POLICY as FORTIGATE_POLICY
from tests.integration.test_apply_fortigate import api, office_state, puts
from tests.integration.test_apply_linux import CONTROLS, POLICY, apply, doc, transcript, weak_host
from tests.integration.test_apply_windows import check_data, fixes, office
from tests.integration.test_check_fortigate import write_inputs
from tests.integration.test_check_windows import USER, winrm_settings
from tests.integration.test_check_windows import write_inputs as write_inputs_windows


def saved_plan(path: Path) -> dict[str, Any]:
    text = path.read_text()
    assert CANARY not in text  # the inventory's secrets never reach the file
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def planned(plan: dict[str, Any], device: str) -> dict[str, dict[str, Any]]:
    """One device's saved changes by control."""
    entry = next(d for d in plan["devices"] if d["device"] == device)
    return {c["control"]: c for c in entry["changes"]}


def records(run: dict[str, Any], device: str) -> dict[str, dict[str, Any]]:
    return {r["control"]: r for r in run["remediations"] if r["device"] == device}


def commands(change: dict[str, Any]) -> list[str]:
    return [c for step in change["steps"] for c in step["commands"]]


def redigest(plan: dict[str, Any]) -> None:
    """What a forger does after editing: recompute the digest (the rule is no secret)."""
    body = {k: v for k, v in plan.items() if k != "digest"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    plan["digest"] = hashlib.sha256(canonical.encode()).hexdigest()


def assert_untouched(host: SystemdHost) -> None:
    """The weak host as it was made: apply changed nothing on it."""
    assert "passwordauthentication yes" in host.run("sshd -T").stdout
    assert host.run("ls /etc/ssh/sshd_config.d/").stdout.split() == ["00-baluarte-lab.conf"]
    assert "logs.example.net" not in host.run("cat /etc/rsyslog.d/*.conf").stdout


def test_a_saved_plan_runs_exactly_its_changes_and_a_host_changed_since_is_refused(
    tmp_path: Path, systemd_lab: SystemdHostLab, make_systemd_host: Callable[..., SystemdHost]
) -> None:
    kept = weak_host(make_systemd_host, "saved1")
    moved = weak_host(make_systemd_host, "saved2")
    cli.write_inputs(tmp_path, systemd_lab, [kept, moved], policy=POLICY)
    path = tmp_path / "plan.json"

    made = apply(tmp_path, "--out", str(path))
    assert made.returncode == 1, made.stderr
    assert doc(made)["run"] is None
    plan = saved_plan(path)
    assert doc(made)["saved_plan"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    for host in (kept, moved):
        assert {c: ch["kind"] for c, ch in planned(plan, host.name).items()} == dict.fromkeys(
            CONTROLS, "change"
        )
        assert_untouched(host)

    # Between review and approval someone else restricts root logins to keys on saved2.
    moved.run(
        "sed -i 's/^PermitRootLogin yes/PermitRootLogin prohibit-password/' /etc/ssh/sshd_config"
        " && systemctl reload ssh"
    )
    shown = baluarte(tmp_path, "apply", "--plan", str(path))  # what the approver reads
    assert shown.returncode == 1, shown.stderr
    assert f"holds acme/hq/{kept.name}" in shown.stdout
    assert f"refused acme/hq/{moved.name}" in shown.stdout
    assert "access.ssh_root_login" in shown.stdout
    assert_untouched(kept)

    applied = apply(tmp_path, "--plan", str(path), "--yes")
    assert applied.returncode == 1, applied.stdout[-3000:] + applied.stderr  # saved2 still fails
    result = doc(applied)
    verdicts = result["saved_plan"]["devices"]
    assert verdicts[f"acme/hq/{kept.name}"] == {"holds": True, "differences": []}
    assert not verdicts[f"acme/hq/{moved.name}"]["holds"]
    assert any(
        d.startswith("access.ssh_root_login: ")
        for d in verdicts[f"acme/hq/{moved.name}"]["differences"]
    )
    run = result["run"]
    # The run says which plan it carried out.
    assert run["run"]["scope"] == {"plan_sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    # saved1: exactly the saved changes ran, command for command, and verified.
    done = records(run, kept.name)
    assert {c: r["result"] for c, r in done.items()} == dict.fromkeys(CONTROLS, "applied")
    assert {r["verification"] for r in done.values()} == {"pass"}
    for control, change in planned(plan, kept.name).items():
        assert transcript(done[control]["detail"]) == commands(change), control
    assert "passwordauthentication no" in kept.run("sshd -T").stdout
    assert "logs.example.net:6514" in kept.run("cat /etc/rsyslog.d/*.conf").stdout
    # saved2: refused whole, saying what changed; nothing ran on it.
    refused = records(run, moved.name)
    assert set(refused) == CONTROLS
    assert {r["result"] for r in refused.values()} == {"refused"}
    assert all("access.ssh_root_login" in r["detail"] for r in refused.values())
    assert "passwordauthentication yes" in moved.run("sshd -T").stdout
    assert moved.run("ls /etc/ssh/sshd_config.d/").stdout.split() == ["00-baluarte-lab.conf"]
    assert "logs.example.net" not in moved.run("cat /etc/rsyslog.d/*.conf").stdout
    assert cli.ssh(systemd_lab, moved, "true").returncode == 0


def test_an_edited_plan_is_refused_and_a_forged_step_never_reaches_the_host(
    tmp_path: Path, systemd_lab: SystemdHostLab, make_systemd_host: Callable[..., SystemdHost]
) -> None:
    host = weak_host(make_systemd_host, "saved3")
    cli.write_inputs(tmp_path, systemd_lab, [host], policy=POLICY)
    path = tmp_path / "plan.json"
    made = apply(tmp_path, "--out", str(path))
    assert made.returncode == 1 and doc(made)["saved_plan"], made.stderr
    plan = saved_plan(path)
    change = next(
        c for d in plan["devices"] for c in d["changes"]
        if c["control"] == "access.ssh_password_authentication"
    )  # fmt: skip
    change["steps"][0]["commands"][0] = "touch /tmp/pwned"

    # Edited by hand: refused before anything is collected.
    path.write_text(json.dumps(plan, indent=2))
    edited = apply(tmp_path, "--plan", str(path), "--yes")
    assert edited.returncode == 2, edited.stdout + edited.stderr
    assert f"{path}:4:3: digest: the plan was edited" in " ".join(edited.stderr.split())
    assert "Traceback" not in edited.stderr and edited.stdout == ""

    # Forged with a recomputed digest: the fresh plan differs, so the host is refused whole.
    redigest(plan)
    path.write_text(json.dumps(plan, indent=2))
    forged = apply(tmp_path, "--plan", str(path), "--yes")
    result = doc(forged)
    differences = result["saved_plan"]["devices"][f"acme/hq/{host.name}"]["differences"]
    assert any("'touch /tmp/pwned'" in d for d in differences), differences
    assert {r["result"] for r in result["run"]["remediations"]} == {"refused"}
    assert host.run("test -e /tmp/pwned", check=False).returncode == 1
    assert_untouched(host)


def test_yes_without_a_selector_changes_nothing_and_all_applies_to_every_device(
    tmp_path: Path, systemd_lab: SystemdHostLab, make_systemd_host: Callable[..., SystemdHost]
) -> None:
    host = weak_host(make_systemd_host, "saved4")
    cli.write_inputs(tmp_path, systemd_lab, [host], policy=POLICY)
    blind = apply(tmp_path, "--yes")
    assert blind.returncode == 2 and blind.stdout == ""
    assert "--yes: no devices named" in blind.stderr and "--all" in blind.stderr
    assert "Traceback" not in blind.stderr
    assert_untouched(host)
    assert not (tmp_path / "runs.db").exists()  # refused before anything was stored

    both = apply(tmp_path, "--yes", "--all", "--device", host.name)
    assert both.returncode == 2 and "--all: " in both.stderr
    assert_untouched(host)

    applied = apply(tmp_path, "--yes", "--all")
    assert applied.returncode == 0, applied.stdout[-3000:] + applied.stderr
    run = doc(applied)["run"]
    assert {r["result"] for r in run["remediations"]} == {"applied"}
    assert "passwordauthentication no" in host.run("sshd -T").stdout


# -- FortiGate: the emulator over real HTTPS --------------------------------------------------


@pytest.fixture
def units(tmp_path: Path) -> Iterator[dict[str, FortigateLab]]:
    """Two office FortiGates in one inventory, with the apply policy."""
    with ExitStack() as stack:
        labs = {
            name: stack.enter_context(
                FortigateLab(office_state(), tokens={CANARY: "baluarte-rw"},
                             mgmt_interface="internal")
            )
            for name in ("fw-a", "fw-b")
        }  # fmt: skip
        write_inputs(tmp_path, labs)
        (tmp_path / "policies" / "fortigate-baseline.yaml").unlink()
        (tmp_path / "policies" / "apply.yaml").write_text(FORTIGATE_POLICY)
        yield labs


def fortigate_apply(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return baluarte(tmp, "apply", "--format", "json", "--artifacts", str(tmp / "artifacts"), *args)


def another_admin_sets(unit: FortigateLab, path: str, data: dict[str, Any]) -> None:
    """A change made on the unit behind Baluarte's back, through its own REST API."""
    response = httpx.put(
        f"{unit.url}/api/v2/cmdb/{path}",
        json=data,
        headers={"Authorization": f"Bearer {CANARY}"},
        verify=ssl.create_default_context(cafile=str(unit.ca_path)),
    )
    assert response.status_code == 200, response.text


def test_a_unit_whose_before_value_changed_is_refused_and_the_other_is_applied(
    tmp_path: Path, units: dict[str, FortigateLab]
) -> None:
    path = tmp_path / "plan.json"
    made = fortigate_apply(tmp_path, "--out", str(path))
    assert made.returncode == 1, made.stderr
    plan = saved_plan(path)
    assert {r.method for u in units.values() for r in api(u)} == {"GET"}
    timeout = planned(plan, "fw-b")["access.admin_session_timeout"]
    assert timeout["before"] == "system/global: admintimeout 480"

    another_admin_sets(units["fw-b"], "system/global", {"admintimeout": 240})
    seen = {name: len(api(unit)) for name, unit in units.items()}

    shown = fortigate_apply(tmp_path, "--plan", str(path))
    assert shown.returncode == 1
    verdicts = json.loads(shown.stdout)["saved_plan"]["devices"]
    assert verdicts["acme/hq/fw-a"]["holds"]
    assert verdicts["acme/hq/fw-b"]["differences"] == [
        "access.admin_session_timeout: before was 'system/global: admintimeout 480', now"
        " 'system/global: admintimeout 240'"
    ]
    assert [p for u in units.values() for p in puts(u)] == [
        'PUT /api/v2/cmdb/system/global {"admintimeout": 240}'
    ]  # only the other admin's: showing a plan changes nothing

    applied = fortigate_apply(tmp_path, "--plan", str(path), "--yes")
    cli.assert_no_canary(applied.stdout, applied.stderr)
    run = json.loads(applied.stdout)["run"]
    done = records(run, "fw-a")
    assert {r["result"] for r in done.values()} == {"applied"}
    assert set(done) == set(planned(plan, "fw-a"))
    # fw-a received exactly the saved plan's PUTs; fw-b none at all.
    saved_puts = [c for ch in planned(plan, "fw-a").values() for c in commands(ch)]
    assert sorted(puts(units["fw-a"], seen["fw-a"])) == sorted(saved_puts)
    assert puts(units["fw-b"], seen["fw-b"]) == []
    refused = records(run, "fw-b")
    assert set(refused) == set(planned(plan, "fw-b"))
    assert {r["result"] for r in refused.values()} == {"refused"}
    assert all("admintimeout 240" in r["detail"] for r in refused.values())
    assert units["fw-b"].state.to_dict()["global"]["system/global"]["admintimeout"] == 240
    assert units["fw-a"].state.to_dict()["global"]["system/global"]["admintimeout"] == 5
    assert applied.returncode == 1  # fw-b still drifts


def test_a_plan_made_from_another_policy_is_refused_before_any_device_is_read(
    tmp_path: Path, units: dict[str, FortigateLab]
) -> None:
    path = tmp_path / "plan.json"
    assert fortigate_apply(tmp_path, "--out", str(path)).returncode == 1
    policy = tmp_path / "policies" / "apply.yaml"
    policy.write_text(policy.read_text().replace("max_minutes: 5", "max_minutes: 10"))
    seen = {name: len(api(unit)) for name, unit in units.items()}

    stale = fortigate_apply(tmp_path, "--plan", str(path), "--yes")
    assert stale.returncode == 2, stale.stdout + stale.stderr
    message = " ".join(stale.stderr.split())
    assert f"{path}: the plan no longer matches its inputs: policy {policy} changed" in message
    assert "Traceback" not in stale.stderr
    assert all(len(api(unit)) == seen[name] for name, unit in units.items())


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda text: text.replace('"version": 1', '"version": 1,,'), r":3:\d+: not valid JSON"),
        (lambda text: text.replace('"version": 1', '"version": 2'), r":3:3: version: plan version"),
        (
            lambda text: text.replace('"operator"', '"operater"'),
            r":\d+:5: made_from.operater: unknown key 'operater'; did you mean 'operator'\?",
        ),
    ],
    ids=["json", "version", "unknown-key"],
)
def test_a_broken_plan_file_is_an_input_error_with_its_position(
    tmp_path: Path, units: dict[str, FortigateLab], edit: Callable[[str], str], expected: str
) -> None:
    path = tmp_path / "plan.json"
    assert fortigate_apply(tmp_path, "--out", str(path)).returncode == 1
    path.write_text(edit(path.read_text()))
    broken = fortigate_apply(tmp_path, "--plan", str(path), "--yes")
    assert broken.returncode == 2, broken.stdout + broken.stderr
    assert "Traceback" not in broken.stderr and broken.stdout == ""
    assert re.search(re.escape(str(path)) + expected, " ".join(broken.stderr.split())), (
        broken.stderr
    )


# -- Windows: the WinRM lab server ------------------------------------------------------------


@pytest.fixture
def pcs(tmp_path: Path) -> Iterator[dict[str, WindowsLab]]:
    """Two office PCs whose firewall rules let Baluarte's WinRM in, in one inventory."""
    with ExitStack() as stack:
        labs = {
            name: stack.enter_context(
                WindowsLab(shipped_state("office-pc"), users={USER: CANARY}, auth="ntlm")
            )
            for name in ("pc1", "pc2")
        }
        for lab in labs.values():
            office(lab, baluarte_rule=True)
        write_inputs_windows(
            tmp_path, {n: (lab, winrm_settings(lab, "ntlm-http")) for n, lab in labs.items()}
        )
        yield labs
        assert all(lab.internal_errors == [] for lab in labs.values())


def test_a_saved_windows_plan_runs_its_scripts_and_a_pc_changed_since_gets_none(
    tmp_path: Path, pcs: dict[str, WindowsLab]
) -> None:
    path = tmp_path / "plan.json"
    made = baluarte(tmp_path, "apply", "--format", "json", "--out", str(path))
    assert made.returncode == 1, made.stderr
    plan = saved_plan(path)
    assert all(fixes(lab) == [] for lab in pcs.values())
    # The user turns real-time protection back on at pc2 before the plan is approved.
    check_data(pcs["pc2"], "defender.status")["RealTimeProtectionEnabled"] = True

    applied = baluarte(tmp_path, "apply", "--format", "json", "--plan", str(path), "--yes")
    cli.assert_no_canary(applied.stdout, applied.stderr)
    result = json.loads(applied.stdout)
    assert result["saved_plan"]["devices"]["acme/hq/pc1"]["holds"]
    assert result["saved_plan"]["devices"]["acme/hq/pc2"]["differences"] == [
        "endpoint.realtime_protection: the planned change is no longer needed (the control"
        " passes, is waived or could not be judged now)"
    ]
    run = result["run"]
    done = {c: r for c, r in records(run, "pc1").items() if r["result"] != "manual"}
    saved = {c: ch for c, ch in planned(plan, "pc1").items() if ch["kind"] == "change"}
    assert set(done) == set(saved) and {r["result"] for r in done.values()} == {"applied"}
    # pc1 ran exactly the saved scripts, character for character; pc2 none at all.
    assert sorted(fixes(pcs["pc1"])) == sorted(c for ch in saved.values() for c in commands(ch))
    assert fixes(pcs["pc2"]) == []
    assert {r["result"] for r in records(run, "pc2").values()} == {"refused"}
