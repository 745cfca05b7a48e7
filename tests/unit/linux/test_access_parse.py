"""parse() of the access fragment's raw output, from outputs recorded on Debian 12 lab hosts.

Every sample in tests/samples/linux/access/ is ``<what it sets up>.<status>.json``: the raw
``access`` section, and the verdict each listed control must reach on it.
"""

from datetime import UTC, datetime

import pytest

from baluarte.controls import EvalContext
from baluarte.findings import Status
from checks.evaluators.access import ssh_password_authentication
from checks.facts.access import SshFacts, SshView
from checks.linux.access import (
    parse,
    parse_admins,
    parse_insecure,
    parse_password_policy,
    parse_sshd,
)
from checks.linux.access_pam import judge_service, pam_files
from checks.linux.access_sudo import Accounts, PathInfo, SudoRule, parse_sudo, root_reason
from checks.policy.base import Required
from tests.unit.linux import samples

CTX = EvalContext(now=datetime(2026, 11, 28, 12, 0, tzinfo=UTC))


def load(name: str) -> dict:
    return samples.load("access", name)


@pytest.mark.parametrize("sample", samples.names("access"))
def test_recorded_sample_reaches_its_verdict(sample):
    samples.assert_verdicts("access", sample)


def test_match_blocks_count_only_with_a_connection_spec():
    doc = load("weak.fail.json")
    ssh = parse(doc["raw"], doc["host"]).ssh
    default, *specs = ssh.views
    assert default.connection == "default" and not default.password_authentication
    # Match Address 203.0.113.0/24 is entered by the probe from 203.0.113.1 and .10
    assert all(v.password_authentication for v in specs)
    alice = next(v for v in specs if v.connection.startswith("user=alice,"))
    assert alice.permit_root_login == "yes"
    assert ssh.unchecked_matches == ("/etc/ssh/sshd_config: Match User !carol,*",)


def test_without_password_is_read_as_prohibit_password():
    ssh = parse_sshd(
        "@@spec default\npermitrootlogin without-password\npasswordauthentication no\n@@rc 0", 0
    )
    assert ssh.views[0].permit_root_login == "prohibit-password"


def test_no_sshd_is_not_an_error():
    ssh = parse_sshd("sshd not installed", 127)
    assert ssh.installed is False and ssh.views == ()


# ss -Hltunp as root on a host served by dropbear (Debian's dropbear-bin), with no sshd binary
DROPBEAR = (
    'tcp LISTEN 0      20       0.0.0.0:22    0.0.0.0:* users:(("dropbear",pid=301,fd=3))\n'
    'tcp LISTEN 0      20          [::]:22       [::]:* users:(("dropbear",pid=301,fd=4))'
)


def _no_sshd(listening=("", 0), packages=("@@dpkg", 0), peer="") -> tuple[dict, dict]:
    raw = {
        "sshd": {"out": "sshd not installed", "rc": 127},
        "listening": {"out": listening[0], "rc": listening[1]},
        "packages": {"out": packages[0], "rc": packages[1]},
    }
    return raw, {"peer": {"out": peer, "rc": 0}}


@pytest.mark.parametrize(
    ("found", "says"),
    [
        ({"listening": (DROPBEAR, 0)}, "dropbear listening on 0.0.0.0:22; dropbear listening on"),
        ({"packages": ("dropbear-bin\tii \n@@dpkg", 0)}, "package dropbear-bin installed"),
        # sshd run from /opt: not on PATH, and unprivileged ss shows no process names
        ({"listening": ("tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*", 0)},
         "a service listening on 0.0.0.0:22"),
        ({"peer": "10.200.0.1"}, "this collection came in over SSH (from 10.200.0.1)"),
    ],
)  # fmt: skip
def test_no_sshd_binary_with_an_ssh_server_there_is_an_error_naming_it(found, says):
    # the old reading: no sshd binary, so the SSH controls were not applicable
    facts = parse(*_no_sshd(**found))
    assert facts.ssh is None
    assert facts.problems["ssh"].startswith(
        "no OpenSSH sshd on PATH or at /usr/sbin/sshd, but an SSH server is there: "
    )
    assert says in facts.problems["ssh"]
    assert "Baluarte reads SSH settings only through OpenSSH's sshd -T" in facts.problems["ssh"]
    out = ssh_password_authentication(facts, Required(), CTX)
    assert out.status is Status.ERROR and says in out.reason


