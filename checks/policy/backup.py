"""The ``backup:`` section of a policy."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from baluarte.secrets import SecretRef
from checks.policy.base import ControlParams, Required, Section

__all__ = ["BackupSection", "ConfigSaved", "Configured", "LastSuccessAge", "RestoreTested", "Tool"]

Tool = Literal["restic", "borg", "veeam", "any"]


class Configured(ControlParams):
    tool: Tool = Field(default="any", description="backup tool expected; 'any' accepts all known")
    repository: str | None = Field(
        default=None, description="repository location expected (restic/borg URL or path)"
    )
    password: SecretRef | None = Field(
        default=None,
        description="reference to the repository password, so snapshots can be listed",
    )
    paths: tuple[str, ...] = Field(
        default=(), description="paths (or Windows volumes) the backup must cover"
    )


class LastSuccessAge(ControlParams):
    tool: Tool = Field(default="any", description="backup tool whose last success counts")
    max_hours: int = Field(default=26, ge=1, description="oldest acceptable last success")


class RestoreTested(ControlParams):
    max_days: int = Field(default=90, ge=1, description="oldest acceptable successful restore test")
    run: bool = Field(
        default=False, description="let Baluarte run a restore test (sample + hash comparison)"
    )


class ConfigSaved(ControlParams):
    max_days: int = Field(default=7, ge=1, description="oldest acceptable configuration backup")


class BackupSection(Section):
    configured: Configured | None = Field(default=None, description="a job covers the paths")
    last_success_age: LastSuccessAge | None = Field(
        default=None, description="last success no older than max_hours"
    )
    encrypted: Required | None = Field(default=None, description="the repository is encrypted")
    restore_tested: RestoreTested | None = Field(
        default=None, description="a restore test succeeded within max_days"
    )
    config_saved: ConfigSaved | None = Field(
        default=None, description="FortiGate: configuration backup within max_days"
    )
