"""Stored English phrases in the reader's language, at render time.

Remediation records and findings keep their text as apply and the evaluators wrote it, in
English (signed, hashed, in results.json and the CSV as stored). The human pack (HTML/PDF)
shows a phrase in the report's language when the stored text is exactly a catalogued msgid —
a remedy summary, a manual instruction, a step name (``remedy_text.py``), a fixed evaluator
phrase (``EVALUATOR_PHRASES``) — or matches one of the few ``TEMPLATES``: a fixed English
frame around values the device or the policy gave (account names, numbers, paths). The frame
is translated; the values stay as stored, inert. Anything else is shown as stored.
"""

from __future__ import annotations

import re
from functools import cache

from baluarte.evidence.data import Lang
from reports.evidence.i18n import translations
from reports.evidence.remedy_text import remedy_texts

__all__ = ["EVALUATOR_PHRASES", "TEMPLATES", "phrase", "phrase_lines"]

# Fixed evaluator and collector phrases (checks/), the exact text of expected/observed/reason.
EVALUATOR_PHRASES: tuple[str, ...] = (
    "clock synchronised with NTP",
    "no inbound service open",
    "automatic installation of security updates enabled",
    "FortiGuard automatic updates (antivirus and IPS definitions) enabled",
    "the backup repository is encrypted",
    "every Veeam Agent job encrypts its backups",
    "logs forwarded to a remote collector by a running forwarder",
    "no backup, so no encrypted backup (see backup.configured)",
    "no backup named in the policy (repository or systemd unit) and no Veeam Agent",
    "the root filesystem on an encrypted (dm-crypt/LUKS) block device",
    "the system volume fully encrypted by BitLocker, protection on",
    "Windows Defender Firewall on for every profile (Domain, Private, Public)",
    "inbound traffic no rule allows is dropped or rejected, for every address family",
    "inbound connections no rule allows are blocked, in every profile",
    "no enabled accept policy from any source to any destination with any service",
    "two-factor authentication (two-factor other than disable) for every administrator",
    "sshd accepts no password logins (PasswordAuthentication no, no PAM keyboard-interactive), "
    "for every connection checked",
    "any supported anti-malware product",
    "every admin and REST API user restricted to trusted hosts",
    "no restore test on record (run `baluarte check --restore-test`)",
)

# A fixed frame around stored values: %(num)s a number, %(product)s an anti-malware product's
# name (itself looked up: "any supported anti-malware product"), %(text)s a phrase looked up
# in turn, any other name a value kept as stored (``_KINDS`` says what each may hold).
TEMPLATES: tuple[str, ...] = (
    # evaluators: "prefix: values" and numbers from the policy
    "privileged accounts only among: %(accounts)s",
    "unexpected privileged accounts: %(accounts)s",
    "privileged: %(accounts)s",
    "at most %(num)s pending updates",
    "at most %(num)s pending security updates",
    "%(num)s pending updates: %(packages)s",
    "%(num)s pending security updates: %(packages)s",
    "updates installed within the last %(num)s days",
    "no reboot pending for more than %(num)s days",
    "a successful backup within the last %(num)s hours",
    "a successful restore test within the last %(num)s days",
    "a configuration backup taken within the last %(num)s days",
    "admin idle timeout ≤ %(num)s min",
    "Windows build ≥ %(build)s",
    "%(product)s installed",
    "%(product)s is not installed",
    "%(product)s not found",
    "%(product)s engine running and enabled at boot",
    "%(product)s real-time (on-access) protection on",
    "%(product)s signatures at most %(num)s days old",
    "%(product)s tamper protection on",
    "PermitRootLogin at most %(value)s, for every connection checked",
    "PermitRootLogin %(value)s for every connection",
    "passwords accepted for every connection: %(setting)s",
    "a backup job covering %(paths)s",
    "a %(value)s job with a backup",
    "installed: %(seen)s",
    # remediation steps built from a name and a stored summary
    "run fix %(fix)s: %(text)s",
    "update %(path)s",
    "undo %(path)s",
    # remedy summaries and step names built from a setting, a file or a package
    "%(text)s (ufw)",
    "%(text)s (nftables)",
    "PermitRootLogin %(value)s → %(target)s (sshd drop-in)",
    "forward logs to %(targets)s with rsyslog (TCP)",
    "forward logs to %(targets)s",
    "time synchronisation with %(source)s",
    "synchronise the clock with %(source)s",
    "logtraffic %(value)s on every enabled policy",
    "attach the %(profile)s %(kinds)s profiles",
    "strong-crypto, HTTPS redirect, admin HTTPS on %(versions)s only",
    "install %(package)s",
    "write %(file)s",
    "load %(file)s (one atomic transaction)",
    "include %(file)s from %(conf)s (kept across reboots)",
    "restart %(service)s (start and enable it)",
    "enable and start %(service)s",
)

_SLOT = re.compile(r"%\((\w+)\)s")
_TOKEN = r"[\w.@+-]+"  # one word: a package, a service, a setting's value
_KINDS = {
    "num": r"\d+(?:[.,]\d+)?",
    "product": r"[A-Z][\w-]*(?: [A-Z][\w-]*)*|any supported anti-malware product",
    "fix": _TOKEN,
    "value": _TOKEN,
    "target": _TOKEN,
    "package": _TOKEN,
    "service": _TOKEN,
    "path": r"[a-z][\w.-]*/[\w.-]+(?: \S+)?",  # a FortiOS cmdb path, and a row
    "file": r"/[\w./@-]+",
    "conf": r"/[\w./@-]+",
}


def phrase(text: str, lang: Lang) -> str:
    """``text`` in ``lang`` when it is a catalogued phrase or fits a template; else as is."""
    if not text:
        return text
    cat = translations(lang)
    if text in _known():
        return cat.gettext(text)
    if lang == "en":
        return text
    for msgid, pattern, looked_up in _compiled():
        match = pattern.fullmatch(text)
        if match is None:
            continue
        values = {k: phrase(v, lang) if k in looked_up else v for k, v in match.groupdict().items()}
        return cat.gettext(msgid) % values
    return text


def phrase_lines(text: str, lang: Lang) -> str:
    """Each line of ``text`` through ``phrase`` (a record's action or note: one per line)."""
    return "\n".join(phrase(line, lang) for line in text.split("\n"))


@cache
def _known() -> frozenset[str]:
    """The stored phrases looked up as a whole: only these, so that a device's text that
    happens to read like one of the report's own labels is still shown as the device said."""
    return frozenset(t.text for t in remedy_texts() if t.text) | frozenset(EVALUATOR_PHRASES)


@cache
def _compiled() -> tuple[tuple[str, re.Pattern[str], frozenset[str]], ...]:
    out = []
    for msgid in TEMPLATES:
        parts = _SLOT.split(msgid)  # literal, name, literal, name, …
        regex = "".join(
            re.escape(p) if i % 2 == 0 else f"(?P<{p}>{_KINDS.get(p, '.+?')})"
            for i, p in enumerate(parts)
        )
        names = frozenset(n for n in parts[1::2] if n in ("text", "product"))
        out.append((msgid, re.compile(regex, re.DOTALL), names))
    return tuple(out)