def test_no_ssh_server_is_not_applicable_only_when_proven():
    facts = parse(*_no_sshd(listening=("tcp LISTEN 0 128 0.0.0.0:80 0.0.0.0:*", 0)))
    assert facts.ssh == SshFacts(installed=False) and "ssh" not in facts.problems
    out = ssh_password_authentication(facts, Required(), CTX)
    assert out.status is Status.NOT_APPLICABLE
    blind = parse(*_no_sshd(listening=("ss: command not found", 127)))
    assert blind.ssh is None
    assert (
        "whether another SSH server runs cannot be told: ss -ltun failed (exit 127)"
        in (blind.problems["ssh"])
    )


@pytest.mark.parametrize(
    "text",
    [
        "",  # fragment killed before any output
        "@@spec default\npasswordauthentication no\n@@rc 0",  # no permitrootlogin
        "@@spec default\npermitrootlogin maybe\npasswordauthentication no\n@@rc 0",
        "@@spec default\n/etc/ssh/sshd_config line 3: Bad configuration option\n@@rc 255",
    ],
)
def test_unusable_sshd_output_raises(text):
    with pytest.raises(ValueError):
        parse_sshd(text, 0)


def test_bad_config_reason_names_the_file_and_line():
    doc = load("bad_sshd_config.error.json")
    facts = parse(doc["raw"], doc["host"])
    assert facts.ssh is None
    assert "01-bad.conf: line 1: Bad configuration option: Bogus" in facts.problems["ssh"]


# -- privileged accounts: sudo -l -U answers ----------------------------------------------------


def _sudo(**listings: str) -> str:
    """``ac_sudo`` output: each account's ``sudo -l -U`` answer as Debian 12's sudo prints it."""
    out = []
    for user, rules in listings.items():
        out.append(f"@@user {user}")
        if rules:
            out += [f"User {user} may run the following commands on srv:"]
            out += [f"    {r}" for r in rules.splitlines()]
        else:
            out.append(f"User {user} is not allowed to run sudo on srv.")
        out.append("@@rc 0")
    return "\n".join(out)


PASSWD = "root:0:0\ntoor:0:0\nalice:1001:1001\ncarol:1003:27\nops1:1004:1004\nbob:1002:1002"
GROUPS = "root:0:\nsudo:27:alice\nwheel:10:\nops:1010:ops1\nbob:1002:"


def test_admins_from_uid0_groups_primary_group_and_sudo():
    sudo = _sudo(root="(ALL : ALL) ALL", toor="", alice="(ALL : ALL) ALL", carol="(ALL : ALL) ALL",
                 ops1="(root) NOPASSWD: ALL", bob="(ALL) ALL")  # fmt: skip
    admins, notes = parse_admins(PASSWD, GROUPS, sudo)
    reasons = {a.name: a.reasons for a in admins}
    assert set(reasons) == {"root", "toor", "alice", "carol", "ops1", "bob"}
    assert reasons["carol"][0] == "member of sudo"  # sudo is her primary group
    assert reasons["ops1"] == ("sudo: (root) NOPASSWD: ALL — every command",)
    assert notes == ()


SAMPLE = samples.load("access", "sudo_rules.fail.json")


