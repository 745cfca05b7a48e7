"""The demo's lab: the FortiGate and Windows PC ``baluarte demo`` and ``baluarte lab up`` serve.

    folder = prepare_folder(Path("baluarte-reports/lab"))
    write_secrets(folder, LabSecrets.new())           # fw-oficina.token, pc-recepcion.password
    with DemoLab(folder, read_secrets(folder)) as lab:
        write_inventory(folder, lab.endpoints(), "baluarte demo")

Both devices get credentials that can change them: the FortiGate's API user has a profile
that writes and takes configuration backups (the shipped state's own ``baluarte-ro`` cannot),
so ``apply`` and the backup of every check work on them. The secrets live in 0600 files in the
lab folder and the inventory names them as ``file:`` references, so the inventory works with
no environment variable set.
"""

from __future__ import annotations

import copy
import os
import secrets
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import yaml
from pydantic import BaseModel, ConfigDict

from baluarte.errors import InputError
from baluarte.files import write_private
from baluarte.lab.fortigate import FortigateLab
from baluarte.lab.fortigate.shipped import shipped_state as fortigate_state
from baluarte.lab.windows import WindowsLab
from baluarte.lab.windows.shipped import shipped_state as windows_state

__all__ = [
    "API_USER",
    "CLIENT",
    "EXAMPLE_INVENTORY",
    "FIREWALL",
    "INVENTORY_FILE",
    "PC",
    "SITE",
    "DemoLab",
    "LabEndpoints",
    "LabSecrets",
    "firewall_state",
    "prepare_folder",
    "read_secrets",
    "write_inventory",
    "write_secrets",
]

CLIENT, SITE = "demo", "lab"
FIREWALL, PC = "fw-oficina", "pc-recepcion"
FIREWALL_STATE, PC_STATE = "small-office", "office-pc"
API_USER, ACCPROFILE = "baluarte-rw", "baluarte_rw"
WINDOWS_USER = "baluarte"
TOKEN_FILE, PASSWORD_FILE = f"{FIREWALL}.token", f"{PC}.password"
INVENTORY_FILE = "inventory.yaml"
EXAMPLE_INVENTORY = Path("inventory/example.yaml")
_GROUPS = ("secfabgrp", "ftviewgrp", "authgrp", "sysgrp", "netgrp", "loggrp", "fwgrp", "vpngrp",
           "utmgrp", "wanoptgrp", "wifi")  # fmt: skip


class LabSecrets(BaseModel):
    """The lab's credentials: the FortiGate API token and the Windows user's password."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token: str
    password: str

    @classmethod
    def new(cls) -> LabSecrets:
        return cls(token=secrets.token_hex(15), password=secrets.token_urlsafe(18))

    def __repr__(self) -> str:  # never shown, even in a traceback's locals
        return "LabSecrets(***)"

    __str__ = __repr__


class LabEndpoints(BaseModel):
    """Where the lab devices answer (their ports change from start to start)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pid: int
    fortigate_host: str
    fortigate_port: int
    fortigate_url: str
    ca_path: Path
    windows_host: str
    windows_port: int
    windows_url: str


def prepare_folder(folder: Path) -> Path:
    """``folder``, resolved; created readable by us only (0700) when it does not exist.

    Raises InputError when it cannot be (a file of that name, no permission).
    """
    folder = folder.resolve()
    if folder.is_dir():
        return folder
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.mkdir(mode=0o700)
    except OSError as exc:
        raise InputError(
            f"the lab's folder {folder} cannot be created: {exc.strerror}", code="wrong_value"
        ) from None
    os.chmod(folder, 0o700)  # whatever the umask
    return folder


def write_secrets(folder: Path, lab_secrets: LabSecrets) -> None:
    """The two secret files (mode 0600), written whole or not at all."""
    write_private(folder / TOKEN_FILE, lab_secrets.token.encode() + b"\n")
    write_private(folder / PASSWORD_FILE, lab_secrets.password.encode() + b"\n")


def read_secrets(folder: Path) -> LabSecrets:
    """The secrets ``write_secrets`` left in ``folder``. Raises OSError."""
    return LabSecrets(
        token=(folder / TOKEN_FILE).read_text().strip(),
        password=(folder / PASSWORD_FILE).read_text().strip(),
    )


