"""Fault injection for the Windows lab: make chosen WS-Man requests or check runs misbehave.

    win.faults.add(Fault("wsman_fault", action="Command", code=5, reason="Access is denied."))
    win.faults.add(Fault("slow", polls=3))        # 3 OperationTimeout faults before the output

Request faults, matched on the WS-Man action (``Create``, ``Command``, ``Send``, ``Receive``,
``Signal``, ``Delete``, ``Get``; None: any), applied before the request is processed:

* ``latency``: wait ``seconds``, then answer normally (several add up);
* ``wsman_fault``: answer a SOAP fault with ``code`` and ``reason`` (pypsrp: WSManFaultError);
* ``http_status``: answer ``status`` with a plain-text body (pypsrp: WinRMTransportError);
* ``drop``: wait ``seconds``, then close the connection without answering; the request is
  never processed, so queued output is not lost (a network blip, not a crash).

Pipeline faults, matched on the start of the script (``script``, default Baluarte's marker):

* ``ps_terminating``: the pipeline fails with an error record saying ``message``;
* ``ps_error``: a non-terminating error record saying ``message``, then the normal output;
* ``bad_output``: the output is ``message`` (text that is not the JSON contract);
* ``slow``: ``polls`` Receives answer the OperationTimeout fault before the output comes.

``times``: how many requests or runs a fault hits (None: all).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from baluarte.lab.faults import ArmedFaults
from checks.windows.document import MARKER

__all__ = ["PIPELINE_KINDS", "Fault", "FaultKind", "Faults"]

FaultKind = Literal[
    "latency", "wsman_fault", "http_status", "drop", "ps_terminating", "ps_error", "bad_output",
    "slow",
]  # fmt: skip
PIPELINE_KINDS = frozenset({"ps_terminating", "ps_error", "bad_output", "slow"})


@dataclass
class Fault:
    kind: FaultKind
    action: str | None = None  # request faults: WS-Man action name (None: any)
    script: str = MARKER  # pipeline faults: the script starts with this
    code: int = 5  # wsman_fault: 5 is "Access is denied" (user not allowed to connect)
    reason: str = "Access is denied."
    status: int = 500
    seconds: float = 0.0
    polls: int = 3
    message: str = "Injected failure"
    times: int | None = 1
    hits: int = field(default=0, compare=False)

    def applies_to_request(self, action: str) -> bool:
        return self.kind not in PIPELINE_KINDS and self.action in (None, action)

    def applies_to_script(self, script: str) -> bool:
        return self.kind in PIPELINE_KINDS and script.lstrip().startswith(self.script)


class Faults(ArmedFaults[Fault]):
    """The faults armed on one lab; safe to change from tests while it serves."""

    def take_request(self, action: str) -> tuple[float, Fault | None]:
        """Seconds of latency to add, and the first failing fault that hits this request."""
        return self._take(lambda fault: fault.applies_to_request(action))

    def take_script(self, script: str) -> list[Fault]:
        """The pipeline faults hitting this run: at most one of each kind."""
        hit: dict[str, Fault] = {}
        with self._lock:
            for fault in list(self._armed):
                if fault.applies_to_script(script) and fault.kind not in hit:
                    self._hit(fault)
                    hit[fault.kind] = fault
        return list(hit.values())
