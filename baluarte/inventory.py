"""The inventory: Clients → Sites → Devices, with connection settings and credential references.

``load_inventory`` reads Baluarte's own YAML shape (``clients:``) and Ansible YAML inventories
(top-level ``all:``, see ``baluarte.ansible_inventory``), merges the clients of every file and
refuses duplicate names with both places named.

A file may also declare site collectors (``collectors: [{name: madrid}]``, docs/collectors.md);
a client (``collector:``, its default) or a site (``collector:``, which wins) names one of the
collectors declared in any file of the inventory; ``DeviceRef.collector`` is the result (the
engine does not dispatch through collectors yet: every device is still collected directly).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from baluarte.collectors.names import COLLECTOR_NAME, NAME_RULE
from baluarte.errors import InputError, InputErrors
from baluarte.secrets import KeyFileRef, SecretRef
from baluarte.timezones import DEFAULT_TIMEZONE, TimezoneName
from baluarte.validation import NoBooleanNumbers, did_you_mean, error_at, raise_all, validate_doc
from baluarte.yamlsource import MAX_YAML_BYTES, Loc, YamlDoc, load_yaml, yaml_files

__all__ = [
    "LOCAL_ADDRESSES",
    "MAX_INVENTORY_BYTES",
    "ChangeControl",
    "Client",
    "Collector",
    "CollectorName",
    "Device",
    "DeviceRef",
    "FortiosSettings",
    "Inventory",
    "Name",
    "Platform",
    "Site",
    "SshSettings",
    "WinrmSettings",
    "load_inventory",
]

Platform = Literal["linux", "windows", "fortigate"]
# All inventory files of one run together (each file: MAX_YAML_BYTES): some 75,000 devices, about
# 1 GB of memory to load. Above it the run is refused before anything is parsed.
MAX_INVENTORY_BYTES = 2 * MAX_YAML_BYTES
LOCAL_ADDRESSES = ("@local", "local")
DEFAULT_PORTS: dict[str, int] = {"linux": 22, "windows": 5986, "fortigate": 443}

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _check_name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise PydanticCustomError(
            "wrong_value",
            "'{value}' is not a valid name: use letters, digits, '.', '_' and '-',"
            " starting with a letter or digit",
            {"value": value},
        )
    return value


Name = Annotated[str, AfterValidator(_check_name)]

# an address people type (name@example.com): nothing that could end a mail header or start a
# second address (spaces, commas, angle brackets, quotes, control characters), a dotted domain
_EMAIL = re.compile(
    r"[^@\s<>()\[\]\\,;:\"\x00-\x1f\x7f]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)


def _check_email(value: str) -> str:
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        raise PydanticCustomError(
            "wrong_value",
            "'{value}' is not an e-mail address (name@example.com)",
            {"value": value},
        )
    return value


def _no_repeats(value: tuple[str, ...]) -> tuple[str, ...]:
    seen: set[str] = set()
    for item in value:
        if item.lower() in seen:
            raise PydanticCustomError("wrong_value", "{value} is listed twice", {"value": item})
        seen.add(item.lower())
    return value


EmailAddress = Annotated[str, AfterValidator(_check_email)]


def _check_collector_name(value: str) -> str:
    if not COLLECTOR_NAME.fullmatch(value):
        raise PydanticCustomError(
            "wrong_value",
            "'{value}' is not a valid collector name: use " + NAME_RULE + " characters",
            {"value": value},
        )
    return value


# also the name of its broker queue and user (baluarte.collectors.names)
CollectorName = Annotated[str, AfterValidator(_check_collector_name)]


def _not_empty(what: str) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    # A Field(min_length=1) would also fire when items are merely invalid: checked after them.
    def check(value: tuple[Any, ...]) -> tuple[Any, ...]:
        if not value:
            raise PydanticCustomError("missing_key", f"at least one entry is needed in {what}")
        return value

    return check


PortNumber = Annotated[int, Field(ge=1, le=65535)]


class _Model(NoBooleanNumbers):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SshSettings(_Model):
    """How to reach a Linux device over SSH."""

    user: str = Field(default="root", description="login user")
    port: PortNumber | None = Field(default=None, description="SSH port (default: device port)")
    key: KeyFileRef | None = Field(default=None, description='private key: "file:PATH"')
    key_passphrase: SecretRef | None = Field(default=None, description="key passphrase reference")
    password: SecretRef | None = Field(default=None, description="login password reference")
    sudo: bool = Field(default=False, description="run checks through non-interactive sudo")
    sudo_password: SecretRef | None = Field(default=None, description="sudo password reference")
    known_hosts: Path = Field(
        default=Path("~/.ssh/known_hosts"), description="known_hosts file used to verify host keys"
    )
    host_key_checking: bool = Field(
        default=True, description="verify the host key (false is recorded in the evidence)"
    )

    @property
    def known_hosts_path(self) -> Path:
        return self.known_hosts.expanduser()


class FortiosSettings(_Model):
    """How to reach a FortiGate over its REST API: a token, or a username and password."""

    token: SecretRef | None = Field(default=None, description="REST API token reference")
    vdom: str = Field(default="root", description="virtual domain to check")
    ca_bundle: Path | None = Field(default=None, description="CA bundle to verify the unit's TLS")
    verify: bool = Field(default=True, description="verify TLS (false is recorded)")
    username: str | None = Field(default=None, description="admin for session login")
    password: SecretRef | None = Field(default=None, description="admin password reference")

    @model_validator(mode="after")
    def _needs_credentials(self) -> FortiosSettings:
        if self.token is None and (self.username is None or self.password is None):
            raise PydanticCustomError(
                "missing_key", "fortios needs token, or username and password"
            )
        return self


class WinrmSettings(_Model):
    """How to reach a Windows device over WinRM / PowerShell Remoting."""

    user: str = Field(description=r"login user, e.g. 'ACME\baluarte' or 'baluarte@acme.local'")
    password: SecretRef | None = Field(default=None, description="password reference")
    auth: Literal["ntlm", "negotiate", "kerberos", "basic", "certificate"] = Field(
        default="negotiate", description="authentication method"
    )
    https: bool = Field(default=True, description="WinRM over HTTPS (port 5986) or HTTP (5985)")
    ca_bundle: Path | None = Field(default=None, description="CA bundle to verify HTTPS")
    verify: bool = Field(default=True, description="verify TLS (false is recorded)")
    certificate: Path | None = Field(default=None, description="client certificate (PEM)")
    certificate_key: KeyFileRef | None = Field(default=None, description='its key: "file:PATH"')

    @model_validator(mode="after")
    def _consistent(self) -> WinrmSettings:
        if self.auth == "certificate" and (
            self.certificate is None or self.certificate_key is None
        ):
            raise PydanticCustomError(
                "missing_key", "auth: certificate needs certificate and certificate_key"
            )
        if self.auth in ("ntlm", "negotiate", "basic") and self.password is None:
            raise PydanticCustomError("missing_key", f"auth: {self.auth} needs password")
        if self.auth == "basic" and not self.https:
            raise PydanticCustomError(
                "wrong_value", "auth: basic sends the password in clear: use it with https: true"
            )
        return self


class Device(_Model):
    """One machine or appliance Baluarte checks."""

    name: Name = Field(description="unique within its client")
    platform: Platform
    address: str = Field(min_length=1, description="IP, host name, or @local for this machine")
    port: PortNumber | None = Field(default=None, description="default 22 / 5986 / 443")
    tags: tuple[Name, ...] = Field(default=(), description="free labels used by selectors")
    ssh: SshSettings | None = None
    fortios: FortiosSettings | None = None
    winrm: WinrmSettings | None = None

    @property
    def is_local(self) -> bool:
        """The machine Baluarte itself runs on (no SSH)."""
        return self.address in LOCAL_ADDRESSES

    @model_validator(mode="before")
    @classmethod
    def _default_port(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("port") is not None:
            return data
        platform = data.get("platform")
        ssh, winrm = data.get("ssh"), data.get("winrm")
        port: Any = DEFAULT_PORTS.get(platform) if isinstance(platform, str) else None
        if platform == "linux" and isinstance(ssh, dict) and ssh.get("port") is not None:
            port = ssh["port"]
        if platform == "windows" and isinstance(winrm, dict) and winrm.get("https") is False:
            port = 5985
        return {**data, "port": port} if port is not None else data

    @model_validator(mode="after")
    def _settings_match_platform(self) -> Device:
        wanted = {"linux": "ssh", "windows": "winrm", "fortigate": "fortios"}[self.platform]
        for section in ("ssh", "winrm", "fortios"):
            if section != wanted and getattr(self, section) is not None:
                raise PydanticCustomError(
                    "platform_mismatch",
                    f"{section} settings do not apply to a {self.platform} device"
                    f" (it uses {wanted})",
                )
        if self.is_local and self.platform != "linux":
            raise PydanticCustomError(
                "platform_mismatch", f"address {self.address} is supported for linux only"
            )
        if self.platform != "linux" and getattr(self, wanted) is None:
            raise PydanticCustomError(
                "missing_key", f"a {self.platform} device needs {wanted} settings"
            )
        return self


class Site(_Model):
    """A place (office, data centre) of a Client."""

    name: Name = Field(description="unique within its client")
    devices: tuple[Device, ...] = ()
    collector: CollectorName | None = Field(
        default=None, description="collect this site's devices through this collector"
    )


class ChangeControl(_Model):
    """How a client's changes are authorised (ISO 27001:2022 8.32)."""

    require_ticket: bool = Field(
        default=False, strict=True, description="apply --yes needs --ticket and --approved-by"
    )


