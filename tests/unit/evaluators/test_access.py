"""The access evaluators: facts + parameters -> verdict, no I/O."""

from datetime import UTC, datetime

import pytest

from baluarte.controls import EvalContext
from baluarte.findings import Status
from checks.evaluators import access as ev
from checks.facts.access import (
    AccessFacts,
    AdminAccount,
    InsecureService,
    PasswordPolicyFacts,
    SshFacts,
    SshView,
)
from checks.policy.access import (
    AdminAccounts,
    InsecureProtocols,
    PasswordPolicy,
    RootLogin,
)
from checks.policy.base import Required

CTX = EvalContext(now=datetime(2026, 11, 28, 12, 0, tzinfo=UTC))
PROBE = "user=root,host=baluarte-probe.invalid,addr=203.0.113.10,laddr=192.0.2.1,lport=22"


def view(connection="default", **kw) -> SshView:
    base = dict(
        connection=connection,
        password_authentication=False,
        kbd_interactive_authentication=False,
        use_pam=True,
        permit_root_login="no",
    )
    return SshView(**(base | kw))


STRONG = PasswordPolicyFacts(
    min_length=14,
    min_length_source="pam_pwquality.so",
    complexity_classes=3,
    lockout_threshold=5,
    lockout_seconds=900,
    max_age_days=90,
)


def facts(**kw) -> AccessFacts:
    base = dict(
        ssh=SshFacts(installed=True, views=(view(), view(PROBE))),
        admins=(AdminAccount(name="root", reasons=("UID 0",)),),
        password_policy=STRONG,
        insecure_services=(),
        protocols_checked=("telnet", "ftp", "rsh", "rlogin"),
    )
    return AccessFacts(**(base | kw))


def test_password_authentication_off_everywhere_passes():
    out = ev.ssh_password_authentication(facts(), Required(), CTX)
    assert out.status is Status.PASS and "2 connections" in out.observed


def test_password_authentication_in_a_match_block_fails_naming_the_connection():
    ssh = SshFacts(installed=True, views=(view(), view(PROBE, password_authentication=True)))
    out = ev.ssh_password_authentication(facts(ssh=ssh), Required(), CTX)
    assert out.status is Status.FAIL
    assert PROBE in out.observed and "PasswordAuthentication yes" in out.observed


def test_keyboard_interactive_through_pam_is_a_password_login():
    ssh = SshFacts(installed=True, views=(view(kbd_interactive_authentication=True),))
    out = ev.ssh_password_authentication(facts(ssh=ssh), Required(), CTX)
    assert out.status is Status.FAIL and "UsePAM" in out.observed


@pytest.mark.parametrize(
    ("methods", "status"),
    [("publickey", Status.PASS), ("publickey,password", Status.PASS), ("password", Status.FAIL)],
)
def test_authentication_methods_decide_whether_a_password_alone_logs_in(methods, status):
    ssh = SshFacts(
        installed=True,
        views=(view(password_authentication=True, authentication_methods=methods),),
    )
    assert ev.ssh_password_authentication(facts(ssh=ssh), Required(), CTX).status is status


def test_unreadable_sshd_is_error_and_missing_sshd_not_applicable():
    broken = facts(ssh=None, problems={"ssh": "sshd -T failed (exit 255): line 1: Bogus"})
    for fn, params in (
        (ev.ssh_password_authentication, Required()),
        (ev.ssh_root_login, RootLogin()),
    ):
        out = fn(broken, params, CTX)
        assert out.status is Status.ERROR and "exit 255" in out.reason
        none = fn(facts(ssh=SshFacts(installed=False)), params, CTX)
        assert none.status is Status.NOT_APPLICABLE


@pytest.mark.parametrize(
    ("effective", "allowed", "status"),
    [
        ("no", "no", Status.PASS),
        ("prohibit-password", "no", Status.FAIL),
        ("prohibit-password", "prohibit-password", Status.PASS),
        ("forced-commands-only", "prohibit-password", Status.PASS),
        ("yes", "prohibit-password", Status.FAIL),
    ],
)
def test_root_login_is_compared_in_restrictiveness_order(effective, allowed, status):
    ssh = SshFacts(installed=True, views=(view(), view(PROBE, permit_root_login=effective)))
    out = ev.ssh_root_login(facts(ssh=ssh), RootLogin(allowed=allowed), CTX)
    assert out.status is status
    if status is Status.FAIL:
        assert f"PermitRootLogin {effective} for connection {PROBE}" == out.observed


