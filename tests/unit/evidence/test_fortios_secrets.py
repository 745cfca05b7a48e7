"""Masking a FortiOS configuration backup: secret values hidden, settings about them kept."""

from __future__ import annotations

from pathlib import Path

from baluarte.evidence.fortios_secrets import MaskedValue, mask_config, masked_values

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "fortigate" / "office-backup.conf"
# Every secret the sample holds, as it is written there: none may survive masking.
SECRETS = (
    "SH2nQeH6JxAdminHashZ8Vq1tRrWmYy0o3pLkKc5u9sE2Bf7gHj=",
    "SH2Jk4TecnicoHashQw9xRt2LmNoPqRsTuVwXyZ1a2b3c4d5e6f=",
    "MTIzNDU2HaHeartbeatSecretAbc==",
    "c0mun1dad-Oficina",
    "Vq9SnmpAuthKeyR2d2==",
    "Xk3SnmpPrivKeyC3po==",
    "SH2ApiTokenHashMm7Lp0Qa==",
    "RadiusSharedSecretQz4==",
    "LdapBindSecretWz8==",
    "LocalUserSecretYt6==",
    "CertKeySecretUv5==",
    "PrivKeyBody",
    "IpsecPskSecretNn1==",
    "SmtpRelaySecretKk2==",
    "HiddenInComment9==",
)


def test_exactly_the_secret_values_of_a_real_shaped_backup_are_masked() -> None:
    text = SAMPLE.read_text()
    assert masked_values(text) == [
        MaskedValue("system admin", "password"),
        MaskedValue("system admin", "password"),
        MaskedValue("system ha", "password"),
        MaskedValue("system snmp community", "name"),
        MaskedValue("system snmp user", "auth-pwd"),
        MaskedValue("system snmp user", "priv-pwd"),
        MaskedValue("system api-user", "api-key"),
        MaskedValue("user radius", "secret"),
        MaskedValue("user ldap", "password"),
        MaskedValue("user local", "passwd"),
        MaskedValue("vpn certificate local", "password"),
        MaskedValue("vpn certificate local", "private-key"),
        MaskedValue("vpn ipsec phase1-interface", "psksecret"),
        MaskedValue("system email-server", "password"),
    ]
    out = mask_config(text)
    for secret in SECRETS:
        assert secret not in out
    assert "        set password ENC ********\n" in out
    assert "        set name ********\n" in out
    assert "        set private-key ********\n" in out
    assert 'set comments "regla temporal, ver ENC ********"' in out


def test_settings_about_secrets_and_every_other_line_are_kept() -> None:
    text = SAMPLE.read_text()
    out = mask_config(text)
    kept = (
        "    set admin-ssh-password enable",
        "    set private-data-encryption disable",
        "    set apply-to admin-password ipsec-preshared-key",
        "    set reuse-password enable",
        "        set force-password-change disable",
        "        set force-password-change enable",
        '        set fortitoken "FTKMOB4A71C2D9E0"',
        '        set ssh-public-key1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJz0r1Q7cP9oPSTpubkeyOnly'
        ' admin@noc"',
        "        set type password",
        "        set passwd-time 2026-09-14 10:22:41",
        '        set username "CN=svc-fortigate,OU=Servicios,DC=acme,DC=local"',
        "        set keylife 28800",
        "        set keylifeseconds 3600",
        "        set security-level auth-priv",
        "    set authenticate enable",
        '        set certificate "-----BEGIN CERTIFICATE-----',
    )
    for line in kept:
        assert line in out.splitlines()
    # apart from the masked values, every line is unchanged: 14 masked statements, the private
    # key's 3 further lines and the comment quoting an ENC value are all that differ
    before, after = text.splitlines(), out.splitlines()
    assert len([line for line in before if line not in after]) == 14 + 3 + 1
    assert all("********" in line for line in after if line not in before)
    assert len(after) == len(before) - 3


def test_a_plain_text_secret_and_an_unquoted_value_are_masked_too() -> None:
    conf = (
        "config system admin\n"
        '    edit "x"\n'
        '        set password pl4in"Secret\n'
        "        set sae-password hunter2hunter2\n"
        '        set psksecret "quoted secret"\n'
        "    next\n"
        "end\n"
    )
    out = mask_config(conf)
    assert "pl4in" not in out and "hunter2" not in out and "quoted secret" not in out
    assert out.count("********") == 3
