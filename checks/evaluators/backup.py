"""Backup: the controls of the ``backup`` domain, each beside its pure evaluate function.

Every function takes (BackupFacts, its policy parameters, EvalContext) and returns an Outcome.
A repository that cannot be read (wrong password, unreachable) is ``error`` (unreadable), never
``pass``; a local repository that does not exist, or no backup at all, is a ``fail`` of
``configured``, ``last_success_age`` and ``encrypted`` alike: there is certainly no backup
there, so certainly no encrypted one (a policy asking for encryption is not met).
"""

from __future__ import annotations

from datetime import datetime

from baluarte.controls import Domain, EvalContext
from baluarte.findings import Outcome, Severity
from checks.evaluators.common import ahead_of_run, not_required
from checks.facts.backup import (
    BackupFacts,
    Repository,
    RestoreTest,
    Snapshot,
    SystemdJob,
    VeeamState,
)
from checks.policy.backup import (
    BackupSource,
    ConfigSaved,
    Configured,
    Encrypted,
    LastSuccessAge,
    RestoreTested,
)

DOMAIN = Domain(
    "backup",
    gdpr=("32(1)(c)", "32(1)(d)"),
    iso27001=("8.13", "5.30"),
    ens=("mp.info.6",),
    nis2=("(c)",),
    cis=("11.1", "11.2", "11.3", "11.4", "11.5"),
)

_SUCCESS = ("Success", "Warning")  # a Veeam session with warnings still made a restore point
# backup.encrypted on a device with no backup: the policy asks for something that is not there
_NO_BACKUP = "no backup, so no encrypted backup (see backup.configured)"


def _when(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M %Z}".strip()


def _precheck(facts: BackupFacts, params: BackupSource) -> Outcome | None:
    """An error when the facts cannot answer for this control, else None."""
    if facts.problems:
        return Outcome.unreadable("; ".join(facts.problems))
    if facts.tool and params.tool not in ("any", facts.tool):
        return Outcome.error(
            f"the policy expects {params.tool} here but the host was inspected as {facts.tool}: "
            "the backup controls of this policy name different tools"
        )
    if facts.tool == "systemd" and facts.systemd is None:
        return Outcome.error("tool: systemd needs the job's service (unit:) in the policy")
    return None


def _nothing(facts: BackupFacts) -> str:
    return facts.detail or "no backup found"


def _repo_error(repo: Repository) -> Outcome | None:
    if repo.state == "unreadable":
        return Outcome.unreadable(f"{repo.tool} repository {repo.location}: {repo.problem}")
    return None


def _newest(repo: Repository, expected: str) -> Snapshot | Outcome:
    """This host's newest snapshot, or the verdict when the repository cannot give one."""
    if (err := _repo_error(repo)) is not None:
        return err
    if repo.latest is None:
        return Outcome.failed(expected, _latest_missing(repo))
    return repo.latest


def _latest_missing(repo: Repository, host_kind: str = "snapshot") -> str:
    if repo.state == "missing":
        return f"no {repo.tool} repository at {repo.location} ({repo.problem})"
    others = f" (snapshots from: {', '.join(repo.other_hosts)})" if repo.other_hosts else ""
    return f"{repo.tool} repository {repo.location} holds no {host_kind} of this host{others}"


def _covered(required: str, paths: tuple[str, ...]) -> bool:
    want = required.rstrip("/") or "/"
    for path in paths:
        have = path.rstrip("/") or "/"
        if want == have or want.startswith(have if have == "/" else have + "/"):
            return True
    return False


def _coverage(
    expected: str, what: str, paths: tuple[str, ...], required: tuple[str, ...]
) -> Outcome:
    missing = [p for p in required if not _covered(p, paths)]
    evidence = "\n".join(paths)
    if missing:
        observed = f"{what} does not include {', '.join(missing)} (it has {', '.join(paths)})"
        return Outcome.failed(expected, observed, evidence=evidence)
    return Outcome.passed(
        expected, f"{what} includes {', '.join(required) or 'its paths'}", evidence
    )


def _snapshot_name(repo: Repository, snap: Snapshot) -> str:
    kind = "snapshot" if repo.tool == "restic" else "archive"
    return f"{repo.tool} {kind} {snap.id} of {_when(snap.time)} in {repo.location}"


