"""Resolving policy names: groups holding all, custom 0.0.0.0/0, services of protocol ALL, VIPs."""

from __future__ import annotations

from typing import Any

import pytest

from checks.facts.firewall import PortRange
from checks.fortigate.names import Names
from checks.fortigate.read import Unreadable
from tests.unit.fortigate._states import failing, rows_of, snapshot, state


def _names(change: Any = None, problems: dict[str, str] | None = None) -> Names:
    data = state("hardened")
    if change:
        change(data)
    snap = snapshot(data)
    for endpoint, why in (problems or {}).items():
        snap = failing(snap, endpoint, why)
    return Names(snap)


def _add(path: str, *rows: dict[str, Any]) -> Any:
    def change(data: dict[str, Any]) -> None:
        for r in rows:
            rows_of(data, path).append({"q_origin_key": r["name"], **r})

    return change


def _members(*names: str) -> list[dict[str, str]]:
    return [{"name": n, "q_origin_key": n} for n in names]


def test_all_and_a_custom_zero_network_are_every_address():
    names = _names(
        _add("firewall/address", {"name": "cero", "type": "ipmask", "subnet": "0.0.0.0 0.0.0.0"})
    )
    assert names.addresses(["all"], "ipv4").every
    assert names.addresses(["cero"], "ipv4").every
    lan = names.addresses(["LAN-192.168.1.0"], "ipv4")
    assert (lan.every, lan.nets) == (False, ("192.168.1.0/24",))


def test_a_nested_group_holding_all_is_every_address():
    names = _names(
        _add(
            "firewall/addrgrp",
            {"name": "inner", "member": _members("all"), "exclude": "disable", "exclude-member": []},
            {"name": "outer", "member": _members("msp-noc", "inner"), "exclude": "disable",
             "exclude-member": []},
        )
    )  # fmt: skip
    found = names.addresses(["outer"], "ipv4")
    assert found.every
    assert "203.0.113.0/24" in found.nets


def test_a_group_with_exclusions_is_not_every_address_but_keeps_its_sources():
    names = _names(
        _add("firewall/addrgrp", {"name": "casi-todo", "member": _members("all"),
                                  "exclude": "enable", "exclude-member": _members("msp-noc")})
    )  # fmt: skip
    found = names.addresses(["casi-todo"], "ipv4")
    assert not found.every
    assert found.nets == ("0.0.0.0/0",)


def test_group_loops_are_refused_not_followed_forever():
    names = _names(
        _add(
            "firewall/addrgrp",
            {"name": "a", "member": _members("b"), "exclude": "disable", "exclude-member": []},
            {"name": "b", "member": _members("a"), "exclude": "disable", "exclude-member": []},
        )
    )
    with pytest.raises(Unreadable, match="address group loop: a → b → a"):
        names.addresses(["a"], "ipv4")


def test_ranges_fqdns_and_countries():
    names = _names(
        _add(
            "firewall/address",
            {"name": "rango", "type": "iprange", "start-ip": "192.0.2.0", "end-ip": "192.0.2.127"},
            {"name": "spain", "type": "geography", "country": "ES"},
        )
    )
    assert names.addresses(["rango"], "ipv4").nets == ("192.0.2.0/25",)
    assert names.addresses(["spain"], "ipv4").other == ("spain (geography ES)",)
    assert names.addresses(["gmail.com"], "ipv4").other == ("gmail.com (fqdn gmail.com)",)


def test_a_name_in_no_table_says_which_tables_were_tried_and_why_not_others():
    names = _names(problems={"cmdb firewall/vip": "403 Forbidden"})
    with pytest.raises(Unreadable) as exc:
        names.addresses(["ghost"], "ipv4")
    text = str(exc.value)
    assert "ipv4 address 'ghost' is in none of firewall/address, firewall/addrgrp" in text
    assert "cmdb firewall/vip: 403 Forbidden" in text


def test_an_unreadable_address_table_is_unreadable_whatever_the_name():
    names = _names(problems={"cmdb firewall/address": "500 Internal Server Error"})
    with pytest.raises(Unreadable, match="cmdb firewall/address: 500"):
        names.addresses(["all"], "ipv4")


def test_vips_carry_their_forwarded_port():
    vip = {"name": "web", "type": "static-nat", "extip": "203.0.113.5",
           "mappedip": [{"range": "192.168.10.5", "q_origin_key": "192.168.10.5"}],
           "extintf": "wan1", "portforward": "enable", "protocol": "tcp",
           "extport": "8443", "mappedport": "443"}  # fmt: skip
    found = _names(_add("firewall/vip", vip)).addresses(["web"], "ipv4")
    assert not found.plain and len(found.vips) == 1
    assert found.vips[0].extport == PortRange(first=8443, last=8443)
    assert found.vips[0].describe() == "VIP web 203.0.113.5:8443/tcp → 192.168.10.5:443"


def test_services_all_and_groups_holding_it_are_every_service():
    names = _names(
        _add("firewall.service/group", {"name": "todo", "member": _members("HTTPS", "ALL")})
    )
    assert names.services(["ALL"]).every
    assert names.services(["todo"]).every
    web = names.services(["Web Access"])
    assert not web.every
    assert ("udp", (PortRange(first=53, last=53),)) in web.ports
    assert ("tcp", (PortRange(first=443, last=443),)) in web.ports


def test_service_port_ranges_ip_protocols_and_icmp():
    names = _names(
        _add(
            "firewall.service/custom",
            {"name": "alt", "protocol": "TCP/UDP/SCTP", "tcp-portrange": "8443-8445:1024-65535 9000",
             "udp-portrange": "", "sctp-portrange": ""},
            {"name": "any-ip", "protocol": "IP", "protocol-number": 0},
        )
    )  # fmt: skip
    assert names.services(["alt"]).ports == (
        ("tcp", (PortRange(first=8443, last=8445), PortRange(first=9000, last=9000))),
    )
    assert names.services(["GRE"]).ports == (("47", None),)
    assert names.services(["any-ip"]).every
    assert names.services(["PING"]).ports == ()  # ICMP is not a port to judge
