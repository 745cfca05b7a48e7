"""Keyed pseudonyms and configuration masking (pure functions)."""

from __future__ import annotations

from baluarte.evidence.redact import Redactor, account_names, mask_config, personal_hosts
from baluarte.findings import Finding, Severity, Status

KEY = b"k" * 32


def admin_finding(evidence: str, expected: str) -> Finding:
    return Finding(
        client="acme",
        site="hq",
        device="srv",
        platform="windows",
        control="access.admin_accounts",
        status=Status.FAIL,
        severity=Severity.HIGH,
        expected=expected,
        evidence=evidence,
    )


def test_same_name_same_pseudonym_and_the_key_matters() -> None:
    a = Redactor(KEY, ["jgarcia"], [])
    b = Redactor(KEY, ["JGarcia"], [])
    other = Redactor(b"x" * 32, ["jgarcia"], [])
    assert a.text("jgarcia") == b.text("JGARCIA") == a.pseudonym("user", "jgarcia")
    assert a.text("jgarcia") != other.text("jgarcia")
    assert a.text("jgarcia").startswith("user-") and len(a.text("jgarcia")) == 15


def test_names_are_replaced_as_whole_words_only() -> None:
    r = Redactor(KEY, ["ana"], ["pc-mgarcia"])
    assert "ana" not in r.text("members: ana, CONTOSO\\ana; host pc-mgarcia.")
    assert r.text("banana ana_x access.admin_accounts") == "banana ana_x access.admin_accounts"
    assert r.text("PC-MGARCIA").startswith("host-")


def test_builtin_accounts_are_kept() -> None:
    r = Redactor(KEY, ["root", "Administrator", "admin"], [])
    assert r.text("root Administrator admin") == "root Administrator admin"


def test_data_keeps_control_ids_and_hashes() -> None:
    r = Redactor(KEY, ["backup"], [])
    out = r.data({"control": "backup.config_saved", "observed": "backup is privileged"})
    assert out["control"] == "backup.config_saved"
    assert "backup" not in out["observed"]


def test_account_names_from_evidence_and_allowed_list() -> None:
    f = admin_finding(
        "ACME\\ana.garcia: member of Administrators\nroot: UID 0",
        "privileged accounts only among: Administrator, jgarcia@acme.local",
    )
    names = account_names(f)
    assert {"ACME\\ana.garcia", "ana.garcia", "jgarcia@acme.local", "jgarcia"} <= set(names)
    passing = f.model_copy(update={"control": "patching.reboot_required"})
    assert account_names(passing) == []


def test_personal_hosts_by_tag() -> None:
    devices = [
        {"device": "pc-ana", "tags": ["workstation"]},
        {"device": "srv", "tags": ["server"]},
        {"device": "lap", "tags": ["personal"]},
    ]
    assert personal_hosts(devices) == ["pc-ana", "lap"]


def test_mask_config_hides_every_secret_value() -> None:
    conf = (
        "config system admin\n"
        '    edit "admin"\n'
        "        set password ENC AAAAsecret1==\n"
        '        set accprofile "super_admin"\n'
        "config vpn ipsec phase1-interface\n"
        "        set psksecret ENC secret2\n"
        '        set private-key "-----BEGIN ENCRYPTED PRIVATE KEY-----\n'
        'secret3\n-----END ENCRYPTED PRIVATE KEY-----"\n'
        "        set passwd plainsecret4\n"
        '        set comments "uses ENC secret5"\n'
    )
    out = mask_config(conf)
    for secret in ("secret1", "secret2", "secret3", "plainsecret4", "secret5"):
        assert secret not in out
    assert 'set accprofile "super_admin"' in out
    assert out.count("********") == 5
