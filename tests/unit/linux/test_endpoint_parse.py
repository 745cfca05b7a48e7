"""parse() of the endpoint fragment: ClamAV, services and disk encryption, on recorded output.

The ``clamav_*.json`` and ``lab_image_as_shipped`` samples are the fragment's real output on
Debian 12 lab hosts (recorded by running the collection script there).
"""

import json
from datetime import UTC, datetime
from pathlib import Path

from checks.linux.endpoint import parse
from checks.linux.endpoint_clamav import parse_cvd_header
from checks.linux.endpoint_disk import parse_disk
from tests.unit.linux.daemon_table import genuine

SAMPLES = Path(__file__).parents[2] / "samples" / "linux" / "endpoint"


def recorded(name: str) -> tuple[dict, dict]:
    doc = json.loads((SAMPLES / name).read_text())
    return doc["endpoint"], doc["host"]


def field(out: str, rc: int = 0) -> dict:
    return {"out": out, "rc": rc}


def test_clamav_with_clamonacc_and_fresh_daily_is_fully_protected():
    facts = parse(*recorded("clamav_onaccess_fresh.pass.json"))
    clam = facts.product("clamav")
    assert clam.installed and clam.version == "1.4.3+dfsg-1~deb12u2"
    assert clam.running is True and clam.enabled is True
    assert "process clamd running" in clam.running_detail
    assert clam.realtime is True and "OnAccessIncludePath /srv/data" in clam.realtime_detail
    assert clam.signatures_built == datetime.fromtimestamp(1795768097, UTC)
    assert clam.signature_age_days == 1.0
    assert not facts.product("defender").installed
    assert facts.problems == ()


def test_clamav_stopped_disabled_and_stale_reads_as_such():
    clam = parse(*recorded("clamav_stopped_disabled_stale.fail.json")).product("clamav")
    assert clam.running is False and clam.enabled is False
    assert "checked /etc/systemd/system, /etc/rc2.d" in clam.running_detail
    assert clam.realtime is False
    assert clam.signature_age_days == 10.0


def test_image_as_shipped_has_no_daily_database_which_is_a_fact_not_a_doubt():
    clam = parse(*recorded("lab_image_as_shipped.fail.json")).product("clamav")
    assert clam.signature_age_days is None and clam.problems == ()
    assert "no daily database in /var/lib/clamav" in clam.signatures_detail


def test_cvd_header_prefers_epoch_and_falls_back_to_the_text_date():
    head = "ClamAV-VDB:28 Nov 2026 05-53 +0000:27000:1:216:abc:dsig:y:1795845185" + " " * 40
    assert parse_cvd_header(head) == (datetime.fromtimestamp(1795845185, UTC), 27000)
    no_epoch = "ClamAV-VDB:28 Nov 2026 05-53 +0100:27000:1:216:abc"
    assert parse_cvd_header(no_epoch)[0] == datetime(2026, 11, 28, 4, 53, tzinfo=UTC)
    assert parse_cvd_header("\x1f\x8b garbage") is None
    assert parse_cvd_header("ClamAV-VDB:yesterday:x") is None


def test_newest_daily_of_cvd_and_cld_counts_and_main_is_ignored():
    raw, host = recorded("clamav_onaccess_fresh.pass.json")
    raw["clamdb"] = field(
        "dir /var/lib/clamav\n"
        "header main.cvd ClamAV-VDB:16 Sep 2021 08-32 -0400:62:6647427:90:x:y:sigmgr:1631795029\n"
        "header daily.cvd ClamAV-VDB:x:26000:1:90:x:y:b:1795000000\n"
        "header daily.cld ClamAV-VDB:x:27000:1:90:x:y:b:1795768097\n"
    )
    clam = parse(raw, host).product("clamav")
    assert clam.signatures_built == datetime.fromtimestamp(1795768097, UTC)
    assert "daily.cld" in clam.signatures_detail and "version 27000" in clam.signatures_detail


def test_corrupt_daily_header_is_unknown_not_current():
    raw, host = recorded("clamav_onaccess_fresh.pass.json")
    raw["clamdb"] = field("dir /var/lib/clamav\nheader daily.cld \x1f\x8bnot a header\n")
    clam = parse(raw, host).product("clamav")
    assert clam.signature_age_days is None
    assert "daily.cld: unreadable CVD header" in clam.problems


