"""End to end through the CLI: the endpoint controls against real Debian lab hosts.

ClamAV is real: clamd runs as a plain daemon (no systemd in lab hosts) on a one-signature
database, and clamonacc really watches a directory through fanotify inside the host. The age of
the signatures comes from a ``daily.cld`` built by ``sigtool`` whose header build time is set by
the test; clamd refuses unsigned ``daily`` databases, so that file is put in place after clamd has
loaded its tiny ``local.hdb`` (clamd only rereads its directory at SelfCheck, hourly).

Defender (mdatp), Sophos, CrowdStrike (falconctl), and the pass state of disk encryption
(lsblk/dmsetup) cannot be real here: stand-in executables and files print recorded output
(tests/samples/linux/endpoint/). An engine counts by its identity, not its name, so each
stand-in engine is a real program (a copy of the image's ``sleep``) placed where the product
puts it: in a stand-in package built with dpkg-deb (``mdatp``, ``falcon-sensor``), or, for
Sophos, which its own installer puts in place without a package, as root's files under
/opt/sophos-spl.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
import time
from pathlib import Path

from baluarte.lab.linux_hosts import LinuxHost, LinuxHostLab
from tests.integration import cli
from tests.integration.cli import baluarte, findings

SAMPLES = Path(__file__).parents[1] / "samples" / "linux" / "endpoint"
EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
EICAR_HDB = "44d88612fea8a8f36de82e1278abb02f:68:Baluarte.Test.EICAR\n"
DM_KEY = "6b3a1f0e9c2d4b5a8e7f60123456789abcdef0123456789abcdef0123456789a"
CONTROLS = ("installed", "running", "realtime_protection", "signatures_current")
# where each product puts its engine's program
WDAVDAEMON = "/opt/microsoft/mdatp/sbin/wdavdaemon"
SOPHOS_WATCHDOG = "/opt/sophos-spl/base/bin/sophos_watchdog"
SOPHOS_SOAPD = "/opt/sophos-spl/plugins/av/sbin/soapd"
FALCON_SENSOR = "/opt/CrowdStrike/falcon-sensor"


def policy(name: str, product: str, tag: str, disk: bool = False) -> str:
    extra = "  disk_encryption: {required: true}\n" if disk else ""
    return (
        f'id: {name}\nversion: "1"\ntitle: endpoint {name}\n'
        f"applies_to: {{platform: linux, tags: [{tag}]}}\nendpoint:\n"
        f"  installed: {{product: {product}}}\n"
        f"  running: {{product: {product}}}\n"
        f"  realtime_protection: {{product: {product}}}\n"
        f"  signatures_current: {{product: {product}, max_days: 2}}\n" + extra
    )


def run_check(tmp: Path, lab: LinuxHostLab, tagged: dict[LinuxHost, str], policies: list[str]):
    """One `baluarte check` over the hosts, each tagged so exactly one policy applies to it."""
    hosts = list(tagged)
    cli.write_inputs(tmp, lab, hosts, policy=policies[0])
    for i, text in enumerate(policies[1:]):
        (tmp / "policies" / f"p{i}.yaml").write_text(text)
    inventory = (tmp / "inventory.yaml").read_text()
    for host, tag in tagged.items():
        inventory = re.sub(
            rf"(- name: {host.name}\n(?:.*\n)*?\s+tags: )\[server\]", rf"\1[{tag}]", inventory
        )
    (tmp / "inventory.yaml").write_text(inventory)
    result = baluarte(tmp, "check", "--format", "json")
    # the dm-crypt key printed by the dmsetup stand-in never leaves the host
    assert DM_KEY not in result.stdout + result.stderr
    assert DM_KEY.encode() not in (tmp / "runs.db").read_bytes()
    return result, findings(result)


# -- ClamAV, real -------------------------------------------------------------------------------


def clamav_daily(host: LinuxHost, age_days: float) -> None:
    """A sigtool-built daily.cld whose header says it was built ``age_days`` ago."""
    host.run(
        "mkdir -p /tmp/sig && cd /tmp/sig && echo test > COPYING && "
        f"printf '%s' '{EICAR_HDB.strip()}' > daily.hdb && echo >> daily.hdb && "
        "printf '27000\\nbaluarte\\n' | sigtool --build=daily.cud --unsigned --datadir=/tmp/sig"
    )
    data = (host.root / "tmp/sig/daily.cud").read_bytes()
    built = int(time.time() - age_days * 86400)
    fields = data[:512].decode().rstrip(" \0").split(":")
    fields[1] = time.strftime("%d %b %Y %H-%M +0000", time.gmtime(built))
    fields[8] = str(built)
    header = ":".join(fields).encode().ljust(512, b" ")
    (host.root / "var/lib/clamav/daily.cld").write_bytes(header + data[512:])
    host.run("chown clamav:clamav /var/lib/clamav/daily.cld")


def start_clamd(host: LinuxHost, on_access: bool) -> None:
    (host.root / "var/lib/clamav/local.hdb").write_text(EICAR_HDB)
    if on_access:
        with (host.root / "etc/clamav/clamd.conf").open("a") as conf:
            conf.write("OnAccessIncludePath /srv/data\nOnAccessExcludeUname clamav\n")
    host.run(
        "mkdir -p /run/clamav /srv/data && chown -R clamav:clamav /run/clamav /var/lib/clamav && "
        "clamd >/dev/null 2>&1 </dev/null"
    )
    if on_access:
        host.run("clamonacc --log=/var/log/clamav/clamonacc.log >/dev/null 2>&1 </dev/null")
        wait_for(host, "grep -q 'ClamInotif: watching' /var/log/clamav/clamonacc.log")


def wait_for(host: LinuxHost, cmd: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while host.run(cmd, check=False).returncode != 0:
        assert time.monotonic() < deadline, f"{host.name}: timed out waiting for `{cmd}`"
        time.sleep(0.1)


def test_clamav_real_daemon_on_access_and_database_age(tmp_path, lab, make_host):
    good, bad = make_host("clam-good"), make_host("clam-bad")
    start_clamd(good, on_access=True)
    clamav_daily(good, age_days=1)
    # the on-access scanner is real: a file written to the watched directory is scanned (written
    # again until seen: clamonacc adds its fanotify marks a moment after it logs "watching")
    write_and_look = (
        f"printf '%s' '{EICAR}' > /srv/data/eicar.txt && sleep 0.3 && "
        "grep -q 'Baluarte.Test.EICAR' /var/log/clamav/clamonacc.log"
    )
    wait_for(good, write_and_look, seconds=30)
    clamav_daily(bad, age_days=10)
    # administrator disabled the daemon at boot (systemctl disable, done by hand)
    bad.run("rm -f /etc/systemd/system/*.wants/clamav-daemon.* /etc/rc?.d/S*clamav-daemon")
    result, got = run_check(
        tmp_path,
        lab,
        {good: "clamav", bad: "clamav"},
        [policy("clamav", "clamav", "clamav", disk=True)],
    )
    status = {(d, c.split(".")[1]): f["status"] for (d, c), f in got.items()}
    assert [status["clam-good", c] for c in CONTROLS] == ["pass"] * 4, result.stdout
    assert [status["clam-bad", c] for c in CONTROLS] == ["pass", "fail", "fail", "fail"]
    g = {c: got["clam-good", f"endpoint.{c}"] for c in CONTROLS}
    assert "process clamd running" in g["running"]["observed"]
    assert "clamav-daemon" in g["running"]["observed"]  # enabled by the package's unit links
    assert "OnAccessIncludePath /srv/data" in g["realtime_protection"]["observed"]
    assert re.search(r"daily\.cld built .*, 1\.0 days old", g["signatures_current"]["observed"])
    b = {c: got["clam-bad", f"endpoint.{c}"] for c in CONTROLS}
    assert "no clamd process running" in b["running"]["observed"]
    assert "not enabled at boot" in b["running"]["observed"]
    assert "no OnAccessIncludePath" in b["realtime_protection"]["observed"]
    assert "10.0 days old" in b["signatures_current"]["observed"]
    # lab hosts are overlays: the real answer is "not encrypted", with the reason
    disk = got["clam-good", "endpoint.disk_encryption"]
    assert disk["status"] == "fail" and "/ is overlay" in disk["observed"]
    assert result.returncode == 1


# -- stand-ins for products that cannot be installed here ----------------------------------------


def stand_in(host: LinuxHost, path: str, body: str) -> None:
    target = host.root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f"#!/bin/sh\n{body}\n")
    target.chmod(0o755)


def stand_in_package(host: LinuxHost, name: str, files: dict[str, str | None]) -> None:
    """Install a package ``name`` built with dpkg-deb, shipping ``files``: path -> a script's
    body, or None for a copy of the image's ``sleep`` (a real program: an engine's stand-in,
    whose /proc/PID/exe is then that path)."""
    with tempfile.TemporaryDirectory(prefix="baluarte-standin-") as tmp:
        tree = Path(tmp) / name
        (tree / "DEBIAN").mkdir(parents=True)
        (tree / "DEBIAN/control").write_text(
            f"Package: {name}\nVersion: 1.0-baluarte\nArchitecture: all\n"
            f"Maintainer: Baluarte lab <lab@example.invalid>\nDescription: stand-in {name}\n"
        )
        for path, body in files.items():
            target = tree / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            if body is None:
                target.write_bytes((host.root / "usr/bin/sleep").read_bytes())
            else:
                target.write_text(f"#!/bin/sh\n{body}\n")
            target.chmod(0o755)
        deb = Path(tmp) / f"{name}.deb"
        subprocess.run(
            ["dpkg-deb", "-Zgzip", "--root-owner-group", "--build", str(tree), str(deb)],
            check=True,
            capture_output=True,
        )
        (host.root / "tmp" / deb.name).write_bytes(deb.read_bytes())
    host.run(f"dpkg -i /tmp/{name}.deb >/dev/null && rm /tmp/{name}.deb")


def engine_program(host: LinuxHost, path: str) -> None:
    """A real program at ``path`` (a copy of ``sleep``), root's own file, no package."""
    target = host.root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes((host.root / "usr/bin/sleep").read_bytes())
    target.chmod(0o755)


