"""The JSON documents a site collector and the central side exchange (docs/collectors.md).

    central ── plan_document(plan) ──────────────▶ collector: plan_from_document → collect_plans
    central ◀── collected_document(c) | error_document(e) ── collector
              collected_from_document / error_from_document → evaluate_device

Every document is a JSON-safe dict (``json.dumps`` takes it as it is). What is received is
validated again through the same pydantic models the inputs and collectors use (unknown keys
refused); anything malformed raises ValueError saying what and where, never quoting a value.

Secrets: a plan carries credential references (``env:X``, ``file:/p``, ``keyring:s/u``), never
values; the collector resolves them. What the collector sends back is masked of every secret it
resolved (the central side never saw those values, so it could not mask them itself), and what
the central side receives is made inert, as the platform collectors make device text.
"""

from __future__ import annotations

import json
import math
import types
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError

from baluarte.collected import Collected, HostIdentity
from baluarte.controls import DOMAINS, catalogue
from baluarte.errors import AuthFailed, BadAnswer, DeviceError, TimedOut, Unreachable
from baluarte.inventory import Client, DeviceRef, Name
from baluarte.masking import mask_secrets
from baluarte.plan import DevicePlan, PlannedControl
from baluarte.policy import Policy
from baluarte.text import inert, inert_facts, inert_model
from checks.facts.access import AccessFacts
from checks.facts.backup import BackupFacts
from checks.facts.endpoint import EndpointFacts
from checks.facts.firewall import FirewallFacts
from checks.facts.logging import LoggingFacts
from checks.facts.patching import PatchFacts
from checks.policy.base import ControlParams, Section

__all__ = [
    "ERROR_KINDS",
    "FACT_MODELS",
    "collected_document",
    "collected_from_document",
    "error_document",
    "error_from_document",
    "plan_document",
    "plan_from_document",
]

_M = TypeVar("_M", bound=BaseModel)

# domain -> the model of its facts, whatever the platform that collected them
FACT_MODELS: dict[str, type[BaseModel]] = {
    "patching": PatchFacts,
    "firewall": FirewallFacts,
    "endpoint": EndpointFacts,
    "backup": BackupFacts,
    "access": AccessFacts,
    "logging": LoggingFacts,
}
# the kinds findings name (evaluate.describe_device_error goes by class name); the most
# specific first, as checks.device_errors.plain_device_error orders them
ERROR_KINDS: dict[str, type[DeviceError]] = {
    "AuthFailed": AuthFailed,
    "Unreachable": Unreachable,
    "TimedOut": TimedOut,
    "BadAnswer": BadAnswer,
    "DeviceError": DeviceError,
}

_PLAN_KEYS = frozenset({"key", "client", "controls"})
_CONTROL_KEYS = frozenset({"control", "params", "policy"})
_COLLECTED_KEYS = frozenset({"identity", "facts", "problems", "notes", "round_trips", "seconds"})
_ERROR_KEYS = frozenset({"kind", "message"})
_POLICY_ID: TypeAdapter[str] = TypeAdapter(Name)
_MAX_SHOWN_ERRORS = 5


# -- plans: central → collector ----------------------------------------------------------------


def plan_document(plan: DevicePlan) -> dict[str, Any]:
    """``plan`` as JSON: the device's key (``client/site/device``), its client with only the
    device's site, that site with only the device (connection settings and credential
    references included), and every planned control with its parameters and policy id."""
    ref = plan.ref
    site = ref.site.model_dump(mode="json", exclude={"devices"})
    site["devices"] = [ref.device.model_dump(mode="json")]
    client = ref.client.model_dump(mode="json", exclude={"sites"})
    client["sites"] = [site]
    controls = [
        {"control": p.control.id, "params": p.params.model_dump(mode="json"), "policy": p.policy}
        for p in plan.controls
    ]
    # the key alone lets a collector name the device when the rest does not validate
    return {"key": ref.key, "client": client, "controls": controls}


def plan_from_document(doc: object) -> DevicePlan:
    """The DevicePlan ``doc`` describes, validated as the inventory and policies are.

    Raises ValueError on anything malformed or unknown (a key, a control, a parameter)."""
    data = _object(doc, "the plan", _PLAN_KEYS)
    client = _validated(Client, data["client"], "the plan's client")
    if len(client.sites) != 1 or len(client.sites[0].devices) != 1:
        raise ValueError("the plan's client must hold exactly one site with exactly one device")
    site = client.sites[0]
    ref = DeviceRef(client=client, site=site, device=site.devices[0])
    if data["key"] != ref.key:
        raise ValueError(f"the plan's key {_shown(data['key'])} is not its device's, {ref.key}")
    controls = data["controls"]
    if not isinstance(controls, list):
        raise ValueError("the plan's controls must be a list")
    planned = tuple(_planned(item, i) for i, item in enumerate(controls))
    return DevicePlan(ref, planned)