class Client(_Model):
    """A customer of the provider."""

    name: Name = Field(description="unique across the inventory")
    legal_name: str = Field(min_length=1, description="as it appears in reports")
    sites: Annotated[tuple[Site, ...], AfterValidator(_not_empty("sites"))]
    # every date and time shown for the client (reports, packs, show, history) is in it
    timezone: TimezoneName = Field(
        default=DEFAULT_TIMEZONE, description="an IANA time zone name, e.g. Atlantic/Canary"
    )
    change_control: ChangeControl = Field(
        default_factory=ChangeControl, description="{require_ticket: true|false}"
    )
    # how complete the inventory is, shown beside coverage in evidence packs
    declared_devices: int | None = Field(
        default=None, ge=0, description="how many devices the client has, by its own count"
    )
    inventory_attestation: str | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        description="a statement of how complete the inventory is",
    )
    # the people the monthly executive report is mailed to (``baluarte serve``, reports:)
    contacts: Annotated[tuple[EmailAddress, ...], AfterValidator(_no_repeats)] = Field(
        default=(), max_length=50, description="e-mail addresses of the client's managers"
    )
    collector: CollectorName | None = Field(
        default=None, description="the collector of every site that names none of its own"
    )


class Collector(_Model):
    """A site collector (docs/collectors.md): a worker inside a client's network."""

    name: CollectorName = Field(description="unique across the inventory")
    description: str | None = Field(
        default=None, min_length=1, max_length=500, description="where it runs, who looks after it"
    )


