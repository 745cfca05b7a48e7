"""The FortiGate lab: a stateful FortiOS REST API v2 emulator over real HTTPS.

    from baluarte.lab.fortigate import Fault, FortigateLab, load_state

    state = load_state("fw-hq.json")
    with FortigateLab(state, tokens={"TOKEN": "baluarte-ro"}, profile="7.4") as fgt:
        fgt.url, fgt.ca_path          # "https://127.0.0.1:PORT", the CA to verify against
        fgt.faults.add(Fault(match="/api/v2/cmdb/firewall/policy", kind="status", status=500))
        fgt.requests                  # every request, secrets masked
        fgt.state.to_dict()           # the live state, in state-file format

Modules: ``state`` (state files), ``schema``/``nodes`` (the curated cmdb schema), ``query``
(filters), ``writes`` (cmdb writes), ``transactions``, ``access`` (accprofiles), ``auth``
(tokens, sessions), ``cmdb`` and ``monitor`` (the two API trees), ``backup`` (config text,
revisions), ``app`` (routing), ``server`` (HTTPS), ``tls``, ``faults``, ``requestlog``,
``profiles`` (6.4 / 7.4 / 7.6 behaviours).
"""

from baluarte.lab.fortigate.faults import Fault, Faults
from baluarte.lab.fortigate.profiles import PROFILES
from baluarte.lab.fortigate.requestlog import LoggedRequest
from baluarte.lab.fortigate.server import FortigateLab
from baluarte.lab.fortigate.state import LabState, load_state

__all__ = ["PROFILES", "Fault", "Faults", "FortigateLab", "LabState", "LoggedRequest", "load_state"]