@DOMAIN.control(
    title="A backup job covers the required data",
    rationale="Data that no job covers cannot be restored after ransomware, a failed disk or "
    "a mistaken deletion.",
    severity=Severity.HIGH,
    platforms=("linux", "windows"),
    benchmark="CIS Controls v8 11.2",
)
def configured(facts: BackupFacts, params: Configured, ctx: EvalContext) -> Outcome:
    if (early := _precheck(facts, params)) is not None:
        return early
    paths = ", ".join(params.paths)
    expected = f"a {params.tool if params.tool != 'any' else 'backup'} job covering {paths}"
    if not params.paths:
        expected = f"a {params.tool if params.tool != 'any' else 'backup'} job with a backup"
    if facts.repository is not None:
        repo = facts.repository
        latest = _newest(repo, expected)
        if isinstance(latest, Outcome):
            return latest
        what = f"the newest {_snapshot_name(repo, latest)}"
        if latest.paths is None:
            if not params.paths:
                return Outcome.passed(expected, what)
            return Outcome.error(
                f"{what} records no absolute paths (relative paths in its command line)", expected
            )
        return _coverage(expected, what, latest.paths, params.paths)
    if facts.systemd is not None and facts.tool == "systemd":
        return _configured_systemd(facts.systemd, params, expected)
    if facts.veeam is not None:
        return _configured_veeam(facts.veeam, params, expected)
    return Outcome.failed(expected, _nothing(facts))


def _configured_systemd(job: SystemdJob, params: Configured, expected: str) -> Outcome:
    if not job.service_loaded:
        return Outcome.failed(expected, f"the job's service {job.service} is not installed")
    if not job.timer_loaded:
        return Outcome.failed(expected, f"the job's timer {job.timer} is not installed")
    if not (job.timer_enabled and job.timer_active):
        state = f"{'enabled' if job.timer_enabled else 'disabled'}, "
        state += "active" if job.timer_active else "inactive"
        return Outcome.failed(expected, f"timer {job.timer} is {state}: the job is not scheduled")
    what = f"systemd job {job.service} (timer {job.timer}, next run "
    what += f"{_when(job.next_run) if job.next_run else 'unknown'})"
    if not params.paths:
        return Outcome.passed(expected, what, " ".join(job.command) or None)
    # Only the command line can show paths; a wrapper script hides them (name the repository).
    args = tuple(a for a in job.command[1:] if a.startswith("/"))
    return _coverage(expected, f"{what}: its command", args, params.paths)


def _configured_veeam(veeam: VeeamState, params: Configured, expected: str) -> Outcome:
    if veeam.jobs is None:
        return Outcome.unreadable(
            f"Veeam Agent: {veeam.problem or 'job list unreadable'}", expected
        )
    jobs = [j for j in veeam.jobs if params.job in (None, j.name)]
    evidence = "\n".join(f"{j.name} {j.id} {j.type} {j.repository}" for j in veeam.jobs)
    if not jobs:
        name = f"job {params.job!r}" if params.job else "backup job"
        return Outcome.failed(expected, f"no Veeam Agent {name}", evidence=evidence or None)
    what = ", ".join(f"{j.name} ({j.type} to {j.repository})" for j in jobs)
    if params.paths:
        how = "`veeamconfig job list`" if veeam.source == "veeamconfig" else "the Windows check"
        return Outcome.error(
            f"Veeam Agent job {what} found, but {how} does not show which paths a job covers",
            expected,
            evidence,
        )
    return Outcome.passed(expected, f"Veeam Agent job {what}", evidence)


def _future(what: str, at: datetime, now: datetime, expected: str) -> Outcome | None:
    """An error when ``at`` lies ahead of this run's clock (borg's local times are read in
    today's UTC offset: the slack covers a DST change)."""
    why = ahead_of_run(what, at, now)
    return Outcome.error(why, expected) if why else None


def _age(expected: str, what: str, at: datetime, params: LastSuccessAge, now: datetime) -> Outcome:
    if (ahead := _future(what, at, now, expected)) is not None:
        return ahead
    hours = (now - at).total_seconds() / 3600
    observed = f"{what}: {hours:.1f} hours ago"
    if hours <= params.max_hours:
        return Outcome.passed(expected, observed)
    return Outcome.failed(expected, observed)


