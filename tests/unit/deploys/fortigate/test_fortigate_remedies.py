"""FortiGate remedies: the unit's answers + policy params → the PUTs with their before-values."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from baluarte.controls import EvalContext, catalogue
from baluarte.inventory import Device
from baluarte.lab.fortigate.shipped import shipped_state
from baluarte.remediation import Manual, Refused, Remedy, RemedyContext, RestWrite
from checks.fortigate.parse import collected
from checks.fortigate.snapshot import snapshot_from_state
from checks.policy.access import InsecureProtocols, PasswordPolicy, SessionTimeout, StrongCrypto
from checks.policy.base import Required
from checks.policy.firewall import PolicyLogging, SecurityProfiles
from checks.policy.logging import RemoteForwarding, TimeSync
from deploys.fortigate import MANUAL, REMEDIES

NOW = EvalContext(now=datetime.now(UTC))
DEVICE = Device(name="fw", platform="fortigate", address="10.0.0.1",
                fortios={"token": "env:X", "vdom": "root"})  # fmt: skip


def ctx(state: dict[str, Any]) -> RemedyContext:
    return RemedyContext(device=DEVICE, collected=collected(snapshot_from_state(state)), ctx=NOW)


def run(control: str, params: Any, state: dict[str, Any]) -> Remedy | Manual | Refused | None:
    c = ctx(state)
    domain = control.split(".")[0]
    result = REMEDIES[control](c.collected.facts[domain], params, c)
    assert not isinstance(result, Remedy) or result.requests
    return result


def writes(result: Any) -> dict[tuple[str, Any], RestWrite]:
    assert isinstance(result, Remedy), result
    return {(w.path, w.mkey): w for w in result.requests}


@pytest.fixture
def office() -> dict[str, Any]:
    return shipped_state("small-office")


@pytest.fixture
def hardened() -> dict[str, Any]:
    return shipped_state("hardened")


def test_every_fortigate_control_is_remedied_or_manual() -> None:
    fortigate = {c.id for c in catalogue().values() if "fortigate" in c.platforms}
    assert fortigate == set(REMEDIES) | set(MANUAL)
    assert not set(REMEDIES) & set(MANUAL)


PARAMS: dict[str, Any] = {
    "access.insecure_admin_protocols": InsecureProtocols(
        forbidden=("telnet", "http"), admin_on_internet_interfaces=False
    ),
    "access.admin_session_timeout": SessionTimeout(max_minutes=5),
    "access.strong_crypto": StrongCrypto(required=True, min_tls_version="1.2"),
    "access.password_policy": PasswordPolicy(
        min_length=8,
        complexity=True,
        complexity_classes=4,
        max_age_days=90,
        lockout_threshold=3,
        lockout_minutes=1,
    ),
    "firewall.security_profiles": SecurityProfiles(profiles=("antivirus", "ips", "webfilter")),
    "firewall.policy_logging": PolicyLogging(logtraffic="all", implicit_deny=True),
    "logging.remote_forwarding": RemoteForwarding(targets=("logs.example.net:6514",)),
    "logging.time_sync": TimeSync(),
    "patching.automatic_updates": Required(),
}


@pytest.mark.parametrize("control", sorted(PARAMS))
def test_a_compliant_unit_gets_no_remedy(control: str, hardened: dict[str, Any]) -> None:
    params = PARAMS[control]
    if control == "logging.remote_forwarding":  # the hardened unit forwards elsewhere
        params = RemoteForwarding()
    assert run(control, params, hardened) is None


def test_insecure_admin_protocols_rewrites_allowaccess_whole(office: dict[str, Any]) -> None:
    got = writes(run("access.insecure_admin_protocols", PARAMS["access.insecure_admin_protocols"],
                     office))  # fmt: skip
    internal = got[("system/interface", "internal")]
    assert internal.data == {"allowaccess": "ping https ssh fgfm"}
    assert internal.before == {"allowaccess": "ping https ssh http telnet fgfm"}
    assert internal.global_scope
    wan = got[("system/interface", "wan1")]
    assert wan.data == {"allowaccess": "ping"} and wan.before == {"allowaccess": "ping https ssh"}
    assert got[("system/global", None)].data == {"admin-telnet": "disable"}
    assert got[("system/global", None)].before == {"admin-telnet": "enable"}
    # Interfaces offering nothing forbidden are not written.
    assert ("system/interface", "dmz") not in got
    assert ("system/interface", "fortilink") not in got


def test_admin_on_wan_allowed_keeps_https_on_wan(office: dict[str, Any]) -> None:
    params = InsecureProtocols(forbidden=("telnet", "http"), admin_on_internet_interfaces=True)
    got = writes(run("access.insecure_admin_protocols", params, office))
    assert ("system/interface", "wan1") not in got


def test_global_settings(office: dict[str, Any]) -> None:
    timeout = writes(run("access.admin_session_timeout", PARAMS["access.admin_session_timeout"],
                         office))[("system/global", None)]  # fmt: skip
    assert (timeout.data, timeout.before) == ({"admintimeout": 5}, {"admintimeout": 480})
    crypto = writes(run("access.strong_crypto", PARAMS["access.strong_crypto"], office))
    w = crypto[("system/global", None)]
    assert w.data == {
        "strong-crypto": "enable",
        "admin-https-redirect": "enable",
        "admin-https-ssl-versions": "tlsv1-2 tlsv1-3",
    }
    assert w.before["admin-https-ssl-versions"] == "tlsv1-1 tlsv1-2 tlsv1-3"
    updates = writes(run("patching.automatic_updates", Required(), office))
    w = updates[("system.autoupdate/schedule", None)]
    assert (w.data, w.before) == ({"status": "enable"}, {"status": "disable"})


def test_password_policy(office: dict[str, Any]) -> None:
    got = writes(run("access.password_policy", PARAMS["access.password_policy"], office))
    policy = got[("system/password-policy", None)]
    assert policy.data == {
        "status": "enable",
        "min-lower-case-letter": 1,
        "min-upper-case-letter": 1,
        "min-number": 1,
        "min-non-alphanumeric": 1,
        "expire-status": "enable",
    }
    assert policy.before["status"] == "disable" and policy.before["min-number"] == 0
    lockout = got[("system/global", None)]
    assert lockout.data == {"admin-lockout-threshold": 3, "admin-lockout-duration": 60}
    assert lockout.before == {"admin-lockout-threshold": 5, "admin-lockout-duration": 30}


def test_firewall_remedies(office: dict[str, Any]) -> None:
    got = writes(run("firewall.security_profiles", PARAMS["firewall.security_profiles"], office))
    # Policies 1 and 3 go to the internet; 4 is disabled, 2 comes from it.
    assert set(got) == {("firewall/policy", 1), ("firewall/policy", 3)}
    assert got[("firewall/policy", 1)].data == {
        "utm-status": "enable", "av-profile": "default", "ips-sensor": "default",
        "webfilter-profile": "default",
    }  # fmt: skip
    assert got[("firewall/policy", 1)].before["utm-status"] == "disable"
    logs = writes(run("firewall.policy_logging", PARAMS["firewall.policy_logging"], office))
    assert set(logs) == {("firewall/policy", 1), ("firewall/policy", 3), ("log/setting", None)}
    assert logs[("firewall/policy", 1)].before == {"logtraffic": "utm"}
    assert not logs[("log/setting", None)].global_scope


def test_security_profiles_from_a_profile_group_are_manual(office: dict[str, Any]) -> None:
    office["vdoms"]["root"]["firewall/policy"][0]["profile-type"] = "group"
    office["vdoms"]["root"]["firewall/profile-group"] = [{"name": "office"}]
    office["vdoms"]["root"]["firewall/policy"][0]["profile-group"] = "office"
    result = run("firewall.security_profiles", PARAMS["firewall.security_profiles"], office)
    assert isinstance(result, Manual) and "profile group" in result.text


def test_logging_remedies(office: dict[str, Any]) -> None:
    got = writes(run("logging.remote_forwarding", PARAMS["logging.remote_forwarding"], office))
    w = got[("log.syslogd/setting", None)]
    assert w.data == {"status": "enable", "server": "logs.example.net", "port": 6514,
                      "mode": "reliable"}  # fmt: skip
    assert w.before == {"status": "disable", "server": "", "port": 514, "mode": "udp"}
    ntp = writes(run("logging.time_sync", TimeSync(), office))[("system/ntp", None)]
    assert ntp.data == {"ntpsync": "enable"} and ntp.before == {"ntpsync": "disable"}
    custom = writes(run("logging.time_sync", TimeSync(servers=("ntp.example.net",)), office))
    w = custom[("system/ntp", None)]
    assert w.data["type"] == "custom"
    assert w.data["ntpserver"] == [{"id": 1, "server": "ntp.example.net"}]


def test_remote_forwarding_without_a_target_is_manual(office: dict[str, Any]) -> None:
    result = run("logging.remote_forwarding", RemoteForwarding(), office)
    assert isinstance(result, Manual) and "targets" in result.text


def test_without_the_units_answers_nothing_is_planned(office: dict[str, Any]) -> None:
    c = ctx(office)
    bare = c.collected.model_copy(update={"raw": None})
    c = RemedyContext(device=DEVICE, collected=bare, ctx=NOW)
    result = REMEDIES["access.admin_session_timeout"](
        c.collected.facts["access"], SessionTimeout(max_minutes=5), c
    )
    assert isinstance(result, Manual)
