"""A host's inputs to the collection script (its own module: a domain module that defines
``settings()`` imports it without importing the bundle, which imports every domain module)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, field_validator

__all__ = ["Settings"]

_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


class Settings(BaseModel):
    """Per-host inputs of the script: plain variables, and secrets fed through stdin."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: dict[str, str] = {}
    secrets: dict[str, str] = {}

    @field_validator("env", "secrets")
    @classmethod
    def _names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not _NAME.match(name):
                raise ValueError(f"{name!r} is not an upper-case shell variable name")
        return value

    @field_validator("secrets")
    @classmethod
    def _one_line(cls, value: dict[str, str]) -> dict[str, str]:
        for name, secret in value.items():
            if "\n" in secret or "\r" in secret:
                raise ValueError(f"secret {name} must be a single line")
        return value

    def merged(self, other: Settings) -> Settings:
        return Settings(env={**self.env, **other.env}, secrets={**self.secrets, **other.secrets})
