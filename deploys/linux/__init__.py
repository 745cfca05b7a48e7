"""Linux remedies for ``baluarte apply``: control id → remedy, and manual steps for the rest.

Remedies are pure: (domain facts, policy parameters, RemedyContext) → Remedy (pyinfra
operations as OpSpec), Manual, Refused (a lockout guard) or None (nothing to do).
Debian and Ubuntu first; the RHEL family where it is cheap (each module says which).
"""

from __future__ import annotations

from baluarte.remediation import RemedyFunction
from deploys._lazy import lazy_executor
from deploys.linux import access, endpoint, firewall, patching
from deploys.linux import logging as logs

__all__ = ["EXECUTOR", "MANUAL", "REMEDIES"]

REMEDIES: dict[str, RemedyFunction] = {
    "patching.security_updates_pending": patching.security_updates_pending,
    "patching.automatic_updates": patching.automatic_updates,
    "firewall.enabled": firewall.enabled,
    "firewall.default_inbound_deny": firewall.default_inbound_deny,
    "firewall.allowed_inbound": firewall.allowed_inbound,
    "endpoint.installed": endpoint.installed,
    "endpoint.running": endpoint.running,
    "access.ssh_password_authentication": access.ssh_password_authentication,
    "access.ssh_root_login": access.ssh_root_login,
    "logging.remote_forwarding": logs.remote_forwarding,
    "logging.time_sync": logs.time_sync,
}

MANUAL: dict[str, str] = {
    "patching.updates_pending": "install the pending updates in a maintenance window: "
    "`apt-get update && apt-get dist-upgrade` (Debian/Ubuntu) or `dnf upgrade` (RHEL), after "
    "reading what will change; Baluarte installs only security updates by itself.",
    "patching.days_since_last_update": "install updates now (`apt-get dist-upgrade` / `dnf "
    "upgrade`) and schedule them: turn on patching.automatic_updates.",
    "patching.reboot_required": "reboot the host in a maintenance window (`systemctl reboot`); "
    "`needrestart -r l` or `dnf needs-restarting -r` says why it is needed.",
    "patching.kernel_current": "reboot into the newest installed kernel (`systemctl reboot`); "
    "check the default boot entry with `grubby --default-kernel` (RHEL) or /boot/grub/grub.cfg.",
    "patching.minimum_versions": "upgrade the packages below their minimum: `apt-get install "
    "--only-upgrade <package>` or `dnf upgrade <package>`; add the vendor repository if the "
    "distribution does not ship the version.",
    "patching.package_sources": "run `apt-get update` (`dnf makecache`) and fix what it "
    "reports (an unreachable mirror or proxy, an expired key); add the security source "
    "(Debian: `deb http://security.debian.org/debian-security <codename>-security main`); on "
    "a release past its support, upgrade to a supported one.",
    "endpoint.realtime_protection": "ClamAV: set OnAccessIncludePath (e.g. /home) and "
    "OnAccessExcludeUname clamav in /etc/clamav/clamd.conf, then run clamonacc "
    "(`systemctl enable --now clamav-clamonacc`); other products: turn real-time protection "
    "on in their console (`mdatp config real-time-protection --value enabled`).",
    "endpoint.signatures_current": "ClamAV: check that clamav-freshclam runs and reaches its "
    "mirrors (`journalctl -u clamav-freshclam`, /var/log/clamav/freshclam.log); run "
    "`freshclam` once by hand. Other products: update definitions from their console.",
    "endpoint.disk_encryption": "the root filesystem can only be encrypted by reinstalling "
    "with LUKS (Debian installer: guided – use entire disk and set up encrypted LVM) and "
    "restoring data, or by an offline conversion (`cryptsetup reencrypt --encrypt`) after a "
    "verified backup.",
    "backup.configured": "set up a backup job (restic or borg with a systemd timer) whose "
    "source includes the paths the policy lists, and check `restic snapshots` / `borg list`.",
    "backup.last_success_age": "find why the backup job stopped succeeding (`systemctl status "
    "<unit>`, `journalctl -u <unit>`), fix it and run it once by hand.",
    "backup.encrypted": "move the backups to an encrypted repository: `restic init` (always "
    "encrypted) or `borg init --encryption=repokey`, keep the key safe, then retire the old one.",
    "backup.restore_tested": "restore a sample to a scratch directory (`restic restore latest "
    "--target /tmp/r --include <file>` or `borg extract`), compare it, and record the test "
    "(`baluarte check --restore-test` does both).",
    "access.admin_accounts": "remove the accounts the policy does not allow from the sudo/wheel "
    "groups (`gpasswd -d <user> sudo`), from /etc/sudoers.d and from UID 0 (`usermod`/`userdel`), "
    "or add them to access.admin_accounts.allowed if they are legitimate.",
    "access.password_policy": "set minlen and the class credits in /etc/security/pwquality.conf, "
    "add pam_faillock (deny=, unlock_time=) with `pam-auth-update` (Debian) or `authselect "
    "enable-feature with-faillock` (RHEL), and PASS_MAX_DAYS in /etc/login.defs.",
    "access.insecure_admin_protocols": "remove or disable the insecure services found "
    "(`apt-get purge telnetd inetutils-ftpd rsh-server`, `systemctl disable --now <unit>`) "
    "and manage the host over SSH only.",
}

__getattr__ = lazy_executor(__name__)  # EXECUTOR: loaded only by apply
