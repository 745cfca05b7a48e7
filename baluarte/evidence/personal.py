"""Which values of a pack name a person: what ``--redact`` keys its pseudonyms on.

Gathered from everything the pack holds (``redact.Redactor`` then replaces them in every string):

- the inventory: devices tagged personal (``workstation``, ``personal``, ``laptop``), by name and
  address — every device when the inventory cannot be verified;
- waivers: each approver (in the findings and in the waiver files the runs read), also by the
  name alone (``María López (DPO, ACME)`` → ``María López``, ``María``, ``López``; an e-mail
  and its local part), so the name is found inside any waiver's free text;
- findings and remediation records: accounts the account controls list (sudoers, UID 0, local
  Administrators, FortiGate admins), a person's folder in a path (``/home/NAME``,
  ``C:\\Users\\NAME``, ``/etc/sudoers.d/NAME``), and a personal Windows device's own computer
  name (the domain part of its local accounts: ``PC-MARIA\\soporte``);
- policies: the accounts ``access.admin_accounts`` allows;
- who ran each run and who exports the pack (``user@host``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from baluarte.evidence.redact import (
    BUILTIN_ACCOUNTS,
    PERSONAL_TAGS,
    account_names,
)
from baluarte.findings import Finding
from baluarte.run import RunRecord

__all__ = ["PersonalValues", "person_names", "personal_values"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Accounts a system creates for itself (Debian/RHEL, Windows profiles): never a person's folder.
SYSTEM_ACCOUNTS = _words(
    """daemon bin sys sync games man lp mail news uucp proxy www-data backup list irc gnats
    nobody systemd-network systemd-resolve systemd-timesync messagebus syslog _apt sshd
    _chrony chrony clamav ntp postfix mysql postgres redis nginx apache ftp shutdown halt
    operator adm tty public default default user all users defaultapppool localservice
    networkservice skel shared lost+found readme"""
)
# Words in an approver that make it a role, not a person's name.
_ROLE_WORDS = _words(
    """team equipo security seguridad department departamento manager director directora
    lead head officer committee comité comite board it ciso cio cto ceo dpo dpd admin
    administrator administración administracion support soporte sistemas responsable jefe
    jefa gerente dirección direccion service servicio desk helpdesk group grupo owner
    propietario operations operaciones"""
)
_PARTICLES = _words("de del la las los y e da di do dos das du van von der den le al")
_BRACKETED = re.compile(r"\s*[\(\[<][^\)\]>]*[\)\]>]")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_SEPARATORS = re.compile(r"\s*[,;/&|]\s*|\s+(?:y|and|e)\s+")
# a person's own folder: /home/NAME, /Users/NAME, /var/mail/NAME, C:\Users\NAME
_HOME = re.compile(
    r"(?:/home/|/Users/|/var/mail/|/var/spool/mail/|[A-Za-z]:\\Users\\|\\\\Users\\)"
    r"(?P<name>[\w.-]+)",
    re.IGNORECASE,
)
# /etc/sudoers.d/NAME: a drop-in named like an account (digits first: ordering prefixes)
_SUDOERS = re.compile(r"/etc/sudoers\.d/(?P<name>[A-Za-z_][\w.-]*)")
# a local account of a Windows device: COMPUTER\user listed as Local (or the -500 built-in)
_LOCAL_ACCOUNT = re.compile(
    r"^(?P<computer>[^\\\s:]+)\\[^:\n]+: [^\n]*(?:\bLocal\b|S-1-5-21-\d+-\d+-\d+-500\b)",
    re.MULTILINE,
)


@dataclass
class PersonalValues:
    users: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)


def personal_values(
    runs: Sequence[RunRecord],
    devices: Sequence[Mapping[str, Any]],
    *,
    operator: str,
    inventory_verified: bool,
    waiver_texts: Iterable[str] = (),
    policy_texts: Iterable[str] = (),
    addresses: Mapping[str, str] | None = None,
) -> PersonalValues:
    """The personal values of a pack of ``runs``. ``devices``: the inventory's devices of the
    client (``device``, ``tags``); ``addresses``: device name → address in the inventory."""
    found = PersonalValues()
    for who in [operator, *(r.info.operator for r in runs)]:
        user, _, host = who.partition("@")
        found.users.append(user)
        if host:
            found.hosts.append(host)
    for run in runs:  # the people named: the operator responsible, each change's approver
        identity = run.info.operator_identity
        if identity is not None:  # not the role: a job title names no one
            email = f" <{identity.email}>" if identity.email else ""
            found.users += person_names(identity.name + email)
        found.users += [
            n for r in run.remediations if r.approved_by for n in person_names(r.approved_by)
        ]
    if inventory_verified:
        personal = {str(d["device"]) for d in devices if PERSONAL_TAGS & set(d.get("tags", ()))}
    else:  # which devices are personal cannot be told: treat every one as personal
        personal = {f.device for r in runs for f in r.findings}
        personal |= {r.device for run in runs for r in run.remediations}
    found.hosts += sorted(personal)
    found.hosts += [  # "@local" names the machine Baluarte runs on, not the device
        addresses[d]
        for d in sorted(personal)
        if addresses and d in addresses and not addresses[d].startswith("@")
    ]
    for run in runs:
        for f in run.findings:
            found.users += account_names(f)
            if f.waiver is not None:  # an approver is a person too
                found.users += person_names(f.waiver.approved_by)
            if f.device in personal:
                found.hosts += _computer_names(f)
        for text in _texts(run):
            found.users += _folder_names(text)
    for text in waiver_texts:
        found.users += [n for a in _approvers(text) for n in person_names(a)]
    for text in policy_texts:
        found.users += _allowed_accounts(text)
        found.users += _folder_names(text)
    return found


def person_names(approver: str) -> list[str]:
    """An approver as written, and the forms a person's name takes inside free text."""
    out = [approver.strip()]
    for email in _EMAIL.findall(approver):
        out += [email, email.split("@", 1)[0]]
    core = _EMAIL.sub("", _BRACKETED.sub("", approver)).strip()
    for piece in _SEPARATORS.split(core):
        piece = piece.strip(" .-")
        if not piece:
            continue
        out.append(piece)
        words = piece.split()
        if 1 <= len(words) <= 5 and all(_name_word(w) for w in words):
            out += [w for w in words if w.casefold() not in _PARTICLES and len(w) >= 3]
    return [n for n in dict.fromkeys(out) if n]