def start_engine(host: LinuxHost, path: str, user: str = "root") -> None:
    """Run the program at ``path`` (a sleep) in the background as ``user``: its name (comm) is
    the file's name."""
    run = f"runuser -u {user} -- {path}" if user != "root" else path
    host.run(f"{run} infinity >/dev/null 2>&1 </dev/null &")


def enable_unit(host: LinuxHost, unit: str) -> None:
    host.run(
        f"ln -sf /lib/systemd/system/{unit} /etc/systemd/system/multi-user.target.wants/{unit}"
    )


def defender(host: LinuxHost, sample: str, days_old: float | None = None) -> None:
    text = (SAMPLES / sample).read_text()
    if days_old is not None:  # recorded JSON, with the definitions' time moved to "now"
        doc = json.loads(text)
        doc["definitionsUpdated"] = str(int((time.time() - days_old * 86400) * 1000))
        text = json.dumps(doc)
    (host.root / "opt/standin").mkdir(parents=True, exist_ok=True)
    (host.root / "opt/standin/mdatp-health").write_text(text)
    rc = 1 if "daemon_down" in sample else 0
    stand_in_package(
        host,
        "mdatp",
        {
            "/usr/bin/mdatp": f"cat /opt/standin/mdatp-health; exit {rc}",
            WDAVDAEMON: None,
        },
    )
    if rc == 0:  # the daemon is up (even when its CLI answers garbage)
        start_engine(host, WDAVDAEMON)
    enable_unit(host, "mdatp.service")