def test_sudo_rules_reaching_root_are_found_and_the_others_shown():
    facts = parse(SAMPLE["raw"], SAMPLE["host"])
    reasons = {a.name: "; ".join(a.reasons) for a in facts.admins}
    # the accounts that get uid 0 on the lab host (test_access_sudo_pam_linux.py), and the rest
    # of the recorded rules
    assert set(reasons) == {
        "root", "toor", "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
        "kim", "mallory", "nina", "oscar", "peggy", "rita",
    }  # fmt: skip
    assert (
        reasons["carol"]
        == "sudo: (root) NOPASSWD: /usr/bin/awk — root shell escape (awk runs any code)"
    )
    assert reasons["dave"].startswith("sudo: (root) NOPASSWD: /usr/bin/python3 — ")  # User_Alias
    assert reasons["erin"] == "sudo: (root) NOPASSWD: ALL — every command"  # Cmnd_Alias of ALL
    assert reasons["frank"].startswith("sudo: (root) NOPASSWD: /usr/bin/perl")  # @include
    assert reasons["grace"] == "sudo: (ALL : ALL) NOPASSWD: ALL — every command"  # ALL, !su
    assert "heidi can write /home/heidi, so can replace the command" in reasons["heidi"]
    assert reasons["mallory"].startswith("sudo: (ALL, !root) NOPASSWD: /usr/bin/less")  # toor
    assert "(root) NOPASSWD: /usr/bin/less /var/log/syslog — root shell escape" in reasons["nina"]
    assert "sudoedit /etc/sudoers.d/oscar — edits /etc/sudoers.d/oscar as root" in reasons["oscar"]
    assert "wildcard command path" in reasons["peggy"]
    assert "systemctl status nginx — root shell escape" in reasons["rita"]
    notes = "\n".join(facts.admin_notes)
    for said in (
        "ivan: sudo (www-data) NOPASSWD: /usr/bin/find — runs as www-data, not as root",
        "ivan: sudo (root) NOPASSWD: /usr/bin/cat /var/log/dpkg.log — fixed arguments",
        "judy: sudo (root) NOPASSWD: /usr/bin/systemctl restart nginx — fixed arguments",
        "oscar: sudo (root) sudoedit /etc/motd — edits only these files as root",
        "quinn: sudo (quinn : adm) /usr/bin/less — runs as quinn, not as root",
        "sam: sudo (root) NOPASSWD: /usr/bin/tee /var/log/app.log — fixed arguments",
        "tom: sudo (root) NOPASSWD: /usr/sbin/reboot — any arguments, not a known root-shell",
    ):
        assert said in notes


def test_tags_carry_over_and_options_digests_and_escaped_commas_are_read():
    # lines as sudo 1.9.13 printed them on a lab host
    sudo = _sudo(alice="(root, operator) SETENV: NOPASSWD: /usr/bin/less, PASSWD: /usr/bin/more,"
                 " NOEXEC: /usr/bin/vi\n(alice : adm) /usr/bin/tail",
                 bob="(root) /usr/bin/printf a\\,b, /usr/bin/cat \"\"\n(root) sha224:0123456789abcdef"
                 "0123456789abcdef0123456789abcdef01234567 /usr/bin/xz, CWD=/tmp /usr/bin/ls")  # fmt: skip
    rules, failed = parse_sudo(sudo)
    assert failed == {}
    shown = [r.show() for r in rules["alice"]]
    assert shown == [
        "(root, operator) SETENV: NOPASSWD: /usr/bin/less",
        "(root, operator) SETENV: PASSWD: /usr/bin/more",
        "(root, operator) SETENV: PASSWD: NOEXEC: /usr/bin/vi",
        "(alice : adm) /usr/bin/tail",
    ]
    bob = [(r.command, r.args) for r in rules["bob"]]
    assert bob == [("/usr/bin/printf", ("a,b",)), ("/usr/bin/cat", ()), ("/usr/bin/xz", None),
                   ("/usr/bin/ls", None)]  # fmt: skip


def _accounts(**extra_uid: int) -> Accounts:
    uid = {"root": 0, "alice": 1001, "www-data": 33, **extra_uid}
    members = {0: {"root"} | {n for n, u in extra_uid.items() if u == 0}, 1001: {"alice"},
               33: {"www-data"}, 50: {"alice"}}  # fmt: skip
    return Accounts(uid=uid, gids={"alice": {1001, 50}}, group_gid={"root": 0, "staff": 50},
                    members=members)  # fmt: skip