@DOMAIN.control(
    title="The last successful backup is recent",
    rationale="A configured job that has been failing for days gives a false sense of safety; "
    "what counts is the age of the last good copy.",
    severity=Severity.HIGH,
    platforms=("linux", "windows"),
    benchmark="CIS Controls v8 11.2",
)
def last_success_age(facts: BackupFacts, params: LastSuccessAge, ctx: EvalContext) -> Outcome:
    if (early := _precheck(facts, params)) is not None:
        return early
    expected = f"a successful backup within the last {params.max_hours} hours"
    if facts.repository is not None:
        repo = facts.repository
        latest = _newest(repo, expected)
        if isinstance(latest, Outcome):
            return latest
        what = f"newest {_snapshot_name(repo, latest)}"
        return _age(expected, what, latest.time, params, ctx.now)
    if facts.systemd is not None and facts.tool == "systemd":
        return _age_systemd(facts.systemd, params, expected, ctx.now)
    if facts.veeam is not None:
        return _age_veeam(facts.veeam, params, expected, ctx.now)
    return Outcome.failed(expected, _nothing(facts))


def _age_systemd(job: SystemdJob, params: LastSuccessAge, expected: str, now: datetime) -> Outcome:
    if not job.service_loaded:
        return Outcome.failed(expected, f"the job's service {job.service} is not installed")
    evidence = (
        f"Result={job.result} ExecMainStatus={job.exit_status} "
        f"ExecMainExitTimestamp={_when(job.last_exit) if job.last_exit else ''} "
        f"ActiveState={job.active_state}"
    )
    if job.last_exit is None:
        # systemd keeps a service's last run in memory only: nothing since boot means no
        # success since boot, which decides only when the boot is older than the limit
        running = " (it is running now)" if job.active_state in ("activating", "active") else ""
        if job.booted is not None:
            since = (now - job.booted).total_seconds() / 3600
            observed = f"{job.service} has not finished a run since boot {since:.1f} hours ago"
            if since > params.max_hours:
                return Outcome.failed(expected, observed + running, evidence=evidence)
            return Outcome.error(
                f"{observed}{running}; systemd forgets runs before a boot", expected, evidence
            )
        return Outcome.error(f"{job.service} has no finished run on record{running}", expected)
    if job.result != "success" or job.exit_status not in (0, None):
        # words, not Python's None, for what systemd did not say
        code = "unknown" if job.exit_status is None else job.exit_status
        observed = (
            f"the last run of {job.service} ended {_when(job.last_exit)} and failed "
            f"(Result={job.result or 'unknown'}, exit status {code})"
        )
        return Outcome.failed(expected, observed, evidence=evidence)
    outcome = _age(
        expected, f"{job.service} last succeeded {_when(job.last_exit)}", job.last_exit, params, now
    )
    return outcome.model_copy(update={"evidence": evidence})


def _age_veeam(veeam: VeeamState, params: LastSuccessAge, expected: str, now: datetime) -> Outcome:
    if veeam.sessions is None:
        return Outcome.unreadable(
            f"Veeam Agent: {veeam.problem or 'session list unreadable'}", expected
        )
    sessions = [s for s in veeam.sessions if params.job in (None, s.job) and s.type == "Backup"]
    good = [s for s in sessions if s.state in _SUCCESS and s.finished is not None]
    evidence = "\n".join(
        f"{s.job} {s.state} {s.started and _when(s.started)} {s.finished and _when(s.finished)}"
        for s in sessions[-5:]
    )
    if not good:
        return Outcome.failed(
            expected, "no successful Veeam Agent backup session", evidence=evidence or None
        )
    last = max(good, key=lambda s: s.finished or now)
    assert last.finished is not None
    what = f"Veeam Agent job {last.job} session {last.state} finished {_when(last.finished)}"
    later = [
        s
        for s in sessions
        if (when := s.started or s.finished) and when > last.finished and s.state == "Failed"
    ]
    if later:
        what += f" ({len(later)} failed session{'s' if len(later) > 1 else ''} since)"
    return _age(expected, what, last.finished, params, now).model_copy(
        update={"evidence": evidence}
    )


