"""Where rsyslog forwards this device's own logs: ForwardTargets from its configuration (pure).

A forwarding action (``omfwd``, ``omrelp``; legacy ``@host``, ``@@host``,
``:omrelp:host:port``) sends this device's logs only when they reach it:

- its ruleset takes a local input (imuxsock's system socket, imjournal, imklog, imkmsg,
  imfile, another imuxsock socket; an input bound to no ruleset feeds the default ruleset,
  ``RSYSLOG_DefaultRuleset``), or a ``call`` from such a ruleset reaches it. A ruleset only
  network inputs feed (a relay) forwards other devices' logs, not this one's;
- no unconditional ``stop`` ends its ruleset before it;
- ``rsyslogd -N1`` reports no error in it, nor in the filter or condition guarding it: an
  action whose module is missing (omrelp without
  rsyslog-relp) is never created. One error is known to leave the action working: an unknown
  parameter (rsyslog 8.2302 reports it and still forwards, tested on a lab host). Any other
  error in an action counts against it, so an error we do not know errs towards "not
  forwarding", never towards a pass.

Filters are not evaluated: an action behind any filter forwards something, so it counts (a
``stop`` only cuts when no filter guards it). A ``stop`` inside a called ruleset, which ends
the caller's processing too, is not followed. TLS: omfwd over TCP with stream driver mode 1
and a TLS driver (``gtls``, ``ossl``, ``mbedtls``: the action's ``StreamDriver``, else the
global ``DefaultNetstreamDriver``; for legacy ``@@``, ``$ActionSendStreamDriver…``);
omrelp with ``tls="on"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from checks.facts.logging import ForwardTarget
from checks.linux.logging_rsyslog_config import (
    DEFAULT_RULESET,
    Action,
    Config,
    from_expansion,
    from_files,
    split_files,
    walk,
)

__all__ = ["RsyslogView", "read"]

_LOCAL_MODULES = {"imuxsock", "imjournal", "imklog", "imkmsg"}  # inputs of their own
_LOCAL_INPUTS = {"imuxsock", "imfile", "improg", "imjournal"}
_TLS_DRIVERS = {"gtls", "ossl", "mbedtls"}
_LEGACY = re.compile(
    r"^(?P<at>@@?)(?:\([^)]*\))?(?P<host>\[[^\]]+\]|[^\s:;\[]+)(?::(?P<port>\d+))?(?:;\S*)?"
)
_LEGACY_RELP = re.compile(r"^:omrelp:(?P<host>[^\s:;]+):(?P<port>\d+)", re.I)
_ERROR = re.compile(r"error during parsing file (\S+), on or before line (\d+): (.*?)(?: \[v\d|$)")
_EXPANDED = "## full conf created by rsyslog"
_HARMLESS = re.compile(r"^parameter '[^']+' not known")


@dataclass(frozen=True)
class RsyslogView:
    targets: list[ForwardTarget]
    seen: str  # for the finding: "rsyslog (running; as rsyslogd -N1 reads its configuration)"


@dataclass(frozen=True)
class _Target:
    host: str
    port: int | None
    protocol: str
    tls: bool


def _port(text: str | None, default: int | None = 514) -> int | None:
    return int(text) if text and text.strip().isdigit() else default


def _targets(action: Action, config: Config) -> list[_Target]:
    """The remote destinations of one action; empty when it does not forward."""
    token = action.token
    if token.kind == "legacy":
        if m := _LEGACY.match(token.text):
            settings = action.legacy_settings
            driver = settings.get("$actionsendstreamdriver") or config.default_driver
            tls = m["at"] == "@@" and _tls(driver, settings.get("$actionsendstreamdrivermode"))
            protocol = "tcp" if m["at"] == "@@" else "udp"
            return [_Target(m["host"].strip("[]"), _port(m["port"]), protocol, tls)]
        if m := _LEGACY_RELP.match(token.text):
            return [_Target(m["host"], _port(m["port"]), "relp", False)]
        return []
    kind = token.text_param("type").lower()
    wanted = token.param("target")
    hosts = [wanted] if isinstance(wanted, str) else list(wanted or ())
    port = _port(token.text_param("port"))
    if kind == "omrelp":
        tls = token.text_param("tls").lower() in ("on", "yes", "1")
        return [_Target(h, port, "relp", tls) for h in hosts if h]
    if kind != "omfwd":
        return []
    protocol = (token.text_param("protocol") or "udp").lower()
    driver = token.text_param("streamdriver") or token.text_param("streamdriver.name")
    mode = token.text_param("streamdrivermode") or token.text_param("streamdriver.mode")
    tls = protocol == "tcp" and _tls(driver or config.default_driver, mode)
    return [_Target(h, port, protocol, tls) for h in hosts if h]


def _tls(driver: str | None, mode: str | None) -> bool:
    return (driver or "ptcp").lower() in _TLS_DRIVERS and (mode or "0").strip() == "1"


class _Reach:
    """Which rulesets this device's own logs reach, and which only network inputs feed."""

    def __init__(self, config: Config) -> None:
        local: set[str] = set()
        self.network: dict[str, set[str]] = {}
        for item in config.inputs:
            ruleset = item.ruleset or DEFAULT_RULESET
            if item.module:
                if item.kind in _LOCAL_MODULES and not (
                    item.kind == "imuxsock" and config.syssock_off
                ):
                    local.add(ruleset)
            elif item.kind in _LOCAL_INPUTS:
                local.add(ruleset)
            else:
                self.network.setdefault(ruleset, set()).add(item.kind)
        self.any_local = bool(local)
        self.local = self._closure(local, config)
        for root, kinds in list(self.network.items()):
            for ruleset in self._closure({root}, config):
                self.network.setdefault(ruleset, set()).update(kinds)

    @staticmethod
    def _closure(roots: set[str], config: Config) -> set[str]:
        reached, todo = set(roots), list(roots)
        while todo:
            here = todo.pop()
            for caller, target, stopped in config.calls:
                if caller == here and stopped is None and target not in reached:
                    reached.add(target)
                    todo.append(target)
        return reached

    def why_not(self, ruleset: str) -> str | None:
        if ruleset in self.local:
            return None
        if ruleset == DEFAULT_RULESET and not self.any_local:
            return (
                "rsyslog loads no local input (imuxsock, imjournal, imklog): none of this "
                "device's logs reach it"
            )
        if ruleset in self.network:
            kinds = ", ".join(sorted(self.network[ruleset]))
            return (
                f"ruleset {ruleset} receives only network input ({kinds}), not this device's logs"
            )
        return f"ruleset {ruleset} is bound to no input and no call reaches it"


