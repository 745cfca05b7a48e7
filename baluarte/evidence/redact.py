"""Data minimisation for evidence packs: keyed pseudonyms and masked configuration secrets.

Which names are personal (``--redact`` replaces them everywhere in a pack):

- the operator of each run (``user@host``: the user name and the technician's host) and
  the approver of each waiver;
- accounts named by the account findings (``access.admin_accounts``, ``access.admin_mfa``,
  ``access.admin_trusted_hosts``: Linux sudoers/UID 0, local Administrators members, FortiGate
  admins and REST API users), except built-in accounts that name no person (``root``,
  ``admin``, ``Administrator``…);
- devices whose inventory tags mark them personal (``workstation``, ``personal``, ``laptop``),
  and every device when the client's inventory could not be verified.

A pseudonym is ``user-``/``host-`` and the first 10 hex digits of HMAC-SHA256 with the client's
pseudonymisation key over the case-folded name: the same name gives the same pseudonym in every
pack of that client, and the mapping never leaves the provider.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from typing import Any

from baluarte.findings import Finding
from baluarte.run import RunRecord

__all__ = [
    "ACCOUNT_CONTROLS",
    "BUILTIN_ACCOUNTS",
    "PERSONAL_TAGS",
    "Redactor",
    "account_names",
    "mask_config",
    "personal_hosts",
]

PERSONAL_TAGS = frozenset({"workstation", "personal", "laptop"})
ACCOUNT_CONTROLS = frozenset(
    {"access.admin_accounts", "access.admin_mfa", "access.admin_trusted_hosts"}
)
# Accounts every system of a kind has: they name a role, not a person.
BUILTIN_ACCOUNTS = frozenset(
    {
        "root",
        "admin",
        "administrator",
        "administrators",
        "domain admins",
        "enterprise admins",
        "system",
        "guest",
        "none",
    }
)
# Keys whose values stay as they are: identifiers of the tool's own vocabulary and hashes.
_KEEP_KEYS = frozenset(
    {"control", "status", "severity", "platform", "kind", "state", "role", "sha256", "policy"}
)


class Redactor:
    """Replaces personal names by keyed pseudonyms in text and in JSON-like data."""

    def __init__(self, key: bytes, users: Iterable[str], hosts: Iterable[str]) -> None:
        self._key = key
        mapping: dict[str, str] = {}
        for kind, names in (("host", hosts), ("user", users)):  # a user wins a clash
            for name in names:
                name = name.strip()
                if name and name.casefold() not in BUILTIN_ACCOUNTS:
                    mapping[name.casefold()] = self.pseudonym(kind, name)
        self.mapping: Mapping[str, str] = mapping
        words = sorted(mapping, key=len, reverse=True)  # longest first: "ana.garcia" before "ana"
        self._pattern = (
            re.compile(
                r"(?<![A-Za-z0-9_])(?:"
                + "|".join(re.escape(w) for w in words)
                + r")(?![A-Za-z0-9_])",
                re.IGNORECASE,
            )
            if words
            else None
        )

    def pseudonym(self, kind: str, name: str) -> str:
        mac = hmac.new(self._key, name.casefold().encode(), hashlib.sha256).hexdigest()
        return f"{kind}-{mac[:10]}"

    def text(self, value: str) -> str:
        if self._pattern is None:
            return value
        return self._pattern.sub(lambda m: self.mapping[m.group(0).casefold()], value)

    def data(self, value: Any, key: str | None = None) -> Any:
        """JSON-like data with every string value (not the tool's identifiers) redacted."""
        if isinstance(value, str):
            return value if key in _KEEP_KEYS else self.text(value)
        if isinstance(value, list | tuple):
            return [self.data(v, key) for v in value]
        if isinstance(value, dict):
            return {k: self.data(v, k) for k, v in value.items()}
        return value

    def run(self, run: RunRecord) -> RunRecord:
        return RunRecord.model_validate(self.data(run.model_dump(mode="json")))


def account_names(finding: Finding) -> list[str]:
    """Account names an account finding lists (its evidence lines ``NAME: …``, its allowed list)."""
    if finding.control not in ACCOUNT_CONTROLS:
        return []
    names: list[str] = []
    for line in (finding.evidence or "").splitlines():
        name, sep, _ = line.partition(": ")
        if sep:
            names.append(name)
    expected = finding.expected or ""
    if finding.control == "access.admin_accounts" and ": " in expected:
        names += [n for n in expected.split(": ", 1)[1].split(", ") if n != "(none)"]
    out: list[str] = []
    for name in names:
        out.append(name)
        # DOMAIN\user and user@domain: the user part also appears alone elsewhere.
        user = name.rsplit("\\", 1)[-1].split("@", 1)[0]
        if user != name:
            out.append(user)
    return out


def personal_hosts(devices: Iterable[Mapping[str, Any]]) -> list[str]:
    return [str(d["device"]) for d in devices if PERSONAL_TAGS & set(d.get("tags", ()))]


# FortiOS keys whose value is a secret (FortiOS also shows most of them as ENC …).
_SECRET_KEY = r"[\w-]*(?:password|passwd|psksecret|psk|secret|passphrase|private-key|pwd)[\w-]*"
_SECRET_SET = re.compile(
    r"^(\s*set\s+" + _SECRET_KEY + r'\s+)("(?:[^"\\]|\\.)*"|[^\n]*)',
    re.MULTILINE | re.IGNORECASE,
)
_ENC = re.compile(r"\bENC\s+[^\s\"]+")
MASK = "********"


def mask_config(text: str) -> str:
    """A FortiGate configuration with every secret value replaced by ``********``."""
    text = _SECRET_SET.sub(lambda m: m.group(1) + MASK, text)
    return _ENC.sub("ENC " + MASK, text)
