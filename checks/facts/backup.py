"""BackupFacts: what a device's backups look like, whatever the tool or platform that made them.

``None`` always means "could not tell"; an evaluator that needs it reports ``error``.
Facts never hold a repository password: only where the repository is (credentials in a URL are
masked) and what was read from it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = [
    "BackupFacts",
    "ConfigBackupTaken",
    "Repository",
    "RestoreTest",
    "Snapshot",
    "SystemdJob",
    "VeeamJob",
    "VeeamSession",
    "VeeamState",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Snapshot(_Model):
    """One restic snapshot or borg archive."""

    id: str
    time: datetime
    paths: tuple[str, ...] | None  # what it was made of; None: not recorded (relative borg paths)
    hostname: str | None = None


class Repository(_Model):
    """A restic or borg repository as the device sees it."""

    tool: Literal["restic", "borg"]
    location: str  # as named in the policy, credentials in a URL masked
    state: Literal["ok", "missing", "unreadable"]
    problem: str | None = None  # why it is missing or unreadable (tool's own words)
    latest: Snapshot | None = None  # this host's newest snapshot; None when there is none
    other_hosts: tuple[str, ...] = ()  # hosts with snapshots when none is this host's
    encryption: str | None = None  # "restic (always encrypted)", or borg's mode: repokey, none…
    encrypted: bool | None = None


class SystemdJob(_Model):
    """A backup job run by a systemd timer: judged by its service, not the timer's trigger."""

    service: str
    service_loaded: bool
    timer: str
    timer_loaded: bool
    timer_enabled: bool  # UnitFileState enabled: scheduled again after a reboot
    timer_active: bool  # ActiveState active: the schedule is running now
    next_run: datetime | None = None
    last_trigger: datetime | None = None  # when the timer last fired (not proof of success)
    active_state: str = ""  # the service's ActiveState: inactive, activating, failed…
    result: str | None = None  # the service's Result of its last run: success, exit-code…
    exit_status: int | None = None  # ExecMainStatus
    last_exit: datetime | None = None  # ExecMainExitTimestamp; None: not run since boot
    booted: datetime | None = None  # when systemd started: it forgets runs before that
    command: tuple[str, ...] = ()  # ExecStart argv


class VeeamJob(_Model):
    name: str
    id: str
    type: str
    repository: str
    encrypted: bool | None = None  # None: the job's encryption setting was not read


class VeeamSession(_Model):
    job: str
    type: str
    id: str
    state: str  # Running, Success, Warning, Failed
    started: datetime | None
    finished: datetime | None


class VeeamState(_Model):
    """Veeam Agent for Linux, from ``veeamconfig job list`` and ``session list``."""

    jobs: tuple[VeeamJob, ...] | None  # None: the job list could not be read
    sessions: tuple[VeeamSession, ...] | None
    problem: str | None = None
    # which Veeam Agent: "veeamconfig" (Linux) or "windows" (Veeam Agent for Microsoft Windows)
    source: str = "veeamconfig"


class RestoreTest(_Model):
    """One restore test: a sampled file restored to a temporary directory, hashes compared."""

    at: datetime
    tool: str
    result: Literal["pass", "fail", "error"]
    file: str | None = None
    snapshot: str | None = None
    source_sha256: str | None = None
    restored_sha256: str | None = None
    source_modified: datetime | None = None  # the source file's mtime when it was hashed
    backup_time: datetime | None = None  # when the restored snapshot/archive was taken
    detail: str = ""
    same_repository: bool = True  # made against the repository the policy names now


class ConfigBackupTaken(_Model):
    """A configuration backup of an appliance taken during this run (the text stays on disk)."""

    sha256: str
    size: int
    taken_at: datetime
    path: str  # where the file was written
    scope: str = "global"
    header: str = ""  # its first line ("#config-version=FGT60F-7.04-FW-build2702-…")


class BackupFacts(_Model):
    tool: str | None  # restic, borg, veeam, systemd; None: nothing to inspect was found
    detail: str = ""  # why no tool, or which one was picked and how
    repository: Repository | None = None
    systemd: SystemdJob | None = None
    veeam: VeeamState | None = None
    restore_now: RestoreTest | None = None  # the restore test run during this check
    restore_record: RestoreTest | None = None  # the last one recorded on the host
    restore_record_read: bool = True  # False: the record exists but could not be read
    problems: tuple[str, ...] = ()
    config_backup: ConfigBackupTaken | None = None  # appliances (FortiGate) only
    config_backup_refused: bool = False  # the appliance refused to hand over its configuration
