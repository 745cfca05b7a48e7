"""The JSON contract between Baluarte's Windows check script and everything that reads it.

The collector runs one PowerShell script per host (``checks/windows/*.ps1`` assembled by
``checks/windows/script.py``); it prints ONE JSON document (one output object, a string):

    {"schema": "baluarte-windows/1",
     "host": {"ComputerName": "PC-RECEPCION", "Domain": "WORKGROUP", "PartOfDomain": false,
              "Now": "2026-11-28T10:00:00.0000000Z", "PSVersion": "5.1.19041.4648"},
     "checks": {"os.build": {"ok": true, "data": {...}, "ms": 120},
                "defender.status": {"ok": false, "error": "…", "errorId": "…"}, ...}}

Every check of ``CHECKS`` has an entry; ``ok: false`` is a non-terminating failure of that one
check (its controls become ``error`` with the message, the others are still judged). Dates are
ISO 8601 UTC strings, enums strings, lists always JSON arrays (PowerShell 5.1 pitfalls handled
in the script). ``Now`` is the host's clock when the script ran.

A Windows lab state file (``baluarte lab serve windows --state``) is that document plus the
host's name and OS: ``{"hostname": "PC-RECEPCION", "os": "Windows 11 Pro 24H2", "output":
<document>}`` — ``baluarte lab capture windows`` writes one from a real machine.
"""

from __future__ import annotations

__all__ = ["CHECKS", "MARKER", "SCHEMA"]

SCHEMA = "baluarte-windows/1"
# First line of the assembled script: how the lab server recognises Baluarte's check script.
MARKER = "# baluarte-windows-check schema=baluarte-windows/1"

# check id -> what it reads (reference/windows.md §3 has fields and samples for most of them)
CHECKS: dict[str, str] = {
    "os.build": "Win32_OperatingSystem + CurrentVersion registry: caption, build, UBR",
    "updates.installed": "Get-HotFix + WUA history: successful installs with their category GUIDs",
    "updates.pending": "WUA search IsInstalled=0 and Type='Software' (started before the other "
    "checks, bounded in time): UpdateIDs, titles, KBs, classification GUIDs",
    "reboot.pending": "CBS / WU / PendingFileRename / rename registry signals and their age",
    "wu.policy": "wuauserv start type, WSUS / Windows Update for Business / AU policy "
    "registry, pauses, default AU service",
    "defender.status": "WinDefend service, Get-MpComputerStatus, Get-MpPreference (counts of "
    "exclusions only), each on its own",
    "sophos.presence": "Sophos services, products, health registry",
    "firewall.profiles": "Get-NetFirewallProfile -PolicyStore ActiveStore (AllowInboundRules "
    "included)",
    "firewall.rules": "enabled inbound allow and block rules with every condition: ports, "
    "protocols, addresses, program, service, package, interface, profile",
    "bitlocker.volumes": "Get-BitLockerVolume of the system drive: status, key protector TYPES",
    "veeam.agent": "Veeam Agent service, version, jobs, last job events (190), encryption",
    "localadmins": "members of S-1-5-32-544 (by SID)",
    "password.policy": "secedit /export [System Access]",
    "smb1": "Get-SmbServerConfiguration + SMB1 feature state",
    "rdp.nla": "Terminal Server registry + Win32_TSGeneralSetting",
    "time.sync": "W32Time service, w32tm /query /source and /status, Time-Service events: "
    "source, last sync, offset",
}