def sophos(host: LinuxHost, shs: str, alc_last_good: float) -> None:
    base = host.root / "opt/sophos-spl/base"
    (base / "mcs/status").mkdir(parents=True)
    (base / "VERSION.ini").write_text((SAMPLES / "sophos_VERSION.ini").read_text())
    (base / "mcs/status/SHS_status.xml").write_text((SAMPLES / shs).read_text())
    stamp = time.strftime("%Y%m%d %H%M%S", time.gmtime(time.time() - alc_last_good * 86400))
    alc = (SAMPLES / "sophos_ALC_status_good.pass.xml").read_text()
    (base / "mcs/status/ALC_status.xml").write_text(re.sub(r"\d{8} \d{6}", stamp, alc))
    stand_in(host, "/opt/sophos-spl/bin/wdctl", "exit 0")
    for program in (SOPHOS_WATCHDOG, SOPHOS_SOAPD):
        engine_program(host, program)
        start_engine(host, program)
    enable_unit(host, "sophos-spl.service")


def falcon(host: LinuxHost, sample: str) -> None:
    lines = (SAMPLES / sample).read_text().splitlines()
    cases = "\n".join(
        f"  {flag}) echo '{answer}' ;;" for flag, answer in (ln.split(" ", 1) for ln in lines)
    )
    stand_in_package(
        host,
        "falcon-sensor",
        {"/opt/CrowdStrike/falconctl": f'case "$2" in\n{cases}\nesac', FALCON_SENSOR: None},
    )
    start_engine(host, FALCON_SENSOR)
    enable_unit(host, "falcon-sensor.service")


