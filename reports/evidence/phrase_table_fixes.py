"""The Windows fix scripts' own sentences (``deploys/windows/ps/*.ps1``): what a script throws or
writes in its JSON answer's ``error``, which ``deploys/windows/executor.py`` (``judge``) records
as the remediation's detail; the executor's own frames around them are the engine's part of the
phrase table (``phrase_table_engine.py``). What the host gave — profile and rule names, update
IDs, counts, ResultCodes, a cmdlet's message — stays as stored.

Unlike the rest of the table these are written in PowerShell: the test that keeps each entry
matched to its source reads the scripts, a ``$var`` or ``$(…)`` in a string (or a value joined
to it with ``+``) standing where a slot stands.
"""

from __future__ import annotations

__all__ = ["FIX_KINDS", "FIX_PHRASES", "FIX_TEMPLATES", "SHARED_WITH_FIX_SCRIPTS"]

# Fixed sentences, looked up whole (or as a part of a joined text).
FIX_PHRASES: tuple[str, ...] = (
    # defender-realtime.ps1
    "RealTimeProtectionEnabled is still False after Set-MpPreference: Tamper Protection or a "
    "Group Policy keeps real-time protection off",
    # insecure-protocols.ps1: what is still wrong after the change, joined with "; "
    "EnableSMB1Protocol is still True",
    "RDP still does not require NLA (a Group Policy sets UserAuthentication 0?)",
    # updates-install.ps1 (thrown)
    "no update IDs given",
)

# Fixed frames around what the host gave (slots as in ``phrase_table.KINDS`` and ``FIX_KINDS``).
FIX_TEMPLATES: tuple[str, ...] = (
    # defender-signatures.ps1
    "signatures are still %(num)s days old after Update-MpSignature: check the update source "
    "(Windows Update, WSUS, UNC share)",
    # firewall-profiles.ps1: the WinRM guard on the host (its reasons per profile are the
    # Python guard's, in the phrase table: ``SHARED_WITH_FIX_SCRIPTS``), and the re-read
    "refused: WinRM (TCP %(port)s) from %(who)s is not provably let in: %(items)s; turning the "
    "firewall on would cut the connection Baluarte uses",
    "%(profile)s: the profile was not found",
    "profiles %(profiles)s still not on with inbound Block: a Group Policy wins over the local "
    "setting",
    # insecure-protocols.ps1
    "SMB1Protocol feature is %(state)s",
    "SetUserAuthenticationRequired(1) returned %(return_value)s",
    # updates-install.ps1
    "not a Windows Update ID (GUID): '%(given)s'",
    # the update task's own failure: the Windows Update Agent's message, as the host gave it
    "Windows Update: %(agent_error)s",
    "the update task %(task)s did not finish within %(num)s s; it is left to finish: check "
    "Get-ScheduledTask and the Windows Update history",
    "%(num)s of %(num2)s updates not found by Windows Update (superseded, hidden or installed "
    "since the check?): %(update_ids)s",
    "%(num)s of %(num2)s updates installed (Windows Update ResultCode %(result_code)s); not "
    "installed: %(not_installed)s",
)

# Entries of the phrase table the Python code writes and a fix script writes too, word for word
# (the host's WinRM guard gives the reasons the Python one gives).
SHARED_WITH_FIX_SCRIPTS: tuple[str, ...] = (
    "Baluarte's address (unknown)",
    "%(profile)s: AllowInboundRules False, so no allow rule counts",
    "%(profile)s: Block rule %(labels)s wins over any allow",
    "%(profile)s: no rule provably lets WinRM in",
)

# What a slot of these frames may hold, by its name.
FIX_KINDS: dict[str, str] = {
    "return_value": r"\d+",  # a CIM method's ReturnValue (uint32)
    "agent_error": r".+",  # the Windows Update Agent's message, as the host gave it
    "given": r".*",  # the text given (a quote inside it too)
    "task": r"\\\S+",  # a scheduled task's path and name: \Baluarte\WindowsUpdate-<id>
    "update_ids": r"[0-9a-fA-F-]+(?:, [0-9a-fA-F-]+)*",
    # $null in a PowerShell string is empty; the lab writes Python's None
    "result_code": r"-?\d*|None",
    "not_installed": r".*",  # "<id> (ResultCode <n>), …", empty when none is listed
}
