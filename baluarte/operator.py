"""Operator: the person responsible for a run — name, role and email — recorded in every run.

Read, first found wins:

1. ``$BALUARTE_OPERATOR``: ``Name <email>, role`` (email and role optional:
   ``Ana García <ana@proveedor.es>, técnica de sistemas``, ``Ana García, técnica``,
   ``Ana García``);
2. ``$BALUARTE_OPERATOR_FILE``, which must exist, else ``~/.config/baluarte/operator.yaml``
   when it exists: a YAML mapping with ``name`` (required), ``email`` and ``role``.

Nothing set: no identity, and the run names only the account that ran it (``user@host``).
Bad input is an InputError naming the variable, or the file with line and column.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from baluarte.errors import InputError

__all__ = [
    "ENV_OPERATOR",
    "ENV_OPERATOR_FILE",
    "Operator",
    "OperatorInput",
    "current_operator",
    "parse_operator",
]

ENV_OPERATOR = "BALUARTE_OPERATOR"
ENV_OPERATOR_FILE = "BALUARTE_OPERATOR_FILE"
DEFAULT_FILE = "~/.config/baluarte/operator.yaml"

_EMAIL = re.compile(r"[^@\s<>,]+@[^@\s<>,]+\.[^@\s<>,]+")
_SPEC = re.compile(r"\s*(?P<name>[^<>,]+?)\s*(?:<(?P<email>[^<>]*)>)?\s*(?:,\s*(?P<role>.*?))?\s*")
_FORMAT = "Name <email>, role (email and role optional)"


class Operator(BaseModel):
    """Who is responsible for a run, as stored (a redacted pack holds pseudonyms in it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    email: str | None = None
    role: str | None = None

    def __str__(self) -> str:
        email = f" <{self.email}>" if self.email else ""
        role = f", {self.role}" if self.role else ""
        return f"{self.name}{email}{role}"


class OperatorInput(Operator):
    """The operator as given (``$BALUARTE_OPERATOR`` or the operator file), validated."""

    name: str = Field(min_length=1, max_length=200, description="the person's full name")
    email: str | None = Field(default=None, max_length=254, description="name@domain")
    role: str | None = Field(default=None, min_length=1, max_length=200, description="job title")

    @field_validator("name", "role")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or any(c in value for c in "\r\n\t<>")):
            raise PydanticCustomError(
                "wrong_value", "must be one line of text, without tabs or < >"
            )
        return value.strip() if value is not None else None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.fullmatch(value):
            raise PydanticCustomError(
                "wrong_value", "'{value}' is not an email address", {"value": value}
            )
        return value

    def stored(self) -> Operator:
        return Operator(name=self.name, email=self.email, role=self.role)


def parse_operator(text: str) -> Operator:
    """``Name <email>, role`` → Operator; InputError naming ``$BALUARTE_OPERATOR``."""
    found = _SPEC.fullmatch(text)
    if found is None:
        raise InputError(
            f"{text!r} is not an operator", code="wrong_value", key=ENV_OPERATOR, allowed=_FORMAT
        )
    try:
        return OperatorInput.model_validate(found.groupdict()).stored()
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"])
        raise InputError(
            f"{text!r}: {where}: {problem['msg']}",
            code="wrong_value",
            key=ENV_OPERATOR,
            allowed=_FORMAT,
        ) from None


def current_operator() -> Operator | None:
    """The operator this machine names (see the module text), or None."""
    spec = os.environ.get(ENV_OPERATOR)
    if spec is not None and spec.strip():
        return parse_operator(spec)
    named = os.environ.get(ENV_OPERATOR_FILE)
    path = Path(named or DEFAULT_FILE).expanduser()
    if not named and not path.is_file():
        return None
    if not path.is_file():
        raise InputError(
            f"no operator file {path}", code="missing_file", file=path, key=ENV_OPERATOR_FILE
        )
    from baluarte.validation import validate_doc  # YAML parsing only when a file is read
    from baluarte.yamlsource import load_yaml

    return validate_doc(OperatorInput, load_yaml(path)).stored()