def _planned(item: object, index: int) -> PlannedControl:
    where = f"the plan's control #{index + 1}"
    data = _object(item, where, _CONTROL_KEYS)
    control_id = data["control"]
    registry = catalogue()
    if not isinstance(control_id, str) or control_id not in registry:
        raise ValueError(f"{where}: no control named {_shown(control_id)} in the catalogue")
    where = f"the plan's control {control_id}"
    policy = data["policy"]
    if not isinstance(policy, str):
        raise ValueError(f"{where}: policy must be a policy id (a string)")
    try:
        _POLICY_ID.validate_python(policy)
    except ValidationError as exc:
        raise ValueError(f"{where}: policy: {_why(exc)}") from None
    params = data["params"]
    if not isinstance(params, dict):
        raise ValueError(f"{where}: params must be an object")
    control = registry[control_id]
    cls = _params_class(control.domain, control.name)
    if cls is None:
        raise ValueError(f"{where}: no policy section sets this control's parameters")
    return PlannedControl(control, _validated(cls, params, f"{where}'s params"), policy)


@cache
def _params_class(domain: str, name: str) -> type[ControlParams] | None:
    """The parameters model of control ``domain.name``: its field's type in the domain's policy
    section (``Policy.patching: PatchingSection | None`` → ``security_updates_pending:
    SecurityUpdates | None``)."""
    field = Policy.model_fields.get(domain)
    section = _only_class(field.annotation if field else None, Section)
    control = section.model_fields.get(name) if section else None
    return _only_class(control.annotation if control else None, ControlParams)


def _only_class(annotation: Any, base: type[_M]) -> type[_M] | None:
    """The one subclass of ``base`` in ``annotation`` (``X | None``, or ``X`` itself)."""
    union = get_origin(annotation) in (Union, types.UnionType)
    options = get_args(annotation) if union else (annotation,)
    found = [t for t in options if isinstance(t, type) and issubclass(t, base)]
    return found[0] if len(found) == 1 else None


# -- results: collector → central --------------------------------------------------------------


def collected_document(c: Collected) -> dict[str, Any]:
    """``c`` as JSON, less ``raw`` (what the device answered stays on the collector), with every
    secret resolved in this process masked. Raises ValueError when a domain's facts are not that
    domain's model (a collector bug: nothing else could read them)."""
    facts: dict[str, Any] = {}
    for domain, f in c.facts.items():
        model = FACT_MODELS.get(domain)
        if model is None or not isinstance(f, model):
            wanted = model.__name__ if model else "a known domain"
            raise ValueError(f"the {domain} facts are a {type(f).__name__}, not {wanted}")
        facts[domain] = f.model_dump(mode="json")
    doc: dict[str, Any] = {
        "identity": c.identity.model_dump(mode="json"),
        "facts": facts,
        "problems": dict(c.problems),
        "notes": dict(c.notes),
        "round_trips": c.round_trips,
        "seconds": c.seconds,
    }
    return _masked(doc)


def collected_from_document(doc: object) -> Collected:
    """The Collected ``doc`` describes, each domain's facts validated strictly by its model
    (the sender is a remote machine), every text made inert. Raises ValueError."""
    data = _object(doc, "the collected document", _COLLECTED_KEYS)
    identity = _strict(HostIdentity, data["identity"], "the collected identity")
    facts_doc = _mapping(data["facts"], "the collected facts")
    facts: dict[str, Any] = {}
    for domain, value in facts_doc.items():
        model = _known_domain(domain, "facts")
        facts[domain] = _strict(model, value, f"the {domain} facts")
    problems = _domain_texts(data["problems"], "problems")
    notes = _domain_texts(data["notes"], "notes")
    round_trips = data["round_trips"]
    if not isinstance(round_trips, int) or isinstance(round_trips, bool) or round_trips < 0:
        raise ValueError("the collected round_trips must be a whole number, 0 or more")
    seconds = data["seconds"]
    if (
        not isinstance(seconds, int | float)
        or isinstance(seconds, bool)
        or not math.isfinite(seconds)
        or seconds < 0
    ):
        raise ValueError("the collected seconds must be a number, 0 or more")
    # what a remote machine says is shown, never interpreted (as the platform collectors do)
    return Collected(
        identity=inert_model(identity),
        facts=inert_facts(facts),
        problems={domain: inert(why) for domain, why in problems.items()},
        notes={domain: inert(note) for domain, note in notes.items()},
        round_trips=round_trips,
        seconds=float(seconds),
    )