def test_admin_accounts_unexpected_ones_fail_with_their_reasons():
    admins = (
        AdminAccount(name="root", reasons=("UID 0",)),
        AdminAccount(name="toor", reasons=("UID 0",)),
        AdminAccount(name="bob", reasons=("sudo ALL (/etc/sudoers.d/bob)",)),
    )
    out = ev.admin_accounts(facts(admins=admins), AdminAccounts(allowed=("root", "alice")), CTX)
    assert out.status is Status.FAIL
    assert "toor (UID 0)" in out.observed and "bob (sudo ALL (/etc/sudoers.d/bob))" in out.observed
    assert "root" not in out.observed.split(":", 1)[1].split("(")[0]


def test_admin_accounts_allowed_but_absent_is_reported_not_failed():
    out = ev.admin_accounts(facts(), AdminAccounts(allowed=("root", "alice")), CTX)
    assert out.status is Status.PASS and "alice" in out.observed


def test_admin_accounts_evidence_shows_grants_judged_not_privileged():
    notes = ("ivan: sudo (www-data) NOPASSWD: /usr/bin/find — runs as www-data, not as root",)
    out = ev.admin_accounts(facts(admin_notes=notes), AdminAccounts(allowed=("root",)), CTX)
    assert out.status is Status.PASS
    assert out.evidence == "root: UID 0\nnot privileged:\n" + notes[0]


def test_admin_accounts_unreadable_is_error():
    out = ev.admin_accounts(
        facts(admins=None, problems={"admins": "getent passwd failed (exit 2): x"}),
        AdminAccounts(allowed=("root",)),
        CTX,
    )
    assert out.status is Status.ERROR and "getent passwd" in out.reason


def test_password_policy_meeting_every_parameter_passes():
    params = PasswordPolicy(min_length=14, lockout_threshold=5, lockout_minutes=15, max_age_days=90)
    assert ev.password_policy(facts(), params, CTX).status is Status.PASS


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"min_length": 8}, "minimum length 8 < 12"),
        ({"min_length": None}, "no minimum password length enforced"),
        ({"complexity_classes": 1}, "1 character classes required < 3"),
        ({"lockout_threshold": None, "lockout_seconds": None}, "no account lockout"),
        ({"lockout_threshold": 10}, "lockout after 10 failures > 5"),
        ({"lockout_seconds": 300}, "lockout lasts 300 s < 15 min"),
    ],
)
def test_password_policy_names_each_shortfall(change, says):
    weak = STRONG.model_copy(update=change)
    out = ev.password_policy(facts(password_policy=weak), PasswordPolicy(), CTX)
    assert out.status is Status.FAIL and says in out.observed


def test_lockout_until_admin_unlocks_is_long_enough_and_checks_can_be_turned_off():
    permanent = STRONG.model_copy(update={"lockout_seconds": 0})
    assert ev.password_policy(facts(password_policy=permanent), PasswordPolicy(), CTX).status is (
        Status.PASS
    )
    no_lockout = STRONG.model_copy(update={"lockout_threshold": None, "lockout_seconds": None})
    params = PasswordPolicy(lockout_threshold=None, lockout_minutes=None)
    assert ev.password_policy(facts(password_policy=no_lockout), params, CTX).status is Status.PASS


UNSURE = "PAM service sshd: whether it locks depends on what pam_succeed_if.so answer"


def test_lockout_that_cannot_be_told_is_an_error_never_a_pass():
    unsure = STRONG.model_copy(
        update={"lockout_threshold": None, "lockout_seconds": None, "lockout_undetermined": UNSURE}
    )
    out = ev.password_policy(facts(password_policy=unsure), PasswordPolicy(), CTX)
    assert out.status is Status.ERROR and UNSURE in out.reason
    # a policy that does not ask about lockout is judged on the rest
    params = PasswordPolicy(lockout_threshold=None, lockout_minutes=None)
    assert ev.password_policy(facts(password_policy=unsure), params, CTX).status is Status.PASS
    # and a shortfall elsewhere is a failure, saying what could not be told
    short = unsure.model_copy(update={"min_length": 8})
    out = ev.password_policy(facts(password_policy=short), PasswordPolicy(), CTX)
    assert out.status is Status.FAIL and "minimum length 8 < 12" in out.observed
    assert "could not be told" in out.observed


