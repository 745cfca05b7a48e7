"""The service's configuration file (``baluarte serve --config FILE``), validated like every input.

Relative paths are read from the configuration file's folder, so one file describes a
deployment wherever the process starts. Secrets (SMTP password, webhook secrets, the session
key, the site collectors' broker URL, which holds a password) are references
(``env:``/``file:``/``keyring:``), never the secret itself.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from baluarte.inventory import Platform
from baluarte.secrets import SecretRef
from baluarte.timezones import DEFAULT_TIMEZONE, check_timezone
from baluarte.validation import NoBooleanNumbers, did_you_mean, validate_doc
from baluarte.yamlsource import load_yaml

__all__ = [
    "BusinessCalendarSettings",
    "EmailSettings",
    "ExecutiveReportSettings",
    "NotificationSettings",
    "ReportSettings",
    "ResponseTarget",
    "Schedule",
    "ServeConfig",
    "SlaSettings",
    "WebhookSettings",
    "load_config",
]

Name = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]


class _Model(NoBooleanNumbers):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Schedule(_Model):
    """A recurring check: a cron expression in the service's time zone over a scope."""

    name: Name = Field(description="unique name of the schedule")
    cron: str = Field(description='five-field cron expression, e.g. "0 2 * * *"')
    client: str = Field(default="all", description="a client's name, or all")
    site: str | None = Field(default=None, description="only this site of the client")
    tags: list[str] | None = Field(default=None, description="only devices with all these tags")
    policy: str | None = Field(default=None, description="only this policy")
    grace_minutes: int = Field(
        default=60,
        ge=0,
        le=7 * 24 * 60,
        description="how late a run missed while the service was down may still start",
    )

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        # read as cron reads it (Sunday 0 or 7, day-of-month OR day-of-week): scheduler.CronTimes
        from baluarte.service.scheduler import CronTimes

        if len(value.split()) != 5:
            raise PydanticCustomError(
                "wrong_value",
                "a cron expression has five fields: minute hour day-of-month month day-of-week",
            )
        try:
            CronTimes(value, "UTC")
        except ValueError as exc:
            raise PydanticCustomError(
                "wrong_value", "not a valid cron expression: {why}", {"why": str(exc)}
            ) from None
        return value

    @model_validator(mode="after")
    def _site_needs_client(self) -> Schedule:
        if self.site is not None and self.client == "all":
            raise PydanticCustomError("wrong_value", "site: needs a client: (not all)")
        return self

    @property
    def client_name(self) -> str | None:
        return None if self.client == "all" else self.client


