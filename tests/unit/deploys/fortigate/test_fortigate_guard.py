"""The management-path guard: which writes would cut the way Baluarte reaches the unit."""

from __future__ import annotations

from baluarte.remediation import RestWrite
from deploys.fortigate.executor import MgmtPath, guard

PATH = MgmtPath(user="baluarte-rw", source="192.0.2.10", interface="wan1", sport=443)


def put(path: str, mkey: str | None, **data: object) -> RestWrite:
    return RestWrite(path=path, mkey=mkey, data=data, global_scope=True)


def test_removing_https_from_the_interface_in_use_is_refused() -> None:
    why = guard(put("system/interface", "wan1", allowaccess="ping"), PATH)
    assert why is not None and "wan1" in why
    assert guard(put("system/interface", "wan1", allowaccess="ping https"), PATH) is None
    assert guard(put("system/interface", "internal", allowaccess="ping"), PATH) is None


def test_unknown_interface_refuses_removing_https_anywhere() -> None:
    unknown = MgmtPath(user="baluarte-rw", source="", interface=None, sport=443)
    assert guard(put("system/interface", "internal", allowaccess="ping"), unknown) is not None


def test_port_account_and_local_in_changes_are_refused() -> None:
    assert guard(put("system/global", None, **{"admin-sport": 8443}), PATH) is not None
    assert guard(put("system/global", None, **{"admin-sport": 443}), PATH) is None
    assert guard(put("system/api-user", "baluarte-rw", trusthost=[]), PATH) is not None
    assert guard(put("system/api-user", "other", trusthost=[]), PATH) is None
    assert guard(put("firewall/local-in-policy", "1", action="deny"), PATH) is not None
    assert guard(put("system/global", None, admintimeout=5), PATH) is None


def test_removing_https_from_the_ipv6_admin_access_of_the_interface_in_use_is_refused() -> None:
    v6_only = put("system/interface", "wan1", ipv6={"ip6-allowaccess": "ping"})
    why = guard(v6_only, PATH)
    assert why is not None and "ipv6 ip6-allowaccess of wan1" in why
    both = put(
        "system/interface", "wan1", allowaccess="ping https", ipv6={"ip6-allowaccess": "ping"}
    )
    assert guard(both, PATH) is not None
    kept = put("system/interface", "wan1", ipv6={"ip6-allowaccess": "ping https"})
    assert guard(kept, PATH) is None
    assert (
        guard(put("system/interface", "internal", ipv6={"ip6-allowaccess": "ping"}), PATH) is None
    )
