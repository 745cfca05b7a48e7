"""The Windows check document as Collected: the host's identity and its facts per domain.

``validate`` turns the script's output into the document or raises ``BadAnswer``: not JSON, not
the ``baluarte-windows/1`` schema, or a check of ``document.CHECKS`` missing. ``collected`` then
parses each domain (``checks/windows/<domain>.py``); a check that failed on the host leaves only
the facts that needed it ``None`` with the host's error message, and a domain whose parser fails
outright is listed in ``Collected.problems``, as on Linux and FortiGate.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from baluarte.collected import Collected, HostIdentity, parse_domains
from baluarte.errors import BadAnswer
from baluarte.text import inert, inert_facts, inert_model
from checks.windows import access, backup, endpoint, firewall, logging, patching
from checks.windows.document import CHECKS, SCHEMA
from checks.windows.read import Unreadable, when

__all__ = ["DOMAINS", "collected", "identity", "validate"]

DOMAINS = ("patching", "firewall", "endpoint", "backup", "access", "logging")
_PARSERS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "patching": patching.parse,
    "firewall": firewall.parse,
    "endpoint": endpoint.parse,
    "backup": backup.parse,
    "access": access.parse,
    "logging": logging.parse,
}


def _entry_problem(check_id: str, entry: Any) -> str | None:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("ok"), bool):
        return f"check {check_id} has no ok flag"
    if entry["ok"] and "data" not in entry:
        return f"check {check_id} is ok but has no data"
    if not entry["ok"] and not isinstance(entry.get("error"), str):
        return f"check {check_id} failed without an error message"
    return None


def validate(text: str) -> dict[str, Any]:
    """The document the script printed, or ``BadAnswer`` saying how it is not the contract."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise BadAnswer(f"the Windows check script's output is not JSON ({exc})") from None
    if not isinstance(document, dict):
        raise BadAnswer("the Windows check script's output is not a JSON object")
    if document.get("schema") != SCHEMA:
        raise BadAnswer(
            f"the Windows check output's schema is {document.get('schema')!r}, not {SCHEMA!r}"
        )
    host, checks = document.get("host"), document.get("checks")
    if not isinstance(host, dict) or not isinstance(host.get("ComputerName"), str):
        raise BadAnswer("the Windows check output has no host.ComputerName")
    try:
        when(str(host.get("Now")))
    except ValueError:
        raise BadAnswer(
            f"the Windows check output's host.Now {host.get('Now')!r} is not a date"
        ) from None
    if not isinstance(checks, dict):
        raise BadAnswer("the Windows check output has no checks object")
    missing = [c for c in CHECKS if c not in checks]
    if missing:
        raise BadAnswer(f"the Windows check output lacks the checks {', '.join(missing)}")
    for check_id in CHECKS:
        problem = _entry_problem(check_id, checks[check_id])
        if problem:
            raise BadAnswer(f"the Windows check output is malformed: {problem}")
    return document


def identity(document: Mapping[str, Any]) -> HostIdentity:
    hostname = str(document["host"]["ComputerName"])
    try:
        build, name = patching.os_build(document)
    except Unreadable:
        build, name = "", ""  # naming only: patching.minimum_versions says why
    return HostIdentity(hostname=hostname, os=name, os_id="windows", os_version=build)


def collected(
    document: Mapping[str, Any], *, round_trips: int = 0, seconds: float = 0.0
) -> Collected:
    facts, problems = parse_domains(_PARSERS, document)
    # product, rule and account names are the host's to choose: facts carry them inert
    return Collected(
        identity=inert_model(identity(document)),
        facts=inert_facts(facts),
        problems={domain: inert(why) for domain, why in problems.items()},
        round_trips=round_trips,
        seconds=seconds,
    )
