"""Which FortiOS REST endpoints each FortiGate control needs, so a unit is asked only for those.

``endpoints_for(control_ids)`` returns them deduplicated: first-round endpoints (always read)
first, then look-up tables with a ``needed`` predicate, read in a second round only when the
first round's cmdb answers name something that only they can resolve. ``cmdb system/global``
is always read: it names the unit (hostname) and serves five controls. The firmware version,
build and serial come with every answer's envelope, so ``monitor system/status`` is never read;
the configuration backup of ``backup.config_saved`` is taken by the collector itself.

Paths are cmdb unless marked (m) for monitor; ``fw`` is ``firewall``, ``sys`` is ``system``.

| control | first round | look-ups (second round, when needed) |
|---|---|---|
| patching.minimum_versions | (the envelope) | |
| patching.automatic_updates | sys.autoupdate/schedule | |
| firewall.allowed_inbound | fw/policy, fw/address, fw.service/custom, sys/interface | N, Z |
| firewall.no_any_any_accept | fw/policy, fw/address, fw.service/custom | N |
| firewall.security_profiles | fw/policy, sys/interface | fw/profile-group, Z |
| firewall.policy_logging | fw/policy, log/setting | |
| firewall.security_services_current | (m) license/status | |
| backup.config_saved | (the collector's backup) | |
| access.admin_accounts | sys/admin, sys/api-user | |
| access.password_policy | sys/password-policy, sys/global | |
| access.admin_mfa | sys/admin | |
| access.admin_trusted_hosts | sys/admin, sys/api-user, sys/interface | |
| access.insecure_admin_protocols | sys/interface, sys/global | |
| access.admin_session_timeout | sys/global | |
| access.strong_crypto | sys/global | |
| logging.remote_forwarding | log.syslogd/setting, log.fortianalyzer/setting | log.syslogd2..4 |
| logging.time_sync | sys/ntp, (m) sys/ntp/status | |

N (names): fw/addrgrp, fw/vip, fw/vipgrp (a policy names an address in no table read yet),
fw/address6, fw/addrgrp6 (a policy has IPv6 addresses), fw.service/group (a service not in
fw.service/custom). Z (zones): sys/sdwan, sys/zone (a policy names an interface not in
sys/interface). log.syslogd2..4/setting: neither syslogd nor FortiAnalyzer is enabled.

The whole FortiGate baseline reads 15 endpoints in the first round. Look-ups are listed in the
order to judge them one by one, each against everything read so far: then a name found in
``firewall/addrgrp`` no longer asks for ``firewall/vip``, nor an SD-WAN zone for ``system/zone``.
Judged all at once against the first round only, they over-read but never miss a table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from checks.fortigate.snapshot import Endpoint

__all__ = ["CONTROL_ENDPOINTS", "endpoints_for"]

Cmdb = Mapping[str, Any]


def _rows(cmdb: Cmdb, path: str) -> list[Mapping[str, Any]]:
    value = cmdb.get(path)
    return [r for r in value if isinstance(r, Mapping)] if isinstance(value, list) else []


def _keys(cmdb: Cmdb, *paths: str) -> set[str]:
    """The mkeys of the rows of tables already read."""
    out: set[str] = set()
    for path in paths:
        for row in _rows(cmdb, path):
            key = row.get("q_origin_key", row.get("name"))
            if key is not None:
                out.add(str(key))
    return out


def _policy_names(cmdb: Cmdb, *fields: str) -> set[str]:
    """Every name the policy table refers to in these member-list fields."""
    out: set[str] = set()
    for row in _rows(cmdb, "firewall/policy"):
        for field in fields:
            members = row.get(field)
            if isinstance(members, list):
                out |= {str(m["name"]) for m in members if isinstance(m, Mapping) and "name" in m}
    return out


def _unknown(fields: tuple[str, ...], known: tuple[str, ...]) -> Callable[[Cmdb], bool]:
    def needed(cmdb: Cmdb) -> bool:
        return bool(_policy_names(cmdb, *fields) - _keys(cmdb, *known))

    return needed


def _any_ipv6(cmdb: Cmdb) -> bool:
    return bool(_policy_names(cmdb, "srcaddr6", "dstaddr6"))


def _profile_groups(cmdb: Cmdb) -> bool:
    return any(r.get("profile-type") == "group" for r in _rows(cmdb, "firewall/policy"))


def _unknown_interfaces(cmdb: Cmdb) -> set[str]:
    names = _policy_names(cmdb, "srcintf", "dstintf") - {"any"}
    return names - _keys(cmdb, "system/interface")


def _sdwan_needed(cmdb: Cmdb) -> bool:
    return bool(_unknown_interfaces(cmdb))


def _zone_needed(cmdb: Cmdb) -> bool:
    unknown = _unknown_interfaces(cmdb)
    sdwan = cmdb.get("system/sdwan")
    if isinstance(sdwan, Mapping) and isinstance(sdwan.get("zone"), list):
        unknown -= {str(z.get("name")) for z in sdwan["zone"] if isinstance(z, Mapping)}
    return bool(unknown)


def _no_forwarding_yet(cmdb: Cmdb) -> bool:
    """The extra syslog servers matter only when neither first target forwards."""
    first = (cmdb.get("log.syslogd/setting"), cmdb.get("log.fortianalyzer/setting"))
    return not any(
        isinstance(s, Mapping) and s.get("status") == "enable" and str(s.get("server", "")).strip()
        for s in first
    )


def _cmdb(path: str, *, global_scope: bool = False, needed: Any = None) -> Endpoint:
    return Endpoint("cmdb", path, global_scope=global_scope, needed=needed)


GLOBAL = _cmdb("system/global", global_scope=True)
ADMIN = _cmdb("system/admin", global_scope=True)
API_USER = _cmdb("system/api-user", global_scope=True)
PASSWORD_POLICY = _cmdb("system/password-policy", global_scope=True)
INTERFACE = _cmdb("system/interface", global_scope=True)
AUTOUPDATE = _cmdb("system.autoupdate/schedule", global_scope=True)
NTP = _cmdb("system/ntp", global_scope=True)
NTP_STATUS = Endpoint("monitor", "system/ntp/status", global_scope=True)
LICENSE = Endpoint("monitor", "license/status", global_scope=True)
POLICY = _cmdb("firewall/policy")
ADDRESS = _cmdb("firewall/address")
SERVICE = _cmdb("firewall.service/custom")
LOG_SETTING = _cmdb("log/setting")
SYSLOGD = _cmdb("log.syslogd/setting", global_scope=True)
FORTIANALYZER = _cmdb("log.fortianalyzer/setting", global_scope=True)

ADDRGRP = _cmdb("firewall/addrgrp", needed=_unknown(("srcaddr", "dstaddr"), ("firewall/address",)))
VIP = _cmdb("firewall/vip", needed=_unknown(("dstaddr",), ("firewall/address", "firewall/addrgrp")))
VIPGRP = _cmdb(
    "firewall/vipgrp",
    needed=_unknown(("dstaddr",), ("firewall/address", "firewall/addrgrp", "firewall/vip")),
)
ADDRESS6 = _cmdb("firewall/address6", needed=_any_ipv6)
ADDRGRP6 = _cmdb("firewall/addrgrp6", needed=_any_ipv6)
SERVICE_GROUP = _cmdb(
    "firewall.service/group", needed=_unknown(("service",), ("firewall.service/custom",))
)
PROFILE_GROUP = _cmdb("firewall/profile-group", needed=_profile_groups)
SDWAN = _cmdb("system/sdwan", needed=_sdwan_needed)
ZONE = _cmdb("system/zone", needed=_zone_needed)
SYSLOGD_MORE = tuple(
    _cmdb(f"log.syslogd{n}/setting", global_scope=True, needed=_no_forwarding_yet)
    for n in (2, 3, 4)
)

_NAMES = (POLICY, ADDRESS, SERVICE, ADDRGRP, VIP, VIPGRP, ADDRESS6, ADDRGRP6, SERVICE_GROUP)
_INTERFACES = (INTERFACE, SDWAN, ZONE)

CONTROL_ENDPOINTS: dict[str, tuple[Endpoint, ...]] = {
    "patching.minimum_versions": (),
    "patching.automatic_updates": (AUTOUPDATE,),
    "firewall.allowed_inbound": (*_NAMES, *_INTERFACES),
    "firewall.no_any_any_accept": _NAMES,
    "firewall.security_profiles": (POLICY, *_INTERFACES, PROFILE_GROUP),
    "firewall.policy_logging": (POLICY, LOG_SETTING),
    "firewall.security_services_current": (LICENSE,),
    "backup.config_saved": (),
    "access.admin_accounts": (ADMIN, API_USER),
    "access.password_policy": (PASSWORD_POLICY, GLOBAL),
    "access.admin_mfa": (ADMIN,),
    "access.admin_trusted_hosts": (ADMIN, API_USER, INTERFACE),
    "access.insecure_admin_protocols": (INTERFACE, GLOBAL),
    "access.admin_session_timeout": (GLOBAL,),
    "access.strong_crypto": (GLOBAL,),
    "logging.remote_forwarding": (SYSLOGD, FORTIANALYZER, *SYSLOGD_MORE),
    "logging.time_sync": (NTP, NTP_STATUS),
}


def endpoints_for(control_ids: Iterable[str]) -> list[Endpoint]:
    """What to read for these controls: first-round endpoints, then the look-ups.

    Ids of controls that never run on a FortiGate are ignored (they are ``not_applicable``).
    """
    chosen: dict[str, Endpoint] = {GLOBAL.key: GLOBAL}  # the unit's hostname
    for control_id in control_ids:
        for endpoint in CONTROL_ENDPOINTS.get(control_id, ()):
            chosen.setdefault(endpoint.key, endpoint)
    ordered = list(chosen.values())
    return [e for e in ordered if e.needed is None] + [e for e in ordered if e.needed is not None]
