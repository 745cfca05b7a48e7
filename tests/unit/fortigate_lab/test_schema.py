"""The curated schema registry and the accprofile rules built on it."""

from baluarte.lab.fortigate import access
from baluarte.lab.fortigate.nodes import REGISTRY, lookup, monitor_group


def test_every_reference_points_at_a_declared_node():
    for schema in REGISTRY.values():
        targets = [t for spec in schema.members.values() for t in spec.targets]
        targets += [t for refs in schema.refs.values() for t in refs]
        for target in targets:
            assert target.split("#")[0] in REGISTRY, (schema.path, target)


def test_tables_have_an_mkey_among_their_fields_and_singletons_none():
    for schema in REGISTRY.values():
        if schema.table:
            assert schema.mkey in schema.fields, schema.path
        else:
            assert schema.mkey is None, schema.path


def test_the_endpoints_the_controls_read_are_declared():
    for path in ("firewall/policy", "firewall/address", "firewall/addrgrp", "firewall/vip",
                 "firewall.service/custom", "firewall.service/group", "system/global",
                 "system/admin", "system/api-user", "system/accprofile", "system/interface",
                 "system/password-policy", "system/ha", "system/ntp", "system/dns",
                 "system.autoupdate/schedule", "log/setting", "log.syslogd/setting",
                 "log.fortianalyzer/setting", "firewall/local-in-policy"):  # fmt: skip
        assert lookup(path) is not None, path
    assert lookup("system/global").scope == "global"
    assert lookup("firewall/policy").scope == "vdom"
    assert (lookup("firewall/policy").mkey, lookup("firewall/policy").mkey_type) == (
        "policyid", "integer",
    )  # fmt: skip


def test_field_groups():
    settings, ha = lookup("system/global"), lookup("system/ha")
    assert settings.field_group("admintimeout") == "sysgrp.admin"
    assert settings.field_group("admin-sport") == "sysgrp.admin"
    assert settings.field_group("hostname") == "sysgrp.cfg"
    assert ha.field_group("ha-mgmt-interfaces") == "netgrp.cfg"
    assert ha.field_group("mode") == "sysgrp.cfg"


def test_accprofile_levels():
    custom = {"sysgrp": "custom", "sysgrp-permission": {"cfg": "read", "admin": "none"},
              "fwgrp": "read-write", "netgrp": "read"}  # fmt: skip
    assert access.level(custom, "sysgrp.cfg") == "read"
    assert access.level(custom, "sysgrp.admin") == "none"
    assert access.level(custom, "sysgrp.mnt") == "none"  # not listed: none
    assert access.can_write(custom, "fwgrp.policy") and not access.can_write(custom, "netgrp.cfg")
    assert access.can_read(custom, "any") and not access.can_read(custom, "loggrp.config")
    assert access.level(None, "sysgrp.admin") == "read-write"  # no profile row: full access


def test_fields_a_profile_may_not_read_are_left_out():
    settings = lookup("system/global")
    row = {"hostname": "fw", "admintimeout": 5, "admin-sport": 443, "strong-crypto": "enable"}
    no_admin = {"sysgrp": "custom", "sysgrp-permission": {"cfg": "read", "admin": "none"}}
    assert access.visible(settings, row, no_admin) == {"hostname": "fw", "strong-crypto": "enable"}
    assert access.visible(settings, row, None) == row
    ha_only = {"sysgrp": "none", "netgrp": "read"}
    assert access.node_readable(lookup("system/ha"), ha_only)
    assert not access.node_readable(lookup("system/admin"), ha_only)


def test_monitor_groups():
    assert monitor_group("system/status") == "any"
    assert monitor_group("system/config/backup") == "sysgrp.mnt"
    assert monitor_group("system/config-revision/save") == "sysgrp.cfg"
    assert monitor_group("router/ipv4") == "netgrp.route-cfg"