@pytest.mark.parametrize(
    ("runas", "toor", "root"),
    [
        ("root", False, True), ("ALL : ALL", False, True), ("#0", False, True),
        ("%root", False, True), ("%#0", False, True), ("www-data", False, False),
        ("#33", False, False), ("alice : adm", False, False), ("ALL, !root", False, False),
        ("ALL, !root", True, True),  # sudo still runs it as toor, UID 0
        ("+admins", False, True),  # a netgroup we cannot resolve counts
    ],
)  # fmt: skip
def test_runas_list_reaches_root_the_way_sudo_matches_it(runas, toor, root):
    accounts = _accounts(toor=0) if toor else _accounts()
    rule = SudoRule(runas=runas, tags="", command="/usr/bin/less", args=None)
    assert root_reason("alice", rule, accounts, {}, {})[0] is root


@pytest.mark.parametrize(
    ("command", "args", "root"),
    [
        ("ALL", None, True),
        ("/usr/bin/find", None, True),
        ("/usr/bin/find", ("/tmp", "-name", "core"), False),  # pinned: no -exec
        ("/usr/bin/find", ("/tmp", "*"), True),  # a wildcard frees the arguments
        ("/usr/bin/less", ("/var/log/syslog",), True),  # a pager escapes whatever it shows
        ("/usr/bin/python3.11", ("/opt/report.py",), True),
        ("/usr/bin/cat", None, True),  # reads /etc/shadow
        ("/usr/bin/cat", ("/var/log/app.log",), False),
        ("/usr/bin/systemctl", ("restart", "nginx"), False),
        ("/usr/bin/systemctl", ("status", "nginx"), True),
        ("/usr/bin/systemctl", ("--no-pager", "status", "nginx"), False),
        ("/usr/bin/systemctl", ("link", "/home/alice/evil.service"), True),
        ("/usr/bin/journalctl", ("-u", "nginx"), True),
        ("/usr/bin/*", None, True),
        ("/usr/local/bin/", None, True),  # every program in a directory
        ("^/usr/bin/(cat|less)$", None, True),  # a regular expression
        ("sudoedit", ("/etc/hosts",), False),
        ("sudoedit", ("/etc/sudoers",), True),
        ("sudoedit", ("/srv/www/*",), True),
        ("/usr/sbin/reboot", None, False),
    ],
)
def test_commands_that_reach_root(command, args, root):
    rule = SudoRule(runas="root", tags="", command=command, args=args)
    assert root_reason("alice", rule, _accounts(), {}, {})[0] is root


def _stat(mode: int, uid: int = 0, gid: int = 0, kind: str = "directory") -> PathInfo:
    return PathInfo(mode=mode, uid=uid, gid=gid, kind=kind)


@pytest.mark.parametrize(
    ("path", "info", "writable"),
    [
        ("/opt/t", {"/": _stat(0o755), "/opt": _stat(0o755),
                    "/opt/t": _stat(0o755, kind="regular file")}, None),
        ("/opt/t", {"/": _stat(0o755), "/opt": _stat(0o755),
                    "/opt/t": _stat(0o555, uid=1001, kind="regular file")}, "/opt/t"),  # owner
        ("/opt/t", {"/": _stat(0o755), "/opt": _stat(0o775, gid=50),
                    "/opt/t": _stat(0o755, kind="regular file")}, "/opt"),  # group staff
        ("/tmp/t", {"/": _stat(0o755), "/tmp": _stat(0o1777),
                    "/tmp/t": _stat(0o755, kind="regular file")}, None),  # sticky, root's file
        ("/tmp/t", {"/": _stat(0o755), "/tmp": _stat(0o1777)}, "/tmp"),  # missing: created
        ("/opt/t", {"/": _stat(0o755), "/opt": _stat(0o755)}, None),  # missing, cannot create
    ],
)  # fmt: skip
def test_a_command_the_user_can_replace_is_root(path, info, writable):
    rule = SudoRule(runas="root", tags="", command=path, args=None)
    root, why = root_reason("alice", rule, _accounts(), info, {})
    assert root is (writable is not None)
    if writable:
        assert why == f"alice can write {writable}, so can replace the command"


