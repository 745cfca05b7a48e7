"""Missing data is never a pass: a field FortiOS left out, or an endpoint that failed, is an error.

FortiOS answers 200 and silently drops the fields a token's profile may not read, so every
missing field must turn the controls needing it into ``error`` naming endpoint and field, and
leave every other control as it was.
"""

from __future__ import annotations

from typing import Any

import pytest

from checks.fortigate.parse import collected
from tests.unit.fortigate._states import (
    failing,
    not_passing,
    row,
    rows_of,
    snapshot,
    state,
    verdicts,
)

POLICY_CONTROLS = {
    "firewall.allowed_inbound",
    "firewall.no_any_any_accept",
    "firewall.security_profiles",
    "firewall.policy_logging",
}


def _drop(holder: dict[str, Any], field: str) -> None:
    assert field in holder, field
    del holder[field]


def _any_source_without_service(policy: dict[str, Any]) -> None:
    policy["srcaddr"] = [{"name": "all", "q_origin_key": "all"}]
    del policy["service"]


# (where, field) -> the controls that become error, and the text each reason holds
MISSING: dict[str, tuple[Any, set[str], str]] = {
    "policy logtraffic": (
        lambda d: _drop(row(d, "firewall/policy", 2, "policyid"), "logtraffic"),
        {"firewall.policy_logging"},
        "cmdb firewall/policy row 2: field 'logtraffic' missing",
    ),
    "policy utm-status": (
        lambda d: _drop(row(d, "firewall/policy", 1, "policyid"), "utm-status"),
        {"firewall.security_profiles"},
        "cmdb firewall/policy row 1: field 'utm-status' missing",
    ),
    "policy service": (
        lambda d: _any_source_without_service(row(d, "firewall/policy", 1, "policyid")),
        {"firewall.no_any_any_accept"},
        "cmdb firewall/policy row 1: field 'service' missing",
    ),
    "admintimeout": (
        lambda d: _drop(d["global"]["system/global"], "admintimeout"),
        {"access.admin_session_timeout"},
        "cmdb system/global: field 'admintimeout' missing",
    ),
    "two-factor": (
        lambda d: _drop(row(d, "system/admin", "admin"), "two-factor"),
        {"access.admin_mfa"},
        "cmdb system/admin row 'admin': field 'two-factor' missing",
    ),
    "trusthost3": (
        lambda d: _drop(row(d, "system/admin", "admin"), "trusthost3"),
        {"access.admin_trusted_hosts"},
        "field 'trusthost3' missing",
    ),
    "api-user trusthost": (
        lambda d: _drop(row(d, "system/api-user", "baluarte-ro"), "trusthost"),
        {"access.admin_trusted_hosts"},
        "cmdb system/api-user row 'baluarte-ro': field 'trusthost' missing",
    ),
    "licence status": (
        lambda d: _drop(d["monitor"]["license/status"]["ips"], "status"),
        {"firewall.security_services_current"},
        "monitor license/status ips: field 'status' missing",
    ),
    "implicit deny": (
        lambda d: _drop(d["vdoms"]["root"]["log/setting"], "fwpolicy-implicit-log"),
        {"firewall.policy_logging"},
        "cmdb log/setting: field 'fwpolicy-implicit-log' missing",
    ),
    "ntpsync": (
        lambda d: _drop(d["global"]["system/ntp"], "ntpsync"),
        {"logging.time_sync"},
        "cmdb system/ntp: field 'ntpsync' missing",
    ),
    "syslog server": (
        lambda d: _drop(d["global"]["log.syslogd/setting"], "server"),
        {"logging.remote_forwarding"},
        "cmdb log.syslogd/setting: field 'server' missing",
    ),
    "autoupdate status": (
        lambda d: _drop(d["global"]["system.autoupdate/schedule"], "status"),
        {"patching.automatic_updates"},
        "field 'status' missing",
    ),
    "password minimum-length": (
        lambda d: _drop(d["global"]["system/password-policy"], "minimum-length"),
        {"access.password_policy"},
        "cmdb system/password-policy: field 'minimum-length' missing",
    ),
    "wan role": (  # the only inbound policy denies: allowed_inbound needs no role
        lambda d: _drop(row(d, "system/interface", "wan1"), "role"),
        {
            "firewall.security_profiles",
            "access.insecure_admin_protocols",
            "access.admin_trusted_hosts",
        },
        "cmdb system/interface row 'wan1': field 'role' missing",
    ),
}


@pytest.mark.parametrize("case", sorted(MISSING))
def test_a_missing_field_is_an_error_naming_it(case):
    change, controls, text = MISSING[case]
    data = state("hardened")
    change(data)
    out = verdicts(snapshot(data))
    assert not_passing(out) == dict.fromkeys(controls, "error"), {
        c: o.reason for c, o in out.items()
    }
    for control in controls:
        assert text in (out[control].reason or ""), (control, out[control].reason)


def test_a_profile_without_admin_rights_hides_admin_fields_and_every_control_on_them_errors():
    # the emulator's sysgrp custom / admin none: system/global without its admin* fields
    data = state("hardened")
    glob = data["global"]["system/global"]
    for field in [f for f in glob if f.startswith("admin")]:
        del glob[field]
    out = verdicts(snapshot(data))
    assert not_passing(out) == {
        "access.admin_session_timeout": "error",
        "access.strong_crypto": "error",
        "access.password_policy": "error",
        "access.insecure_admin_protocols": "error",
    }
    assert all("missing from the answer" in (o.reason or "") for o in out.values() if o.reason)


