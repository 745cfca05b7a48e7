"""Parse what ``logging.sh`` fetched from a Linux host into LoggingFacts (pure).

This module is ``checks.linux.logging``; with absolute imports only it never shadows the
standard library's ``logging``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from checks.facts.logging import ForwardTarget, LoggingFacts, TimeSyncFacts
from checks.linux import logging_rsyslog
from checks.linux.logging_daemons import Daemons, Verdict, read_daemons
from checks.linux.raw import field, out

__all__ = ["parse", "parse_journal_upload", "parse_rsyslog", "parse_syslog_ng", "parse_time_sync"]


def _files(text: str) -> list[tuple[str, list[str]]]:
    """``== path`` headed file contents → [(path, lines)], line numbers kept."""
    out: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("== "):
            out.append((line[3:].strip(), []))
        elif out:
            out[-1][1].append(line)
    return out


def _uncomment(line: str) -> str:
    """The line without its ``#`` comment; a ``#`` inside double quotes is text."""
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == "#" and not quoted:
            return line[:i]
    return line


def _port(text: str | None, default: int | None) -> int | None:
    return int(text) if text and text.isdigit() else default


# -- rsyslog ----------------------------------------------------------------------------------


def parse_rsyslog(text: str, running: bool) -> list[ForwardTarget]:
    """Forwarding read from the files alone (``== path`` headed), includes followed here; the
    collector also asks rsyslogd itself (see ``logging_rsyslog.read``). Raises ValueError."""
    return logging_rsyslog.read(text, running).targets


# -- syslog-ng --------------------------------------------------------------------------------

_NG_DRIVER = re.compile(r'\b(network|syslog|tcp6?|udp6?)\s*\(\s*"([^"]+)"(?P<opts>[^;]*)')


def parse_syslog_ng(text: str, running: bool) -> list[ForwardTarget]:
    """Network drivers inside ``destination`` blocks of syslog-ng.conf and conf.d."""
    targets: list[ForwardTarget] = []
    for path, lines in _files(text):
        code = "\n".join(_uncomment(line) for line in lines)
        for block in re.finditer(r"\bdestination\s+\S+\s*\{(.*?)\}\s*;", code, re.S):
            for m in _NG_DRIVER.finditer(block[1]):
                port = re.search(r"\bport\s*\(\s*(\d+)", m["opts"])
                transport = re.search(r'\btransport\s*\(\s*"?(\w+)', m["opts"])
                driver = m[1].rstrip("6")
                protocol = driver if driver in ("tcp", "udp") else "udp"
                if transport:
                    protocol = transport[1].lower()
                line = code.count("\n", 0, block.start(1) + m.start()) + 1
                targets.append(
                    ForwardTarget(
                        via="syslog-ng",
                        host=m[2],
                        port=_port(port[1] if port else None, 601 if driver == "syslog" else 514),
                        protocol=protocol,
                        source=f"{path}:{line}",
                        active=running,
                        inactive_reason="" if running else "syslog-ng is not running",
                    )
                )
    return targets


# -- systemd-journal-upload -------------------------------------------------------------------


def parse_journal_upload(text: str) -> list[ForwardTarget]:
    """``URL=`` of journal-upload.conf(.d) (last one wins), active when the service is enabled."""
    enabled = re.search(r"^@@enabled (\S+)", text, re.M)
    active = re.search(r"^@@active (\S+)", text, re.M)
    url, source = "", ""
    for path, lines in _files(text):
        for number, line in enumerate(lines, 1):
            key, _, value = _uncomment(line).strip().partition("=")
            if key.strip() == "URL":
                url, source = value.strip(), f"{path}:{number}"
    if not url:
        return []
    split = urlsplit(url if "://" in url else f"https://{url}")
    on = enabled is not None and enabled[1] in ("enabled", "enabled-runtime")
    why = "" if on else "systemd-journal-upload.service is not enabled"
    if on and active is not None and active[1] != "active":
        on, why = False, f"systemd-journal-upload.service is {active[1]}"
    if on and active is None:
        on, why = False, "enabled, but systemd does not run here to start it"
    return [
        ForwardTarget(
            via="journal-upload",
            host=split.hostname or url,
            port=split.port or 19532,  # journal-remote's default port
            protocol=split.scheme or "https",
            tls=(split.scheme or "https") == "https",
            source=source,
            active=on,
            inactive_reason=why,
        )
    ]


# -- time synchronisation ---------------------------------------------------------------------

_LOCAL_REFS = ("7F7F0101", "00000000")  # chrony's "local" reference clock; none selected