def test_password_age_checked_only_when_asked():
    never = STRONG.model_copy(update={"max_age_days": None})
    f = facts(password_policy=never)
    assert ev.password_policy(f, PasswordPolicy(), CTX).status is Status.PASS
    out = ev.password_policy(f, PasswordPolicy(max_age_days=365), CTX)
    assert out.status is Status.FAIL and "never expire" in out.observed


def test_password_policy_unreadable_is_error():
    f = facts(password_policy=None, problems={"password_policy": "no PAM configuration found"})
    out = ev.password_policy(f, PasswordPolicy(), CTX)
    assert out.status is Status.ERROR and "no PAM" in out.reason


def test_insecure_protocols_fail_on_forbidden_only():
    found = (
        InsecureService(protocol="telnet", how="package telnetd installed"),
        InsecureService(protocol="ftp", how="listening on tcp 0.0.0.0:21 (vsftpd)"),
    )
    f = facts(insecure_services=found)
    out = ev.insecure_admin_protocols(f, InsecureProtocols(), CTX)
    assert out.status is Status.FAIL and "telnet: package telnetd installed" in out.observed
    only_telnet = ev.insecure_admin_protocols(f, InsecureProtocols(forbidden=("telnet",)), CTX)
    assert "vsftpd" not in only_telnet.observed


def test_insecure_protocols_clean_passes_and_unreadable_errors():
    assert ev.insecure_admin_protocols(facts(), InsecureProtocols(), CTX).status is Status.PASS
    broken = facts(insecure_services=None, problems={"insecure_services": "ss -ltun failed"})
    out = ev.insecure_admin_protocols(broken, InsecureProtocols(), CTX)
    assert out.status is Status.ERROR and "ss -ltun" in out.reason


def test_protocols_linux_cannot_offer_are_not_applicable():
    params = InsecureProtocols(forbidden=("smbv1", "rdp_without_nla"))
    out = ev.insecure_admin_protocols(facts(), params, CTX)
    assert out.status is Status.NOT_APPLICABLE


# -- FortiGate: admins, API users and admin access ---------------------------------------------

from checks.facts.access import FortigateAccess, FortigateAdmin  # noqa: E402
from checks.policy.access import SessionTimeout, StrongCrypto, TrustedHosts  # noqa: E402


def fadmin(name="admin", **kw) -> FortigateAdmin:
    base = dict(name=name, kind="admin", accprofile="super_admin", two_factor="fortitoken",
                remote_auth=False, pki=False, trusted_hosts=("192.168.1.0/24",),
                trusted_hosts6=())  # fmt: skip
    return FortigateAdmin(**(base | kw))


API = FortigateAdmin(name="baluarte-ro", kind="api-user", accprofile="baluarte_ro",
                     trusted_hosts=("127.0.0.0/8", "203.0.113.0/24"))  # fmt: skip


def fg(*admins: FortigateAdmin, **kw) -> AccessFacts:
    base = dict(admins=admins or (fadmin(),), api_users=(API,), ipv6_admin_interfaces=(),
                internet_admin_access=(), admin_timeout_minutes=5, strong_crypto=True,
                https_redirect=True, tls_versions=("1.2", "1.3"))  # fmt: skip
    return AccessFacts(
        ssh=None, admins=(), password_policy=STRONG, insecure_services=(),
        protocols_checked=("http", "telnet"), fortigate=FortigateAccess(**(base | kw)),
    )  # fmt: skip


def test_admin_mfa_fails_each_admin_without_it_saying_how_they_log_in():
    remote = fadmin("radius-admins", two_factor="disable", remote_auth=True,
                    remote_group="NOC", wildcard=True)  # fmt: skip
    out = ev.admin_mfa(fg(fadmin(), remote), Required(), CTX)
    assert out.status is Status.FAIL
    assert "radius-admins (admin, accprofile super_admin) has two-factor disable" in out.observed
    assert "remote group NOC" in out.observed and "waive" in out.observed
    assert ev.admin_mfa(fg(fadmin()), Required(), CTX).status is Status.PASS
    pki = fadmin("pki", two_factor="disable", pki=True)
    assert "PKI admin" in ev.admin_mfa(fg(pki), Required(), CTX).observed


def test_admin_mfa_unreadable_is_error():
    unknown = fadmin(two_factor=None, problems={"mfa": "field 'two-factor' missing"})
    out = ev.admin_mfa(fg(unknown), Required(), CTX)
    assert out.status is Status.ERROR and "field 'two-factor' missing" in out.reason