class EmailSettings(_Model):
    """Mail over SMTP: ``smtp://host:587`` (STARTTLS unless ``starttls: false``) or
    ``smtps://host:465`` (TLS from the first byte)."""

    smtp: str = Field(description="smtp://HOST[:PORT] or smtps://HOST[:PORT]")
    from_: str = Field(alias="from", description="the sender address")
    to: list[str] = Field(min_length=1, description="the provider's recipients")
    starttls: bool = Field(default=True, description="upgrade smtp:// with STARTTLS")
    username: str | None = Field(default=None, description="SMTP login, when the server asks")
    password: SecretRef | None = Field(default=None, description="SMTP password reference")
    ca_file: Path | None = Field(default=None, description="CA bundle to verify the server")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("smtp")
    @classmethod
    def _smtp(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise PydanticCustomError(
                "wrong_value", "expected smtp://HOST[:PORT] or smtps://HOST[:PORT]"
            )
        if parts.password or parts.username:
            raise PydanticCustomError(
                "literal_secret",
                "put no credentials in the URL: use username: and password: (a reference)",
            )
        try:
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError:
            raise PydanticCustomError(
                "wrong_value", "the port is not a number from 1 to 65535"
            ) from None
        return value

    @model_validator(mode="after")
    def _login(self) -> EmailSettings:
        if (self.username is None) != (self.password is None):
            raise PydanticCustomError("missing_key", "username: and password: go together")
        return self


class WebhookSettings(_Model):
    """A POST of the notification as JSON, signed with HMAC-SHA256 over the body."""

    url: str = Field(description="http(s) URL that receives the notifications")
    secret: SecretRef = Field(description="HMAC key reference (env:, file: or keyring:)")
    shape: Literal["baluarte", "teams", "slack", "ticket"] = Field(
        default="baluarte",
        description="the body's shape: ours, a Teams/Slack message, or a service-desk ticket",
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PydanticCustomError("wrong_value", "expected an http:// or https:// URL")
        if parts.password:
            raise PydanticCustomError(
                "literal_secret", "put no password in the URL: sign with secret: instead"
            )
        return value


class NotificationSettings(_Model):
    email: EmailSettings | None = None
    webhooks: list[WebhookSettings] = Field(default_factory=list)
    waiver_warning_days: int = Field(
        default=14, ge=1, le=365, description="tell about waivers expiring within these days"
    )


# -- response targets (sla:) -------------------------------------------------------------------

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Priority = Literal["critical", "high", "normal", "low"]
_WORKWEEK: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")
_HOURS = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d-(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$")


class BusinessCalendarSettings(_Model):
    """When response targets run: working hours on working days, in the service's time zone,
    less the country's (and region's) public holidays and the provider's own days off."""

    country: str | None = Field(
        default="ES", description="ISO 3166 code whose public holidays are days off (null: none)"
    )
    subdivision: str | None = Field(
        default=None, description="the region whose holidays are days off too, e.g. MD (Madrid)"
    )
    hours: str = Field(default="09:00-18:00", description='working hours, "HH:MM-HH:MM"')
    days: list[Weekday] = Field(
        default_factory=lambda: list(_WORKWEEK),
        min_length=1,
        description="working days: mon tue wed thu fri sat sun",
    )
    extra_holidays: list[date] = Field(
        default_factory=list, description="more days off (YYYY-MM-DD), e.g. the local feast"
    )

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        import holidays  # a large package: read only when a calendar is configured

        known = holidays.list_supported_countries()
        if value is not None and value not in known:
            raise PydanticCustomError(
                "wrong_value",
                "no public holidays are known for country '{value}' (an ISO 3166 code such as "
                "ES){hint}",
                {"value": value, "hint": did_you_mean(value, known)},
            )
        return value

    @field_validator("subdivision")
    @classmethod
    def _subdivision(cls, value: str | None, info: ValidationInfo) -> str | None:
        import holidays

        if value is None:
            return value
        country = info.data.get("country")
        if country is None:
            if "country" in info.data:
                raise PydanticCustomError("missing_key", "subdivision: needs a country:")
            return value  # the country is wrong: said there
        known = holidays.list_supported_countries()[country]
        if value not in known:
            raise PydanticCustomError(
                "wrong_value",
                "'{value}' is not a subdivision of {country} known for holidays ({known}){hint}",
                {
                    "value": value,
                    "country": country,
                    "known": ", ".join(known) or "none",
                    "hint": did_you_mean(value, known),
                },
            )
        return value

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        if not _HOURS.match(value):
            raise PydanticCustomError(
                "wrong_value", 'expected working hours as "HH:MM-HH:MM", e.g. "08:00-18:00"'
            )
        start, end = value.split("-")
        if start >= end:
            raise PydanticCustomError("wrong_value", "the working day must end after it starts")
        return value

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[Weekday]) -> list[Weekday]:
        if len(set(value)) != len(value):
            raise PydanticCustomError("wrong_value", "a working day is named twice")
        return value


class ResponseTarget(_Model):
    """How soon drift on the devices it selects must be remediated, in business hours. It
    selects devices with all of ``tags`` and of ``platform``; neither: every device."""

    tags: list[Name] | None = Field(default=None, description="devices with all these tags")
    platform: Platform | None = Field(default=None, description="devices of this platform")
    hours: float = Field(gt=0, le=10_000, description="business hours to remediate drift")
    priority: Priority = Field(default="normal", description="critical, high, normal or low")

    @property
    def catch_all(self) -> bool:
        return not self.tags and self.platform is None


class SlaSettings(_Model):
    """Response targets: the first target that selects a device applies to its drift."""

    calendar: BusinessCalendarSettings = Field(default_factory=BusinessCalendarSettings)
    targets: list[ResponseTarget] = Field(
        default_factory=list, description="first match wins; none matching: 8 hours, normal"
    )
    recurring_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description="drift that returns within these days of being fixed is recurring",
    )

    @field_validator("targets")
    @classmethod
    def _reachable(cls, value: list[ResponseTarget]) -> list[ResponseTarget]:
        for i, target in enumerate(value[:-1]):
            if target.catch_all:
                raise PydanticCustomError(
                    "wrong_value",
                    "target {n} selects every device (no tags: or platform:): the targets "
                    "after it would never apply; put it last",
                    {"n": i + 1},
                )
        return value


# -- the monthly executive report (reports:) ---------------------------------------------------


class ExecutiveReportSettings(_Model):
    """Each client's previous calendar month (in the client's zone) as a PDF for its managers,
    mailed at ``cron`` to the client's ``contacts:`` (the inventory) through ``notifications:
    email:``."""

    cron: str = Field(default="0 8 1 * *", description="five-field cron, in the service's zone")
    language: Literal["es", "en"] = Field(default="es", description="the report's language")
    clients: list[Name] | None = Field(default=None, description="all, or a list of client names")
    grace_minutes: int = Field(
        default=24 * 60,
        ge=0,
        le=7 * 24 * 60,
        description="how late a report missed while the service was down is still sent",
    )

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        return Schedule._cron(value)  # read as a schedule's cron is read

    @field_validator("clients", mode="before")
    @classmethod
    def _all(cls, value: Any) -> Any:
        if value == "all":
            return None
        if isinstance(value, str):
            raise PydanticCustomError("wrong_value", "expected all, or a list of client names")
        return value


class ReportSettings(_Model):
    executive: ExecutiveReportSettings | None = Field(
        default=None, description="the monthly executive report of each client"
    )


def _reports_need_mail(value: ReportSettings, info: ValidationInfo) -> ReportSettings:
    mail = info.data.get("notifications")  # absent when it failed: said there
    if value.executive is not None and isinstance(mail, NotificationSettings) and not mail.email:
        raise PydanticCustomError(
            "missing_key", "reports are mailed: they need notifications: email: (smtp:, from:)"
        )
    return value


class ServeConfig(_Model):
    """``baluarte serve``'s configuration file."""

    db: str = Field(description="run store: a SQLite file or a postgresql:// URL")
    inventory: list[Path] = Field(min_length=1, description="inventory files or folders")
    policies: Path = Field(default=Path("policies"), description="the policy folder")
    waivers: Path | None = Field(default=None, description="the waiver file")
    artifacts: Path = Field(
        default=Path("baluarte-artifacts"), description="where runs keep collected artifacts"
    )
    timezone: str = Field(default=DEFAULT_TIMEZONE, description="IANA zone of the schedules")
    language: Literal["es", "en"] = Field(default="es", description="default page language")
    schedules: list[Schedule] = Field(default_factory=list)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    sla: SlaSettings | None = Field(
        default=None, description="response targets (default: 8 business hours, Spain's calendar)"
    )
    reports: Annotated[ReportSettings, AfterValidator(_reports_need_mail)] = Field(
        default_factory=ReportSettings, description="reports mailed by schedule (executive:)"
    )
    session_secret: SecretRef | None = Field(
        default=None,
        description="key that signs session cookies (default: a key file kept by the service)",
    )
    base_url: str | None = Field(
        default=None, description="the dashboard's public URL, for links in notifications"
    )
    parallel: int = Field(default=20, ge=1, le=500, description="devices collected at once")
    timeout: float = Field(default=120.0, ge=1, description="seconds a device may take")
    # the URL holds the central login's password: a reference, like every secret
    broker: SecretRef | None = Field(
        default=None,
        description="the site collectors' broker: a reference (env:, file: or keyring:) to the"
        " central amqp:// or amqps:// URL; needed when a site names a collector",
    )
    broker_ca: Path | None = Field(
        default=None,
        description="amqps: the PEM file of the CA that signed the broker's certificate",
    )
    collector_deadline: float = Field(
        default=600.0,
        ge=1,
        le=86_400,
        description="seconds a check waits for site collectors' answers; a device not"
        " answered by then is an error",
    )
    collector_silent_after: float = Field(
        default=90.0,
        gt=0,
        le=86_400,
        description="seconds without a heartbeat after which a collector is silent",
    )
    # where this file was read from (set by load_config): relative paths are from its folder
    source: Path | None = Field(default=None, exclude=True)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return check_timezone(value)

    @field_validator("schedules")
    @classmethod
    def _unique(cls, value: list[Schedule]) -> list[Schedule]:
        seen: set[str] = set()
        for item in value:
            if item.name in seen:
                raise PydanticCustomError(
                    "duplicate_name", "two schedules are named {name}", {"name": item.name}
                )
            seen.add(item.name)
        return value

    @field_validator("broker_ca")
    @classmethod
    def _ca_needs_broker(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        # "broker" absent from info.data: it was refused, and said there
        if value is not None and "broker" in info.data and info.data["broker"] is None:
            raise PydanticCustomError(
                "missing_key", "a CA for the broker's certificate, but no broker: is set"
            )
        return value

    def path(self, value: Path) -> Path:
        """``value`` as read from the configuration file's folder."""
        value = value.expanduser()
        if value.is_absolute() or self.source is None:
            return value
        return self.source.parent / value

    @property
    def db_location(self) -> str:
        """The store as ``Store.open`` takes it (a relative SQLite path from the file's folder)."""
        if "://" in self.db:
            return self.db
        return str(self.path(Path(self.db)))

    @property
    def inventory_paths(self) -> list[Path]:
        return [self.path(p) for p in self.inventory]

    @property
    def policies_path(self) -> Path:
        return self.path(self.policies)

    @property
    def waivers_path(self) -> Path | None:
        return None if self.waivers is None else self.path(self.waivers)

    @property
    def artifacts_path(self) -> Path:
        return self.path(self.artifacts)

    @property
    def broker_ca_path(self) -> Path | None:
        return None if self.broker_ca is None else self.path(self.broker_ca)


def load_config(path: Path) -> ServeConfig:
    """Read and validate the configuration file; raises InputError(s) with file:line:column."""
    doc = load_yaml(path)
    data: Any = doc.data
    config = validate_doc(ServeConfig, doc, data=data)
    return config.model_copy(update={"source": path.resolve()})