def test_a_link_to_a_file_the_user_can_write_is_root():
    info = {"/": _stat(0o755), "/usr": _stat(0o755), "/usr/local": _stat(0o755),
            "/usr/local/bin": _stat(0o755), "/usr/local/bin/tool": _stat(0o777, kind="symbolic link"),
            "/home": _stat(0o755), "/home/alice": _stat(0o700, uid=1001)}  # fmt: skip
    rule = SudoRule(runas="root", tags="", command="/usr/local/bin/tool", args=None)
    root, why = root_reason("alice", rule, _accounts(), info,
                            {"/usr/local/bin/tool": "/home/alice/tool"})  # fmt: skip
    assert root and "alice can write /home/alice" in why


def test_sudo_that_cannot_answer_is_an_error_and_absent_sudo_is_said():
    doc = load("hardened.pass.json")
    refused = doc["raw"] | {"sudo": {"out": "@@user root\nsudo: /etc/sudoers is world writable\n"
                                     "sudo: no valid sudoers sources found, quitting\n@@rc 1",
                                     "rc": 0}}  # fmt: skip
    facts = parse(refused, doc["host"])
    assert facts.admins is None
    assert facts.problems["admins"].startswith(
        "sudo -l -U root failed (exit 1): sudo: /etc/sudoers"
    )
    cut = doc["raw"] | {"sudo": {"out": "@@user root\n@@rc 0", "rc": 0}}  # killed half-way
    assert "sudo -l gave no answer for" in parse(cut, doc["host"]).problems["admins"]
    failed = doc["raw"] | {"sudo": {"out": "", "rc": 124}}
    assert "exit 124" in parse(failed, doc["host"]).problems["admins"]
    absent = doc["raw"] | {"sudo": {"out": "@@no-sudo", "rc": 0}}
    facts = parse(absent, doc["host"])
    assert [a.name for a in facts.admins] == ["root"]
    assert facts.admin_notes == ("sudo is not installed, so no sudo rule grants root",)


def test_password_policy_debian_default_is_pwquality_minlen_8_without_lockout():
    doc = load("weak.fail.json")
    raw = doc["raw"] | {"pwquality": {"out": "== /etc/security/pwquality.conf", "rc": 0}}
    policy = parse(raw, doc["host"]).password_policy
    assert policy.min_length == 8 and policy.complexity_classes == 0
    assert policy.lockout_threshold is None and policy.max_age_days is None


def test_positive_credits_shorten_the_minimum_and_pam_arguments_win():
    pam = (
        "== /etc/pam.d/common-password\n"
        "password requisite pam_pwquality.so retry=3 minlen=16 ocredit=-1 dcredit=-1 ucredit=-1\n"
        "password [success=1 default=ignore] pam_unix.so obscure use_authtok yescrypt\n"
    )
    conf = "== /etc/security/pwquality.conf.d/10.conf\nminlen = 20\nlcredit = 2\n"
    conf += "== /etc/security/pwquality.conf\nminlen = 9\n"
    policy = parse_password_policy(conf, pam, "", "")
    assert policy.min_length == 14  # 16 from the PAM arguments, less lcredit 2
    assert policy.complexity_classes == 3


def test_pwquality_not_enforcing_falls_back_to_pam_unix():
    pam = (
        "== /etc/pam.d/system-auth\npassword requisite pam_pwquality.so enforcing=0\n"
        "password sufficient pam_unix.so sha512 shadow minlen=10\n"
    )
    policy = parse_password_policy("== /etc/security/pwquality.conf\nminlen = 20", pam, "", "")
    assert policy.min_length == 10 and policy.min_length_source.startswith("pam_unix.so")
    assert policy.complexity_classes == 0


def test_no_pam_configuration_is_unknown_not_weak():
    with pytest.raises(ValueError, match="no PAM configuration"):
        parse_password_policy("", "", "", "PASS_MAX_DAYS 90")


