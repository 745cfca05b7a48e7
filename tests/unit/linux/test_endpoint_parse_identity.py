"""Identity, not names: an engine counts as running only as its product's own program, run by
its own user, in this host's namespace (checks/linux/daemons.py), on bl_daemons-shaped input.

Each impostor here passed ``endpoint.running`` when a process name was enough.
"""

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.linux.daemons import Daemon, ProcessTable, daemon_running
from checks.linux.endpoint import parse
from tests.unit.linux.daemon_table import genuine, proc, table

SAMPLES = Path(__file__).parents[2] / "samples" / "linux" / "endpoint"
CLAMD_OWNER = ("clamav-daemon: /usr/sbin/clamd",)


def field(out: str, rc: int = 0) -> dict:
    return {"out": out, "rc": rc}


def clamav(procs: dict, **fields: dict):
    """The recorded on-access host with its process table (and other fields) replaced."""
    doc = json.loads((SAMPLES / "clamav_onaccess_fresh.pass.json").read_text())
    raw = doc["endpoint"]
    raw["procs"] = procs
    raw.update(fields)
    return parse(raw, {**doc["host"], "uid": field("0")}).product("clamav")


def test_the_recorded_real_daemon_is_clamavs_own():
    clam = clamav(genuine("clamd", "clamonacc"))
    assert clam.running is True and clam.realtime is True
    assert "process clamd running (/usr/sbin/clamd as clamav)" in clam.running_detail


def test_a_copy_in_tmp_started_by_nobody_is_not_clamd():
    clam = clamav(table(proc(33, "clamd", "/tmp/clamd", "nobody"), owners=()))
    assert clam.running is False
    assert (
        "a process named clamd (PID 33) runs /tmp/clamd as nobody: not ClamAV's daemon "
        "(no package owns /tmp/clamd; ClamAV's daemon runs as root, clamav or clamscan)"
    ) in clam.running_detail
    # nothing scans for clamonacc either
    assert clam.realtime is False


def test_the_real_binary_run_by_an_ordinary_user_is_not_the_service():
    clam = clamav(table(proc(40, "clamd", "/usr/sbin/clamd", "alice"), owners=CLAMD_OWNER))
    assert clam.running is False
    assert "runs /usr/sbin/clamd as alice: not ClamAV's daemon" in clam.running_detail
    assert "runs as root, clamav or clamscan" in clam.running_detail


def test_a_shell_that_renamed_itself_is_named_by_its_package():
    renamed = proc(41, "clamd", "/usr/bin/dash", "nobody")
    clam = clamav(table(renamed, owners=("dash: /bin/dash",)))  # /usr merged: dpkg says /bin
    assert clam.running is False
    assert "/usr/bin/dash belongs to package dash" in clam.running_detail


def test_a_copy_in_a_container_or_a_file_bind_mounted_over_the_path_is_not_clamd():
    # the same path, another file: a container's own copy, or a user's bind mount over it
    covered = proc(
        43, "clamd", "/usr/sbin/clamd", "root",
        image="regular file|57:9 1000 755", file="regular file|57:5 0 755",
    )  # fmt: skip
    clam = clamav(table(covered, owners=CLAMD_OWNER))
    assert clam.running is False
    assert "the program running is not the file now at /usr/sbin/clamd" in clam.running_detail


def test_a_daemon_whose_binary_was_upgraded_under_it_still_runs_and_says_so():
    old = proc(44, "clamd", "/usr/sbin/clamd (deleted)", "clamav", file="regular file|57:6 0 755")
    clam = clamav(table(old, owners=CLAMD_OWNER))
    assert clam.running is True
    assert "replaced on disk since it started: restart pending" in clam.running_detail


def test_the_real_daemon_beside_an_impostor_runs_and_the_impostor_is_named():
    both = table(
        proc(18, "clamd", "/usr/sbin/clamd", "clamav"),
        proc(33, "clamd", "/tmp/clamd", "nobody"),
        owners=CLAMD_OWNER,
    )
    clam = clamav(both)
    assert clam.running is True
    assert "also a process named clamd (PID 33) runs /tmp/clamd as nobody" in clam.running_detail


def test_the_user_named_in_clamd_conf_is_clamds_own():
    scanner = table(proc(45, "clamd", "/usr/sbin/clamd", "scanner"), owners=CLAMD_OWNER)
    assert clamav(scanner).running is False
    conf = field("# /etc/clamd.conf\nUser scanner\nOnAccessIncludePath /srv/data\n")
    assert clamav(scanner, clamconf=conf).running is True


def test_unprivileged_collection_judges_the_user_and_says_the_program_was_not_read():
    hidden = proc(46, "clamd", "", "clamav", image="-", file="-")
    clam = clamav(table(hidden))
    assert clam.running is True
    assert "which program it runs could not be read" in clam.running_detail
    assert "the check ran as uid 0" in clam.running_detail
    stranger = proc(47, "clamd", "", "nobody", image="-", file="-")
    assert clamav(table(stranger)).running is False


def test_a_process_whose_owner_cannot_be_read_leaves_running_unknown():
    line = proc(48, "clamd", "/tmp/clamd", "nobody").replace("uid=65534", "uid=")
    clam = clamav(table(line))
    assert clam.running is None and "who runs it could not be read" in clam.running_detail


