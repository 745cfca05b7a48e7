"""Parse what ``backup.sh`` fetched into BackupFacts (pure), and tell the fragment what to read.

The tools have sibling modules: ``backup_restic``, ``backup_borg``, ``backup_systemd`` and
``backup_veeam``. The restore test's record lives on the host, in
``/var/lib/baluarte/restore-test.json``: the fragment writes it after every restore test it runs
and reads it back at every check, so ``backup.restore_tested`` can pass between restore tests.
The record holds no secret (a hash of the repository location, the file, both hashes, the
times); it is as trustworthy as the host's root account, like any evidence read from the host.
Only tests that were made are recorded: an attempt that could not run never hides the last one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timezone
from typing import Any, Literal
from urllib.parse import quote

from baluarte.masking import mask_url_credentials
from baluarte.plan import PlannedControl
from baluarte.secrets import resolve
from checks.facts.backup import BackupFacts, Repository, RestoreTest, VeeamState
from checks.linux.backup_borg import borg_problem, parse_list
from checks.linux.backup_restic import parse_snapshots, restic_problem
from checks.linux.backup_systemd import parse_job
from checks.linux.backup_veeam import parse_jobs, parse_sessions
from checks.linux.raw import epoch, field, host_clock
from checks.linux.settings import Settings
from checks.policy.backup import BackupSource, RestoreTested

__all__ = ["mask_location", "parse", "parse_restore", "settings"]

_RESULTS: dict[str, Literal["pass", "fail", "error"]] = {
    "pass": "pass",
    "fail": "fail",
    "error": "error",
}
_FIELDS = ("tool", "repository", "password", "repository_password", "unit", "timer", "job")


def settings(controls: Sequence[PlannedControl], restore_test: bool) -> Settings:
    """Which backup to inspect, from the first control that names each part of it.

    The password reference is resolved here (raises InputError when it cannot be read) and
    travels as a secret: on the script's standard input, never in its text.
    """
    sources = [pc.params for pc in controls if isinstance(pc.params, BackupSource)]
    if not sources:
        return Settings()
    pick: dict[str, Any] = {}
    for name in _FIELDS:
        values = [getattr(s, name) for s in sources]
        pick[name] = next((v for v in values if v is not None and v != "any"), None)
    env = {"BK_TOOL": pick["tool"] or "any"}
    if pick["repository"]:
        env["BK_REPO"] = pick["repository"]
    if pick["unit"]:
        unit = pick["unit"] if "." in pick["unit"] else f"{pick['unit']}.service"
        env["BK_UNIT"] = unit
        env["BK_TIMER"] = pick["timer"] or unit.rsplit(".", 1)[0] + ".timer"
    restore = [s for s in sources if isinstance(s, RestoreTested)]
    if restore and (restore_test or any(s.run for s in restore)):
        env["BK_RESTORE"] = "1"
    secrets = {"BK_PASSWORD": resolve(pick["password"])} if pick["password"] else {}
    if pick["repository_password"] and pick["repository"]:
        # URL-encoded here: the fragment inserts it into the URL as it is
        secrets["BK_URL_PASSWORD"] = quote(resolve(pick["repository_password"]), safe="")
    return Settings(env=env, secrets=secrets)


def mask_location(location: str) -> str:
    """A repository location fit for facts and reports: URL credentials replaced by ***."""
    return mask_url_credentials(location)


def _hostname(host: dict[str, Any]) -> str:
    item = host.get("hostname")
    return str(item.get("out", "")).strip() if isinstance(item, dict) else ""


def _repository(
    raw: dict[str, Any], tool: Literal["restic", "borg"], location: str, tz: timezone, host: str
) -> Repository:
    state_field = field(raw, "repo_state")
    if state_field and state_field[0].strip() == "missing":
        return Repository(
            tool=tool, location=location, state="missing", problem="the path does not exist"
        )
    key = "restic_snapshots" if tool == "restic" else "borg_list"
    answer = field(raw, key)
    if answer is None:
        return Repository(
            tool=tool, location=location, state="unreadable", problem=f"no {key} output"
        )
    text, rc = answer
    if rc != 0:
        state, why = (restic_problem if tool == "restic" else borg_problem)(text, rc)
        return Repository(tool=tool, location=location, state=state, problem=why)
    try:
        if tool == "restic":
            latest, others = parse_snapshots(text, host)
            return Repository(
                tool="restic",
                location=location,
                state="ok",
                latest=latest,
                other_hosts=others,
                encryption="restic (every repository is encrypted, AES-256)",
                encrypted=True,
            )
        latest, mode = parse_list(text, tz)
    except (ValueError, TypeError) as exc:
        return Repository(
            tool=tool, location=location, state="unreadable", problem=f"unexpected output: {exc}"
        )
    return Repository(
        tool="borg",
        location=location,
        state="ok",
        latest=latest,
        encryption=mode,
        # "authenticated" modes sign but do not encrypt
        encrypted=None if mode is None else mode not in ("none", "authenticated"),
    )


def parse_restore(text: str, now: bool, repository: str) -> RestoreTest:
    """The restore test's ``key=value`` lines (``now``) or its JSON record. Raises ValueError."""
    if now:
        fields = dict(line.partition("=")[::2] for line in text.splitlines() if "=" in line)
        same = True
    else:
        doc = json.loads(text)
        if not isinstance(doc, dict):
            raise ValueError("the restore record is not a JSON object")
        fields = {k: str(v) for k, v in doc.items()}
        digest = hashlib.sha256(repository.encode()).hexdigest()
        same = fields.get("repository_sha256") == digest
    result = _RESULTS.get(fields.get("result", ""))
    at = fields.get("time", "")
    if result is None or not at.isdigit():
        raise ValueError("restore test result or time missing")
    return RestoreTest(
        at=datetime.fromtimestamp(int(at), UTC),
        source_modified=epoch(fields.get("source_mtime", "")),
        backup_time=epoch(fields.get("backup_time", "")),
        tool=fields.get("tool", ""),
        result=result,
        file=fields.get("file") or None,
        snapshot=fields.get("snapshot") or None,
        source_sha256=fields.get("source_sha256") or None,
        restored_sha256=fields.get("restored_sha256") or None,
        detail=fields.get("detail", ""),
        same_repository=same,
    )


