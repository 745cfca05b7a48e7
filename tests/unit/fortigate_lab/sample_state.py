"""A small FortiGate 60F state for the emulator's own tests (documentation address ranges only).

api-users (all trusting 127.0.0.0/8 unless said otherwise):
``baluarte-ro`` (read on everything), ``rw`` (read-write on everything), ``remote-only``
(trusts 203.0.113.0/24 only), ``no-fw`` (fwgrp none), ``no-admin`` (sysgrp custom, admin none),
``ha-net`` (sysgrp none, netgrp read).
"""

from __future__ import annotations

import copy
from typing import Any

GROUPS = (
    "secfabgrp",
    "ftviewgrp",
    "authgrp",
    "sysgrp",
    "netgrp",
    "loggrp",
    "fwgrp",
    "vpngrp",
    "utmgrp",
    "wanoptgrp",
    "wifi",
)


def _member(*names: str) -> list[dict[str, str]]:
    return [{"name": n, "q_origin_key": n} for n in names]


def _profile(name: str, level: str, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"name": name, "q_origin_key": name, "scope": "vdom", "comments": ""}
    row.update({group: level for group in GROUPS})
    row.update({key.replace("_", "-"): value for key, value in overrides.items()})
    return row


def _api_user(name: str, profile: str, net: str = "127.0.0.0 255.0.0.0") -> dict[str, Any]:
    return {
        "name": name,
        "q_origin_key": name,
        "comments": "",
        "api-key": "ENC c2VhbGVkLWFwaS1rZXk=",
        "accprofile": profile,
        "vdom": _member("root"),
        "schedule": "",
        "cors-allow-origin": "",
        "peer-auth": "disable",
        "trusthost": [
            {
                "id": 1,
                "q_origin_key": 1,
                "type": "ipv4-trusthost",
                "ipv4-trusthost": net,
                "ipv6-trusthost": "::/0",
            }
        ],
    }


def _policy(pid: int, name: str, src: str, dst: str, service: str, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "policyid": pid,
        "q_origin_key": pid,
        "name": name,
        "uuid": f"6a0f3c2e-1b2d-51ef-7a9b-0c1d2e3f4a{pid:02d}",
        "status": "enable",
        "srcintf": _member("internal"),
        "dstintf": _member("wan1"),
        "srcaddr": _member(src),
        "dstaddr": _member(dst),
        "service": _member(service),
        "action": "accept",
        "schedule": "always",
        "nat": "enable",
        "logtraffic": "all",
        "utm-status": "enable",
        "av-profile": "default",
        "ips-sensor": "default",
        "webfilter-profile": "",
        "comments": "",
    }
    row.update(extra)
    return row


