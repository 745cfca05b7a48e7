"""The Windows lab: an emulated Windows host answering WinRM (WS-Management + PSRP).

    from baluarte.lab.windows import Fault, WindowsLab, load_state

    with WindowsLab(load_state("pc.json"), users={"baluarte": pw}, auth="ntlm") as win:
        win.url                        # "http://127.0.0.1:PORT/wsman"
        win.faults.add(Fault("wsman_fault", action="Command", code=5))
        win.requests                   # every HTTP request: action, ids, status (no secrets)
        win.scripts                    # every script a pipeline ran

The real pypsrp client works against it unchanged: Basic (HTTPS), NTLM and Negotiate (SPNEGO
with NTLM inside; Kerberos is not emulated), MS-WSMV message encryption over HTTP, channel
binding over HTTPS. It never runs PowerShell: Baluarte's check script (recognised by
``checks.windows.document.MARKER``) is answered with the state's document, Baluarte's fix
scripts (``remediations``) change the served state and answer like the real ones; other
markers can be given handlers; anything else is "not recognized".

Modules: ``state`` (state files, lab-time shift), ``engine`` (script handlers), ``psrp`` (one
PowerShell shell on psrpcore), ``service`` (WS-Man actions), ``soap`` (envelopes, faults),
``auth`` (users, NTLM/SPNEGO acceptor), ``encryption`` (MS-WSMV framing), ``faults``,
``remediations`` (fix scripts), ``requestlog``, ``server`` (HTTP(S), ``WindowsLab``).
"""

from baluarte.lab.windows.engine import Handler, ScriptCall, ScriptResult
from baluarte.lab.windows.faults import Fault, Faults
from baluarte.lab.windows.requestlog import LoggedRequest
from baluarte.lab.windows.server import WindowsLab
from baluarte.lab.windows.state import WindowsState, load_state

__all__ = [
    "Fault",
    "Faults",
    "Handler",
    "LoggedRequest",
    "ScriptCall",
    "ScriptResult",
    "WindowsLab",
    "WindowsState",
    "load_state",
]