def test_insecure_services_from_sockets_packages_and_inetd():
    listening = (
        'tcp LISTEN 0 32 0.0.0.0:2121 0.0.0.0:* users:(("vsftpd",pid=7,fd=3))\n'
        'udp UNCONN 0 0 0.0.0.0:514 0.0.0.0:* users:(("rsyslogd",pid=9,fd=5))\n'
        "tcp LISTEN 0 5 [::]:513 [::]:*\n"
    )
    packages = "telnet\tii \ntelnetd\trc \nrsh-server\tii \n@@dpkg"
    inetd = (
        "== /etc/xinetd.d/tftp\nservice tftp\n{\n disable = yes\n}\n"
        "== /etc/xinetd.d/telnet\nservice telnet\n{\n disable = no\n}\n"
    )
    found = {(s.protocol, s.how) for s in parse_insecure(listening, packages, inetd)}
    assert found == {
        ("ftp", "listening on tcp 0.0.0.0:2121 (vsftpd)"),  # by daemon name, any port
        ("rlogin", "listening on tcp [::]:513"),  # by port, no process shown
        ("rsh", "package rsh-server installed"),  # telnet client and removed telnetd ignored
        ("telnet", "xinetd service telnet (/etc/xinetd.d/telnet)"),
    }  # 514/udp is syslog, not rsh


def test_missing_fields_give_problems_not_crashes():
    facts = parse({}, {})
    assert facts.ssh is None and facts.admins is None and facts.insecure_services is None
    assert set(facts.problems) == {"ssh", "admins", "password_policy", "insecure_services"}


# -- lockout: PAM stacks run as libpam runs them ---------------------------------------------

# Debian 12's /etc/pam.d as recorded on a lab host; each case replaces common-auth
DEBIAN = pam_files(load("hardened.pass.json")["raw"]["pam"]["out"])
FAILLOCK_CONF = {"deny": "3", "unlock_time": "900"}


def _pam(common_auth: str, **files: str) -> dict[str, list[str]]:
    out = dict(DEBIAN)
    out["/etc/pam.d/common-auth"] = common_auth.strip().splitlines()
    out |= {f"/etc/pam.d/{name.replace('_', '-')}": text.strip().splitlines()
            for name, text in files.items()}  # fmt: skip
    return out


# Each verdict below was checked on a Debian 12 lab host with pamtester (3 wrong passwords, then
# the right one, service sshd); test_access_sudo_pam_linux.py keeps four of them checked.
@pytest.mark.parametrize(
    ("common_auth", "state", "threshold"),
    [
        ("auth [success=1 default=ignore] pam_unix.so nullok\nauth requisite pam_deny.so\n"
         "auth required pam_permit.so", "no_lockout", None),
        # the case: preauth alone records nothing
        ("auth required pam_faillock.so preauth\nauth [success=1 default=ignore] pam_unix.so\n"
         "auth requisite pam_deny.so\nauth required pam_permit.so", "no_lockout", None),
        ("auth required pam_faillock.so preauth\nauth [success=2 default=ignore] pam_unix.so\n"
         "auth [default=die] pam_faillock.so authfail\nauth requisite pam_deny.so\n"
         "auth required pam_permit.so", "locks", 3),
        # recorded, but nothing refuses the right password of a locked account
        ("auth [success=2 default=ignore] pam_unix.so\nauth [default=die] pam_faillock.so authfail"
         "\nauth requisite pam_deny.so\nauth required pam_permit.so", "no_lockout", None),
        ("auth [success=1 default=bad] pam_unix.so\nauth [default=die] pam_faillock.so authfail\n"
         "auth sufficient pam_faillock.so authsucc\nauth required pam_deny.so", "locks", 3),
        # an optional preauth's failure is ignored
        ("auth optional pam_faillock.so preauth\nauth [success=2 default=ignore] pam_unix.so\n"
         "auth [default=die] pam_faillock.so authfail\nauth requisite pam_deny.so\n"
         "auth required pam_permit.so", "no_lockout", None),
        # the wrong-password path jumps over authfail
        ("auth required pam_faillock.so preauth\nauth [success=3 default=ignore] pam_unix.so\n"
         "auth requisite pam_deny.so\nauth [default=die] pam_faillock.so authfail\n"
         "auth required pam_permit.so", "no_lockout", None),
        ("auth required pam_env.so\nauth required pam_faillock.so preauth silent\n"
         "auth sufficient pam_unix.so nullok\nauth [default=die] pam_faillock.so authfail\n"
         "auth required pam_deny.so", "locks", 3),
        ("auth required pam_faillock.so preauth deny=0\nauth [success=2 default=ignore] "
         "pam_unix.so\nauth [default=die] pam_faillock.so authfail deny=0\n"
         "auth requisite pam_deny.so\nauth required pam_permit.so", "no_lockout", None),
        ("auth required pam_tally2.so deny=4 onerr=fail\nauth [success=1 default=ignore] "
         "pam_unix.so\nauth requisite pam_deny.so\nauth required pam_permit.so", "locks", 4),
        # pam_tally2 locks nobody without deny=
        ("auth required pam_tally2.so onerr=fail\nauth [success=1 default=ignore] pam_unix.so\n"
         "auth requisite pam_deny.so\nauth required pam_permit.so", "no_lockout", None),
    ],
)  # fmt: skip
def test_lockout_is_what_the_stack_does_with_wrong_then_right_passwords(
    common_auth, state, threshold
):
    got = judge_service(_pam(common_auth), FAILLOCK_CONF, "sshd")
    assert (got.state, got.threshold) == (state, threshold), got.why


