"""The control catalogue is a contract: ids only grow, and match CONTROLS.md's table."""

import importlib
from pathlib import Path

from baluarte.controls import DOMAINS, FRAMEWORKS, PLATFORMS, catalogue

SHIPPED = Path(__file__).resolve().parents[1] / "contract" / "control_ids.txt"


def test_no_shipped_control_id_ever_disappears():
    shipped = [line.strip() for line in SHIPPED.read_text().splitlines() if line.strip()]
    missing = sorted(set(shipped) - set(catalogue()))
    assert missing == [], f"control ids are a contract; these were removed or renamed: {missing}"


def test_every_control_is_listed_in_the_contract_file():
    shipped = set(SHIPPED.read_text().split())
    assert sorted(set(catalogue()) - shipped) == [], "add new control ids to control_ids.txt"


def test_implemented_control_ids_are_module_and_function_names():
    for control in catalogue().values():
        if control.evaluate is None:
            continue
        module = importlib.import_module(control.evaluate.__module__)
        assert module.__name__ == f"checks.evaluators.{control.domain}"
        assert control.id == f"{control.domain}.{control.evaluate.__name__}"
        assert getattr(module, control.name) is control.evaluate


def test_every_control_has_metadata_and_domain_mappings():
    for control in catalogue().values():
        assert control.domain in DOMAINS
        assert control.title and control.rationale, control.id
        assert control.platforms and control.platforms <= set(PLATFORMS), control.id
        assert set(control.mappings) == set(FRAMEWORKS), control.id
        assert all(control.mappings[f] for f in FRAMEWORKS), control.id


def test_catalogue_matches_the_design_table():
    # CONTROLS.md's table, transcribed: id -> platforms
    table = {
        "patching.security_updates_pending": {"linux", "windows"},
        "patching.updates_pending": {"linux", "windows"},
        "patching.days_since_last_update": {"linux", "windows"},
        "patching.automatic_updates": {"linux", "windows", "fortigate"},
        "patching.reboot_required": {"linux", "windows"},
        "patching.kernel_current": {"linux"},
        "patching.minimum_versions": {"linux", "windows", "fortigate"},
        "patching.package_sources": {"linux"},
        "firewall.enabled": {"linux", "windows"},
        "firewall.default_inbound_deny": {"linux", "windows"},
        "firewall.allowed_inbound": {"linux", "windows", "fortigate"},
        "firewall.no_any_any_accept": {"fortigate"},
        "firewall.security_profiles": {"fortigate"},
        "firewall.policy_logging": {"fortigate"},
        "firewall.security_services_current": {"fortigate"},
        "endpoint.installed": {"linux", "windows"},
        "endpoint.running": {"linux", "windows"},
        "endpoint.realtime_protection": {"linux", "windows"},
        "endpoint.signatures_current": {"linux", "windows"},
        "endpoint.tamper_protection": {"windows"},
        "endpoint.disk_encryption": {"linux", "windows"},
        "backup.configured": {"linux", "windows"},
        "backup.last_success_age": {"linux", "windows"},
        "backup.encrypted": {"linux", "windows"},
        "backup.restore_tested": {"linux"},
        "backup.config_saved": {"fortigate"},
        "access.ssh_password_authentication": {"linux"},
        "access.ssh_root_login": {"linux"},
        "access.admin_accounts": {"linux", "windows", "fortigate"},
        "access.password_policy": {"linux", "windows", "fortigate"},
        "access.admin_mfa": {"fortigate"},
        "access.admin_trusted_hosts": {"fortigate"},
        "access.insecure_admin_protocols": {"linux", "windows", "fortigate"},
        "access.admin_session_timeout": {"fortigate"},
        "access.strong_crypto": {"fortigate"},
        "logging.remote_forwarding": {"linux", "fortigate"},
        "logging.time_sync": {"linux", "windows", "fortigate"},
    }
    assert {cid: set(c.platforms) for cid, c in catalogue().items()} == table


def test_docs_controls_md_is_the_catalogue():
    from reports.catalogue_markdown import render_catalogue

    doc = Path(__file__).resolve().parents[2] / "docs" / "controls.md"
    expected = render_catalogue(catalogue().values())
    assert doc.read_text() == expected, "regenerate: baluarte controls --format markdown"
    for control_id in catalogue():
        assert f"`{control_id}`" in expected