def _name_word(word: str) -> bool:
    folded = word.casefold()
    if folded in _PARTICLES:
        return True
    if folded in _ROLE_WORDS or not word[:1].isupper():
        return False
    return any(c.islower() for c in word[1:])  # "María", "García-Pérez"; not "IT", "DPO"


def _computer_names(finding: Finding) -> list[str]:
    if finding.control != "access.admin_accounts":
        return []
    return [m.group("computer") for m in _LOCAL_ACCOUNT.finditer(finding.evidence or "")]


def _folder_names(text: str) -> list[str]:
    names = [m.group("name") for m in _HOME.finditer(text)]
    names += [m.group("name") for m in _SUDOERS.finditer(text)]
    return [
        n
        for n in names
        if n.casefold() not in SYSTEM_ACCOUNTS and n.casefold() not in BUILTIN_ACCOUNTS
    ]


def _texts(run: RunRecord) -> Iterator[str]:
    for f in run.findings:
        yield from (t for t in (f.expected, f.observed, f.reason, f.evidence) if t)
        if f.waiver is not None:
            yield f.waiver.reason
    for r in run.remediations:
        yield from (r.before, r.action, r.after, r.detail)
    for file in run.info.files:
        yield file.path


def _yaml(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def _approvers(text: str) -> list[str]:
    doc = _yaml(text)
    waivers = doc.get("waivers") if isinstance(doc, dict) else None
    if not isinstance(waivers, list):
        return []
    return [str(w["approved_by"]) for w in waivers if isinstance(w, dict) and w.get("approved_by")]


def _allowed_accounts(text: str) -> list[str]:
    doc = _yaml(text)
    access = doc.get("access") if isinstance(doc, dict) else None
    admins = access.get("admin_accounts") if isinstance(access, dict) else None
    allowed = admins.get("allowed") if isinstance(admins, dict) else None
    return [str(a) for a in allowed] if isinstance(allowed, list) else []