@pytest.mark.parametrize(("how", "state"), [("substack", "locks"), ("include", "no_lockout")])
def test_die_in_a_substack_ends_only_the_substack(how, state):
    # a wrong password dies in bl-lock: as a substack, the caller's authfail still records it;
    # included, the whole stack ends first (both checked with pamtester on a lab host)
    files = _pam(
        f"auth {how} bl-lock\nauth sufficient pam_faillock.so preauth\n"
        "auth [default=die] pam_faillock.so authfail\nauth required pam_deny.so",
        bl_lock="auth required pam_faillock.so preauth\n"
        "auth [success=done default=die] pam_unix.so nullok",
    )
    got = judge_service(files, FAILLOCK_CONF, "login")
    assert got.state == state, got.why
    assert got.stack.startswith("/etc/pam.d/login (auth lines from /etc/pam.d/login → ")
    assert "/etc/pam.d/bl-lock" in got.stack


def test_deny_and_unlock_time_are_those_of_the_line_that_refuses():
    files = _pam(
        "auth required pam_faillock.so preauth deny=4\nauth sufficient pam_unix.so\n"
        "auth [default=die] pam_faillock.so authfail unlock_time=never\nauth required pam_deny.so"
    )
    got = judge_service(files, {"deny": "9"}, "sshd")
    # preauth refuses at its own deny=4 with its own unlock_time (the default 600 s); authfail's
    # never and faillock.conf's deny=9 are not what refuses the account
    assert (got.state, got.threshold, got.seconds) == ("locks", 4, 600)


def test_a_service_without_a_file_runs_other_and_a_missing_include_refuses_all():
    files = {p: lines for p, lines in DEBIAN.items() if p != "/etc/pam.d/sudo"}
    files["/etc/pam.d/other"] = ["auth required pam_deny.so"]
    got = judge_service(files, FAILLOCK_CONF, "sudo")
    assert got.state == "closed" and got.stack.startswith("sudo has no file: 'other'")
    broken = _pam("auth include no-such-file\nauth required pam_permit.so")
    assert judge_service(broken, FAILLOCK_CONF, "sshd").state == "closed"


def test_a_module_whose_answer_decides_makes_the_verdict_unknown():
    # pam_succeed_if failing dies before authfail records anything: locks only if it succeeds
    decides = ("auth required pam_faillock.so preauth\nauth sufficient pam_unix.so\n"
               "auth requisite pam_succeed_if.so uid >= 1000 quiet\n"
               "auth [default=die] pam_faillock.so authfail\nauth required pam_deny.so")  # fmt: skip
    got = judge_service(_pam(decides), FAILLOCK_CONF, "sshd")
    assert got.state == "undetermined" and "pam_succeed_if.so" in got.why
    # a one-time-password module that cannot change the outcome does not
    otp = "auth required pam_google_authenticator.so nullok\n" + decides.replace(
        "auth requisite pam_succeed_if.so uid >= 1000 quiet\n", ""
    )
    assert judge_service(_pam(otp), FAILLOCK_CONF, "sshd").state == "locks"