def test_trusted_hosts_anywhere_ipv6_and_within():
    assert ev.admin_trusted_hosts(fg(), TrustedHosts(), CTX).status is Status.PASS
    anywhere = ev.admin_trusted_hosts(fg(fadmin(trusted_hosts=())), TrustedHosts(), CTX)
    assert anywhere.status is Status.FAIL and "no trusted hosts" in anywhere.observed
    v6 = ev.admin_trusted_hosts(fg(ipv6_admin_interfaces=("internal",)), TrustedHosts(), CTX)
    assert v6.status is Status.FAIL and "IPv6 from anywhere (::/0) while internal" in v6.observed
    within = TrustedHosts.model_validate({"within": ["192.168.0.0/16"]})
    out = ev.admin_trusted_hosts(fg(), within, CTX)
    assert out.status is Status.FAIL and "baluarte-ro (REST API user" in out.observed
    assert "127.0.0.0/8, 203.0.113.0/24 outside 192.168.0.0/16" in out.observed


def test_insecure_admin_protocols_on_a_fortigate_also_judge_the_wan():
    from checks.facts.access import InsecureService

    wan = InsecureService(protocol="https", how="allowaccess https on wan1 (role wan)")
    facts = fg(internet_admin_access=(wan,))
    out = ev.insecure_admin_protocols(facts, InsecureProtocols(forbidden=("telnet", "http")), CTX)
    assert out.status is Status.FAIL and out.observed == "allowaccess https on wan1 (role wan)"
    tolerant = InsecureProtocols(forbidden=("telnet",), admin_on_internet_interfaces=True)
    assert ev.insecure_admin_protocols(facts, tolerant, CTX).status is Status.PASS
    nothing = InsecureProtocols(forbidden=("ftp",), admin_on_internet_interfaces=True)
    assert ev.insecure_admin_protocols(facts, nothing, CTX).status is Status.NOT_APPLICABLE


def test_session_timeout_and_strong_crypto():
    assert ev.admin_session_timeout(fg(), SessionTimeout(max_minutes=5), CTX).status is Status.PASS
    long = ev.admin_session_timeout(fg(admin_timeout_minutes=480), SessionTimeout(), CTX)
    assert long.status is Status.FAIL and long.observed == "admintimeout 480 min (system/global)"
    assert ev.strong_crypto(fg(), StrongCrypto(), CTX).status is Status.PASS
    old = ev.strong_crypto(fg(tls_versions=("1.1", "1.2")), StrongCrypto(), CTX)
    assert old.status is Status.FAIL and "TLS 1.1 allowed" in old.observed
    only13 = StrongCrypto(min_tls_version="1.3")
    assert ev.strong_crypto(fg(), only13, CTX).status is Status.FAIL
    gone = fg(strong_crypto=None, problems={"strong_crypto": "cmdb system/global: 403 Forbidden"})
    out = ev.strong_crypto(gone, StrongCrypto(), CTX)
    assert out.status is Status.ERROR and out.reason == "cmdb system/global: 403 Forbidden"


def test_controls_not_required_are_not_applicable_never_a_pass_on_nothing():
    # each passed before with "not required", whatever the device showed
    ctx = EvalContext(now=CTX.now, policy="fortigate-baseline")
    no_mfa = fg(fadmin(two_factor="disable"))
    cases = (
        (ev.admin_mfa, no_mfa, Required(required=False),
         "two-factor authentication of administrators"),
        (ev.strong_crypto, fg(strong_crypto=False), StrongCrypto(required=False),
         "strong cryptography for administrative access"),
        (ev.ssh_password_authentication, facts(), Required(required=False),
         "SSH password authentication off"),
    )  # fmt: skip
    for control, seen, params, what in cases:
        out = control(seen, params, ctx)
        assert out.status is Status.NOT_APPLICABLE, (control, out)
        assert out.reason == f"{what} not required by policy fortigate-baseline (required: false)"


def test_fortigate_password_age_names_its_setting_and_linux_keeps_pass_max_days():
    fortigate = STRONG.model_copy(update={"max_age_days": None,
                                          "max_age_source": "password-policy expire-day"})  # fmt: skip
    out = ev.password_policy(facts(password_policy=fortigate), PasswordPolicy(max_age_days=90), CTX)
    assert "passwords never expire (password-policy expire-day)" in out.observed
    linux = STRONG.model_copy(update={"max_age_days": 120})
    out = ev.password_policy(facts(password_policy=linux), PasswordPolicy(max_age_days=90), CTX)
    assert "PASS_MAX_DAYS 120 > 90" in out.observed
