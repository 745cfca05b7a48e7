"""What every control's parameters share, and the base of every policy section."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from baluarte.findings import Severity
from baluarte.validation import NoBooleanNumbers

__all__ = ["ControlParams", "Required", "Section"]


class ControlParams(NoBooleanNumbers):
    """Parameters common to every control in a policy section (a number is never true/false)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=True, description="false turns the control off for this policy")
    severity: Severity | None = Field(
        default=None, description="overrides the catalogue's default severity"
    )


class Required(ControlParams):
    """A yes/no requirement: ``{required: true}``."""

    required: bool = True


class Section(BaseModel):
    """A policy's section for one domain: one optional key per control of the domain."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def controls(self) -> dict[str, ControlParams]:
        """The controls this section sets, by control name, in declaration order."""
        out: dict[str, ControlParams] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, ControlParams):
                out[name] = value
        return out