class InventoryFile(_Model):
    """Baluarte's own inventory file shape: clients, collectors, or both (a file of collectors
    alone declares them for Ansible inventories beside it)."""

    collectors: tuple[Collector, ...] = ()  # first: ``clients`` is checked knowing them
    clients: tuple[Client, ...] = Field(default=(), validate_default=True)

    @field_validator("clients")
    @classmethod
    def _clients_or_collectors(
        cls, value: tuple[Client, ...], info: ValidationInfo
    ) -> tuple[Client, ...]:
        if not value and not info.data.get("collectors"):
            raise PydanticCustomError("missing_key", "at least one entry is needed in clients")
        return value


@dataclass(frozen=True, eq=False)
class DeviceRef:
    """A Device with the Client and Site it belongs to."""

    client: Client
    site: Site
    device: Device

    @property
    def client_name(self) -> str:
        return self.client.name

    @property
    def site_name(self) -> str:
        return self.site.name

    @property
    def name(self) -> str:
        return self.device.name

    @property
    def platform(self) -> str:
        return self.device.platform

    @property
    def tags(self) -> tuple[str, ...]:
        return self.device.tags

    @property
    def collector(self) -> str | None:
        """The collector its site (else its client) names; None: collected directly."""
        return self.site.collector or self.client.collector

    @property
    def key(self) -> str:
        """``client/site/device``: unique in an inventory, and how people name a device."""
        return "/".join(self._key())

    def _key(self) -> tuple[str, str, str]:
        return self.client.name, self.site.name, self.device.name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DeviceRef) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"DeviceRef({self.key})"


