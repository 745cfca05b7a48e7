"""A saved plan: what ``baluarte apply --out FILE`` showed, kept for review and later approval.

The file is JSON (model order, two-space indent, mode 0600): what the plan was made from (tool
version, time, operator, selectors, the SHA-256 of every inventory, policy and waiver file) and,
per device, each planned change with its before, after, diff and the exact commands of its
steps. It names devices and accounts, never a secret: commands are masked where they are made.

``apply --plan FILE --yes`` never runs anything read from the file. It plans again and runs its
own fresh plan only for the devices where that equals the saved one (``differences``); the file
is the approval, not the script. ``digest`` (SHA-256 of the rest of the document) makes an
edit that does not recompute it fail loudly; it is not a signature, and is not what stops a
forged plan — the comparison is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict
from yaml.nodes import Node

from baluarte import __version__
from baluarte.errors import InputError
from baluarte.files import write_private
from baluarte.remediation import Change, ChangeKind, PlannedChange, Step
from baluarte.run import InputFile
from baluarte.validation import error_at, validate_doc
from baluarte.yamlsource import YamlDoc

if TYPE_CHECKING:
    from baluarte.engine import Inputs
    from baluarte.inventory import DeviceRef

__all__ = [
    "PLAN_FORMAT",
    "PLAN_VERSION",
    "MadeFrom",
    "SavedChange",
    "SavedDevice",
    "SavedPlan",
    "differences",
    "input_changes",
    "load_plan",
    "save_plan",
]

PLAN_FORMAT = "baluarte-plan"
PLAN_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# One planned change on the device it is listed under: a PlannedChange less the device.
SavedChange = Change


class SavedDevice(_Model):
    client: str
    site: str
    device: str
    platform: str
    not_checked: str = ""  # why the device could not be checked when the plan was made
    changes: tuple[SavedChange, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.client}/{self.site}/{self.device}"

    @property
    def pending(self) -> bool:
        """Something in this plan would run on the device."""
        return any(c.kind is ChangeKind.CHANGE for c in self.changes)

    def planned_changes(self) -> list[PlannedChange]:
        where = {"client": self.client, "site": self.site, "device": self.device,
                 "platform": self.platform}  # fmt: skip
        return [PlannedChange(**where, **c.model_dump()) for c in self.changes]


class MadeFrom(_Model):
    """What a plan was made from: apply refuses it when any of this no longer holds."""

    tool_version: str
    made_at: datetime
    operator: str
    selectors: dict[str, str] = {}  # as a run's scope: client, site, device, tags, policy
    controls: tuple[str, ...] = ()  # --control ids; empty: every control
    inventory_sha256: str
    files: tuple[InputFile, ...]


class SavedPlan(_Model):
    format: Literal["baluarte-plan"]
    version: Literal[1]
    digest: str  # SHA-256 of the canonical JSON of this document without this field
    made_from: MadeFrom
    devices: tuple[SavedDevice, ...]

    @classmethod
    def of(
        cls,
        inputs: Inputs,
        refs: Sequence[DeviceRef],
        changes: Iterable[PlannedChange],
        not_checked: Mapping[str, str],
        *,
        operator: str,
        selectors: Mapping[str, str],
        controls: Sequence[str] | None,
    ) -> SavedPlan:
        """The plan of ``refs`` (every device in scope), made now from ``inputs``."""
        made_from = MadeFrom(
            tool_version=__version__,
            made_at=datetime.now(UTC),
            operator=operator,
            selectors=dict(selectors),
            controls=tuple(sorted(set(controls or ()))),
            inventory_sha256=inputs.inventory.sha256,
            files=tuple(inputs.files()),
        )
        by_device: dict[str, list[SavedChange]] = {}
        device_fields = {"client", "site", "device", "platform"}
        for change in changes:
            saved = SavedChange(**change.model_dump(exclude=device_fields))
            by_device.setdefault(change.device_key, []).append(saved)
        devices = [
            SavedDevice(
                client=ref.client_name, site=ref.site_name, device=ref.name,
                platform=ref.platform, not_checked=not_checked.get(ref.key, ""),
                changes=tuple(by_device.get(ref.key, ())),
            )
            for ref in refs
        ]  # fmt: skip
        body = {"format": PLAN_FORMAT, "version": PLAN_VERSION,
                "made_from": made_from.model_dump(mode="json"),
                "devices": [d.model_dump(mode="json") for d in devices]}  # fmt: skip
        return cls(format=PLAN_FORMAT, version=PLAN_VERSION, digest=_digest(body),
                   made_from=made_from, devices=tuple(devices))  # fmt: skip


def _digest(document: Mapping[str, Any]) -> str:
    body = {k: v for k, v in document.items() if k != "digest"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def save_plan(plan: SavedPlan, path: Path) -> str:
    """Write ``plan`` to ``path`` (mode 0600, replaced whole); the SHA-256 of the bytes written."""
    text = json.dumps(plan.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
    data = text.encode()
    try:
        write_private(path, data)
    except OSError as exc:
        raise InputError(f"cannot write the plan: {exc.strerror or exc}", code="usage",
                         file=path, key="--out") from exc  # fmt: skip
    return hashlib.sha256(data).hexdigest()


def load_plan(path: Path) -> tuple[SavedPlan, str]:
    """The plan in ``path`` and the SHA-256 of its bytes. Raises InputError (file:line:column)."""
    raw = _read(path)
    try:
        data = json.loads(raw)
    except UnicodeDecodeError as exc:
        raise InputError("the plan file is not UTF-8 text", code="not_utf8", file=path) from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg}", code="json_syntax", file=path,
                         line=exc.lineno, column=exc.colno) from exc  # fmt: skip
    doc = YamlDoc(path=path, data=data, sha256=hashlib.sha256(raw).hexdigest(),
                  node=_positions(raw))  # fmt: skip
    if isinstance(data, dict):
        _check_header(doc, data)
    plan = validate_doc(SavedPlan, doc)
    if plan.digest != _digest(data):
        raise error_at(
            doc,
            ("digest",),
            "the plan was edited after it was written (its digest does not match its content);"
            " a plan is approved as it was shown: make a new one with `baluarte apply --out`",
            code="plan_edited",
        )
    return plan, doc.sha256


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError("no such file", code="missing_file", file=path) from exc
    except IsADirectoryError as exc:
        raise InputError("is a directory, not a file", code="unreadable_file", file=path) from exc
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", code="unreadable_file",
                         file=path) from exc  # fmt: skip


def _positions(raw: bytes) -> Node:
    """Where each key sits, for file:line:column errors: JSON is YAML, so PyYAML can compose it.

    A JSON file PyYAML cannot compose (a tab in the indentation) still loads; its errors then
    point at the first line."""
    try:
        node = yaml.compose(raw.decode("utf-8"), Loader=yaml.SafeLoader)
    except (yaml.YAMLError, UnicodeDecodeError):
        node = None
    if node is None:
        node = yaml.compose("{}", Loader=yaml.SafeLoader)
        assert node is not None
    return node


def _check_header(doc: YamlDoc, data: dict[str, Any]) -> None:
    """A file of another kind or version fails on that, before its keys are judged."""
    if data.get("format") != PLAN_FORMAT:
        raise error_at(doc, ("format",), "not a Baluarte plan file (made by `apply --out`)",
                       code="wrong_value", allowed=PLAN_FORMAT)  # fmt: skip
    if data.get("version") != PLAN_VERSION:
        raise error_at(
            doc,
            ("version",),
            f"plan version {data.get('version')!r} is not one this Baluarte reads",
            code="wrong_value",
            allowed=str(PLAN_VERSION),
        )


def input_changes(made_from: MadeFrom, files: Sequence[InputFile], tool_version: str) -> list[str]:
    """What differs between the inputs a plan was made from and today's; empty: none.

    Files are matched by role and content, so the same files named by another path still match.
    """
    out: list[str] = []
    if made_from.tool_version != tool_version:
        out.append(
            f"the plan was made by Baluarte {made_from.tool_version}, this is {tool_version}"
        )
    then = sorted((f.role, f.sha256) for f in made_from.files)
    now = sorted((f.role, f.sha256) for f in files)
    if then == now:
        return out
    then_by_path = {(f.role, f.path): f.sha256 for f in made_from.files}
    now_by_path = {(f.role, f.path): f.sha256 for f in files}
    for (role, path), sha in now_by_path.items():
        old = then_by_path.get((role, path))
        if old is None and (role, sha) not in then:
            out.append(f"{role} {path} was not among the plan's inputs")
        elif old is not None and old != sha:
            out.append(f"{role} {path} changed (sha256 {old[:12]}… then, {sha[:12]}… now)")
    for (role, path), sha in then_by_path.items():
        if (role, path) not in now_by_path and (role, sha) not in now:
            out.append(f"{role} {path} is no longer read")
    return out or ["the input files differ from the plan's"]


def _short(text: str, limit: int = 120) -> str:
    one = " ".join(text.split())
    return repr(one if len(one) <= limit else one[: limit - 1] + "…")


def differences(saved: Sequence[PlannedChange], fresh: Sequence[PlannedChange]) -> list[str]:
    """How a device's fresh plan differs from its saved one; empty when the saved plan holds.

    Compared per control: the kind, before, after, the diff of what is written and every step
    with its exact commands (the commands alone would miss a file's new content).
    """
    old = {c.control: c for c in saved}
    new = {c.control: c for c in fresh}
    out: list[str] = []
    for control in sorted(old.keys() | new.keys()):
        was, now = old.get(control), new.get(control)
        if now is None:
            assert was is not None
            out.append(f"{control}: the planned {was.kind} is no longer needed (the control"
                       " passes, is waived or could not be judged now)")  # fmt: skip
        elif was is None:
            out.append(f"{control}: {now.kind} not in the saved plan: {now.summary or now.reason}")
        else:
            out += _change_differences(was, now)
    return out


def _change_differences(was: PlannedChange, now: PlannedChange) -> list[str]:
    control = was.control
    if was.kind is not now.kind:
        why = f" ({now.reason})" if now.reason else ""
        return [f"{control}: planned as {was.kind}, now {now.kind}{why}"]
    out: list[str] = []
    for name in ("before", "after"):
        a, b = getattr(was, name), getattr(now, name)
        if a != b:
            out.append(f"{control}: {name} was {_short(a)}, now {_short(b)}")
    if was.diff != now.diff:
        out.append(f"{control}: what it writes differs from the saved diff")
    if was.steps != now.steps:
        out.append(f"{control}: {_step_difference(was.steps, now.steps)}")
    return out


def _step_difference(was: Sequence[Step], now: Sequence[Step]) -> str:
    planned = [(s.what, c) for s in was for c in s.commands or ("",)]
    fresh = [(s.what, c) for s in now for c in s.commands or ("",)]
    for (what_a, a), (what_b, b) in zip(planned, fresh, strict=False):
        if a != b:
            return f"step {what_a!r} runs {_short(a)} in the saved plan, {_short(b)} now"
        if what_a != what_b:
            return f"step {what_a!r} in the saved plan is {what_b!r} now"
    return f"the saved plan has {len(planned)} command(s), the device needs {len(fresh)} now"