FULL = ("auth required pam_faillock.so preauth\nauth [success=1 default=ignore] pam_unix.so\n"
        "auth [default=die] pam_faillock.so authfail\nauth sufficient pam_faillock.so authsucc\n"
        "auth requisite pam_deny.so\nauth required pam_permit.so\n")  # fmt: skip


def _dump(files: dict[str, list[str]]) -> str:
    return "\n".join(f"== {path}\n" + "\n".join(lines) for path, lines in files.items())


def test_the_weakest_service_decides_and_is_named():
    sshd_only = _pam("auth [success=1 default=ignore] pam_unix.so\nauth requisite pam_deny.so\n"
                     "auth required pam_permit.so", sshd=FULL + "@include common-account")  # fmt: skip
    policy = parse_password_policy("", _dump(sshd_only), "== /etc/security/faillock.conf", "")
    assert policy.lockout_threshold is None
    assert policy.no_lockout_reason.startswith("PAM services login, su, sudo: wrong passwords")
    both = parse_password_policy("", _dump(_pam(FULL)), "== /etc/security/faillock.conf\ndeny = 5",
                                 "")  # fmt: skip
    assert (both.lockout_threshold, both.lockout_seconds) == (5, 600)
    assert both.lockout_source == "PAM auth stacks of sshd, login, su, sudo (weakest: sshd)"
    said = "sshd: /etc/pam.d/sshd (auth lines from /etc/pam.d/common-auth): the right password"
    assert said + " is refused after 5 wrong ones" in both.detail


def test_sshd_checking_passwords_without_pam_has_no_lockout():
    locked = _dump(_pam(FULL))
    ssh = SshFacts(installed=True, views=(
        SshView(connection="default", password_authentication=False,
                kbd_interactive_authentication=False, use_pam=False, permit_root_login="no"),
        SshView(connection="user=root,addr=203.0.113.1", password_authentication=True,
                kbd_interactive_authentication=False, use_pam=False, permit_root_login="no"),
    ))  # fmt: skip
    policy = parse_password_policy("", locked, "", "", ssh)
    assert policy.lockout_threshold is None
    assert (
        "UsePAM no" in policy.no_lockout_reason and "addr=203.0.113.1" in policy.no_lockout_reason
    )
    assert parse_password_policy("", locked, "", "", ssh.model_copy(update={"views": ssh.views[:1]})
                                 ).lockout_threshold == 3  # fmt: skip


def test_faillock_settings_files_then_arguments_and_unreadable_ones():
    files = _pam(FULL.replace("preauth", "preauth unlock_time=never"))
    got = judge_service(files, {"deny": "4", "unlock_time": "60"}, "sshd")
    assert (got.threshold, got.seconds) == (4, 0)  # 0: until an administrator unlocks
    other_conf = _pam(FULL.replace("preauth", "preauth conf=/etc/security/other.conf"))
    got = judge_service(other_conf, FAILLOCK_CONF, "sshd")
    assert got.state == "undetermined" and "conf=/etc/security/other.conf" in got.why


def test_a_preauth_line_alone_is_no_lockout():
    preauth_only = _pam(
        "auth required pam_faillock.so preauth\nauth [success=1 default=ignore] pam_unix.so\n"
        "auth requisite pam_deny.so\nauth required pam_permit.so"
    )
    policy = parse_password_policy("", _dump(preauth_only), "", "")
    assert policy.lockout_threshold is None
    assert "wrong passwords are never recorded" in policy.no_lockout_reason


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (("-u", "root", "-pS3cret", "shop"), "-u root -p******** shop"),
        (("--password=S3cret",), "--password=********"),
        (("--password", "S3cret"), "--password ********"),
        (("PGPASSWORD=S3cret", "psql"), "PGPASSWORD=******** psql"),
        (("-p", "22", "/var/log/app.log"), "-p 22 /var/log/app.log"),
    ],
)
def test_a_password_in_a_sudo_rule_never_reaches_the_evidence(args, shown):
    rule = SudoRule(runas="root", tags="", command="/usr/bin/mysqldump", args=args)
    assert rule.show() == f"(root) /usr/bin/mysqldump {shown}"