@dataclass(frozen=True, eq=False)
class Inventory:
    """Every Client and Collector of every inventory file read, and those files' hashes."""

    clients: tuple[Client, ...]
    files: list[tuple[Path, str]] = field(default_factory=list)
    collectors: tuple[Collector, ...] = ()

    @property
    def sha256(self) -> str:
        """One hash over the sorted per-file hashes."""
        joined = "\n".join(sorted(digest for _, digest in self.files))
        return hashlib.sha256(joined.encode()).hexdigest()

    def devices(self) -> list[DeviceRef]:
        return [
            DeviceRef(client=c, site=s, device=d)
            for c in self.clients
            for s in c.sites
            for d in s.devices
        ]

    def select(
        self,
        client: str | None = None,
        site: str | None = None,
        device: str | None = None,
        tags: Sequence[str] | None = None,
    ) -> list[DeviceRef]:
        """Devices matching every selector given; tags: all must be present."""
        refs = self.devices()
        if client is not None:
            _known(client, [c.name for c in self.clients], "client")
            refs = [r for r in refs if r.client_name == client]
        if site is not None:
            _known(site, [r.site_name for r in refs], "site")
            refs = [r for r in refs if r.site_name == site]
        if device is not None:
            _known(device, [r.name for r in refs], "device")
            refs = [r for r in refs if r.name == device]
        for tag in tags or ():
            _known(tag, [t for r in self.devices() for t in r.tags], "tag")
            refs = [r for r in refs if tag in r.tags]
        return refs


def _known(name: str, names: Sequence[str], what: str) -> None:
    choices = sorted(set(names))
    if name not in choices:
        raise InputError(
            f"no {what} named '{name}'{did_you_mean(name, choices)}",
            code="unknown_reference",
            key=what,
            allowed=", ".join(choices) or "none",
        )


@dataclass(frozen=True)
class _Placed:
    """A Client and where it was written: its file and how its keys map to places in it."""

    client: Client
    doc: YamlDoc
    to_source: Callable[[Loc], Loc]


@dataclass(frozen=True)
class _PlacedCollector:
    """A Collector and where it was declared (``collectors[index]`` of ``doc``)."""

    collector: Collector
    doc: YamlDoc
    index: int


def load_inventory(paths: Sequence[Path]) -> Inventory:
    """Read inventory files and directories (every *.yaml / *.yml in them). Raises InputErrors."""
    errors: list[InputError] = []
    placed: list[_Placed] = []
    collectors: list[_PlacedCollector] = []
    files: list[tuple[Path, str]] = []
    found = yaml_files(paths, what="inventory")
    _refuse_too_large(found)
    for path in found:
        try:
            doc = load_yaml(path)
            files.append((path, doc.sha256))
            clients, declared = _contents_of(doc)
            placed.extend(clients)
            collectors.extend(declared)
        except InputErrors as exc:
            errors.extend(exc.errors)
        except InputError as exc:
            errors.append(exc)
    errors.extend(_duplicates(placed))
    errors.extend(_duplicate_collectors(collectors))
    errors.extend(_unknown_collectors(placed, [c.collector.name for c in collectors]))
    raise_all(errors)
    return Inventory(
        clients=tuple(p.client for p in placed),
        files=files,
        collectors=tuple(c.collector for c in collectors),
    )


