"""Remedy summaries as earlier Baluarte versions wrote them.

A stored apply run keeps the words its version wrote; its evidence pack, read years later, must
still show them translated. When a summary is reworded in ``deploys/``, its former wording
moves here (with its translations kept in the catalogues) instead of leaving them.
"""

from __future__ import annotations

__all__ = ["EARLIER_PHRASES", "EARLIER_TEMPLATES"]

# Summaries before the plan's wording became imperative (one line per change, "turn on …").
EARLIER_PHRASES: tuple[str, ...] = (
    "PasswordAuthentication yes → no",
    "PasswordAuthentication no, KbdInteractiveAuthentication no (sshd drop-in)",
    "ClamAV (clamav-daemon, clamav-freshclam) installed, enabled and running",
    "default-deny firewall with the policy's inbound services",
    "default-deny inbound firewall with only the policy's services open",
    "automatic security updates with unattended-upgrades",
    "automatic security updates with dnf-automatic",
    "Microsoft Defender real-time protection on (Set-MpPreference)",
    "Microsoft Defender security intelligence updated (Update-MpSignature)",
    "admin password policy and lockout as the policy requires",
    "FortiGuard scheduled updates on",
)

EARLIER_TEMPLATES: tuple[str, ...] = (
    "PermitRootLogin %(value)s → %(target)s (sshd drop-in)",
    "time synchronisation with %(source)s",
    "strong-crypto, HTTPS redirect, admin HTTPS on %(versions)s only",
    "Windows Defender Firewall on with inbound Block for %(profiles)s",
)
