"""parse() of the access fragment's raw output, from outputs recorded on Debian 12 lab hosts.

Every sample in tests/samples/linux/access/ is ``<what it sets up>.<status>.json``: the raw
``access`` section, and the verdict each listed control must reach on it.
"""

from datetime import UTC, datetime

import pytest

from baluarte.controls import EvalContext
from checks.linux.access import (
    parse,
    parse_admins,
    parse_insecure,
    parse_password_policy,
    parse_sshd,
)
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


def test_admins_from_uid0_groups_primary_group_and_sudoers():
    passwd = "root:0:0\ntoor:0:0\nalice:1001:1001\ncarol:1003:27\nops1:1004:1004\nbob:1002:1002"
    groups = "root:0:\nsudo:27:alice\nwheel:10:\nops:1010:ops1\nbob:1002:"
    sudoers = (
        "== /etc/sudoers\nDefaults env_reset\nroot ALL=(ALL:ALL) ALL\n%sudo ALL=(ALL:ALL) ALL\n"
        "User_Alias DBA = dave, erin\nDBA ALL = /usr/bin/systemctl restart postgresql\n"
        "== /etc/sudoers.d/ops\n%ops ALL=(root) NOPASSWD: ALL\n"
        "#1002 ALL=(ALL) \\\n    ALL\n"
    )
    admins = {a.name: a.reasons for a in parse_admins(passwd, groups, sudoers)}
    assert set(admins) == {"root", "toor", "alice", "carol", "ops1", "bob"}
    assert admins["carol"] == ("member of sudo",)  # sudo is her primary group
    assert admins["ops1"] == ("sudo ALL via %ops (/etc/sudoers.d/ops)",)
    assert admins["bob"] == ("sudo ALL (/etc/sudoers.d/ops)",)  # by uid, continuation line
    assert "dave" not in admins  # one command is not administration


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
        "== /etc/pam.d/common-auth\n"
        "auth required pam_faillock.so preauth deny=4\n"
        "auth [success=1 default=ignore] pam_unix.so nullok\n"
        "auth [default=die] pam_faillock.so authfail unlock_time=never\n"
    )
    conf = "== /etc/security/pwquality.conf.d/10.conf\nminlen = 20\nlcredit = 2\n"
    conf += "== /etc/security/pwquality.conf\nminlen = 9\n"
    policy = parse_password_policy(conf, pam, "== /etc/security/faillock.conf\ndeny = 9", "")
    assert policy.min_length == 14  # 16 from the PAM arguments, less lcredit 2
    assert policy.complexity_classes == 3
    assert policy.lockout_threshold == 4 and policy.lockout_seconds == 0


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
