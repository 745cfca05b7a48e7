"""What a collector hands to evaluation: a device's identity and its facts per domain."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

__all__ = ["CollectOptions", "Collected", "HostIdentity", "parse_domains"]

_A = TypeVar("_A")


class HostIdentity(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    hostname: str = ""
    os: str = ""
    os_id: str = ""
    os_version: str = ""
    kernel: str = ""
    # Baluarte's own address as the device sees the connection (SSH_CONNECTION on Linux):
    # what lockout guards must keep allowed
    peer: str = ""
    # how Baluarte's login to the device succeeded on this connection (SSH: publickey, password,
    # keyboard-interactive); "" when unknown or when there was no login (@local)
    login_method: str = ""


class Collected(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    identity: HostIdentity
    facts: dict[str, Any]  # domain -> that domain's facts model (PatchFacts, …)
    problems: dict[str, str] = {}  # domain -> why its facts could not be parsed
    # domain -> what its findings' evidence should say about how the answer was read (Linux:
    # bytes that were not UTF-8, replaced by U+FFFD)
    notes: dict[str, str] = {}
    # what the collector read, as the device answered (FortiGate: the FortiSnapshot): for
    # remedies that must write whole values the facts only summarise; never stored
    raw: Any = None
    round_trips: int = 0
    seconds: float = 0.0

    def masked(self, mask: Callable[[str], str]) -> Collected:
        """The same facts with ``mask`` applied to every text in them (what the device said
        may echo a credential it was sent)."""
        facts = dict(self.facts)
        for domain, f in self.facts.items():
            if isinstance(f, BaseModel):
                text = f.model_dump_json()
                if (clean := mask(text)) != text:  # rebuilt only when something was masked
                    facts[domain] = type(f).model_validate_json(clean)
        problems = {domain: mask(text) for domain, text in self.problems.items()}
        return self.model_copy(update={"facts": facts, "problems": problems})


class CollectOptions(BaseModel):
    """How a collector works, the same for every platform."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    parallel: int = 20
    command_timeout: float = 120.0
    restore_test: bool = False  # backup.restore_tested: restore a sample from the newest backup
    # where files a run produces outside the store go (FortiGate configuration backups)
    artifacts: Path = Path("baluarte-artifacts")


def parse_domains(
    parsers: Mapping[str, Callable[[_A], Any]], answer: _A
) -> tuple[dict[str, Any], dict[str, str]]:
    """Each domain's facts from the device's answer, or why they could not be parsed: one
    domain that does not parse makes only its own controls ``error``."""
    facts: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for domain, parse in parsers.items():
        try:
            facts[domain] = parse(answer)
        except (ValueError, KeyError, TypeError) as exc:
            problems[domain] = f"could not parse the {domain} facts: {exc}"
    return facts, problems
