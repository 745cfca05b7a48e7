"""Fault injection: make chosen requests slow, fail, or break, to prove "never a false pass".

    fgt.faults.add(Fault(match="/api/v2/cmdb/firewall/policy", kind="status", status=500))

``match`` is a path prefix, or an ``fnmatch`` glob when it holds ``*``, ``?`` or ``[``,
tested against the raw request path (no query string). ``times``: how many requests it hits
(None: all). Kinds:

* ``latency``: wait ``seconds`` before answering normally (several may add up);
* ``status``: answer ``status`` (5xx, 429…) with a FortiOS JSON error envelope;
* ``html``: answer ``status`` with an HTML error page;
* ``drop``: close the connection without answering;
* ``malformed``: answer 200 with broken JSON;
* ``echo``: answer ``status`` with an error envelope whose ``status`` repeats the request's
  Authorization header, as a broken or hostile unit might (what it says must be masked).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Literal

from baluarte.lab.faults import ArmedFaults

__all__ = ["Fault", "FaultKind", "Faults"]

FaultKind = Literal["latency", "status", "html", "drop", "malformed", "echo"]


@dataclass
class Fault:
    match: str
    kind: FaultKind
    status: int = 500
    seconds: float = 0.0
    times: int | None = 1
    method: str | None = None  # only this HTTP method (None: any)
    hits: int = field(default=0, compare=False)

    def applies(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method:
            return False
        if any(char in self.match for char in "*?["):
            return fnmatch.fnmatchcase(path, self.match)
        return path.startswith(self.match)


class Faults(ArmedFaults[Fault]):
    """The faults armed on one emulator; safe to change from tests while it serves."""

    def take(self, method: str, path: str) -> tuple[float, Fault | None]:
        """Seconds of latency to add, and the first failing fault that hits this request."""
        return self._take(lambda fault: fault.applies(method, path))
