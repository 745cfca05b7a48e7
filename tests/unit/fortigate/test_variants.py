"""Targeted variants of the hardened unit: one change, and exactly the control about it fails."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.fortigate._states import (
    NOW,
    not_passing,
    row,
    rows_of,
    snapshot,
    state,
    verdicts,
)

State = dict[str, Any]
LIC = "license/status"


def _monitor(data: State, path: str) -> Any:
    return data["monitor"][path]


def version_below(d: State) -> None:
    d["version"], d["build"] = "v7.4.4", 2662


def autoupdate_off(d: State) -> None:
    d["global"]["system.autoupdate/schedule"]["status"] = "disable"


def rdp_published(d: State) -> None:
    rows_of(d, "firewall/vip").append(
        {
            "name": "RDP-srv",
            "q_origin_key": "RDP-srv",
            "type": "static-nat",
            "extip": "203.0.113.3",
            "mappedip": [{"range": "192.168.10.20", "q_origin_key": "192.168.10.20"}],
            "extintf": "wan1",
            "portforward": "enable",
            "protocol": "tcp",
            "extport": "3389",
            "mappedport": "3389",
        }
    )
    policy = dict(row(d, "firewall/policy", 2, "policyid"))
    policy |= {
        "policyid": 9,
        "q_origin_key": 9,
        "name": "RDP-in",
        "srcintf": [{"name": "wan1", "q_origin_key": "wan1"}],
        "dstintf": [{"name": "dmz", "q_origin_key": "dmz"}],
        "srcaddr": [{"name": "msp-noc", "q_origin_key": "msp-noc"}],
        "dstaddr": [{"name": "RDP-srv", "q_origin_key": "RDP-srv"}],
        "service": [{"name": "RDP", "q_origin_key": "RDP"}],
    }
    rows_of(d, "firewall/policy").append(policy)


def _policy1_from_any(d: State, src: str, service: str) -> None:
    p = row(d, "firewall/policy", 1, "policyid")
    p["srcaddr"] = [{"name": src, "q_origin_key": src}]
    p["service"] = [{"name": service, "q_origin_key": service}]


def group_holding_all(d: State) -> None:
    rows_of(d, "firewall/addrgrp").append(
        {"name": "todo", "q_origin_key": "todo", "member": [{"name": "all", "q_origin_key": "all"}],
         "exclude": "disable", "exclude-member": []}
    )  # fmt: skip
    _policy1_from_any(d, "todo", "ALL")


def custom_address_everything(d: State) -> None:
    rows_of(d, "firewall/address").append(
        {"name": "cualquiera", "q_origin_key": "cualquiera", "type": "ipmask",
         "subnet": "0.0.0.0 0.0.0.0"}
    )  # fmt: skip
    _policy1_from_any(d, "cualquiera", "ALL")


def service_group_holding_all(d: State) -> None:
    rows_of(d, "firewall.service/group").append(
        {"name": "Todo", "q_origin_key": "Todo", "member": [
            {"name": "HTTPS", "q_origin_key": "HTTPS"}, {"name": "ALL", "q_origin_key": "ALL"}]}
    )  # fmt: skip
    _policy1_from_any(d, "all", "Todo")


def utm_off(d: State) -> None:
    row(d, "firewall/policy", 1, "policyid")["utm-status"] = "disable"


def profile_group_without_ips(d: State) -> None:
    row(d, "firewall/profile-group", "pg-servidores")["ips-sensor"] = ""


def logging_off(d: State) -> None:
    row(d, "firewall/policy", 2, "policyid")["logtraffic"] = "disable"


def implicit_deny_silent(d: State) -> None:
    d["vdoms"]["root"]["log/setting"]["fwpolicy-implicit-log"] = "disable"


def ips_expired(d: State) -> None:
    _monitor(d, LIC)["ips"]["status"] = "expired"


def av_three_days_old(d: State) -> None:
    _monitor(d, LIC)["antivirus"]["last_update"] = int(NOW.timestamp()) - 3 * 86400


def licence_ends_soon(d: State) -> None:
    _monitor(d, LIC)["antivirus"]["expires"] = int(NOW.timestamp()) + 10 * 86400


def extra_admin(d: State) -> None:
    extra = dict(row(d, "system/admin", "admin"))
    extra |= {"name": "soporte", "q_origin_key": "soporte"}
    rows_of(d, "system/admin").append(extra)


def admin_without_2fa(d: State) -> None:
    row(d, "system/admin", "admin")["two-factor"] = "disable"


def admin_from_anywhere(d: State) -> None:
    admin = row(d, "system/admin", "admin")
    for i in range(1, 11):
        admin[f"trusthost{i}"] = "0.0.0.0 0.0.0.0"


def api_user_from_anywhere(d: State) -> None:
    row(d, "system/api-user", "baluarte-ro")["trusthost"] = []


def ipv6_admin_open(d: State) -> None:
    row(d, "system/interface", "internal")["ipv6"]["ip6-allowaccess"] = "ping https"


def https_on_wan(d: State) -> None:
    row(d, "system/interface", "wan1")["allowaccess"] = "ping https"


def http_on_lan(d: State) -> None:
    row(d, "system/interface", "internal")["allowaccess"] = "ping https ssh http"


def long_timeout(d: State) -> None:
    d["global"]["system/global"]["admintimeout"] = 30


def weak_crypto(d: State) -> None:
    d["global"]["system/global"]["strong-crypto"] = "disable"


def tls_1_1(d: State) -> None:
    d["global"]["system/global"]["admin-https-ssl-versions"] = "tlsv1-1 tlsv1-2 tlsv1-3"


def no_expiry(d: State) -> None:
    d["global"]["system/password-policy"]["expire-status"] = "disable"


def lenient_lockout(d: State) -> None:
    d["global"]["system/global"]["admin-lockout-threshold"] = 5


def no_forwarding(d: State) -> None:
    d["global"]["log.syslogd/setting"]["status"] = "disable"
    d["global"]["log.fortianalyzer/setting"]["status"] = "disable"


def ntp_off(d: State) -> None:
    d["global"]["system/ntp"]["ntpsync"] = "disable"


def ntp_unreachable(d: State) -> None:
    for peer in _monitor(d, "system/ntp/status"):
        peer["reachable"] = False


VARIANTS: dict[str, tuple[Callable[[State], None], str, str]] = {
    # variant: (change, the only control it moves, a text its observed value holds)
    "version_below": (version_below, "patching.minimum_versions", "v7.4.4 build 2662"),
    "autoupdate_off": (autoupdate_off, "patching.automatic_updates", "status disable"),
    "rdp_published": (rdp_published, "firewall.allowed_inbound", "tcp/3389 from 203.0.113.0/24"),
    "group_holding_all": (group_holding_all, "firewall.no_any_any_accept", "srcaddr todo"),
    "custom_address_everything": (
        custom_address_everything,
        "firewall.no_any_any_accept",
        "srcaddr cualquiera",
    ),
    "service_group_holding_all": (
        service_group_holding_all,
        "firewall.no_any_any_accept",
        "service Todo",
    ),
    "utm_off": (utm_off, "firewall.security_profiles", "(utm-status disable)"),
    "profile_group_without_ips": (
        profile_group_without_ips,
        "firewall.security_profiles",
        "no IPS profile (profile group",
    ),
    "logging_off": (logging_off, "firewall.policy_logging", "has logtraffic disable"),
    "implicit_deny_silent": (implicit_deny_silent, "firewall.policy_logging", "implicit deny"),
    "ips_expired": (ips_expired, "firewall.security_services_current", "ips licence expired"),
    "av_three_days_old": (
        av_three_days_old,
        "firewall.security_services_current",
        "3.0 days old (> 2)",
    ),
    "licence_ends_soon": (
        licence_ends_soon,
        "firewall.security_services_current",
        "10 days left, < 30 days",
    ),
    "extra_admin": (extra_admin, "access.admin_accounts", "soporte (accprofile super_admin)"),
    "admin_without_2fa": (admin_without_2fa, "access.admin_mfa", "has two-factor disable"),
    "admin_from_anywhere": (admin_from_anywhere, "access.admin_trusted_hosts", "no trusted hosts"),
    "api_user_from_anywhere": (
        api_user_from_anywhere,
        "access.admin_trusted_hosts",
        "baluarte-ro (REST API user",
    ),
    "ipv6_admin_open": (
        ipv6_admin_open,
        "access.admin_trusted_hosts",
        "IPv6 from anywhere (::/0) while internal",
    ),
    "https_on_wan": (https_on_wan, "access.insecure_admin_protocols", "https on wan1 (role wan)"),
    "http_on_lan": (http_on_lan, "access.insecure_admin_protocols", "http on internal (role lan)"),
    "long_timeout": (long_timeout, "access.admin_session_timeout", "admintimeout 30 min"),
    "weak_crypto": (weak_crypto, "access.strong_crypto", "strong-crypto disable"),
    "tls_1_1": (tls_1_1, "access.strong_crypto", "TLS 1.1 allowed"),
    "no_expiry": (no_expiry, "access.password_policy", "passwords never expire"),
    "lenient_lockout": (lenient_lockout, "access.password_policy", "lockout after 5 failures > 3"),
    "no_forwarding": (no_forwarding, "logging.remote_forwarding", "configured but not in effect"),
    "ntp_off": (ntp_off, "logging.time_sync", "ntpsync disable"),
    "ntp_unreachable": (ntp_unreachable, "logging.time_sync", "no reachable, selected server"),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_one_change_fails_exactly_its_control(variant):
    change, control, text = VARIANTS[variant]
    data = state("hardened")
    change(data)
    out = verdicts(snapshot(data))
    assert not_passing(out) == {control: "fail"}, {c: o.observed for c, o in out.items()}
    assert text in (out[control].observed or ""), out[control].observed


def test_a_fail_outweighs_a_policy_that_cannot_be_judged():
    data = state("hardened")
    group_holding_all(data)
    # a second any-to-any candidate whose service names a group no table holds
    policy = dict(row(data, "firewall/policy", 1, "policyid"))
    policy |= {
        "policyid": 7,
        "q_origin_key": 7,
        "service": [{"name": "ghost", "q_origin_key": "ghost"}],
    }
    rows_of(data, "firewall/policy").append(policy)
    out = verdicts(snapshot(data))["firewall.no_any_any_accept"]
    assert out.status == "fail"
    assert "(and 1 that could not be judged)" in (out.observed or "")


def test_a_config_backup_that_failed_is_an_error_with_its_reason():
    snap = snapshot(
        state("hardened"), config_backup=None, config_backup_problem="405 Method Not Allowed"
    )
    out = verdicts(snap)["backup.config_saved"]
    assert out.status == "error"
    assert "405 Method Not Allowed" in (out.reason or "")


def test_a_negated_source_and_an_ipv6_any_to_any_count_as_any():
    negated = state("hardened")
    _policy1_from_any(negated, "msp-noc", "ALL")
    row(negated, "firewall/policy", 1, "policyid")["srcaddr-negate"] = "enable"
    out = verdicts(snapshot(negated))["firewall.no_any_any_accept"]
    assert out.status == "fail" and "(any to any, v4)" in (out.observed or "")

    ipv6 = state("hardened")
    policy = row(ipv6, "firewall/policy", 1, "policyid")
    policy["service"] = [{"name": "ALL", "q_origin_key": "ALL"}]
    policy["srcaddr6"] = policy["dstaddr6"] = [{"name": "all", "q_origin_key": "all"}]
    out = verdicts(snapshot(ipv6))["firewall.no_any_any_accept"]
    assert out.status == "fail" and "(any to any, v6)" in (out.observed or "")


def test_internet_service_sources_are_not_any_source():
    data = state("hardened")
    policy = row(data, "firewall/policy", 4, "policyid")  # wan1 → internal, ISDB sources
    policy["action"] = "accept"
    out = verdicts(snapshot(data))
    assert out["firewall.no_any_any_accept"].status == "pass"
    inbound = out["firewall.allowed_inbound"]
    assert inbound.status == "fail"  # an accept from the internet, service ALL
    assert "Internet Service Database sources Tor-Exit.Node" in (inbound.observed or "")
