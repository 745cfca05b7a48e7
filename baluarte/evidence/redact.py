"""Data minimisation for evidence packs: keyed pseudonyms and masked configuration secrets
(``mask_config``, from ``fortios_secrets``).

Which values are personal is ``personal.personal_values``' job; a ``Redactor`` replaces each of
them, as a whole word and whatever its case or accents (``María`` also as ``maria``), in every
string it is given. Built-in accounts that name no person (``root``, ``admin``,
``Administrator``…) are kept.

A pseudonym is ``user-``/``host-`` and the first 10 hex digits of HMAC-SHA256 with the client's
pseudonymisation key over the case-folded name: the same name gives the same pseudonym in every
pack of that client, and the mapping never leaves the provider.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from baluarte.evidence.fortios_secrets import mask_config
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
        for name, alias in list(mapping.items()):  # "maría" is also written "maria"
            mapping.setdefault(_unaccented(name), alias)
        self.mapping: Mapping[str, str] = mapping
        # longest first ("ana.garcia" before "ana"); each matched whatever its accents
        words = sorted({_unaccented(w) for w in mapping}, key=len, reverse=True)
        # whole words: no letter, digit or underscore (of any script) on either side
        self._pattern = (
            re.compile(
                r"(?<!\w)(?:" + "|".join(_any_accent(w) for w in words) + r")(?!\w)",
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
        return self._pattern.sub(self._replace, value)

    def _replace(self, match: re.Match[str]) -> str:
        found = match.group(0).casefold()
        alias = self.mapping.get(found) or self.mapping.get(_unaccented(found))
        return alias if alias is not None else match.group(0)

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


def _unaccented(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _accented_letters() -> dict[str, str]:
    """Each Latin base letter → itself and its accented forms (á à â ä ã å ā ă ą … for a)."""
    forms: dict[str, str] = {}
    for code in range(0xC0, 0x250):
        char = chr(code)
        base = _unaccented(char).casefold()
        if len(base) == 1 and base.isascii() and base.isalpha() and base != char.casefold():
            forms[base] = forms.get(base, base) + char.casefold()
    return forms


_ACCENTED = _accented_letters()


def _any_accent(word: str) -> str:
    """A regular expression for ``word`` (unaccented) written with or without accents."""
    return "".join(f"[{re.escape(_ACCENTED[c])}]" if c in _ACCENTED else re.escape(c) for c in word)


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