def test_unreadable_database_directory_is_a_problem():
    raw, host = recorded("clamav_onaccess_fresh.pass.json")
    raw["clamdb"] = field("dir /srv/clamdb", 1)
    clam = parse(raw, host).product("clamav")
    assert clam.signature_age_days is None
    assert clam.problems == ("cannot read the ClamAV database directory /srv/clamdb",)


def test_on_access_configured_but_clamonacc_not_running_is_off():
    raw, host = recorded("clamav_onaccess_fresh.pass.json")
    raw["procs"] = genuine("clamd")
    clam = parse(raw, host).product("clamav")
    assert clam.realtime is False
    assert "but no clamonacc process running" in clam.realtime_detail


def test_legacy_scan_on_access_is_named_and_not_counted():
    raw, host = recorded("clamav_onaccess_fresh.pass.json")
    raw["clamconf"] = field("# /etc/clamav/clamd.conf\nScanOnAccess yes\n")
    clam = parse(raw, host).product("clamav")
    assert clam.realtime is False and "ScanOnAccess is ignored" in clam.realtime_detail


def test_systemd_view_counts_when_systemd_is_pid_1():
    raw, host = recorded("clamav_stopped_disabled_stale.fail.json")
    raw["systemd"] = field(
        "Id=clamav-daemon.service\nActiveState=active\nUnitFileState=enabled\nMainPID=100\n"
        "User=\n\nId=mdatp.service\nActiveState=inactive\nUnitFileState=\nMainPID=0\nUser=\n"
    )
    raw["procs"] = genuine("clamd")  # pid 100: the unit's main process
    clam = parse(raw, host).product("clamav")
    assert clam.running is True and clam.enabled is True
    assert (
        "systemd: clamav-daemon.service active, main process 100 (/usr/sbin/clamd as clamav)"
        in clam.running_detail
    )


def test_masked_unit_is_not_enabled():
    raw, host = recorded("clamav_onaccess_fresh.pass.json")
    raw["links"] = field(
        "/etc/rc2.d/S01clamav-freshclam\nmasked /etc/systemd/system/clamav-daemon.service\n"
        "dir /etc/systemd/system"
    )
    clam = parse(raw, host).product("clamav")
    assert clam.enabled is False and "clamav-daemon.service masked" in clam.running_detail


def test_old_fragment_without_fields_gives_unknowns_not_a_crash():
    facts = parse({}, {})
    assert facts.products is None and facts.disk is None
    assert "the installed packages and product paths were not collected" in facts.problems


def test_missing_process_table_leaves_running_unknown():
    raw, host = recorded("clamav_onaccess_fresh.pass.json")
    del raw["procs"]
    facts = parse(raw, host)
    clam = facts.product("clamav")
    assert clam.running is None and clam.realtime is None
    assert "the process table was not collected" in facts.problems


# -- disk encryption -------------------------------------------------------------------------


def disk_raw(**fields) -> dict:
    raw, _ = recorded("lab_image_as_shipped.fail.json")
    raw.update(fields)
    return raw


def test_lab_overlay_root_is_not_encrypted_with_the_reason():
    disk, why = parse_disk(recorded("lab_image_as_shipped.fail.json")[0])
    assert why is None and disk.encrypted is False and disk.source == "mountinfo"
    assert disk.detail.startswith("/ is overlay")


def test_lvm_on_luks_from_lsblk_is_encrypted_and_the_key_never_read():
    table = (SAMPLES / "dmsetup_crypt_table.txt").read_text()
    key = table.split()[5]
    # what the fragment's awk keeps of the table: name, cipher, device
    kept = " ".join(table.split()[i] for i in (0, 4, 7))
    raw = disk_raw(
        lsblk=field((SAMPLES / "lsblk_luks_lvm.pass.json").read_text()),
        dmcrypt=field(kept),
        root_mount=field("254:1 ext4 /dev/mapper/vg0-root"),
    )
    disk, _ = parse_disk(raw)
    assert disk.encrypted is True and disk.source == "lsblk"
    assert disk.layers == (
        "vg0-root lvm ext4",
        "nvme0n1p3_crypt crypt LVM2_member",
        "nvme0n1p3 part crypto_LUKS",
        "nvme0n1 disk",
    )
    assert "nvme0n1p3_crypt (aes-xts-plain64)" in disk.detail
    assert key not in disk.model_dump_json()