def firewall_state() -> dict[str, Any]:
    """The "typical small office" unit, plus an API user for Baluarte that may change it.

    Its profile is read-write on every group, maintenance (backups) included, and it is trusted
    from the loopback network only.
    """
    state = fortigate_state(FIREWALL_STATE)
    glob = state["global"]
    profiles = glob["system/accprofile"]
    base = next(p for p in profiles if p["name"] == "super_admin")
    profile = {k: v for k, v in copy.deepcopy(base).items() if not k.endswith("-permission")}
    profile.update({group: "read-write" for group in _GROUPS})
    profile.update(
        name=ACCPROFILE,
        q_origin_key=ACCPROFILE,
        comments="Baluarte checks and changes, configuration backups included (lab)",
    )
    profiles.append(profile)
    glob["system/api-user"].append(
        {
            "name": API_USER,
            "q_origin_key": API_USER,
            "comments": "Baluarte apply (lab)",
            "api-key": "ENC 00000000000000000000000000000000000000000==",
            "accprofile": ACCPROFILE,
            "vdom": [{"name": "root", "q_origin_key": "root"}],
            "schedule": "",
            "cors-allow-origin": "",
            "peer-auth": "disable",
            "peer-group": "",
            "trusthost": [
                {
                    "id": 1,
                    "q_origin_key": 1,
                    "type": "ipv4-trusthost",
                    "ipv4-trusthost": "127.0.0.0 255.0.0.0",
                    "ipv6-trusthost": "::/0",
                }
            ],
        }
    )
    return state


class DemoLab:
    """Both lab devices, started on 127.0.0.1 (any free ports); the CA in ``folder/fortigate``."""

    def __init__(self, folder: Path, lab_secrets: LabSecrets) -> None:
        self.folder = folder
        self.firewall = FortigateLab(
            firewall_state(), tokens={lab_secrets.token: API_USER}, cert_dir=folder / "fortigate"
        )
        self.pc = WindowsLab(
            windows_state(PC_STATE), users={WINDOWS_USER: lab_secrets.password}, auth="ntlm"
        )

    def start(self) -> Self:
        self.firewall.start()
        try:
            self.pc.start()
        except BaseException:
            self.firewall.stop()
            raise
        return self

    def stop(self) -> None:
        try:
            self.pc.stop()
        finally:
            self.firewall.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def endpoints(self) -> LabEndpoints:
        return LabEndpoints(
            pid=os.getpid(),
            fortigate_host=self.firewall.host,
            fortigate_port=self.firewall.port,
            fortigate_url=self.firewall.url,
            ca_path=self.firewall.ca_path.absolute(),
            windows_host=self.pc.host,
            windows_port=self.pc.port,
            windows_url=self.pc.url,
        )


def lab_devices(folder: Path, at: LabEndpoints) -> list[dict[str, Any]]:
    """The lab devices as inventory entries: secrets as ``file:`` references into ``folder``."""
    return [
        {
            "name": FIREWALL,
            "platform": "fortigate",
            "address": at.fortigate_host,
            "port": at.fortigate_port,
            "tags": ["firewall", "demo"],
            "fortios": {
                "token": f"file:{folder / TOKEN_FILE}",
                "vdom": "root",
                "ca_bundle": str(at.ca_path),
            },
        },
        {
            "name": PC,
            "platform": "windows",
            "address": at.windows_host,
            "port": at.windows_port,
            "tags": ["workstation", "demo"],
            # NTLM over HTTP: WinRM's default on a workgroup PC, messages encrypted by NTLM
            "winrm": {
                "user": WINDOWS_USER,
                "password": f"file:{folder / PASSWORD_FILE}",
                "auth": "ntlm",
                "https": False,
            },
        },
    ]


def write_inventory(
    folder: Path, at: LabEndpoints, writer: str, example: Path = EXAMPLE_INVENTORY
) -> Path:
    """``folder/inventory.yaml``: the example inventory (when there) plus the lab devices in
    site "lab" of client "demo" — the same file whether the demo or ``lab up`` wrote it."""
    if example.is_file():
        doc = yaml.safe_load(example.read_text())
        source = str(example)
    else:  # outside the project folder: the lab devices alone
        doc = {"clients": [{"name": CLIENT, "legal_name": "Demo Asesores S.L.", "sites": []}]}
        source = "a client 'demo'"
    client = next(c for c in doc["clients"] if c["name"] == CLIENT)
    sites: list[dict[str, Any]] = client.setdefault("sites", [])
    sites[:] = [s for s in sites if s.get("name") != SITE]
    sites.append({"name": SITE, "devices": lab_devices(folder, at)})
    header = (
        f"# Written by `{writer}`: {source} plus the lab devices it serves\n"
        "# (the 'typical small office' FortiGate and the 'typical office PC' Windows states).\n"
        "# Secrets are file: references to the 0600 files beside it; ports change at each start.\n"
    )
    path = folder / INVENTORY_FILE
    text = header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    write_private(path, text.encode())
    return path