def encrypted_root(host: LinuxHost) -> None:
    """lsblk and dmsetup stand-ins describing LVM on LUKS (the lab's real root is an overlay)."""
    (host.root / "opt/standin").mkdir(parents=True, exist_ok=True)
    for name in ("lsblk_luks_lvm.pass.json", "dmsetup_crypt_table.txt"):
        (host.root / "opt/standin" / name).write_text((SAMPLES / name).read_text())
    stand_in(host, "/usr/local/bin/lsblk", "cat /opt/standin/lsblk_luks_lvm.pass.json")
    stand_in(host, "/usr/local/sbin/dmsetup", "cat /opt/standin/dmsetup_crypt_table.txt")


def test_stand_in_products_pass_fail_and_error(tmp_path, lab, make_host):
    hosts = {name: make_host(name) for name in (
        "mde-ok", "mde-bad", "mde-down", "mde-garbled", "sophos-ok", "sophos-bad", "falcon-ok", "falcon-rfm",
        "falcon-garbled",
    )}  # fmt: skip
    defender(hosts["mde-ok"], "mdatp_health_healthy.pass.json", days_old=0.5)
    encrypted_root(hosts["mde-ok"])
    defender(hosts["mde-bad"], "mdatp_health_rtp_off_stale.fail.json", days_old=9)
    defender(hosts["mde-down"], "mdatp_health_daemon_down.error.txt")
    defender(hosts["mde-garbled"], "mdatp_health_truncated.error.txt")
    sophos(hosts["sophos-ok"], "sophos_SHS_status_good.pass.xml", alc_last_good=0.2)
    sophos(hosts["sophos-bad"], "sophos_SHS_status_av_down.fail.xml", alc_last_good=6)
    falcon(hosts["falcon-ok"], "falconctl_healthy.pass.txt")
    falcon(hosts["falcon-rfm"], "falconctl_rfm.fail.txt")
    falcon(hosts["falcon-garbled"], "falconctl_garbled.error.txt")
    tags = {h: name.split("-")[0] for name, h in hosts.items()}
    policies = [
        policy("mde", "defender", "mde", disk=True),
        policy("sophos", "sophos", "sophos"),
        policy("falcon", "crowdstrike", "falcon"),
    ]
    result, got = run_check(tmp_path, lab, tags, policies)

    def row(device: str) -> list[str]:
        return [got[device, f"endpoint.{c}"]["status"] for c in CONTROLS]

    assert row("mde-ok") == ["pass"] * 4, result.stdout
    assert row("mde-bad") == ["pass", "fail", "fail", "fail"]
    # daemon down: a fact, so fail; daemon up but its answer unreadable: error, never pass
    assert row("mde-down") == ["pass", "fail", "error", "error"]
    assert row("mde-garbled") == ["pass", "error", "error", "error"]
    assert row("sophos-ok") == ["pass"] * 4
    assert row("sophos-bad") == ["pass", "fail", "fail", "fail"]
    # Falcon keeps no local signatures: not applicable, never a pass
    assert row("falcon-ok") == ["pass", "pass", "pass", "not_applicable"]
    assert row("falcon-rfm") == ["pass", "pass", "fail", "not_applicable"]
    assert row("falcon-garbled")[:3] == ["pass", "pass", "error"]
    bad = got["mde-bad", "endpoint.running"]["observed"]
    assert "not healthy (no active event provider; definitions out of date)" in bad
    assert "9.0 days old" in got["mde-bad", "endpoint.signatures_current"]["observed"]
    assert "no wdavdaemon process running" in got["mde-down", "endpoint.running"]["observed"]
    reason = got["mde-down", "endpoint.realtime_protection"]["reason"]
    assert "Could not connect to daemon" in reason
    assert "mdatp health gave no health report" in got["mde-garbled", "endpoint.running"]["reason"]
    assert "Sophos Linux AntiVirus=1" in got["sophos-bad", "endpoint.running"]["observed"]
    # the engines were told by their programs, not their names
    assert (
        f"process sophos_watchdog running ({SOPHOS_WATCHDOG} as root)"
        in (got["sophos-ok", "endpoint.running"]["observed"])
    )
    assert (
        f"process falcon-sensor running ({FALCON_SENSOR} as root)"
        in (got["falcon-ok", "endpoint.running"]["observed"])
    )
    assert "rfm-state=true" in got["falcon-rfm", "endpoint.realtime_protection"]["observed"]
    disk_ok, disk_bad = (
        got["mde-ok", "endpoint.disk_encryption"],
        got["mde-bad", "endpoint.disk_encryption"],
    )
    assert disk_ok["status"] == "pass", disk_ok
    assert "nvme0n1p3_crypt (aes-xts-plain64)" in disk_ok["observed"]
    assert "vg0-root lvm ext4" in disk_ok["evidence"]
    assert disk_bad["status"] == "fail"
    assert result.returncode == 3  # error findings make the run exit 3