def _chrony(tracking: str) -> TimeSyncFacts:
    values: dict[str, str] = {}
    for line in tracking.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            values[key.strip()] = value.strip()
    if "Reference ID" not in values or "Leap status" not in values:
        raise ValueError(f"unexpected chronyc tracking output: {tracking.strip()[:200]!r}")
    ref_id, _, ref_text = values["Reference ID"].partition(" ")
    ref_name = ref_text.strip("() ") or None
    leap = values["Leap status"]
    offset = None
    m = re.match(r"([\d.]+) seconds (fast|slow)", values.get("System time", ""))
    if m:
        offset = float(m[1])
    synced = leap != "Not synchronised" and ref_id.upper() not in _LOCAL_REFS
    detail = f"chronyd: reference {ref_id} ({ref_name or 'none'}), leap status {leap}"
    if ref_id.upper() == "7F7F0101":
        detail += " — following only its own local clock"
    if offset is not None and synced:
        detail += f", offset {offset:.6f} s"
    return TimeSyncFacts(
        synchronized=synced,
        source="chronyc tracking",
        detail=detail,
        reference=ref_name,
        offset_seconds=offset,
        evidence=tracking.strip(),
    )


def _ntpq(text: str) -> TimeSyncFacts:
    lines = text.splitlines()
    rule = next((i for i, line in enumerate(lines) if line.startswith("====")), None)
    if rule is None or "refid" not in text:
        raise ValueError(f"unexpected ntpq -pn output: {text.strip()[:200]!r}")
    # the tally code in the first column: "*" system peer, "o" PPS peer
    selected = next((line for line in lines[rule + 1 :] if line[:1] in ("*", "o")), None)
    if selected is None:
        return TimeSyncFacts(
            synchronized=False,
            source="ntpq",
            detail="ntpd: no system peer selected",
            evidence=text.strip(),
        )
    cols = selected[1:].split()
    offset = abs(float(cols[8])) / 1000 if len(cols) > 8 else None  # ntpq shows milliseconds
    return TimeSyncFacts(
        synchronized=True,
        source="ntpq",
        detail=f"ntpd: system peer {cols[0]}" + (f", offset {offset:.6f} s" if offset else ""),
        reference=cols[0],
        offset_seconds=offset,
        evidence=text.strip(),
    )


def _servers(config: str, daemon: str) -> tuple[str, ...]:
    servers: list[str] = []
    for path, lines in _files(config):
        chrony = "/chrony" in path
        ntp = path.endswith("ntp.conf")
        timesyncd = "timesyncd" in path
        if not {"chronyd": chrony, "ntpd": ntp, "timesyncd": timesyncd}.get(daemon, False):
            continue
        for line in lines:
            words = _uncomment(line).split()
            if not words:
                continue
            if (chrony or ntp) and words[0] in ("server", "pool", "peer") and len(words) > 1:
                servers.append(words[1])
            elif timesyncd and words[0].startswith("NTP="):
                servers.extend(" ".join(words)[4:].split())
    return tuple(dict.fromkeys(servers))


def parse_time_sync(
    timedatectl: tuple[str, int],
    chrony: tuple[str, int],
    ntpq: tuple[str, int],
    config: str,
    daemons: Mapping[str, Verdict] | None = None,
) -> TimeSyncFacts:
    """timedatectl when systemd runs; otherwise chronyd or ntpd, whichever runs. ValueError
    when the daemon that runs cannot be read. ``daemons``: whether ``chronyd`` and ``ntpd``
    are the genuine daemons; a process that only has the name is not asked, and is named."""
    chrony_text, chrony_rc = chrony
    ntpq_text, ntpq_rc = ntpq
    chrony_runs = not chrony_text.startswith("@@") and chrony_rc != -1
    ntpd_runs = not ntpq_text.startswith("@@") and ntpq_rc != -1
    # an impostor (its name, another program or user) is not the NTP client
    fakes = [seen for ok, seen in (daemons or {}).values() if ok is False and "(PID " in seen]
    if (daemons or {}).get("chronyd", (None, ""))[0] is False:
        chrony_runs = False
    if (daemons or {}).get("ntpd", (None, ""))[0] is False:
        ntpd_runs = False
    impostors = f"; {'; '.join(fakes)}" if fakes else ""
    daemon = "chronyd" if chrony_runs else "ntpd" if ntpd_runs else "timesyncd"
    found: TimeSyncFacts | None = None
    if chrony_runs:
        if chrony_rc != 0 or "506 Cannot talk" in chrony_text:
            raise ValueError(f"chronyd runs but chronyc tracking failed: {chrony_text.strip()}")
        found = _chrony(chrony_text)
    elif ntpd_runs:
        if ntpq_rc != 0:
            raise ValueError(f"ntpd runs but ntpq -pn failed (exit {ntpq_rc})")
        found = _ntpq(ntpq_text)
    text, rc = timedatectl
    if not text.startswith("@@"):  # systemd is PID 1: the kernel's own verdict
        if rc != 0:
            if found is None:
                raise ValueError(f"timedatectl show failed (exit {rc}): {text.strip()[-200:]}")
        else:
            values = dict(line.partition("=")[::2] for line in text.splitlines())
            if "NTPSynchronized" not in values:
                raise ValueError("timedatectl show printed no NTPSynchronized")
            synced = values["NTPSynchronized"] == "yes"
            detail = f"timedatectl: NTP={values.get('NTP', '?')}, NTPSynchronized="
            detail += values["NTPSynchronized"] + (f"; {found.detail}" if found else "")
            detail += impostors
            return TimeSyncFacts(
                synchronized=synced and (found is None or found.synchronized),
                source="timedatectl",
                detail=detail,
                reference=found.reference if found else None,
                offset_seconds=found.offset_seconds if found else None,
                servers=_servers(config, daemon),
                evidence=text.strip(),
            )
    if found is None:
        stopped = "" if chrony_text.startswith("@@not-installed") else "; chrony is installed"
        candidates = "chronyd, ntpd" + (
            ", systemd-timesyncd" if not text.startswith("@@") else "; systemd is not PID 1"
        )
        return TimeSyncFacts(
            synchronized=False,
            source="no NTP client",
            detail=f"no NTP client is running ({candidates}){stopped}{impostors}",
            servers=_servers(config, "chronyd") + _servers(config, "ntpd"),
        )
    update: dict[str, Any] = {"servers": _servers(config, daemon)}
    if impostors:
        update["detail"] = found.detail + impostors
    return found.model_copy(update=update)