_STATE: dict[str, Any] = {
    "version": "v7.4.5",
    "build": 2702,
    "serial": "FGT60FTK24000001",
    "hostname": "fgt-acme-hq",
    "model": "FGT60F",
    "global": {
        "system/global": {
            "hostname": "fgt-acme-hq",
            "alias": "FortiGate-60F",
            "timezone": "Europe/Madrid",
            "admintimeout": 10,
            "admin-sport": 443,
            "admin-ssh-port": 22,
            "admin-https-redirect": "enable",
            "admin-https-ssl-versions": "tlsv1-2 tlsv1-3",
            "admin-telnet": "disable",
            "admin-lockout-threshold": 3,
            "admin-lockout-duration": 60,
            "strong-crypto": "enable",
            "pre-login-banner": "disable",
            "post-login-banner": "disable",
            "rest-api-key-url-query": "disable",
            "vdom-mode": "no-vdom",
        },
        "system/admin": [
            {
                "name": "admin",
                "q_origin_key": "admin",
                "accprofile": "super_admin",
                "vdom": _member("root"),
                "trusthost1": "0.0.0.0 0.0.0.0",
                "two-factor": "disable",
                "password": "ENC c2VhbGVkLWFkbWlu",
                "comments": "",
            },
            {
                "name": "auditor",
                "q_origin_key": "auditor",
                "accprofile": "baluarte_ro",
                "vdom": _member("root"),
                "trusthost1": "127.0.0.0 255.0.0.0",
                "two-factor": "disable",
                "password": "ENC c2VhbGVkLWF1ZGl0b3I=",
                "comments": "",
            },
        ],
        "system/api-user": [
            _api_user("baluarte-ro", "baluarte_ro"),
            _api_user("rw", "super_admin"),
            _api_user("remote-only", "baluarte_ro", "203.0.113.0 255.255.255.0"),
            _api_user("no-fw", "no_fw"),
            _api_user("no-admin", "no_admin"),
            _api_user("ha-net", "ha_net"),
        ],
        "system/accprofile": [
            _profile("baluarte_ro", "read"),
            _profile("no_fw", "read", fwgrp="none"),
            _profile(
                "no_admin",
                "read",
                sysgrp="custom",
                sysgrp_permission={"admin": "none", "upd": "read", "cfg": "read", "mnt": "read"},
            ),
            _profile("ha_net", "none", netgrp="read"),
        ],
        "system/interface": [
            {
                "name": "internal",
                "q_origin_key": "internal",
                "vdom": "root",
                "type": "hard-switch",
                "role": "lan",
                "status": "up",
                "mode": "static",
                "ip": "192.0.2.1 255.255.255.0",
                "allowaccess": "ping https ssh",
            },
            {
                "name": "wan1",
                "q_origin_key": "wan1",
                "vdom": "root",
                "type": "physical",
                "role": "wan",
                "status": "up",
                "mode": "static",
                "ip": "198.51.100.2 255.255.255.0",
                "allowaccess": "ping",
            },
        ],
        "system/ha": {
            "mode": "a-p",
            "group-id": 7,
            "group-name": "acme-ha",
            "password": "ENC c2VhbGVkLWhh",
            "priority": 200,
            "ha-mgmt-status": "enable",
            "ha-mgmt-interfaces": [
                {
                    "id": 1,
                    "q_origin_key": 1,
                    "interface": "mgmt",
                    "dst": "0.0.0.0 0.0.0.0",
                    "gateway": "192.0.2.254",
                }
            ],
        },
        "system/password-policy": {
            "status": "enable",
            "apply-to": "admin-password",
            "minimum-length": 12,
            "min-lower-case-letter": 1,
            "min-upper-case-letter": 1,
            "min-non-alphanumeric": 1,
            "min-number": 1,
            "expire-status": "enable",
            "expire-day": 90,
            "reuse-password": "disable",
        },
    },
    "vdoms": {
        "root": {
            "firewall/address": [
                {
                    "name": "all",
                    "q_origin_key": "all",
                    "type": "ipmask",
                    "subnet": "0.0.0.0 0.0.0.0",
                    "comment": "",
                    "color": 0,
                },
                {
                    "name": "lan-net",
                    "q_origin_key": "lan-net",
                    "type": "ipmask",
                    "subnet": "192.0.2.0 255.255.255.0",
                    "comment": "LAN",
                    "color": 0,
                },
                {
                    "name": "web-srv",
                    "q_origin_key": "web-srv",
                    "type": "ipmask",
                    "subnet": "198.51.100.10 255.255.255.255",
                    "comment": "public web",
                    "color": 0,
                },
                {
                    "name": "10.0.0.0/8",
                    "q_origin_key": "10.0.0.0/8",
                    "type": "ipmask",
                    "subnet": "10.0.0.0 255.0.0.0",
                    "comment": "named with a slash",
                    "color": 0,
                },
            ],
            "firewall/addrgrp": [
                {
                    "name": "grp-lan",
                    "q_origin_key": "grp-lan",
                    "member": _member("lan-net"),
                    "comment": "",
                    "color": 0,
                },
            ],
            "firewall.service/custom": [
                {"name": "ALL", "q_origin_key": "ALL", "protocol": "IP", "comment": ""},
                {
                    "name": "HTTPS",
                    "q_origin_key": "HTTPS",
                    "protocol": "TCP/UDP/SCTP",
                    "tcp-portrange": "443",
                    "comment": "",
                },
                {
                    "name": "SSH",
                    "q_origin_key": "SSH",
                    "protocol": "TCP/UDP/SCTP",
                    "tcp-portrange": "22",
                    "comment": "",
                },
            ],
            "firewall/policy": [
                _policy(1, "lan-to-wan", "lan-net", "all", "HTTPS"),
                _policy(2, "grp-ssh", "grp-lan", "web-srv", "SSH", logtraffic="utm"),
                _policy(3, "legacy", "lan-net", "all", "ALL", status="disable", action="deny"),
            ],
            "antivirus/profile": [
                {
                    "name": "default",
                    "q_origin_key": "default",
                    "feature-set": "flow",
                    "http": {"av-scan": "block", "outbreak-prevention": "block"},
                },
            ],
            "ips/sensor": [{"name": "default", "q_origin_key": "default", "comment": ""}],
            "log/setting": {"fwpolicy-implicit-log": "enable", "local-in-allow": "disable"},
        }
    },
    "monitor": {
        "license/status": {
            "fortiguard": {"type": "cloud_service_status", "connected": True},
            "antivirus": {
                "type": "downloaded_fds_object",
                "status": "licensed",
                "version": "92.01234",
                "expires": 1798761600,
                "last_update": 1767139200,
            },
        },
        "system/firmware": {
            "current": {
                "platform-id": "FGT60F",
                "version": "v7.4.5",
                "major": 7,
                "minor": 4,
                "patch": 5,
                "build": 2702,
                "maturity": "M",
            },
            "available": [],
        },
        "system/ntp/status": [
            {
                "ip": "192.0.2.123",
                "server": "ntp1.example.net",
                "reachable": True,
                "selected": True,
                "stratum": 2,
                "offset": 0.12,
            }
        ],
    },
}


def sample_state() -> dict[str, Any]:
    """A fresh copy: tests may change it freely."""
    return copy.deepcopy(_STATE)