def test_a_failed_policy_table_errors_only_the_policy_controls_with_its_reason():
    snap = failing(snapshot(state("hardened")), "cmdb firewall/policy", "500 Internal Server Error")
    out = verdicts(snap)
    assert not_passing(out) == dict.fromkeys(POLICY_CONTROLS, "error")
    for control in POLICY_CONTROLS:
        assert "cmdb firewall/policy: 500 Internal Server Error" in (out[control].reason or "")


@pytest.mark.parametrize(
    ("endpoint", "controls"),
    [
        ("monitor license/status", {"firewall.security_services_current"}),
        (
            "cmdb system/global",
            {
                "access.admin_session_timeout",
                "access.strong_crypto",
                "access.password_policy",
                "access.insecure_admin_protocols",
            },
        ),
        (
            "cmdb system/admin",
            {"access.admin_accounts", "access.admin_mfa", "access.admin_trusted_hosts"},
        ),
        ("cmdb system/api-user", {"access.admin_accounts", "access.admin_trusted_hosts"}),
        (
            "cmdb system/interface",
            POLICY_CONTROLS - {"firewall.no_any_any_accept", "firewall.policy_logging"}
            | {"access.insecure_admin_protocols", "access.admin_trusted_hosts"},
        ),
        ("monitor system/ntp/status", {"logging.time_sync"}),
        ("cmdb log.fortianalyzer/setting", {"logging.remote_forwarding"}),
        ("cmdb firewall/profile-group", {"firewall.security_profiles"}),
    ],
)
def test_an_endpoint_that_failed_errors_exactly_the_controls_reading_it(endpoint, controls):
    why = "403 Forbidden: the API user's profile has no read access to this object (FortiOS error -14)"
    out = verdicts(failing(snapshot(state("hardened")), endpoint, why))
    assert not_passing(out) == dict.fromkeys(controls, "error")
    for control in controls:
        assert endpoint in (out[control].reason or "") and "403" in (out[control].reason or "")


def test_without_services_what_addresses_or_vips_decide_is_still_decided():
    # small office: policy 1 is all → all (service unknown), policy 2 forwards a VIP's port
    why = "500 Internal Server Error"
    out = verdicts(failing(snapshot(state("small-office")), "cmdb firewall.service/custom", why))
    assert out["firewall.no_any_any_accept"].status == "error"
    assert "firewall.service/custom: 500" in (out["firewall.no_any_any_accept"].reason or "")
    assert out["firewall.allowed_inbound"].status == "fail"  # the VIP names its port
    assert "tcp/3389" in (out["firewall.allowed_inbound"].observed or "")
    # hardened: no policy accepts from any source, so services cannot make one any-to-any
    hardened = verdicts(failing(snapshot(state("hardened")), "cmdb firewall.service/custom", why))
    assert not_passing(hardened) == {}


def test_an_endpoint_not_read_at_all_is_an_error_too():
    snap = snapshot(state("hardened"))
    cmdb = {k: v for k, v in snap.cmdb.items() if k != "system.autoupdate/schedule"}
    out = verdicts(snapshot(state("hardened"), cmdb=cmdb))
    assert not_passing(out) == {"patching.automatic_updates": "error"}
    assert "was not read from the unit" in (out["patching.automatic_updates"].reason or "")


def test_a_look_up_table_that_failed_errors_only_the_policies_needing_it():
    data = state("hardened")
    # policy 1 from a group to all with service ALL: only the group can say "any to any"
    policy = row(data, "firewall/policy", 1, "policyid")
    policy["srcaddr"] = [{"name": "redes-gestion", "q_origin_key": "redes-gestion"}]
    policy["service"] = [{"name": "ALL", "q_origin_key": "ALL"}]
    snap = failing(snapshot(data), "cmdb firewall/addrgrp", "500 Internal Server Error")
    out = verdicts(snap)
    # nothing decides "any to any" without the group, but the policy is not inbound
    assert not_passing(out) == {"firewall.no_any_any_accept": "error"}
    reason = out["firewall.no_any_any_accept"].reason or ""
    assert "'redes-gestion'" in reason and "firewall/addrgrp: 500" in reason


def test_a_domain_whose_parser_breaks_is_a_domain_problem_not_a_crash():
    data = state("hardened")
    data["monitor"]["license/status"]["ips"]["expires"] = 10**14  # beyond any datetime
    result = collected(snapshot(data))
    assert "firewall" in result.problems and "firewall" not in result.facts
    assert "could not parse the firewall facts" in result.problems["firewall"]
    out = verdicts(result)
    assert not_passing(out) == dict.fromkeys(
        POLICY_CONTROLS | {"firewall.security_services_current"}, "error"
    )


def test_rows_of_helper_finds_global_and_vdom_nodes():
    data = state("hardened")
    assert rows_of(data, "system/global")["hostname"] == "FGT-ACME-HQ"
    assert isinstance(rows_of(data, "firewall/policy"), list)
