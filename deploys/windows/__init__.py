"""Windows remedies for ``baluarte apply``: control id → remedy, and manual steps for the rest.

Remedies are pure: (domain facts, policy parameters, RemedyContext) → Remedy (a fix script of
``ps/`` and its parameters), Manual, Refused (the WinRM lockout guard) or None (the control
passes). BitLocker, local administrators and the password policy stay report-only: changing
them remotely without escrow or an allowlist locks people out (reference/windows.md §3.15).
"""

from __future__ import annotations

from baluarte.remediation import RemedyFunction
from deploys._lazy import lazy_executor
from deploys.windows import access, endpoint, firewall, patching

__all__ = ["EXECUTOR", "MANUAL", "REMEDIES"]

REMEDIES: dict[str, RemedyFunction] = {
    "patching.security_updates_pending": patching.security_updates_pending,
    "patching.updates_pending": patching.updates_pending,
    "firewall.enabled": firewall.enabled,
    "firewall.default_inbound_deny": firewall.default_inbound_deny,
    "endpoint.realtime_protection": endpoint.realtime_protection,
    "endpoint.signatures_current": endpoint.signatures_current,
    "access.insecure_admin_protocols": access.insecure_admin_protocols,
}

MANUAL: dict[str, str] = {
    "patching.days_since_last_update": "find why Windows Update stopped installing (Settings > "
    "Windows Update > Update history; `Get-WindowsUpdateLog`), install the pending updates and "
    "let patching.automatic_updates keep it going.",
    "patching.automatic_updates": "set the Windows Update policy in the GPO or Intune "
    "(Configure Automatic Updates: 4 - auto download and schedule the install, or Windows "
    "Update for Business rings); locally: `gpedit.msc` > Windows Update > Manage end user "
    "experience. Make sure the wuauserv service is not disabled.",
    "patching.reboot_required": "restart the computer in a maintenance window (`Restart-Computer` "
    "or Settings > Windows Update > Restart now) after warning its user.",
    "patching.minimum_versions": "install the latest cumulative update for the host's Windows "
    "version, or upgrade to a supported feature update (Windows 11 24H2 or later) with the "
    "Installation Assistant or Intune feature update policy.",
    "firewall.allowed_inbound": "review the enabled inbound allow rules (`Get-NetFirewallRule "
    "-Direction Inbound -Enabled True -Action Allow`) and disable the ones the policy does not "
    "list (`Disable-NetFirewallRule -Name <rule>`), keeping the WinRM rule Baluarte uses; "
    "better in the GPO/Intune firewall policy.",
    "endpoint.installed": "install an anti-malware product: re-enable Microsoft Defender "
    "Antivirus (remove the policy turning it off) or deploy the provider's product (Sophos "
    "Central installer) and check Windows Security.",
    "endpoint.running": "start the anti-malware engine: for Defender check that WinDefend runs "
    "and is not in passive mode; for Sophos, the Sophos services and Sophos Central's health.",
    "endpoint.tamper_protection": "turn Tamper Protection on in Windows Security > Virus & "
    "threat protection settings, or centrally in Microsoft Defender / Intune; for Sophos, in "
    "the Sophos Central policy.",
    "endpoint.disk_encryption": "turn BitLocker on for the system drive with a TPM protector and "
    "a recovery password escrowed to Active Directory / Entra ID first (`Enable-BitLocker -"
    "MountPoint C: -EncryptionMethod XtsAes256 -UsedSpaceOnly -TpmProtector`, then "
    "`Add-BitLockerKeyProtector -RecoveryPasswordProtector` and `BackupToAAD-BitLockerKey"
    "Protector`); Baluarte does not do it remotely without escrow.",
    "backup.configured": "install Veeam Agent for Windows and create a backup job (managed "
    "from Veeam Backup & Replication or the Veeam Service Provider Console) covering the "
    "policy's sources.",
    "backup.last_success_age": "open the Veeam Agent's Control Panel (or the Veeam console), "
    "read why the last job failed (event 190 in the Veeam Agent log), fix it and run the job.",
    "backup.encrypted": "turn on encryption in the Veeam backup job's storage settings "
    "(Advanced > Storage > Enable backup file encryption), keep the password in the vault, "
    "then run an active full backup.",
    "access.admin_accounts": "remove the accounts the policy does not allow from the local "
    "Administrators group (`Remove-LocalGroupMember -SID S-1-5-32-544 -Member <name>`), or add "
    "them to access.admin_accounts.allowed if they are legitimate; Baluarte never removes "
    "administrators itself.",
    "access.password_policy": "set the password and lockout policy in the domain GPO (Computer "
    "Configuration > Windows Settings > Security Settings > Account Policies) or, for a "
    "standalone PC, `net accounts /minpwlen:14 /maxpwage:365 /lockoutthreshold:5 "
    "/lockoutduration:15`.",
    "logging.time_sync": "turn the Windows Time service on and point it at a time source: "
    '`w32tm /config /syncfromflags:manual /manualpeerlist:"time.windows.com" /update`, '
    "`Set-Service W32Time -StartupType Automatic`, `w32tm /resync`.",
}

__getattr__ = lazy_executor(__name__)  # EXECUTOR: loaded only by apply