# -- the domain -------------------------------------------------------------------------------


def _undecided(daemons: Daemons, rsyslog: bool, syslog_ng: bool) -> str:
    """Why forwarding cannot be judged from the daemons seen ("" when it can)."""
    if rsyslog and daemons.rsyslog_source:
        return f"rsyslogd runs, but {daemons.rsyslog_source}"
    for installed, (running, seen) in ((rsyslog, daemons.rsyslogd), (syslog_ng, daemons.syslog_ng)):
        if installed and running is None:
            return f"whether the syslog daemon runs cannot be told: {seen}"
    return ""


def _named_impostors(
    targets: list[ForwardTarget], daemon: str, running: bool | None, seen: str
) -> list[ForwardTarget]:
    """Say what runs under the daemon's name instead of it, where a target is inactive."""
    if running is not False or "(PID " not in seen:
        return targets
    said = f"{daemon} is not running"
    return [
        t.model_copy(update={"inactive_reason": t.inactive_reason.replace(said, f"{said}: {seen}")})
        if said in t.inactive_reason
        else t
        for t in targets
    ]


def parse(raw: dict[str, Any], host: dict[str, Any]) -> LoggingFacts:
    """``raw`` is the document's ``logging`` member, ``host`` its ``host`` member."""
    problems: dict[str, str] = {}
    daemons = read_daemons(raw, host)
    targets: tuple[ForwardTarget, ...] | None = None
    seen: list[str] = []
    rsyslog, rsyslog_rc = out(raw, "rsyslog")
    syslog_ng, ng_rc = out(raw, "syslog_ng")
    upload, upload_rc = out(raw, "journal_upload")
    rsyslog_on = not rsyslog.startswith("@@not-installed")
    ng_on = not syslog_ng.startswith("@@not-installed")
    if daemons is None:
        problems["forward_targets"] = "the running processes could not be listed (/proc)"
    elif -1 in (rsyslog_rc, ng_rc, upload_rc):
        problems["forward_targets"] = "the answer has no syslog configuration (old fragment?)"
    elif unknown := _undecided(daemons, rsyslog_on, ng_on):
        problems["forward_targets"] = unknown
    else:
        found: list[ForwardTarget] = []
        try:
            if rsyslog_on:
                running, ran = daemons.rsyslogd
                view = logging_rsyslog.read(
                    rsyslog,
                    running is True,
                    field(raw, "rsyslog_check"),
                    field(raw, "rsyslog_full"),
                )
                seen.append(view.seen)
                if running:  # which process was taken for rsyslog's daemon, and why
                    seen.append(f"rsyslogd: {ran}")
                found += _named_impostors(view.targets, "rsyslogd", running, ran)
            if ng_on:
                running, ran = daemons.syslog_ng
                seen.append(f"syslog-ng ({ran if running else 'not running'})")
                found += _named_impostors(
                    parse_syslog_ng(syslog_ng, running is True), "syslog-ng", running, ran
                )
            if not upload.startswith("@@not-installed"):
                seen.append("systemd-journal-upload")
                found += parse_journal_upload(upload)
            targets = tuple(found)
        except ValueError as exc:
            problems["forward_targets"] = f"the rsyslog configuration could not be read: {exc}"

    time_sync: TimeSyncFacts | None = None
    try:
        time_sync = parse_time_sync(
            out(raw, "timedatectl"),
            out(raw, "chrony"),
            out(raw, "ntpq"),
            out(raw, "ntp_config")[0],
            daemons.by_name() if daemons is not None else None,
        )
        sources = out(raw, "chrony_sources")[0].strip()
        if sources and time_sync.evidence:
            time_sync = time_sync.model_copy(
                update={"evidence": f"{time_sync.evidence}\n\n{sources}"}
            )
    except ValueError as exc:
        problems["time_sync"] = str(exc)

    return LoggingFacts(
        forward_targets=targets,
        forwarders_seen=tuple(seen),
        time_sync=time_sync,
        problems=problems,
    )