def parse(raw: dict[str, Any], host: dict[str, Any]) -> BackupFacts:
    """``raw`` is the document's ``backup`` member, ``host`` its ``host`` member."""
    tz, _ = host_clock(host)
    tool_field = field(raw, "tool")
    tool = tool_field[0].strip() if tool_field else ""
    problems: list[str] = []
    facts: dict[str, Any] = {"tool": None}
    repo_field = field(raw, "repository")
    repo_name = repo_field[0].strip() if repo_field else ""

    record = field(raw, "restore_record")
    if record and record[0].strip() not in ("", "absent"):
        try:
            facts["restore_record"] = parse_restore(record[0], False, repo_name)
        except (ValueError, TypeError):
            facts["restore_record_read"] = False
    now_test = field(raw, "restore")
    if now_test:
        try:
            facts["restore_now"] = parse_restore(now_test[0], True, repo_name)
        except ValueError as exc:
            problems.append(f"the restore test printed no result ({exc})")

    if tool in ("restic", "borg"):
        facts["tool"] = tool
        location = mask_location(repo_name) if repo_name else "(repository not named)"
        facts["repository"] = _repository(raw, tool, location, tz, _hostname(host))  # type: ignore[arg-type]
    elif tool == "veeam":
        facts["tool"] = "veeam"
        facts["veeam"] = _veeam(raw, tz)
    elif tool == "systemd":
        facts["tool"] = "systemd"
    elif tool == "unknown":
        state = field(raw, "repo_state")
        where = mask_location(repo_name)
        if state and state[0].strip() == "missing":
            facts["detail"] = f"no repository at {where}: the path does not exist"
        elif state and state[0].strip() == "present":
            facts["detail"] = f"{where} is neither a restic nor a borg repository"
        else:
            problems.append(f"cannot tell restic from borg at {where}: name the tool in the policy")
    elif tool == "none":
        facts["detail"] = (
            "no backup named in the policy (repository or systemd unit) and no Veeam Agent"
        )
    else:
        problems.append("the device's answer has no backup tool line")

    service, timer = field(raw, "systemd_service"), field(raw, "systemd_timer")
    manager = field(raw, "systemd_manager")
    if service and timer:
        try:
            started = manager[0] if manager else ""
            facts["systemd"] = parse_job(service[0], timer[0], started, tz)
        except ValueError as exc:
            problems.append(f"systemctl show: {exc}: {' / '.join(service[0].splitlines()[-2:])}")
    return BackupFacts(**facts, problems=tuple(problems))


def _veeam(raw: dict[str, Any], tz: timezone) -> VeeamState:
    jobs_out, sessions_out = field(raw, "veeam_jobs"), field(raw, "veeam_sessions")
    if jobs_out is None or sessions_out is None:
        return VeeamState(jobs=None, sessions=None, problem="veeamconfig is not installed")
    problem = None
    jobs = sessions = None
    try:
        if jobs_out[1] != 0:
            raise ValueError(f"veeamconfig job list failed (exit {jobs_out[1]})")
        jobs = parse_jobs(jobs_out[0])
        if sessions_out[1] != 0:
            raise ValueError(f"veeamconfig session list failed (exit {sessions_out[1]})")
        sessions = parse_sessions(sessions_out[0], tz)
    except ValueError as exc:
        problem = str(exc)
    return VeeamState(jobs=jobs, sessions=sessions, problem=problem)