def test_encrypted_srv_does_not_make_a_plain_root_encrypted():
    raw = disk_raw(lsblk=field((SAMPLES / "lsblk_plain_root_encrypted_srv.fail.json").read_text()))
    disk, _ = parse_disk(raw)
    assert disk.encrypted is False and disk.root == "ext4 on sda1"
    assert "no dm-crypt layer" in disk.detail


def test_cipher_null_is_not_encryption():
    raw = disk_raw(
        lsblk=field((SAMPLES / "lsblk_luks_lvm.pass.json").read_text()),
        dmcrypt=field("nvme0n1p3_crypt: cipher_null-ecb 259:3"),
    )
    disk, _ = parse_disk(raw)
    assert disk.encrypted is False and "cipher_null" in disk.detail


def test_sysfs_chain_decides_when_lsblk_is_missing():
    raw = disk_raw(
        root_mount=field("254:1 ext4 /dev/mapper/vg0-root"),
        root_chain=field(
            "dev dm-1 uuid=LVM-abcdef name=vg0-root\n"
            "dev dm-0 uuid=CRYPT-LUKS2-0123456789abcdef-nvme0n1p3_crypt name=nvme0n1p3_crypt\n"
            "dev nvme0n1p3 uuid= name=\n"
        ),
        dmcrypt=field("nvme0n1p3_crypt: aes-xts-plain64 259:3"),
    )
    del raw["lsblk"]
    disk, _ = parse_disk(raw)
    assert disk.encrypted is True and disk.source == "sysfs"
    assert "nvme0n1p3_crypt (aes-xts-plain64)" in disk.detail


def test_a_luks_layer_whose_cipher_cannot_be_read_is_unknown_not_encrypted():
    # dmsetup needs root; LUKS may hold cipher_null, so the layer alone proves nothing
    failed = "/dev/mapper/control: open failed: Permission denied\nCommand failed."
    lsblk = field((SAMPLES / "lsblk_luks_lvm.pass.json").read_text())
    for dmcrypt in (field(failed, 1), None):
        raw = disk_raw(lsblk=lsblk, root_mount=field("254:1 ext4 /dev/mapper/vg0-root"))
        if dmcrypt is None:
            del raw["dmcrypt"]  # no dmsetup on the host
        else:
            raw["dmcrypt"] = dmcrypt
        disk, why = parse_disk(raw)
        assert disk is None and "nvme0n1p3_crypt (LUKS)" in why and "cipher_null" in why
    assert "Permission denied" in parse_disk(disk_raw(lsblk=lsblk, dmcrypt=field(failed, 1)))[1]


def test_plain_sysfs_chain_is_not_encrypted():
    raw = disk_raw(
        root_mount=field("8:1 ext4 /dev/sda1"), root_chain=field("dev sda1 uuid= name=\n")
    )
    del raw["lsblk"]
    disk, _ = parse_disk(raw)
    assert disk.encrypted is False and disk.layers == ("sda1",)


def test_root_on_btrfs_or_zfs_without_lsblk_is_unknown():
    raw = disk_raw(root_mount=field("0:31 zfs rpool/ROOT/debian"))
    del raw["lsblk"]
    disk, why = parse_disk(raw)
    assert disk is None and "could not trace the block devices under /" in why
    facts = parse(raw, {})
    assert facts.disk is None and any("could not trace" in p for p in facts.problems)


def test_malformed_lsblk_falls_back_to_the_mount_record():
    disk, _ = parse_disk(disk_raw(lsblk=field('{"blockdevices": [ {"name"')))
    assert disk.encrypted is False and disk.source == "mountinfo"


def test_process_table_that_could_not_be_read_is_unknown_not_stopped():
    raw, host = recorded("clamav_onaccess_fresh.pass.json")
    raw["procs"] = field("", 1)
    clam = parse(raw, host).product("clamav")
    assert clam.running is None and "could not be read" in clam.running_detail
