"""The curated node registry: the ~45 cmdb nodes of reference §0/§3 and what they refer to.

Paths a state file holds that are not declared here are served anyway through ``infer`` (no
validation beyond the fields already seen). Field sets are a practical subset: a write may also
use any field already present in the state's rows for that node.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from baluarte.lab.fortigate.schema import ED, Member, MkeyType, NodeSchema, Scope, declare

__all__ = ["MONITOR_GROUPS", "REGISTRY", "infer", "lookup", "monitor_group"]

_INTF = ("system/interface", "system/zone", "system/sdwan#zone")
_ADDR = ("firewall/address", "firewall/addrgrp", "firewall/vip", "firewall/vipgrp")
_SERVICE = ("firewall.service/custom", "firewall.service/group")
_SCHEDULE = (
    "firewall.schedule/recurring",
    "firewall.schedule/onetime",
    "firewall.schedule/group",
)
_PORT = (0, 65535)
_GROUP_LEVELS = "none read read-write custom"

# fmt: off
_NODES = [
    # -- firewall (fwgrp) -----------------------------------------------------------------------
    declare(
        "firewall/policy", "fwgrp.policy", mkey="policyid", mkey_type="integer",
        fields="name uuid comments global-label ippool internet-service-name "
        "internet-service-src-name internet-service-id internet-service-src-id "
        "srcaddr6 dstaddr6 dlp-sensor dlp-profile voip-profile waf-profile emailfilter-profile "
        "file-filter-profile profile-protocol-options ztna-status match-vip auto-asic-offload "
        "capture-packet tcp-mss-sender tcp-mss-receiver",
        onoff="status nat utm-status internet-service internet-service-src srcaddr-negate "
        "dstaddr-negate service-negate logtraffic-start match-vip auto-asic-offload",
        enums={"action": "accept deny ipsec", "logtraffic": "all utm disable",
               "inspection-mode": "proxy flow", "profile-type": "single group"},
        ints={"policyid": (0, 4294967294)},
        members={"srcintf": _INTF, "dstintf": _INTF, "srcaddr": _ADDR, "dstaddr": _ADDR,
                 "service": _SERVICE, "poolname": ("firewall/ippool",),
                 "groups": ("user/group",), "users": ("user/local",)},
        refs={"schedule": _SCHEDULE, "av-profile": ("antivirus/profile",),
              "webfilter-profile": ("webfilter/profile",),
              "dnsfilter-profile": ("dnsfilter/profile",), "ips-sensor": ("ips/sensor",),
              "application-list": ("application/list",),
              "ssl-ssh-profile": ("firewall/ssl-ssh-profile",),
              "profile-group": ("firewall/profile-group",)},
        defaults={"name": "", "status": "enable", "action": "deny", "srcintf": [],
                  "dstintf": [], "srcaddr": [], "dstaddr": [], "service": [], "schedule": "",
                  "nat": "disable", "logtraffic": "utm", "utm-status": "disable",
                  "inspection-mode": "flow", "profile-type": "single", "av-profile": "",
                  "webfilter-profile": "", "dnsfilter-profile": "", "ips-sensor": "",
                  "application-list": "", "ssl-ssh-profile": "", "comments": ""},
    ),
    declare(
        "firewall/address", "fwgrp.address",
        fields="uuid subnet start-ip end-ip fqdn country wildcard comment macaddr",
        onoff="allow-routing",
        enums={"type": "ipmask iprange fqdn geography wildcard dynamic interface-subnet mac "
               "route-tag"},
        ints={"color": (0, 32)},
        refs={"associated-interface": _INTF},
        defaults={"type": "ipmask", "subnet": "0.0.0.0 0.0.0.0", "associated-interface": "",
                  "comment": "", "allow-routing": "disable", "color": 0},
    ),
    declare(
        "firewall/addrgrp", "fwgrp.address", fields="uuid comment",
        onoff="exclude allow-routing", enums={"type": "default folder"},
        ints={"color": (0, 32)},
        members={"member": ("firewall/address", "firewall/addrgrp"),
                 "exclude-member": ("firewall/address", "firewall/addrgrp")},
        defaults={"member": [], "comment": "", "exclude": "disable", "color": 0},
    ),
    declare(
        "firewall/vip", "fwgrp.address",
        fields="uuid extip mappedip extport mappedport comment mapped-addr",
        onoff="portforward status nat-source-vip",
        enums={"type": "static-nat load-balance server-load-balance dns-translation fqdn "
               "access-proxy", "protocol": "tcp udp sctp icmp"},
        ints={"color": (0, 32)},
        refs={"extintf": _INTF},
        children={"mappedip": "range"},
    ),
    declare("firewall/vipgrp", "fwgrp.address", fields="uuid comments interface",
          members={"member": ("firewall/vip",)}),
    declare("firewall/ippool", "fwgrp.address", fields="startip endip comments",
          enums={"type": "overload one-to-one fixed-port-range port-block-allocation"}),
    declare(
        "firewall.service/custom", "fwgrp.service",
        fields="tcp-portrange udp-portrange sctp-portrange protocol-number icmptype icmpcode "
        "iprange fqdn comment session-ttl category",
        onoff="proxy", enums={"protocol": "TCP/UDP/SCTP ICMP ICMP6 IP HTTP FTP CONNECT "
                              "SOCKS-TCP SOCKS-UDP ALL", "visibility": ED},
        ints={"color": (0, 32)},
        defaults={"protocol": "TCP/UDP/SCTP", "tcp-portrange": "", "udp-portrange": "",
                  "comment": "", "color": 0},
    ),
    declare("firewall.service/group", "fwgrp.service", fields="comment", onoff="proxy",
          ints={"color": (0, 32)}, members={"member": _SERVICE},
          defaults={"member": [], "comment": ""}),
    declare("firewall.schedule/recurring", "fwgrp.schedule", fields="start end day color"),
    declare("firewall.schedule/onetime", "fwgrp.schedule", fields="start end color"),
    declare("firewall.schedule/group", "fwgrp.schedule", fields="color",
          members={"member": _SCHEDULE}),
    declare(
        "firewall/local-in-policy", "fwgrp.policy", mkey="policyid", mkey_type="integer",
        fields="uuid intf comments", onoff="status virtual-patch srcaddr-negate dstaddr-negate "
        "service-negate", enums={"action": "accept deny"},
        members={"srcaddr": _ADDR, "dstaddr": _ADDR, "service": _SERVICE},
        refs={"schedule": _SCHEDULE},
    ),
    declare("firewall/profile-group", "fwgrp.others",
          refs={"av-profile": ("antivirus/profile",), "ips-sensor": ("ips/sensor",),
                "webfilter-profile": ("webfilter/profile",),
                "dnsfilter-profile": ("dnsfilter/profile",),
                "application-list": ("application/list",),
                "ssl-ssh-profile": ("firewall/ssl-ssh-profile",)}),
    declare("firewall/ssl-ssh-profile", "fwgrp.others", fields="comment"),
    declare("firewall/profile-protocol-options", "fwgrp.others", fields="comment"),
    # -- system (sysgrp, netgrp, secfabgrp) -----------------------------------------------------
    declare(
        "system/global", "sysgrp.cfg", table=False, scope="global",
        fields="hostname alias timezone management-vdom admin-https-ssl-ciphersuites "
        "admin-https-ssl-banned-ciphers cfg-revert-timeout",
        onoff="admin-https-redirect admin-telnet admin-ssh-v1 admin-maintainer "
        "admin-forticloud-sso-login admin-https-pki-required admin-scp strong-crypto "
        "ssl-static-key-ciphers pre-login-banner post-login-banner gui-display-hostname "
        "gui-cdn-usage log-single-cpu-high rest-api-key-url-query private-data-encryption "
        "fds-statistics revision-backup-on-logout revision-image-auto-backup admin-ssh-password",
        enums={"admin-restrict-local": "enable disable all non-console-only",
               "cfg-save": "automatic manual revert",
               "vdom-mode": "no-vdom split-vdom multi-vdom",
               "ssl-min-proto-version": "SSLv3 TLSv1 TLSv1-1 TLSv1-2 TLSv1-3"},
        multi={"admin-https-ssl-versions": "tlsv1-0 tlsv1-1 tlsv1-2 tlsv1-3"},
        ints={"admintimeout": (1, 480), "admin-sport": (1, 65535), "admin-port": (1, 65535),
              "admin-ssh-port": (1, 65535), "admin-telnet-port": (1, 65535),
              "admin-lockout-threshold": (1, 10), "admin-lockout-duration": (1, 2147483647),
              "admin-ssh-grace-time": (10, 3600)},
        defaults={"admintimeout": 5, "admin-sport": 443, "admin-port": 80,
                  "admin-ssh-port": 22, "admin-telnet-port": 23,
                  "admin-https-redirect": "enable", "admin-https-ssl-versions": "tlsv1-2 tlsv1-3",
                  "admin-telnet": "enable", "admin-ssh-v1": "disable",
                  "admin-lockout-threshold": 3, "admin-lockout-duration": 60,
                  "strong-crypto": "enable", "ssl-static-key-ciphers": "enable",
                  "pre-login-banner": "disable", "post-login-banner": "disable",
                  "gui-display-hostname": "disable", "rest-api-key-url-query": "disable",
                  "cfg-save": "automatic", "vdom-mode": "no-vdom"},
        # The "200 with fields silently absent" case: a profile with sysgrp custom and
        # sysgrp-permission admin none still reads system/global, minus these fields.
        field_groups={"admin*": "sysgrp.admin", "pre-login-banner": "sysgrp.admin",
                      "post-login-banner": "sysgrp.admin",
                      "rest-api-key-url-query": "sysgrp.admin"},
    ),
    declare(
        "system/admin", "sysgrp.admin", scope="global",
        fields=" ".join(
            [f"trusthost{i}" for i in range(1, 11)] + [f"ip6-trusthost{i}" for i in range(1, 11)]
        ) + " fortitoken email-to sms-phone remote-group wildcard peer-group comments "
        "ssh-public-key1 ssh-public-key2 ssh-public-key3 two-factor-authentication",
        onoff="remote-auth peer-auth force-password-change guest-auth accprofile-override",
        enums={"two-factor": "disable fortitoken fortitoken-cloud email sms"},
        members={"vdom": ("system/vdom",)},
        refs={"accprofile": ("system/accprofile",), "schedule": _SCHEDULE},
        secrets="password",
        defaults={"accprofile": "", "two-factor": "disable", "remote-auth": "disable",
                  "trusthost1": "0.0.0.0 0.0.0.0", "ip6-trusthost1": "::/0", "comments": ""},
    ),
    declare(
        "system/api-user", "sysgrp.admin", scope="global",
        fields="cors-allow-origin peer-group comments", onoff="peer-auth",
        members={"vdom": ("system/vdom",)},
        refs={"accprofile": ("system/accprofile",), "schedule": _SCHEDULE},
        secrets="api-key", children={"trusthost": "id"},
        defaults={"accprofile": "", "vdom": [], "trusthost": [], "cors-allow-origin": ""},
    ),
    declare(
        "system/accprofile", "sysgrp.admin", scope="global",
        fields="comments sysgrp-permission netgrp-permission loggrp-permission "
        "fwgrp-permission utmgrp-permission secfabgrp-permission admintimeout",
        onoff="admintimeout-override system-diagnostics system-execute-ssh "
        "system-execute-telnet",
        enums={**{g: _GROUP_LEVELS for g in ("sysgrp", "netgrp", "loggrp", "fwgrp", "utmgrp")},
               **{g: "none read read-write" for g in ("secfabgrp", "ftviewgrp", "authgrp",
                                                      "vpngrp", "wanoptgrp")},
               "wifi": _GROUP_LEVELS, "scope": "vdom global"},
    ),
    declare(
        "system/interface", "netgrp.cfg", scope="global",
        fields="vdom ip alias description interface vlanid ipv6 macaddr mtu",
        enums={"type": "physical vlan aggregate redundant tunnel vdom-link loopback switch "
               "hard-switch vap-switch wl-mesh fext-wan vxlan geneve hdlc emac-vlan ssl",
               "role": "lan wan dmz undefined", "status": "up down",
               "mode": "static dhcp pppoe", "dedicated-to": "none management"},
        multi={"allowaccess": "ping https ssh snmp http telnet fgfm radius-acct "
               "probe-response fabric ftm speed-test scim capwap"},
        ints={"vlanid": (0, 4094)},
        members={"member": ("system/interface",)},
        defaults={"vdom": "root", "type": "physical", "role": "undefined", "status": "up",
                  "mode": "static", "ip": "0.0.0.0 0.0.0.0", "allowaccess": ""},
    ),
    declare("system/zone", "netgrp.cfg", fields="description",
          enums={"intrazone": "allow deny"},
          members={"interface": Member(("system/interface",), key="interface-name")},
          children={"interface": "interface-name"}),
    declare("system/sdwan", "netgrp.cfg", table=False, onoff="status",
          fields="zone members health-check service load-balance-mode",
          children={"zone": "name", "members": "seq-num"}),
    declare("system/vdom", "sysgrp.cfg", scope="global", fields="short-name vcluster-id"),
    declare("system/settings", "sysgrp.cfg", table=False,
          fields="gui-default-policy-columns", enums={"opmode": "nat transparent"}),
    declare(
        "system/password-policy", "sysgrp.cfg", table=False, scope="global",
        onoff="status expire-status reuse-password login-lockout-upon-weaker-encryption "
        "change-4-characters",
        multi={"apply-to": "admin-password ipsec-preshared-key"},
        ints={"minimum-length": (8, 128), "min-lower-case-letter": (0, 128),
              "min-upper-case-letter": (0, 128), "min-non-alphanumeric": (0, 128),
              "min-number": (0, 128), "expire-day": (1, 999), "reuse-password-limit": (0, 20),
              "min-change-characters": (0, 128)},
        defaults={"status": "disable", "apply-to": "admin-password", "minimum-length": 8,
                  "min-lower-case-letter": 0, "min-upper-case-letter": 0,
                  "min-non-alphanumeric": 0, "min-number": 0, "expire-status": "disable",
                  "expire-day": 90, "reuse-password": "enable"},
    ),
    declare(
        "system/ha", "sysgrp.cfg", table=False, scope="global",
        fields="group-name hbdev monitor session-pickup-connectionless hb-interval "
        "hb-lost-threshold unicast-hb",
        onoff="override session-pickup encryption authentication ha-mgmt-status "
        "uninterruptible-upgrade",
        enums={"mode": "standalone a-a a-p"},
        ints={"group-id": (0, 1023), "priority": (0, 255)},
        secrets="password", children={"ha-mgmt-interfaces": "id"},
        defaults={"mode": "standalone", "group-id": 0, "group-name": "", "priority": 128},
        # reference §1.2 (exporter fixture ha-config-no-access): without sysgrp read only
        # ha-mgmt-interfaces is returned; here it needs netgrp read.
        field_groups={"*": "sysgrp.cfg", "ha-mgmt-interfaces": "netgrp.cfg"},
    ),
    declare(
        "system/ntp", "sysgrp.cfg", table=False, scope="global",
        fields="source-ip server-mode interface key-id", onoff="ntpsync authentication",
        enums={"type": "fortiguard custom", "key-type": "MD5 SHA1 SHA256"},
        ints={"syncinterval": (1, 1440)}, secrets="key", children={"ntpserver": "id"},
        defaults={"ntpsync": "enable", "type": "fortiguard", "syncinterval": 60,
                  "ntpserver": []},
    ),
    declare(
        "system/dns", "netgrp.cfg", table=False, scope="global",
        fields="primary secondary ip6-primary ip6-secondary timeout retry source-ip "
        "ssl-certificate interface-select-method interface fqdn-cache-ttl",
        enums={"dns-over-tls": "disable enable enforce"},
        multi={"protocol": "cleartext dot doh"},
        children={"server-hostname": "hostname", "domain": "domain"},
        defaults={"primary": "96.45.45.45", "secondary": "96.45.46.46", "protocol": "cleartext"},
    ),
    declare("system/csf", "secfabgrp", table=False, scope="global",
          fields="group-name upstream upstream-ip upstream-port fabric-workers",
          onoff="status", secrets="group-password"),
    declare("system/auto-install", "sysgrp.cfg", table=False, scope="global",
          fields="default-config-file default-image-file",
          onoff="auto-install-config auto-install-image"),
    declare("system.autoupdate/schedule", "sysgrp.upd", table=False, scope="global",
          fields="time day", onoff="status",
          enums={"frequency": "every daily weekly automatic"}),
    declare("system/automation-stitch", "sysgrp.cfg", scope="global",
          fields="trigger actions action description destination", onoff="status"),
    declare("system.snmp/sysinfo", "sysgrp.cfg", table=False, scope="global",
          fields="description contact-info location engine-id", onoff="status"),
    declare("system.snmp/community", "sysgrp.cfg", scope="global", mkey="id",
          mkey_type="integer", fields="name hosts hosts6 events",
          onoff="status query-v1-status query-v2c-status trap-v1-status trap-v2c-status"),
    declare("system.snmp/user", "sysgrp.cfg", scope="global",
          fields="notify-hosts notify-hosts6 events query-port", onoff="status queries",
          enums={"security-level": "no-auth-no-priv auth-no-priv auth-priv",
                 "auth-proto": "md5 sha sha224 sha256 sha384 sha512",
                 "priv-proto": "aes des aes256 aes256cisco"},
          secrets="auth-pwd priv-pwd"),
    # -- logging (loggrp; FortiAnalyzer: secfabgrp) -------------------------------------------
    declare("log/setting", "loggrp.config", table=False,
          onoff="fwpolicy-implicit-log fwpolicy6-implicit-log local-in-allow "
          "local-in-deny-unicast local-in-deny-broadcast local-out log-invalid-packet "
          "resolve-ip resolve-port user-anonymize faz-override syslog-override"),
    declare("log/eventfilter", "loggrp.config", table=False,
          onoff="event system vpn user router wireless-activity ha endpoint security-rating "
          "connector sdwan switch-controller fortiextender cifs rest-api"),
    *(
        declare(f"log.{name}/setting", "loggrp.config", table=False, scope="global",
              fields="server facility source-ip certificate interface custom-field-name",
              onoff="status",
              enums={"mode": "udp legacy-reliable reliable",
                     "format": "default csv cef rfc5424 json",
                     "enc-algorithm": "high-medium high low disable",
                     "ssl-min-proto-version": "default SSLv3 TLSv1 TLSv1-1 TLSv1-2 TLSv1-3",
                     "interface-select-method": "auto sdwan specify"},
              ints={"port": _PORT}, defaults={"status": "disable", "server": ""})
        for name in ("syslogd", "syslogd2", "syslogd3", "syslogd4")
    ),
    declare("log.fortianalyzer/setting", "secfabgrp", table=False, scope="global",
          fields="server serial source-ip upload-interval upload-time access-config "
          "hmac-algorithm alt-server",
          onoff="status certificate-verification reliable ips-archive",
          enums={"enc-algorithm": "high-medium high low",
                 "ssl-min-proto-version": "default SSLv3 TLSv1 TLSv1-1 TLSv1-2 TLSv1-3",
                 "upload-option": "store-and-upload realtime 1-minute 5-minute"},
          defaults={"status": "disable", "server": ""}),
    declare("log.disk/setting", "loggrp.config", table=False, scope="global",
          fields="max-log-file-size roll-schedule roll-time", onoff="status upload",
          enums={"diskfull": "overwrite nolog"}),
    # -- security profiles (utmgrp) -----------------------------------------------------------
    declare("antivirus/profile", "utmgrp.antivirus",
          fields="comment http ftp imap pop3 smtp mapi nntp cifs ssh content-disarm "
          "scan-mode fortindr-error-action",
          onoff="av-virus-log av-block-log extended-log analytics-db mobile-malware-db "
          "ems-threat-feed external-blocklist-enable-all",
          enums={"feature-set": "flow proxy",
                 "fortisandbox-mode": "inline analytics-suspicious analytics-everything"}),
    declare("antivirus/settings", "utmgrp.antivirus", table=False,
          fields="override-timeout", onoff="grayware use-extreme-db",
          enums={"machine-learning-detection": "enable monitor disable"}),
    declare("ips/sensor", "utmgrp.ips", fields="comment", onoff="block-malicious-url "
          "extended-log", enums={"scan-botnet-connections": "disable block monitor"},
          children={"entries": "id"}),
    declare("webfilter/profile", "utmgrp.webfilter",
          fields="comment options post-action ovrd-perm ftgd-wf web antiphish",
          onoff="log-all-url web-content-log web-url-log web-ftgd-err-log extended-log",
          enums={"feature-set": "flow proxy"}),
    declare("dnsfilter/profile", "utmgrp.dnsfilter",
          fields="comment domain-filter ftgd-dns external-ip-blocklist",
          onoff="block-botnet log-all-domain sdns-domain-log sdns-ftgd-err-log safe-search "
          "youtube-restrict"),
    declare("application/list", "utmgrp.application-control",
          fields="comment options", onoff="enforce-default-app-port unknown-application-log "
          "other-application-log deep-app-inspection extended-log",
          enums={"unknown-application-action": "pass block",
                 "other-application-action": "pass block"},
          children={"entries": "id"}),
    # -- VPN, users, routing --------------------------------------------------------------------
    declare("vpn.ssl/settings", "vpngrp", table=False,
          fields="servercert port idle-timeout auth-timeout login-attempt-limit "
          "login-block-time default-portal tunnel-ip-pools",
          onoff="status reqclientcert https-redirect dtls-tunnel",
          enums={"ssl-min-proto-ver": "tls1-0 tls1-1 tls1-2 tls1-3",
                 "ssl-max-proto-ver": "tls1-0 tls1-1 tls1-2 tls1-3",
                 "algorithm": "high medium default low"},
          multi={"banned-cipher": "RSA DHE ECDHE DSS ECDSA AES AESGCM CAMELLIA 3DES SHA1 "
                 "SHA256 SHA384 STATIC CHACHA20 ARIA AESCCM"},
          members={"source-interface": _INTF, "source-address": _ADDR}),
    declare("user/setting", "authgrp", table=False,
          ints={"auth-lockout-threshold": (1, 10), "auth-lockout-duration": (0, 4294967295)}),
    declare("user/local", "authgrp", fields="type email-to two-factor", onoff="status",
          secrets="passwd"),
    declare("user/group", "authgrp", fields="group-type", members={"member": ("user/local",)}),
    declare("router/static", "netgrp.route-cfg", mkey="seq-num", mkey_type="integer",
          fields="dst gateway device distance comment", onoff="status"),
]
# fmt: on

REGISTRY: Mapping[str, NodeSchema] = {node.path: node for node in _NODES}

# Access groups of monitor endpoints (reference §1.2, §3); "any" = every authenticated caller.
MONITOR_GROUPS: Mapping[str, str] = {
    "system/status": "any",
    "license/status": "any",
    "system/firmware": "sysgrp.mnt",
    "system/config/backup": "sysgrp.mnt",
    "system/config/restore": "sysgrp.mnt",
    "system/ha-checksums": "sysgrp.cfg",
    "system/ha-peer": "sysgrp.cfg",
    "system/ntp/status": "sysgrp.cfg",
    "system/time": "sysgrp.cfg",
    "system/current-admins": "sysgrp.cfg",
    "system/interface-connected-admins-info": "netgrp.cfg",
    "system/api-user/generate-key": "sysgrp.admin",
    "log/device/state": "loggrp.data-access",
    "firewall/policy": "fwgrp.policy",
}

_FIRST_SEGMENT_GROUPS = {
    "system": "sysgrp.cfg",
    "firewall": "fwgrp.others",
    "log": "loggrp.config",
    "router": "netgrp.route-cfg",
    "vpn": "vpngrp",
    "user": "authgrp",
    "antivirus": "utmgrp.antivirus",
    "ips": "utmgrp.ips",
    "webfilter": "utmgrp.webfilter",
    "dnsfilter": "utmgrp.dnsfilter",
    "application": "utmgrp.application-control",
    "wireless-controller": "wifi",
    "switch-controller": "netgrp.cfg",
    "license": "any",
}


def lookup(path: str) -> NodeSchema | None:
    return REGISTRY.get(path)


def _group_for(path: str) -> str:
    first = path.replace(".", "/").split("/", 1)[0]
    return _FIRST_SEGMENT_GROUPS.get(first, "sysgrp.cfg")


def monitor_group(path: str) -> str:
    """The access group a monitor path needs (``config-revision/*`` counts as sysgrp.cfg)."""
    if path in MONITOR_GROUPS:
        return MONITOR_GROUPS[path]
    return "sysgrp.cfg" if path.startswith("system/") else _group_for(path)


def infer(path: str, results: Any, scope: Scope) -> NodeSchema:
    """A schema for a path the registry does not know, from its state-file ``results``."""
    if not isinstance(results, list):
        return NodeSchema(path=path, table=False, scope=scope, group=_group_for(path), known=False)
    rows = [row for row in results if isinstance(row, dict)]
    first = rows[0] if rows else {}
    # the field whose value is q_origin_key is the mkey; else the usual names
    origin = first.get("q_origin_key", object())
    same = [k for k, v in first.items() if k != "q_origin_key" and v == origin]
    usual = [k for k in ("name", "policyid", "id") if k in (same or first)]
    mkey = (usual or same or ["name"])[0]
    mkey_type: MkeyType = "integer" if rows and isinstance(rows[0].get(mkey), int) else "string"
    return NodeSchema(
        path=path,
        table=True,
        scope=scope,
        group=_group_for(path),
        mkey=mkey,
        mkey_type=mkey_type,
        known=False,
    )