def test_any_product_passes_on_whichever_product_satisfies(tmp_path, lab, make_host):
    # "plain" is the image as shipped: ClamAV installed, clamd not running, never updated
    plain, with_sophos, with_down = (
        make_host("plain"),
        make_host("with-sophos"),
        make_host("mde-dn"),
    )
    sophos(with_sophos, "sophos_SHS_status_good.pass.xml", alc_last_good=0.2)
    defender(with_down, "mdatp_health_truncated.error.txt")
    tags = {plain: "any", with_sophos: "any", with_down: "any"}
    result, got = run_check(tmp_path, lab, tags, [policy("any", "any", "any")])

    def row(device: str) -> list[str]:
        return [got[device, f"endpoint.{c}"]["status"] for c in CONTROLS]

    assert row("plain") == ["pass", "fail", "fail", "fail"], result.stdout
    assert "no daily database" in got["plain", "endpoint.signatures_current"]["observed"]
    assert row("with-sophos") == ["pass"] * 4
    assert "Sophos" in got["with-sophos", "endpoint.running"]["observed"]
    # ClamAV fails and Defender cannot be read: it might have passed, so error, not fail
    assert row("mde-dn")[1:] == ["error"] * 3


def test_signatures_dated_in_the_future_are_an_error_not_current(tmp_path, lab, make_host):
    """A database header built "in 30 days" has a negative age that would pass any limit: one of
    the clocks is wrong, so the age cannot be told."""
    ahead, fresh = make_host("sig-ahead"), make_host("sig-fresh")
    clamav_daily(ahead, age_days=-30)
    clamav_daily(fresh, age_days=0.5)
    _, got = run_check(tmp_path, lab, {ahead: "clamav", fresh: "clamav"}, [policy("c", "clamav", "clamav")])  # fmt: skip
    finding = got["sig-ahead", "endpoint.signatures_current"]
    assert finding["status"] == "error", finding
    assert re.search(
        r"dated 30\.0 days ahead of (the device's|this run's) clock", finding["reason"]
    )
    assert got["sig-fresh", "endpoint.signatures_current"]["status"] == "pass"


