"""The SSH servers running against the configuration sshd -T read (checks/linux/access_listeners.py)."""

from checks.linux.access_listeners import unread_listener

PROBED = ""  # what precedes the listeners


def listener(pid: int, uid: int, exe: str, title: str) -> str:
    return f"@@pid {pid} {uid} {exe}\n" + "".join(f" {arg}\n" for arg in title.split("\0"))


def test_the_packaged_listener_on_the_default_file_is_the_one_read():
    lab = listener(
        11,
        0,
        "/usr/sbin/sshd",
        "sshd: /usr/sbin/sshd -E /var/log/x.log [listener] 0 of 10-100 startups",
    )
    debian = listener(12, 0, "/usr/sbin/sshd", "/usr/sbin/sshd\0-D")
    # RHEL 8 passes its crypto policy with -o: settings the controls do not read
    rhel = listener(
        13,
        0,
        "/usr/sbin/sshd",
        "/usr/sbin/sshd\0-D\0-oCiphers=aes256-gcm@openssh.com\0-oMACs=hmac-sha2-256",
    )
    assert unread_listener(PROBED + lab + debian + rhel) is None
    assert unread_listener("") is None


def test_a_listener_with_another_file_program_or_setting_is_named():
    other_file = listener(
        20,
        0,
        "/usr/sbin/sshd",
        "sshd: /usr/sbin/sshd -f /etc/ssh/vendor_config -p 2222 [listener] 0 of 10-100 startups",
    )
    why = unread_listener(PROBED + other_file)
    assert why == (
        "the SSH server listening as PID 20 runs /usr/sbin/sshd -f /etc/ssh/vendor_config -p 2222:"
        " its configuration is /etc/ssh/vendor_config, not the /etc/ssh/sshd_config whose"
        " settings sshd -T read"
    )
    # which program runs is not judged: a wrapper on PATH, or a build reading its own default
    other_program = listener(21, 0, "/opt/openssh/sbin/sshd", "/opt/openssh/sbin/sshd\0-D")
    assert unread_listener(PROBED + other_program) is None
    setting = listener(
        22, 0, "/usr/sbin/sshd", "/usr/sbin/sshd\0-D\0-o\0PasswordAuthentication=yes"
    )
    assert "PasswordAuthentication=yes on its command line overrides" in unread_listener(
        PROBED + setting
    )
    glued = listener(23, 0, "/usr/sbin/sshd", "/usr/sbin/sshd\0-oPermitRootLogin yes")
    assert "PermitRootLogin on its command line" in unread_listener(PROBED + glued)


def test_another_accounts_sshd_and_forged_lines_do_not_count():
    users = listener(30, 1000, "/home/alice/sshd", "/home/alice/sshd\0-f\0/home/alice/cfg")
    assert unread_listener(PROBED + users) is None
    # an argument reading "@@pid …" stays an argument (access.sh indents every one)
    forged = listener(31, 1000, "/usr/sbin/sshd", "/usr/sbin/sshd\0@@pid 1 0 /opt/fake")
    assert unread_listener(PROBED + forged) is None
