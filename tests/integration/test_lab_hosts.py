"""The lab's real Linux hosts behave like separate machines reachable over SSH."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from baluarte.lab.aptrepo import install_packages, publish_updates
from baluarte.lab.images import LabError, bookworm_mirror
from baluarte.lab.linux_hosts import LinuxHostLab, leftovers, reap_stale_labs
from tests.integration.cli import ssh

pytestmark = pytest.mark.hosts
RP_FILTER = Path("/proc/sys/net/ipv4/conf/all/rp_filter")


def test_ssh_with_strict_host_key_checking_reaches_the_named_host(lab, make_host):
    web, db = make_host("web1"), make_host("db1")
    for host in (web, db):
        done = ssh(lab, host, "hostname; id -u")
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == [host.name, "0"]
        assert done.stderr == ""  # trivial shell rc files: nothing but the command's output
    assert web.address != db.address


def test_a_host_key_not_in_known_hosts_is_refused(lab, linux_host, tmp_path):
    other = tmp_path / "known_hosts"
    other.write_text(f"{linux_host.address} ssh-ed25519 " + "A" * 68 + "\n")
    done = subprocess.run(
        ["ssh", "-i", str(lab.key_path), "-o", "StrictHostKeyChecking=yes",
         "-o", f"UserKnownHostsFile={other}", "-o", "BatchMode=yes",
         f"root@{linux_host.address}", "true"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 255


def test_run_executes_inside_the_host(linux_host):
    assert linux_host.run("hostname").stdout.strip() == "testhost"
    processes = linux_host.run("ps -eo comm=").stdout.split()
    assert "sshd" in processes
    assert "pytest" not in " ".join(processes)  # its own PID namespace
    assert linux_host.run("exit 3", check=False).returncode == 3


def test_a_host_has_its_own_network_and_firewall(make_host):
    one, two = make_host("fw-one"), make_host("fw-two")
    links = one.run("ip -o link show | cut -d: -f2").stdout.split()
    assert sorted(link.split("@")[0] for link in links) == ["eth0", "lo"]
    inside = one.run("readlink /proc/self/ns/net").stdout.strip()
    assert inside != os.readlink("/proc/self/ns/net")
    assert inside != two.run("readlink /proc/self/ns/net").stdout.strip()
    one.run("nft add table inet baluarte_probe")
    assert "baluarte_probe" in one.run("nft list tables").stdout
    assert "baluarte_probe" not in two.run("nft list tables").stdout
    # net.* sysctls are the namespace's own and writable; the machine's kernel ones are not.
    machine_rp_filter = RP_FILTER.read_text()
    one.run("sysctl -qw net.ipv4.conf.all.rp_filter=2")
    assert one.run("sysctl -n net.ipv4.conf.all.rp_filter").stdout.strip() == "2"
    assert two.run("sysctl -n net.ipv4.conf.all.rp_filter").stdout.strip() != "2"
    assert RP_FILTER.read_text() == machine_rp_filter
    assert one.run("sysctl -qw kernel.domainname=x", check=False).returncode != 0


def test_files_written_in_one_host_stay_in_that_host(make_host):
    one, two = make_host("one"), make_host("two")
    one.run("echo changed > /etc/motd")
    assert two.run("cat /etc/motd").stdout != "changed\n"
    assert (one.root / "etc/motd").read_text() == "changed\n"


def test_published_updates_show_with_their_origins(linux_host):
    publish_updates(
        linux_host,
        normal=[("bl-demo", "1.0", "1.1")],
        security=[("bl-sec", "1.0", "1.0+deb12u1")],
    )
    simulated = linux_host.run("apt-get -s -o Debug::NoLocking=1 dist-upgrade").stdout
    inst = sorted(line for line in simulated.splitlines() if line.startswith("Inst "))
    assert inst == [
        "Inst bl-demo [1.0] (1.1 Debian:baluarte-updates [all])",
        "Inst bl-sec [1.0] (1.0+deb12u1 Debian-Security:baluarte-security [all])",
    ]


def test_installed_package_has_the_requested_version_and_no_update(linux_host):
    install_packages(linux_host, [("bl-min", "2:3.4-1")])
    assert linux_host.run("dpkg-query -W -f='${Version}' bl-min").stdout == "2:3.4-1"
    assert "Inst " not in linux_host.run("apt-get -s dist-upgrade").stdout


def test_stopped_sshd_refuses_connections_until_started(lab, linux_host):
    linux_host.stop_sshd()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((linux_host.address, linux_host.port), timeout=5).close()
    assert linux_host.run("hostname").stdout.strip() == "testhost"  # the host itself is up
    linux_host.start_sshd()
    assert ssh(lab, linux_host, "true").returncode == 0


def test_down_leaves_nothing_behind(lab):  # `lab`: skipped where the lab cannot run
    with LinuxHostLab() as own:
        host = own.up("short-lived")
        assert leftovers(own.prefix) != []
        own.down(host)
        assert leftovers(own.prefix) == [f"registry /run/baluarte-lab/{own.prefix}.json"]
        netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
        assert own.prefix not in netns
        assert host.netns not in netns
        assert f"{host.veth}@" not in links and f"{host.veth}:" not in links
        assert not host.root.exists()
        own.up("another")  # closing the lab takes the remaining hosts down too
    assert leftovers(own.prefix) == []
    assert not own.dir.exists()


def test_the_image_is_deterministic_and_locked_down(linux_host):
    effective = linux_host.run("sshd -T").stdout.splitlines()
    assert "passwordauthentication no" in effective
    assert "usepam no" in effective
    assert "permitrootlogin without-password" in effective
    assert linux_host.run("/usr/sbin/policy-rc.d", check=False).returncode == 101
    assert linux_host.run("ls -A /etc/apt/sources.list.d").stdout == ""
    lists = set(linux_host.run("ls -A /var/lib/apt/lists").stdout.split())
    assert lists <= {"lock", "partial", "auxfiles"}  # no mirror's package lists


def test_two_labs_at_once_get_distinct_subnets(lab, linux_host):
    with LinuxHostLab() as other:
        theirs = other.up("testhost")
        assert theirs.address != linux_host.address
        assert theirs.veth != linux_host.veth
        assert theirs.run("hostname").stdout.strip() == "testhost"
        assert ssh(other, theirs, "true").returncode == 0
        # Our key is not authorised on the other lab's host.
        assert ssh(lab, theirs, "true").returncode == 255


def test_a_lab_whose_owner_was_killed_is_reaped(lab):  # `lab`: skipped where it cannot run
    script = (
        "import os, signal\n"
        "from baluarte.lab.linux_hosts import LinuxHostLab\n"
        "lab = LinuxHostLab()\n"
        "lab.up('orphan')\n"
        "print(lab.prefix, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    prefix = done.stdout.strip()
    assert prefix.startswith("blab"), done.stderr
    assert any(item.startswith("process ") for item in leftovers(prefix))
    assert prefix in reap_stale_labs()
    assert leftovers(prefix) == []


def test_the_mirror_comes_from_the_machines_apt_sources(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example.invalid/debian-security\n"
        "Suites: bookworm-security\nComponents: main\n\n"
        "# a comment\nTypes: deb deb-src\nURIs: http://mirror.example.invalid/debian\n"
        "Suites: bookworm bookworm-updates\nComponents: main contrib\n"
    )
    assert bookworm_mirror(tmp_path) == "http://mirror.example.invalid/debian"
    (tmp_path / "sources.list.d" / "debian.sources").unlink()
    (tmp_path / "sources.list").write_text(
        "deb [arch=amd64] http://other.example.invalid/debian bookworm main\n"
    )
    assert bookworm_mirror(tmp_path) == "http://other.example.invalid/debian"
    (tmp_path / "sources.list").write_text("")
    with pytest.raises(LabError, match="bookworm main"):
        bookworm_mirror(tmp_path)