def test_luks_root_whose_cipher_cannot_be_read_is_an_error_not_encrypted(tmp_path, lab, make_host):
    """LUKS can hold cipher_null (a placeholder to encrypt later): without the dm-crypt table
    (dmsetup needs root) the layer alone proves no encryption."""
    readable, denied = make_host("luks-root"), make_host("luks-user")
    encrypted_root(readable)
    encrypted_root(denied)
    stand_in(
        denied,
        "/usr/local/sbin/dmsetup",
        "echo '/dev/mapper/control: open failed: Permission denied' >&2\n"
        "echo 'Command failed.' >&2\nexit 1",
    )
    tags = {readable: "luks", denied: "luks"}
    _, got = run_check(tmp_path, lab, tags, [policy("luks", "clamav", "luks", disk=True)])
    assert got["luks-root", "endpoint.disk_encryption"]["status"] == "pass"
    disk = got["luks-user", "endpoint.disk_encryption"]
    assert disk["status"] == "error", disk
    assert "nvme0n1p3_crypt (LUKS), but its cipher could not be read" in disk["reason"]
    assert "Permission denied" in disk["reason"]


def test_a_unit_systemd_masks_at_runtime_is_not_enabled_whatever_links_remain(
    tmp_path, systemd_lab, make_systemd_host
):
    """With systemd as PID 1 its word decides what starts at boot: a runtime mask (in /run)
    leaves the package's *.wants and rc?.d links in place, and they must not count."""
    masked, enabled = make_systemd_host("sd-masked"), make_systemd_host("sd-enabled")
    masked.systemctl("mask", "--runtime", "clamav-daemon.service", "clamav-daemon.socket")
    for host in (masked, enabled):
        start_clamd(host, on_access=False)  # by hand: the engine runs now either way
    _, got = run_check(
        tmp_path,
        systemd_lab,
        {masked: "clamav", enabled: "clamav"},
        [policy("c", "clamav", "clamav")],
    )
    bad, good = got["sd-masked", "endpoint.running"], got["sd-enabled", "endpoint.running"]
    assert bad["status"] == "fail", bad
    assert "process clamd running" in bad["observed"] and "masked-runtime" in bad["observed"]
    assert good["status"] == "pass", good
    assert "systemd: clamav-daemon.service" in good["observed"]


CLAMD_UNDER_SYSTEMD = """[Unit]
# the lab's one-signature database is not the main/daily pair the package's unit waits for
ConditionPathExistsGlob=
"""


def test_clamd_under_systemd_is_judged_by_the_units_main_process(
    tmp_path, systemd_lab, make_systemd_host
):
    """systemd's own view counts only when the unit's main process is ClamAV's program: a unit
    an override points at another program is active, and proves nothing."""
    real, other = make_systemd_host("sd-clamd"), make_systemd_host("sd-other")
    for host, extra in (
        (real, ""),
        (other, "[Service]\nExecStart=\nExecStart=/usr/bin/sleep infinity\n"),
    ):
        dropins = host.root / "etc/systemd/system/clamav-daemon.service.d"
        dropins.mkdir(parents=True, exist_ok=True)  # the package's own extend.conf is there
        (dropins / "lab.conf").write_text(CLAMD_UNDER_SYSTEMD + extra)
        (host.root / "var/lib/clamav/local.hdb").write_text(EICAR_HDB)
        host.run("chown -R clamav:clamav /var/lib/clamav")
        host.systemctl("daemon-reload")
        host.systemctl("start", "clamav-daemon.service")
    wait_for(real, "test -S /run/clamav/clamd.ctl", seconds=60)
    main = real.unit_properties("clamav-daemon.service", "MainPID")["MainPID"]
    _, got = run_check(
        tmp_path, systemd_lab, {real: "clamav", other: "clamav"}, [policy("c", "clamav", "clamav")]
    )
    good, bad = got["sd-clamd", "endpoint.running"], got["sd-other", "endpoint.running"]
    assert good["status"] == "pass", good
    assert (
        f"systemd: clamav-daemon.service active, main process {main} (/usr/sbin/clamd as clamav)"
        in good["observed"]
    )
    assert bad["status"] == "fail", bad
    assert re.search(
        r"systemd: clamav-daemon\.service active, but a process named sleep \(PID \d+\) runs "
        r"/usr/bin/sleep as root: not ClamAV's daemon \(/usr/bin/sleep belongs to package "
        r"coreutils\)",
        bad["observed"],
    )
