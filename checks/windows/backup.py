"""BackupFacts of a Windows host: Veeam Agent for Microsoft Windows.

Jobs and their encryption come from the agent's exported configuration; when it cannot be read,
the jobs named by the "Backup Job Finished" events (190) stand in, their encryption unknown.
Each event 190 is a finished backup session: Success, Warning (a restore point was made) or
Failed. No Veeam Agent installed: ``tool`` is None and the backup controls fail saying so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks.facts.backup import BackupFacts, VeeamJob, VeeamSession, VeeamState
from checks.windows.read import Fields, Unreadable, check

__all__ = ["parse"]


def _session(event: Fields) -> VeeamSession:
    finished = event.date("TimeCreated")
    result = event.optional_text("Result")
    if result not in ("Success", "Warning", "Failed"):
        raise Unreadable(f"{event.where}: Result {result!r} is not Success, Warning or Failed")
    return VeeamSession(
        job=event.optional_text("Job") or "?",
        type="Backup",
        id=f"event 190 {finished:%Y-%m-%dT%H:%M:%SZ}",
        state=result,
        started=None,
        finished=finished,
    )


def _jobs(data: Fields, sessions: list[VeeamSession]) -> tuple[tuple[VeeamJob, ...], str | None]:
    if data.raw("Jobs") is None:
        why = data.optional_text("JobsError") or "the job settings were not exported"
        named = dict.fromkeys(s.job for s in sessions if s.job != "?")
        jobs = tuple(VeeamJob(name=n, id="", type="Backup", repository="?") for n in named)
        return jobs, f"job settings unreadable ({why})"
    jobs = tuple(
        VeeamJob(
            name=j.text("Name"),
            id="",
            type=j.text("Type") or "Backup",
            repository=j.text("Target") or "?",
            encrypted=j.optional_flag("Encrypted"),
        )
        for j in data.items("Jobs")
    )
    return jobs, None


def parse(document: Mapping[str, Any]) -> BackupFacts:
    try:
        data = check(document, "veeam.agent")
        if not data.flag("Installed"):
            return BackupFacts(tool=None, detail="no Veeam Agent for Microsoft Windows installed")
        events = [e for e in (data.optional_object(k) for k in ("LastSuccess", "LastJob")) if e]
        sessions = sorted({s.id: s for s in map(_session, events)}.values(), key=_finished)
        jobs, problem = _jobs(data, sessions)
    except Unreadable as exc:
        return BackupFacts(tool="veeam", problems=(str(exc),))
    version = data.optional_text("Version") or "unknown version"
    service = data.optional_text("ServiceStatus") or "no service"
    return BackupFacts(
        tool="veeam",
        detail=f"Veeam Agent for Microsoft Windows {version}, service {service}",
        veeam=VeeamState(jobs=jobs, sessions=tuple(sessions), problem=problem, source="windows"),
    )


def _finished(session: VeeamSession) -> str:
    return session.id
