"""From pydantic's ValidationError to InputErrors people can act on.

Each pydantic error becomes one ``InputError``: file:line:column of the key, the key path as
people read it (``clients[0].sites[0].devices[1].platform``), what was found (never the value
of a secret-bearing key) and what is allowed (the choices, the expected type, the known keys).
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Callable, Iterable, Sequence
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from baluarte.errors import InputError, InputErrors
from baluarte.secrets import SECRET_KEYS
from baluarte.yamlsource import Loc, YamlDoc, dotted

__all__ = [
    "NoBooleanNumbers",
    "did_you_mean",
    "error_at",
    "input_errors",
    "raise_all",
    "validate_doc",
]

M = TypeVar("M", bound=BaseModel)

# Error types our own validators raise (PydanticCustomError); their type is the code.
OWN_CODES = frozenset(
    {
        "literal_secret",
        "wrong_value",
        "unknown_control",
        "duplicate_name",
        "platform_mismatch",
        "missing_key",
        "wrong_type",
        "unknown_reference",
        "secret_not_plain",
    }
)

_TYPE_NAMES: dict[str, str] = {
    "string": "a string",
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "list": "a list",
    "tuple": "a list",
    "set": "a list",
    "dict": "a mapping (key: value)",
    "model": "a mapping (key: value)",
    "model_attributes": "a mapping (key: value)",
    "dataclass": "a mapping (key: value)",
    "date": "a date (YYYY-MM-DD)",
    "datetime": "a date and time (YYYY-MM-DDTHH:MM:SS)",
}


class NoBooleanNumbers(BaseModel):
    """A model whose number fields refuse ``true``/``false`` (with every subclass's fields).

    pydantic reads ``max_minutes: true`` as 1 (a bool is an int in Python): a typo or a
    misplaced value would silently become a limit. Only booleans are refused; numbers written
    as numbers are read as before.
    """

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, bool) or info.field_name is None:
            return value
        field = cls.model_fields.get(info.field_name)
        kind = _number_kind(field.annotation) if field is not None else None
        if kind:
            found = "true" if value else "false"
            raise PydanticCustomError("wrong_type", f"expected {kind}, found {found}")
        return value


def _number_kind(annotation: Any) -> str | None:
    """``"a whole number"`` / ``"a number"`` when ``annotation`` takes numbers but no bool."""
    args: set[Any] = set()
    stack = [annotation]
    while stack:
        tp = stack.pop()
        origin = get_origin(tp)
        if origin is Annotated:
            stack.append(get_args(tp)[0])
        elif origin in (Union, types.UnionType):
            stack.extend(get_args(tp))
        else:
            args.add(tp)
    if bool in args:
        return None
    if float in args:
        return "a number"
    if int in args:
        return "a whole number"
    return None


def validate_doc(
    model: type[M],
    doc: YamlDoc,
    *,
    data: Any = None,
    to_source: Callable[[Loc], Loc] | None = None,
) -> M:
    """Validate ``doc.data`` (or ``data`` built from it) as ``model``; raise InputErrors."""
    try:
        return model.model_validate(doc.data if data is None else data)
    except ValidationError as exc:
        errors = input_errors(exc, doc, model=model, data=data, to_source=to_source)
    raise_all(errors)
    raise AssertionError("a ValidationError always holds an error")


def raise_all(errors: Sequence[InputError]) -> None:
    """Raise nothing, the one error, or InputErrors for several."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise InputErrors(errors)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'address'?"`` when a choice is close to ``word``, else ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def input_errors(
    exc: ValidationError,
    doc: YamlDoc,
    *,
    model: type[BaseModel] | None = None,
    data: Any = None,
    to_source: Callable[[Loc], Loc] | None = None,
) -> list[InputError]:
    """One InputError per pydantic error, located in ``doc``.

    ``data`` is what was validated when it is not ``doc.data`` (an Ansible inventory turned
    into ours); ``to_source`` then maps a location in it back to a location in the file.
    """
    validated = doc.data if data is None else data
    out: list[InputError] = []
    for err in exc.errors(include_url=False):
        loc = _clean_loc(err["loc"], validated, last_may_be_missing=err["type"] == "missing")
        source = to_source(loc) if to_source else loc
        line, column = doc.locate(source)
        code, message, allowed = _describe(err, loc, model)
        out.append(
            InputError(
                message,
                code=code,
                file=doc.path,
                line=line,
                column=column,
                key=dotted(source) or None,
                allowed=allowed,
            )
        )
    return out


def _clean_loc(loc: Sequence[str | int], data: Any, *, last_may_be_missing: bool) -> Loc:
    """Keep the parts of pydantic's loc that are keys in the data (drops union/function tags)."""
    out: list[str | int] = []
    cur = data
    for i, part in enumerate(loc):
        in_list = isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur)
        if in_list or (isinstance(cur, dict) and part in cur):
            out.append(part)
            cur = cur[part]
        elif last_may_be_missing and i == len(loc) - 1 and isinstance(cur, dict):
            out.append(part)
    return tuple(out)