@DOMAIN.control(
    title="Backups are encrypted",
    rationale="A backup holds every personal record of the client; unencrypted, its loss or "
    "theft is a breach.",
    severity=Severity.HIGH,
    platforms=("linux", "windows"),
    benchmark="CIS Controls v8 11.3",
)
def encrypted(facts: BackupFacts, params: Encrypted, ctx: EvalContext) -> Outcome:
    if not params.required:
        return not_required("backup encryption", ctx)
    if (early := _precheck(facts, params)) is not None:
        return early
    expected = "the backup repository is encrypted"
    repo = facts.repository
    if repo is None and facts.veeam is not None and facts.veeam.source == "windows":
        return _encrypted_veeam(facts.veeam, params)
    if repo is None:
        source = {"systemd": "a systemd job's state", "veeam": "`veeamconfig job list`"}
        how = source.get(facts.tool or "")
        if how:
            return Outcome.error(
                f"{how} does not tell whether backups are encrypted: name the restic or borg "
                "repository in the policy",
                expected,
            )
        return Outcome.failed(expected, _nothing(facts), _NO_BACKUP)
    if (err := _repo_error(repo)) is not None:
        return err
    if repo.state == "missing":
        return Outcome.failed(expected, _latest_missing(repo), _NO_BACKUP)
    if repo.encrypted is None:
        return Outcome.unreadable(
            f"{repo.tool} did not report the encryption of {repo.location}", expected
        )
    observed = f"{repo.tool} repository {repo.location}: encryption {repo.encryption}"
    if repo.encrypted:
        return Outcome.passed(expected, observed)
    return Outcome.failed(expected, observed)


def _encrypted_veeam(veeam: VeeamState, params: Encrypted) -> Outcome:
    """Veeam Agent for Microsoft Windows: the encryption setting of each job."""
    expected = "every Veeam Agent job encrypts its backups"
    if veeam.jobs is None:
        return Outcome.unreadable(
            f"Veeam Agent: {veeam.problem or 'job settings unreadable'}", expected
        )
    jobs = [j for j in veeam.jobs if params.job in (None, j.name)]
    if not jobs:
        name = f"job {params.job!r}" if params.job else "backup job"
        return Outcome.failed(expected, f"no Veeam Agent {name}", _NO_BACKUP)
    evidence = "\n".join(f"{j.name} {j.type} {j.repository} encrypted={j.encrypted}" for j in jobs)
    plain = [j.name for j in jobs if j.encrypted is False]
    unknown = [j.name for j in jobs if j.encrypted is None]
    if plain:
        observed = f"Veeam Agent job {', '.join(plain)}: backup encryption off"
        return Outcome.failed(expected, observed, evidence=evidence)
    if unknown:
        why = f"the encryption setting of Veeam Agent job {', '.join(unknown)} could not be read"
        return Outcome.unreadable(why, expected, evidence)
    observed = f"Veeam Agent job {', '.join(j.name for j in jobs)}: backup encryption on"
    return Outcome.passed(expected, observed, evidence)


def _restore_evidence(test: RestoreTest) -> str:
    lines = [
        f"restore test {test.at:%Y-%m-%dT%H:%M:%SZ}: {test.result}",
        f"tool {test.tool}, snapshot {test.snapshot or '-'}, file {test.file or '-'}",
        f"source sha256   {test.source_sha256 or '-'}",
        f"restored sha256 {test.restored_sha256 or '-'}",
    ]
    if test.backup_time:
        lines.append(f"backup taken    {test.backup_time:%Y-%m-%dT%H:%M:%SZ}")
    if test.source_modified:
        lines.append(f"source modified {test.source_modified:%Y-%m-%dT%H:%M:%SZ}")
    if test.detail:
        lines.append(test.detail)
    return "\n".join(lines)


def _restore_what(test: RestoreTest) -> str:
    snapshot = test.snapshot or "-"
    short = snapshot[:8] if len(snapshot) == 64 else snapshot  # restic ids: as restic shows them
    what = f"{test.file or 'no file'} from {test.tool} {short}"
    modified, taken = test.source_modified, test.backup_time
    if test.result == "fail" and modified and taken and modified > taken:
        what += f" (the source changed {_when(modified)}, after the backup)"
    return what