def _known_domain(domain: str, what: str) -> type[BaseModel]:
    model = FACT_MODELS.get(domain)
    if model is None:
        raise ValueError(
            f"the collected {what} name an unknown domain {_shown(domain)}"
            f" (known: {', '.join(DOMAINS)})"
        )
    return model


def _domain_texts(value: object, what: str) -> dict[str, str]:
    texts = _mapping(value, f"the collected {what}")
    for domain, text in texts.items():
        _known_domain(domain, what)
        if not isinstance(text, str):
            raise ValueError(f"the collected {what} of {domain} must be a string")
    return dict(texts)


# -- device errors: collector → central --------------------------------------------------------


def error_document(e: DeviceError) -> dict[str, Any]:
    """``e`` as JSON: the kind findings name (a subclass as the kind it is one of) and its
    message, masked of every secret resolved in this process (``str`` of a BaluarteError)."""
    kind = next(name for name, cls in ERROR_KINDS.items() if isinstance(e, cls))
    return {"kind": kind, "message": str(e)}


def error_from_document(doc: object) -> DeviceError:
    """The DeviceError ``doc`` describes, its message made inert. Raises ValueError."""
    data = _object(doc, "the device error", _ERROR_KEYS)
    kind, message = data["kind"], data["message"]
    cls = ERROR_KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(
            f"the device error's kind {_shown(kind)} is not one of {', '.join(ERROR_KINDS)}"
        )
    if not isinstance(message, str):
        raise ValueError("the device error's message must be a string")
    return cls(inert(message))


# -- shared ------------------------------------------------------------------------------------


def _object(doc: object, what: str, keys: frozenset[str]) -> dict[str, Any]:
    """``doc`` as a JSON object holding exactly ``keys``."""
    data = _mapping(doc, what)
    missing = sorted(keys - data.keys())
    unknown = sorted(k for k in data if k not in keys)
    if unknown:
        raise ValueError(f"{what} has unknown keys {', '.join(map(_shown, unknown))}")
    if missing:
        raise ValueError(f"{what} lacks the keys {', '.join(missing)}")
    return dict(data)


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a JSON object, not {_json_type(value)}")
    if not all(isinstance(k, str) for k in value):
        raise ValueError(f"{what} must have string keys")
    return value


def _validated(model: type[_M], value: object, what: str) -> _M:
    """``value`` through ``model`` as the inputs are read (YAML's values: lax, extra refused)."""
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a JSON object, not {_json_type(value)}")
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise ValueError(f"{what}: {_why(exc)}") from None


def _strict(model: type[_M], value: object, what: str) -> _M:
    """``value`` through ``model`` as JSON, strictly: no "1" for 1, no "yes" for true."""
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a JSON object, not {_json_type(value)}")
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} is not JSON: {exc}") from None
    try:
        return model.model_validate_json(text, strict=True)
    except ValidationError as exc:
        raise ValueError(f"{what}: {_why(exc)}") from None


def _why(exc: ValidationError) -> str:
    """pydantic's complaints, where and what, without the values (a sender's text is not ours
    to repeat, and a message must never carry a value that could be a secret)."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    shown = [
        ": ".join(filter(None, (".".join(str(part) for part in e["loc"]), e["msg"])))
        for e in errors[:_MAX_SHOWN_ERRORS]
    ]
    more = len(errors) - len(shown)
    return "; ".join(shown) + (f" (and {more} more)" if more > 0 else "")


def _shown(value: object) -> str:
    """A name the sender gave, shown briefly and inert."""
    text = repr(value) if isinstance(value, str) else _json_type(value)
    return inert(text[:80] + ("…" if len(text) > 80 else ""), newlines=False)


def _json_type(value: object) -> str:
    names: Sequence[tuple[type | tuple[type, ...], str]] = (
        (bool, "a boolean"),
        ((int, float), "a number"),
        (str, "a string"),
        (list, "an array"),
        (dict, "an object"),
    )
    if value is None:
        return "null"
    return next((name for t, name in names if isinstance(value, t)), type(value).__name__)


def _masked(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with every resolved secret masked in every string (keys too); one look over its
    JSON first, as a device echoing a secret is rare."""
    text = json.dumps(doc)
    if mask_secrets(text) == text:
        return doc

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return mask_secrets(value)
        if isinstance(value, dict):
            return {walk(k): walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    result: dict[str, Any] = walk(doc)
    return result