def _describe(err: Any, loc: Loc, model: type[BaseModel] | None) -> tuple[str, str, str | None]:
    """(code, message, allowed) for one pydantic error."""
    kind: str = err["type"]
    ctx: dict[str, Any] = err.get("ctx") or {}
    secret = err["type"] == "literal_secret" or any(
        isinstance(p, str) and p in SECRET_KEYS for p in loc
    )
    found = "" if secret else f"; found {_show(err.get('input'))}"
    if kind in OWN_CODES:
        return kind, str(err["msg"]), ctx.get("allowed")
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else "?"
        fields = _fields_at(model, loc[:-1])
        hint = did_you_mean(name, fields)
        return "unknown_key", f"unknown key '{name}'{hint}", ", ".join(fields) or None
    if kind == "missing":
        name = str(loc[-1]) if loc else "?"
        about = _description(model, loc)
        return (
            "missing_key",
            f"missing required key '{name}'" + (f": {about}" if about else ""),
            None,
        )
    if kind in ("literal_error", "enum"):
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        value = err.get("input")
        hint = did_you_mean(value, choices) if isinstance(value, str) and not secret else ""
        shown = "" if secret else f"'{value}' is not allowed" if isinstance(value, str) else ""
        message = (shown or f"not one of the allowed values{found}") + hint
        return "wrong_value", message, ", ".join(choices) or None
    type_name = _type_name(kind)
    if type_name:
        return "wrong_type", f"expected {type_name}{found.replace(';', ',')}", None
    message = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return "wrong_value", f"{message}{found}", None


def _type_name(kind: str) -> str | None:
    for suffix in ("_type", "_parsing", "_from_float", "_from_datetime_inexact"):
        if kind.endswith(suffix):
            base = kind.removesuffix(suffix)
            for prefix, name in _TYPE_NAMES.items():
                if base == prefix or base.startswith(prefix + "_from"):
                    return name
            return base.replace("_", " ")
    return None


def _show(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    text = str(value)
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"'{text}'" if isinstance(value, str) else text


def _model_at(model: type[BaseModel] | None, loc: Loc) -> Any:
    """The type expected at ``loc`` under ``model`` (walking its field annotations)."""
    tp: Any = model
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(part, int):
            args = get_args(tp)
            tp = args[0] if get_origin(tp) in (list, tuple, set, frozenset) and args else None
        elif isinstance(tp, type) and issubclass(tp, BaseModel) and part in _keys(tp):
            tp = _keys(tp)[part]
        elif get_origin(tp) is dict:
            tp = get_args(tp)[1]
        else:
            return None
    return _unwrap(tp)


def _fields_at(model: type[BaseModel] | None, loc: Loc) -> list[str]:
    """The keys allowed at ``loc`` under ``model``."""
    tp = _model_at(model, loc)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return list(_keys(tp))
    return []


def _unwrap(tp: Any) -> Any:
    """Strip Annotated and Optional; of a union, keep its model (if any)."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            tp = models[0] if models else args[0]
        else:
            return tp


def error_at(
    doc: YamlDoc, loc: Loc, message: str, *, code: str, allowed: str | None = None
) -> InputError:
    """An InputError at the key ``loc`` of ``doc`` (for checks pydantic cannot make)."""
    line, column = doc.locate(loc)
    return InputError(
        message,
        code=code,
        file=doc.path,
        line=line,
        column=column,
        key=dotted(loc) or None,
        allowed=allowed,
    )


def _keys(model: type[BaseModel]) -> dict[str, Any]:
    """The model's YAML keys (aliases where set) and their annotations."""
    return {info.alias or name: info.annotation for name, info in model.model_fields.items()}


def _description(model: type[BaseModel] | None, loc: Loc) -> str | None:
    """The ``description=`` of the field at ``loc``, if there is one."""
    if not loc or not isinstance(loc[-1], str):
        return None
    parent = _model_at(model, loc[:-1])
    if isinstance(parent, type) and issubclass(parent, BaseModel):
        for name, info in parent.model_fields.items():
            if (info.alias or name) == loc[-1]:
                return info.description
    return None