def test_systemd_unit_running_another_program_does_not_count():
    units = field(
        "Id=clamav-daemon.service\nActiveState=active\nUnitFileState=enabled\nMainPID=77\nUser=\n"
    )
    sleeper = table(proc(77, "sleep", "/usr/bin/sleep"), owners=("coreutils: /bin/sleep",))
    clam = clamav(sleeper, systemd=units)
    assert clam.running is False
    assert (
        "systemd: clamav-daemon.service active, but a process named sleep (PID 77) runs "
        "/usr/bin/sleep as root: not ClamAV's daemon (/usr/bin/sleep belongs to package "
        "coreutils)"
    ) in clam.running_detail


def test_systemd_unit_user_and_main_process_are_systemds_word():
    units = field(
        "Id=clamav-daemon.service\nActiveState=active\nUnitFileState=enabled\nMainPID=50\n"
        "User=scanner\n"
    )
    main = proc(50, "clamd", "/usr/sbin/clamd", "scanner")
    child = proc(51, "clamd", "/usr/sbin/clamd", "scanner")
    clam = clamav(table(main, child, owners=CLAMD_OWNER), systemd=units)
    assert clam.running is True and "main process 50" in clam.running_detail
    # without systemd's word, the same user is a stranger
    assert clamav(table(child, owners=CLAMD_OWNER)).running is False


# -- products installed without a package, and the table's own format ---------------------------

SOPHOS = Daemon("Sophos' watchdog", ("sophos_watchdog",), install_dirs=("/opt/sophos-spl/",))
WATCHDOG = "/opt/sophos-spl/base/bin/sophos_watchdog"


@pytest.mark.parametrize(
    ("image", "directory", "runs"),
    [
        ("regular file|57:1 0 755", "directory|57:2 0 750", True),
        ("regular file|57:1 0 775", "directory|57:2 0 750", False),  # group-writable
        ("regular file|57:1 1000 755", "directory|57:2 0 750", False),  # a user's file
        ("regular file|57:1 0 755", "directory|57:2 0 1777", False),  # anyone may replace it
    ],
)
def test_unpackaged_product_counts_only_as_roots_own_files(image, directory, runs):
    line = proc(60, "sophos_watchdog", WATCHDOG, image=image, file=image, directory=directory)
    got, seen = daemon_running(SOPHOS, ProcessTable.parse(**_parsed(table(line))), {})
    assert got is runs, seen


def test_tmp_named_like_the_install_directory_is_not_inside_it():
    fake = proc(61, "sophos_watchdog", "/opt/sophos-spl-fake/sophos_watchdog")
    got, seen = daemon_running(SOPHOS, ProcessTable.parse(**_parsed(table(fake))), {})
    assert got is False and "no package owns" in seen


def test_owner_lines_of_dpkg_and_rpm_are_read_diversions_ignored():
    text = "\n".join(
        [
            proc(1, "x", "/usr/sbin/x"),
            "@@owners dpkg",
            "diversion by foo from: /usr/sbin/x",
            "libfoo:amd64, foo-tools: /usr/sbin/x",
        ]
    )
    parsed = ProcessTable.parse(text, 0)
    assert parsed is not None and parsed.packages("/usr/sbin/x") == ("libfoo", "foo-tools")
    # what grep -H over the expected packages' own file lists prints, multiarch included
    lists = ProcessTable.parse(
        "@@owners dpkg\n/var/lib/dpkg/info/clamav-daemon.list:/usr/sbin/clamd\n"
        "/var/lib/dpkg/info/libc-bin:amd64.list:/sbin/ldconfig",
        0,
    )
    assert lists is not None and lists.packages("/usr/sbin/clamd") == ("clamav-daemon",)
    assert lists.packages("/usr/sbin/ldconfig") == ("libc-bin",)  # /usr merged: /sbin alias
    rpm = ProcessTable.parse("@@owners rpm\nclamd,clamav: /usr/sbin/clamd", 0)
    assert rpm is not None and rpm.packages("/usr/sbin/clamd") == ("clamd", "clamav")
    assert ProcessTable.parse("", 1) is None


def test_no_package_database_is_said_not_guessed():
    line = proc(2, "clamd", "/usr/sbin/clamd", "clamav")
    got, seen = daemon_running(
        Daemon("ClamAV's daemon", ("clamd",), ("clamav-daemon",), ("clamav",)),
        ProcessTable.parse(**_parsed(table(line, db="none"))),
        {},
    )
    assert got is False and "no package database" in seen


def _parsed(procs: dict) -> dict:
    return {"text": procs["out"], "rc": procs["rc"]}


# -- hostile tables: whatever a host prints, parsing never breaks and never proves an impostor

_FIELD = st.text(alphabet=st.characters(blacklist_characters="\t\n\r"), max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_text_parses_without_error(text):
    table_ = ProcessTable.parse(text, 0)
    assert table_ is not None
    clamd = Daemon("ClamAV's daemon", ("clamd",), ("clamav-daemon",), ("clamav",))
    daemon_running(clamd, table_, {}, ("clamav-daemon.service",))


@settings(max_examples=300, deadline=None)
@given(exe=_FIELD.filter(lambda e: e.strip() != ""), user=_FIELD, uid=st.integers(0, 70000))
def test_a_readable_program_no_package_ships_never_runs_as_clamd(exe, user, uid):
    line = (
        proc(5, "clamd", exe, user).replace("uid=1001", f"uid={uid}").replace("uid=0", f"uid={uid}")
    )
    got, _ = daemon_running(
        Daemon("ClamAV's daemon", ("clamd",), ("clamav-daemon",), ("clamav",)),
        ProcessTable.parse(**_parsed(table(line, owners=("coreutils: /bin/sleep",)))),
        {},
    )
    assert got is not True