def _errors(check: str) -> list[tuple[str, int, str]]:
    """(file, line, message) of each located error; an error rsyslogd printed just before
    it without a place ("module name 'omrelp' is unknown") is the message."""
    out: list[tuple[str, int, str]] = []
    before = ""
    for line in check.splitlines():
        m = _ERROR.search(line)
        if m is None:
            said = re.sub(r"^rsyslogd: | \[v\d.*$", "", line.strip())
            before = said if "error" in line or "unknown" in line or "not " in line else ""
            continue
        message = m[3].strip()
        if message.startswith("errors occurred in file") and before:
            message = before
        out.append((m[1], int(m[2]), message))
        before = ""
    return out


def _rejected(action: Action, errors: list[tuple[str, int, str]]) -> str | None:
    """An error rsyslogd places in the action, or in the filter or condition guarding it."""
    spans = [t.reported for t in (action.token, action.guard) if t is not None]
    for file, line, message in errors:
        if _HARMLESS.search(message):
            continue
        if any(first and file == name and first <= line <= last for name, first, last in spans):
            return message
    return None


def read(
    files_text: str,
    running: bool,
    check: tuple[str, int] | None = None,
    expanded: tuple[str, int] | None = None,
) -> RsyslogView:
    """``files_text``: the ``== path`` headed files; ``check``: ``@@config PATH`` then what
    ``rsyslogd -N1`` printed, and its exit status; ``expanded``: its ``-o`` output. Raises
    ValueError when the configuration cannot be read."""
    files = split_files(files_text)
    check_text = check[0] if check else ""
    config_line = re.search(r"^@@config (.+)$", check_text, re.M)
    main = config_line[1].strip() if config_line else "/etc/rsyslog.conf"
    notes: list[str] = []
    state = "running" if running else "not running"
    if expanded and _EXPANDED in expanded[0]:
        tokens = from_expansion(expanded[0], files)
        how = f"{state}; its configuration as rsyslogd -N1 reads it"
    else:
        tokens = from_files(files, main, notes)
        how = f"{state}; its configuration read from the files"
        said = [ln for ln in check_text.splitlines()[1:] if ln.strip()]
        if said:
            notes.append(f"rsyslogd -N1 -o could not expand it ({said[-1].strip()[:120]})")
    config = walk(tokens)
    reach = _Reach(config)
    errors = _errors(check_text) if check and check[1] != 0 else []
    targets: list[ForwardTarget] = []
    for action in config.actions:
        found = _targets(action, config)
        if not found:
            continue
        reasons: list[str] = []
        if (message := _rejected(action, errors)) is not None:
            reasons.append(f"rsyslogd -N1 reports an error in it: {message}")
        if action.stopped_by is not None:
            reasons.append(f"an unconditional stop at {action.stopped_by} comes first")
        if (unreached := reach.why_not(action.ruleset)) is not None:
            reasons.append(unreached)
        if not running:
            reasons.append("rsyslogd is not running")
        where = action.token
        source = f"{where.file}:{where.line}" if where.line else where.file
        targets += [
            ForwardTarget(
                via="rsyslog",
                host=t.host,
                port=t.port,
                protocol=t.protocol,
                tls=t.tls,
                source=source,
                active=not reasons,
                inactive_reason="; ".join(reasons),
            )
            for t in found
        ]
    if errors:
        shown = [f"{f}:{n}: {m}" for f, n, m in errors]
        more = f" (and {len(shown) - 1} more)" if len(shown) > 1 else ""
        notes.append(f"rsyslogd -N1 reports {shown[0][:160]}{more}")
    return RsyslogView(targets, "rsyslog (" + "; ".join([how, *notes]) + ")")
