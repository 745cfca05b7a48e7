"""Which endpoints the controls ask for: few in the first round, look-ups only when needed."""

from __future__ import annotations

from typing import Any

import pytest

from checks.fortigate.endpoints import CONTROL_ENDPOINTS, endpoints_for
from checks.fortigate.snapshot import Endpoint
from tests.unit.fortigate._states import baseline, row, snapshot, state

FIRST_ROUND_BUDGET = 15


def _planned() -> list[str]:
    return [
        f"{domain}.{name}"
        for domain, section in baseline().sections().items()
        for name in section.controls()
    ]


def _first(endpoints: list[Endpoint]) -> list[str]:
    return [e.key for e in endpoints if e.needed is None]


def _lookups(endpoints: list[Endpoint]) -> dict[str, Endpoint]:
    return {e.key: e for e in endpoints if e.needed is not None}


def test_the_whole_baseline_reads_at_most_15_endpoints_in_the_first_round():
    endpoints = endpoints_for(_planned())
    first = _first(endpoints)
    assert len(first) == 15 <= FIRST_ROUND_BUDGET
    assert "monitor system/status" not in first  # the envelope carries version and serial
    assert len({e.key for e in endpoints}) == len(endpoints)  # deduplicated
    # first-round endpoints come first, then the look-ups
    kinds = [e.needed is None for e in endpoints]
    assert kinds == sorted(kinds, reverse=True)


def test_system_global_is_always_read_first_for_the_hostname():
    assert [e.key for e in endpoints_for(["patching.minimum_versions"])] == ["cmdb system/global"]
    assert endpoints_for([])[0].key == "cmdb system/global"
    assert endpoints_for(["backup.config_saved"])[0].global_scope


def test_only_what_the_planned_controls_need_is_read():
    keys = [e.key for e in endpoints_for(["access.admin_session_timeout", "logging.time_sync"])]
    assert keys == ["cmdb system/global", "cmdb system/ntp", "monitor system/ntp/status"]


def test_controls_of_other_platforms_are_ignored():
    assert endpoints_for(["patching.kernel_current", "access.ssh_root_login"]) == endpoints_for([])


def test_every_fortigate_control_of_the_catalogue_is_mapped():
    from baluarte.controls import catalogue

    fortigate = {c.id for c in catalogue().values() if "fortigate" in c.platforms}
    assert set(CONTROL_ENDPOINTS) == fortigate


def test_global_objects_are_read_without_a_vdom():
    by_key = {e.key: e for e in endpoints_for(_planned())}
    assert by_key["cmdb system/admin"].global_scope
    assert by_key["cmdb log.syslogd/setting"].global_scope
    assert not by_key["cmdb firewall/policy"].global_scope
    assert not by_key["cmdb log/setting"].global_scope


def _needed(name: str, change: Any = None, drop: tuple[str, ...] = ()) -> set[str]:
    """The look-ups a lab state needs, judged one by one against what was read before each."""
    data = state(name)
    if change:
        change(data)
    everything = snapshot(data).cmdb
    first = set(_first(endpoints_for(_planned())))
    read = {p: v for p, v in everything.items() if f"cmdb {p}" in first and p not in drop}
    wanted: set[str] = set()
    for key, endpoint in _lookups(endpoints_for(_planned())).items():
        assert endpoint.needed is not None
        if endpoint.needed(read):
            wanted.add(key)
            read[endpoint.path] = everything.get(endpoint.path, [])
    return wanted


def test_hardened_needs_only_the_service_groups_and_profile_groups_it_uses():
    assert _needed("hardened") == {"cmdb firewall.service/group", "cmdb firewall/profile-group"}


def test_small_office_needs_the_vip_and_the_extra_syslog_servers():
    assert _needed("small-office") == {
        "cmdb firewall/addrgrp",  # RDP-PC-contabilidad is no address: a group or a VIP?
        "cmdb firewall/vip",
        "cmdb firewall.service/group",
        "cmdb log.syslogd2/setting",
        "cmdb log.syslogd3/setting",
        "cmdb log.syslogd4/setting",
    }


def _policy1(**fields: Any) -> Any:
    def change(data: dict[str, Any]) -> None:
        row(data, "firewall/policy", 1, "policyid").update(fields)

    return change


def _m(*names: str) -> list[dict[str, str]]:
    return [{"name": n, "q_origin_key": n} for n in names]


@pytest.mark.parametrize(
    ("change", "wanted"),
    [
        (_policy1(srcaddr=_m("redes-gestion")), {"cmdb firewall/addrgrp"}),
        (_policy1(dstaddr=_m("a-vip")), {"cmdb firewall/addrgrp", "cmdb firewall/vip",
                                         "cmdb firewall/vipgrp"}),
        (_policy1(srcaddr6=_m("all"), dstaddr6=_m("all")),
         {"cmdb firewall/address6", "cmdb firewall/addrgrp6"}),
        (_policy1(dstintf=_m("virtual-wan-link")), {"cmdb system/sdwan"}),
        (_policy1(dstintf=_m("zona-wan")), {"cmdb system/sdwan", "cmdb system/zone"}),
    ],
)  # fmt: skip
def test_a_look_up_is_read_when_a_name_needs_it(change, wanted):
    base = _needed("hardened")
    assert _needed("hardened", change) - base == wanted


def test_no_profile_group_is_read_without_a_policy_using_one():
    def singles(data: dict[str, Any]) -> None:
        row(data, "firewall/policy", 3, "policyid")["profile-type"] = "single"

    assert "cmdb firewall/profile-group" not in _needed("hardened", singles)


def test_look_ups_are_not_read_when_the_first_round_failed_and_never_crash():
    # without the policy table nothing refers to anything
    needed = _needed("hardened", drop=("firewall/policy",))
    assert needed == set()
    for endpoint in _lookups(endpoints_for(_planned())).values():
        assert endpoint.needed is not None
        assert endpoint.needed({"firewall/policy": "<html>garbage</html>"}) in (True, False)
