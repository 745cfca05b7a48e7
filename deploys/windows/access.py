"""access.insecure_admin_protocols on Windows: SMBv1 off and RDP with NLA, only what is wrong.

The facts name each finding (server protocol, optional feature, RDP without NLA); the fix
script gets one switch per finding. A Group Policy that sets UserAuthentication 0 wins over
the local value: that part is manual.
"""

from __future__ import annotations

from baluarte.remediation import Manual, Refused, Remedy, RemedyContext
from checks.facts.access import AccessFacts
from checks.policy.access import InsecureProtocols
from deploys.common import needed
from deploys.windows.fixes import fix_script

__all__ = ["FEATURE_SECONDS", "insecure_admin_protocols"]

# How long removing the SMB1Protocol feature may take (DISM: minutes on a slow disk).
FEATURE_SECONDS = 900

_GPO = (
    "a Group Policy sets RDP's UserAuthentication to 0: set \"Require user authentication "
    'for remote connections by using Network Level Authentication" to Enabled in the GPO '
    "(Computer Configuration > Administrative Templates > Windows Components > Remote Desktop "
    "Services > Remote Desktop Session Host > Security), then `gpupdate /force`."
)


def insecure_admin_protocols(
    facts: AccessFacts, params: InsecureProtocols, ctx: RemedyContext
) -> Remedy | Manual | Refused | None:
    state = needed("access.insecure_admin_protocols", facts, params, ctx)
    if state is not True:
        return state
    found = [s for s in facts.insecure_services or () if s.protocol in params.forbidden]
    switches: dict[str, bool] = {}
    actions: list[str] = []  # what the fix does, in words
    changes: list[str] = []  # the state it leaves
    for service in found:
        if service.protocol == "smbv1" and service.how.startswith("SMB1 server"):
            switches["Smb1Server"] = True
            actions.append("turn off the SMBv1 server protocol")
            changes.append("SMBv1 server protocol off (Set-SmbServerConfiguration)")
        elif service.protocol == "smbv1" and service.how.startswith("SMB1Protocol feature"):
            switches["Smb1Feature"] = True
            actions.append("remove the SMB1Protocol feature (a reboot completes it)")
            changes.append("SMB1Protocol feature disabled (reboot needed to complete)")
        elif service.protocol == "rdp_without_nla":
            if "policy 0)" in service.how:  # checks/windows/access.py: "(…, policy <value>)"
                return Manual(text=_GPO)
            switches["RdpNla"] = True
            actions.append("require Network Level Authentication for RDP")
            changes.append("RDP requires Network Level Authentication")
    if not switches:
        return Manual(
            text="turn off what the finding lists by hand: "
            + "; ".join(f"{s.protocol}: {s.how}" for s in found)
        )
    reboot = " A reboot completes the SMBv1 removal." if "Smb1Feature" in switches else ""
    parameters: dict[str, bool | int] = dict(switches)
    if "Smb1Feature" in switches:
        # the executor waits this long: stopped half-way, DISM leaves the feature pending
        parameters["TimeoutSeconds"] = FEATURE_SECONDS
    return Remedy(
        summary="; ".join(actions),
        before="; ".join(f"{s.protocol}: {s.how}" for s in found),
        after="; ".join(changes) + "." + reboot,
        script=fix_script("insecure-protocols"),
        parameters=parameters,
    )