def _refuse_too_large(paths: Sequence[Path]) -> None:
    total = 0
    for path in paths:
        try:
            size = path.stat().st_size
        except OSError:
            continue  # reported when the file is read
        # a file over its own bound is refused on its own, naming it
        total += size if size <= MAX_YAML_BYTES else 0
    if total > MAX_INVENTORY_BYTES:
        mib = MAX_INVENTORY_BYTES // (1024 * 1024)
        raise InputError(
            f"the {len(paths)} inventory files hold {total:,} bytes together, more than the"
            f" {MAX_INVENTORY_BYTES:,} one run may read; check the fleet in parts (one inventory"
            " directory per group of clients)",
            code="file_too_large",
            file=paths[0].parent if len(paths) > 1 else paths[0],
            allowed=f"inventories of at most {mib} MiB in all",
        )


def _contents_of(doc: YamlDoc) -> tuple[list[_Placed], list[_PlacedCollector]]:
    if isinstance(doc.data, dict) and "all" in doc.data:
        from baluarte.ansible_inventory import translate  # only for Ansible files

        data, to_source = translate(doc)
        client = validate_doc(Client, doc, data=data, to_source=to_source)
        return [_Placed(client, doc, to_source)], []
    parsed = validate_doc(InventoryFile, doc)
    clients = [_Placed(c, doc, _under_client(i)) for i, c in enumerate(parsed.clients)]
    return clients, [_PlacedCollector(c, doc, i) for i, c in enumerate(parsed.collectors)]


def _under_client(index: int) -> Callable[[Loc], Loc]:
    def to_source(loc: Loc) -> Loc:
        return ("clients", index, *loc)

    return to_source


def _duplicates(placed: Sequence[_Placed]) -> list[InputError]:
    """Client names unique overall; site and device names unique within their client."""
    errors: list[InputError] = []
    seen_clients: dict[str, tuple[YamlDoc, Loc]] = {}
    for p in placed:
        _claim(seen_clients, "client", p.client.name, p.doc, p.to_source(("name",)), errors)
        sites: dict[str, tuple[YamlDoc, Loc]] = {}
        devices: dict[str, tuple[YamlDoc, Loc]] = {}
        for j, site in enumerate(p.client.sites):
            _claim(sites, "site", site.name, p.doc, p.to_source(("sites", j, "name")), errors)
            for k, dev in enumerate(site.devices):
                loc = p.to_source(("sites", j, "devices", k, "name"))
                _claim(devices, "device", dev.name, p.doc, loc, errors, scope=p.client.name)
    return errors


def _duplicate_collectors(declared: Sequence[_PlacedCollector]) -> list[InputError]:
    """Collector names are unique across every file: each is one broker identity."""
    errors: list[InputError] = []
    seen: dict[str, tuple[YamlDoc, Loc]] = {}
    for d in declared:
        _claim(seen, "collector", d.collector.name, d.doc, ("collectors", d.index, "name"), errors)
    return errors


def _unknown_collectors(placed: Sequence[_Placed], declared: Sequence[str]) -> list[InputError]:
    """Every ``collector:`` of a client or site names a collector declared in some file."""
    known = sorted(set(declared))
    allowed = ", ".join(known) or "none declared: add it to a top-level 'collectors:' list"
    errors: list[InputError] = []
    for p in placed:
        wanted: list[tuple[str | None, Loc]] = [(p.client.collector, ("collector",))]
        wanted += [(s.collector, ("sites", j, "collector")) for j, s in enumerate(p.client.sites)]
        for name, loc in wanted:
            if name is not None and name not in known:
                message = f"no collector named '{name}'{did_you_mean(name, known)}"
                errors.append(
                    error_at(
                        p.doc, p.to_source(loc), message, code="unknown_reference", allowed=allowed
                    )
                )
    return errors


def _claim(
    seen: dict[str, tuple[YamlDoc, Loc]],
    what: str,
    name: str,
    doc: YamlDoc,
    loc: Loc,
    errors: list[InputError],
    scope: str | None = None,
) -> None:
    if name not in seen:
        seen[name] = (doc, loc)
        return
    first_doc, first_loc = seen[name]
    line = first_doc.locate(first_loc)[0]
    where = f"line {line}" if first_doc.path == doc.path else f"{first_doc.path}:{line}"
    within = f" in client '{scope}'" if scope else ""
    errors.append(
        error_at(
            doc,
            loc,
            f"{what} name '{name}' is already used{within} (first at {where})",
            code="duplicate_name",
        )
    )
