"""The ``backup:`` section of a policy.

Every control names the backup the same way (``tool``, ``repository``, ``password``,
``repository_password``, ``unit``, ``job``); one control saying it is enough: a host is
inspected against the first value set, in the section's order (configured, last_success_age,
encrypted, restore_tested).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from baluarte.masking import url_password
from baluarte.secrets import SecretRef
from checks.policy.base import ControlParams, Section

__all__ = [
    "BackupSection",
    "BackupSource",
    "ConfigSaved",
    "Configured",
    "Encrypted",
    "LastSuccessAge",
    "RestoreTested",
    "Tool",
]

Tool = Literal["restic", "borg", "veeam", "systemd", "any"]


class BackupSource(ControlParams):
    """Which backup a control looks at."""

    tool: Tool = Field(
        default="any",
        description="backup tool expected; 'systemd' judges a job by its service unit; 'any' "
        "detects restic or borg from the repository, else a systemd job or Veeam Agent",
    )
    repository: str | None = Field(
        default=None,
        description="restic/borg repository (path or URL) the backups go to; a URL names no "
        "password (see repository_password)",
    )
    password: SecretRef | None = Field(
        default=None,
        description="reference to the repository password (env:, file:, keyring:); sent to the "
        "host on the collection script's standard input, never stored",
    )
    repository_password: SecretRef | None = Field(
        default=None,
        description="reference to the password of the repository URL's user (a restic REST "
        "server: rest:https://USER@host:8000/); sent like password, put into the URL on the host",
    )

    @field_validator("repository")
    @classmethod
    def _no_password_in_url(cls, value: str | None) -> str | None:
        # A policy file is committed, hashed and copied into evidence packs: no secret in it.
        if value is not None and url_password(value) is not None:
            raise PydanticCustomError(
                "literal_secret",
                "the repository URL contains a password: write the URL without it "
                "(rest:https://USER@host:8000/repo) and reference the password with "
                'repository_password: "env:NAME" (or file:, keyring:)',
            )
        return value

    @model_validator(mode="after")
    def _password_has_a_user(self) -> BackupSource:
        if self.repository_password is not None and not re.search(
            r"://[^/@:]+@", self.repository or ""
        ):
            raise PydanticCustomError(
                "wrong_value",
                "repository_password needs a repository URL that names its user "
                "(rest:https://USER@host:8000/repo)",
            )
        return self

    unit: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9@._:\\-]+$",
        description="systemd service that runs the backup job (its timer: same name, .timer)",
    )
    timer: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9@._:\\-]+$",
        description="systemd timer of the job, when not named after the service",
    )
    job: str | None = Field(default=None, description="Veeam Agent job name (default: any job)")


class Configured(BackupSource):
    paths: tuple[str, ...] = Field(
        default=(), description="paths (or Windows volumes) the newest backup must include"
    )


class LastSuccessAge(BackupSource):
    max_hours: int = Field(default=26, ge=1, description="oldest acceptable last success")


class Encrypted(BackupSource):
    required: bool = Field(default=True, description="false: encryption is not required")


class RestoreTested(BackupSource):
    max_days: int = Field(default=90, ge=1, description="oldest acceptable successful restore test")
    run: bool = Field(
        default=False,
        description="run a restore test at every check (as `baluarte check --restore-test` does)",
    )


class ConfigSaved(ControlParams):
    max_days: int = Field(default=7, ge=1, description="oldest acceptable configuration backup")


class BackupSection(Section):
    configured: Configured | None = Field(default=None, description="a job covers the paths")
    last_success_age: LastSuccessAge | None = Field(
        default=None, description="last success no older than max_hours"
    )
    encrypted: Encrypted | None = Field(default=None, description="the repository is encrypted")
    restore_tested: RestoreTested | None = Field(
        default=None, description="a restore test succeeded within max_days"
    )
    config_saved: ConfigSaved | None = Field(
        default=None, description="FortiGate: configuration backup within max_days"
    )