@DOMAIN.control(
    title="A restore was tested recently",
    rationale="GDPR 32(1)(d) asks for regular testing; only a restore proves a backup is usable.",
    severity=Severity.MEDIUM,
    platforms=("linux",),
    benchmark="CIS Controls v8 11.5 (test data recovery quarterly)",
)
def restore_tested(facts: BackupFacts, params: RestoreTested, ctx: EvalContext) -> Outcome:
    expected = f"a successful restore test within the last {params.max_days} days"
    test = facts.restore_now
    if test is not None:
        what = f"restore test now: {_restore_what(test)}"
        evidence = _restore_evidence(test)
        if test.result == "pass":
            return Outcome.passed(expected, f"{what}, sha256 identical", evidence)
        if test.result == "fail":
            return Outcome.failed(expected, f"{what}: {test.detail}", evidence=evidence)
        repo = facts.repository
        if repo is not None and repo.state == "missing":
            return Outcome.failed(expected, f"nothing to restore: {_latest_missing(repo)}")
        return Outcome.unreadable(
            f"the restore test could not be made: {test.detail}", expected, evidence
        )
    if (early := _precheck(facts, params)) is not None:
        return early
    if not facts.restore_record_read:
        return Outcome.unreadable("the restore test record on the host cannot be read", expected)
    record = facts.restore_record
    hint = " (run `baluarte check --restore-test`)"
    if record is None:
        return Outcome.failed(expected, "no restore test on record" + hint)
    evidence = _restore_evidence(record)
    if (ahead := _future("the last restore test", record.at, ctx.now, expected)) is not None:
        return ahead.model_copy(update={"evidence": evidence})
    days = (ctx.now - record.at).total_seconds() / 86400
    what = f"last restore test {_when(record.at)} ({days:.1f} days ago): {record.result}"
    if not record.same_repository:
        return Outcome.failed(expected, f"{what}, of another repository{hint}", evidence=evidence)
    if record.result != "pass":
        observed = f"{what}: {_restore_what(record)}: {record.detail}"
        return Outcome.failed(expected, observed, evidence=evidence)
    if days > params.max_days:
        return Outcome.failed(expected, what + hint, evidence=evidence)
    return Outcome.passed(expected, f"{what}, {record.file} sha256 identical", evidence)


@DOMAIN.control(
    title="The unit's configuration is backed up",
    rationale="A firewall replaced after a failure must come back with its rules; a recent "
    "configuration backup makes that minutes instead of days.",
    severity=Severity.MEDIUM,
    platforms=("fortigate",),
    benchmark="CIS Controls v8 11.1, 11.2",
)
def config_saved(facts: BackupFacts, params: ConfigSaved, ctx: EvalContext) -> Outcome:
    """Baluarte takes the backup itself during the check; the finding records its SHA-256, size,
    first line and where it was written, never the configuration text."""
    expected = f"a configuration backup taken within the last {params.max_days} days"
    taken = facts.config_backup
    if taken is None and facts.config_backup_refused:
        # The unit answered and said no: no backup exists for this run, and none will until
        # the API user's profile may run backups. That is drift to fix, not doubt.
        return Outcome.failed(expected, "; ".join(facts.problems) or "the unit refused the backup")
    if taken is None:
        if facts.problems:
            why = "; ".join(facts.problems)
            if "backup" not in why:  # the collector may have said so already
                why = f"the configuration backup failed: {why}"
            return Outcome.unreadable(why, expected)
        return Outcome.unreadable("no configuration backup was taken in this run", expected)
    days = (ctx.now - taken.taken_at).total_seconds() / 86400
    observed = (
        f"configuration backup ({taken.scope}) taken {_when(taken.taken_at)}: sha256 "
        f"{taken.sha256}, {taken.size} bytes, kept at {taken.path}"
    )
    evidence = "\n".join(
        [f"sha256 {taken.sha256}", f"size {taken.size}", f"path {taken.path}", taken.header]
    )
    if days > params.max_days:
        return Outcome.failed(expected, f"{observed} ({days:.1f} days ago)", evidence=evidence)
    return Outcome.passed(expected, observed, evidence)
