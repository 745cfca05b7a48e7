"""Waivers: accepted exceptions to a Control for some devices, with approver and expiry.

A waiver selects devices by client, site, tags (all must be present) and device names; it
needs at least one of them. It applies through its ``expires`` day and stops applying after
it — the finding then says the waiver expired. A client, site or device name the inventory
does not have is refused (``unknown_references``), with file:line:column and the closest name:
a misspelt waiver would otherwise validate and silently cover nothing. Tags are not checked: a
tag may name devices yet to come.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from baluarte.controls import catalogue
from baluarte.errors import InputError
from baluarte.findings import WaiverRef
from baluarte.inventory import DeviceRef, Inventory
from baluarte.validation import did_you_mean, error_at, validate_doc
from baluarte.yamlsource import Loc, YamlDoc, load_yaml

__all__ = ["Waiver", "WaiverSet", "load_waivers"]


class Waiver(BaseModel):
    """One accepted exception to one Control."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    control: str = Field(description="control id, e.g. patching.reboot_required")
    client: str | None = Field(default=None, description="only devices of this client")
    site: str | None = Field(default=None, description="only devices of this site")
    tags: tuple[str, ...] | None = Field(default=None, description="devices with all these tags")
    devices: tuple[str, ...] | None = Field(default=None, description="only these device names")
    reason: str = Field(min_length=1, description="why the exception is accepted")
    approved_by: str = Field(min_length=1, description="who accepted the risk")
    ticket: str | None = Field(default=None, description="change or ticket reference")
    expires: date = Field(description="last day the waiver applies (YYYY-MM-DD)")
    approved_on: date | None = Field(
        default=None, description="the day the risk was accepted (YYYY-MM-DD), not after today"
    )
    compensating_control: str | None = Field(
        default=None, min_length=1, max_length=2000, description="what reduces the risk meanwhile"
    )

    @field_validator("control")
    @classmethod
    def _known_control(cls, value: str) -> str:
        known = catalogue()
        if value not in known:
            domain = value.partition(".")[0]
            same_domain = [c for c in known if c.startswith(domain + ".")]
            raise PydanticCustomError(
                "unknown_control",
                "unknown control '{value}'{hint}",
                {
                    "value": value,
                    "hint": did_you_mean(value, known),
                    "allowed": ", ".join(same_domain) or "see `baluarte controls`",
                },
            )
        return value

    @model_validator(mode="after")
    def _selects_something(self) -> Waiver:
        if not (self.client or self.site or self.tags or self.devices):
            raise PydanticCustomError(
                "missing_key",
                "a waiver must say which devices it covers: client, site, tags or devices",
            )
        return self

    @field_validator("approved_on")
    @classmethod
    def _approved_by_now(cls, value: date | None) -> date | None:
        # the machine's local day: a waiver approved this morning is valid wherever it runs
        if value is not None and value > date.today():
            raise PydanticCustomError(
                "wrong_value",
                "{value} is in the future: a waiver is approved before it applies",
                {"value": value.isoformat()},
            )
        return value

    @model_validator(mode="after")
    def _approved_before_expiry(self) -> Waiver:
        if self.approved_on is not None and self.approved_on > self.expires:
            raise PydanticCustomError(
                "wrong_value",
                "approved_on {approved} is after expires {expires}",
                {"approved": self.approved_on.isoformat(), "expires": self.expires.isoformat()},
            )
        return self

    def covers(self, ref: DeviceRef) -> bool:
        """Whether ``ref`` is one of the devices this waiver selects."""
        return (
            (self.client is None or self.client == ref.client_name)
            and (self.site is None or self.site == ref.site_name)
            and (self.tags is None or set(self.tags) <= set(ref.tags))
            and (self.devices is None or ref.name in self.devices)
        )

    def expired(self, on: date) -> bool:
        """True once ``on`` is past the expiry day."""
        return on > self.expires

    def to_ref(self, on: date) -> WaiverRef:
        return WaiverRef(
            reason=self.reason,
            approved_by=self.approved_by,
            ticket=self.ticket,
            expires=self.expires,
            expired=self.expired(on),
            approved_on=self.approved_on,
            compensating_control=self.compensating_control,
        )


class WaiverFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    waivers: tuple[Waiver, ...] = ()


@dataclass(frozen=True, eq=False)
class WaiverSet:
    """Every waiver read, and the file they came from."""

    waivers: tuple[Waiver, ...] = ()
    files: list[tuple[Path, str]] = field(default_factory=list)
    doc: YamlDoc | None = field(default=None, repr=False)  # to place errors in the file

    def match(self, control_id: str, ref: DeviceRef, on: date) -> Waiver | None:
        """The waiver for ``control_id`` on ``ref``: an unexpired one first, else an expired one.

        ``on`` is the run's date in the client's time zone (the inventory's ``timezone:``): a
        waiver expires at the end of its day where the client is, whatever the zone of the
        machine that runs the check.
        Of several expired ones, the latest to expire (the one the finding should name).
        """
        hits = [w for w in self.waivers if w.control == control_id and w.covers(ref)]
        live = [w for w in hits if not w.expired(on)]
        pool: Sequence[Waiver] = live or hits
        return max(pool, key=lambda w: w.expires) if pool else None

    def unknown_references(self, inventory: Inventory) -> list[InputError]:
        """One error per client, site or device name a waiver gives that ``inventory`` lacks."""
        errors: list[InputError] = []
        refs = inventory.devices()
        for i, waiver in enumerate(self.waivers):
            scope = refs
            for what in ("client", "site"):
                name = getattr(waiver, what)
                if name is None:
                    continue
                known = [getattr(r, f"{what}_name") for r in scope]
                if name not in known:
                    errors.append(self._unknown(("waivers", i, what), what, name, known, scope))
                    break
                scope = [r for r in scope if getattr(r, f"{what}_name") == name]
            else:
                known = [r.name for r in scope]
                for j, device in enumerate(waiver.devices or ()):
                    if device not in known:
                        loc = ("waivers", i, "devices", j)
                        errors.append(self._unknown(loc, "device", device, known, scope))
        return errors

    def _unknown(
        self, loc: Loc, what: str, name: str, known: Iterable[str], scope: Sequence[DeviceRef]
    ) -> InputError:
        choices = sorted(set(known))
        within = ""
        if what != "client" and scope and len({r.client_name for r in scope}) == 1:
            within = f" of client '{scope[0].client_name}'"
            if what == "device" and len({r.site_name for r in scope}) == 1:
                within = f" of site '{scope[0].site_name}'{within}"
        message = (
            f"no {what} named '{name}' in the inventory{within}: the waiver would cover"
            f" nothing{did_you_mean(name, choices)}"
        )
        shown = ", ".join(choices[:20]) + (", …" if len(choices) > 20 else "")
        if self.doc is None:
            return InputError(message, code="unknown_reference", key=what, allowed=shown or None)
        return error_at(self.doc, loc, message, code="unknown_reference", allowed=shown or None)


def load_waivers(path: Path | None) -> WaiverSet:
    """Read a waiver file; ``None`` means no waivers. A named file must exist."""
    if path is None:
        return WaiverSet()
    doc = load_yaml(path)
    parsed = validate_doc(WaiverFile, doc)
    return WaiverSet(waivers=parsed.waivers, files=[(path, doc.sha256)], doc=doc)
