"""Lab devices for the service's end-to-end tests: the FortiOS emulator (real HTTPS, its own CA)
in a hostile state, optionally the WinRM lab, a client of them, a serve config and an account.

    with lab_client(tmp_path, windows=True) as lab:
        lab.config, lab.inventory, lab.token, lab.firewall, lab.pc

The FortiGate state is the shipped "hardened" one with names a device's administrator (or
whoever took the unit over) chose: policy, address object and administrator names, comments and
the hostname carry markup, an attribute breakout, a template expression, terminal escapes and a
bidi override. Three controls fail because of what the state holds (``FAILS``); the rest pass.
Secrets are ``file:`` references to 0600 files, as a technician would keep them.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from baluarte.cli.demo import WINDOWS_USER, lab_devices
from baluarte.evidence.keys import init_key
from baluarte.lab.fortigate import FortigateLab
from baluarte.lab.fortigate.shipped import shipped_state as fortigate_state
from baluarte.lab.windows import WindowsLab
from baluarte.lab.windows.shipped import shipped_state as windows_state
from baluarte.service import accounts
from baluarte.service.db import ServiceDb
from tests.integration.fortigate_client import fortigate_device
from tests.service._fixtures import POLICIES
from tests.service._web import PASSWORD

__all__ = [
    "BIDI",
    "CLIENT",
    "CONTROL",
    "FAILS",
    "FIREWALL",
    "IMG",
    "LEGAL_NAME",
    "PASSES",
    "PC",
    "SCRIPT",
    "SITE",
    "TECHNICIAN",
    "TEMPLATE",
    "LabClient",
    "hostile_fortigate",
    "lab_client",
]

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
TEMPLATE = "{{7*7}}"
BIDI = "\u202eexe.txt"  # drawn right to left: "txt.exe"
CONTROL = "\x1b[2J\x07"  # clear the screen, ring the bell

CLIENT, LEGAL_NAME, SITE = "oficina", "Oficina Central S.L.", "lab"
FIREWALL, PC = "fw-oficina", "pc-recepcion"  # the Windows one is the name lab_devices gives
TECHNICIAN = "tom"
_LAN = "LAN-192.168.1.0"  # an address object of the hardened state, renamed

# what the hostile state makes fail, and why; every other FortiGate control passes
FAILS = {
    "access.admin_accounts": "a second super_admin, named " + SCRIPT,
    "firewall.policy_logging": "policy 2, named " + IMG + ", logs nothing",
    "access.admin_session_timeout": "admintimeout 480 minutes",
}
# passes the hostile names must not change (they are in these findings' evidence)
PASSES = (
    "firewall.no_any_any_accept",
    "firewall.security_profiles",
    "access.admin_mfa",
    "access.admin_trusted_hosts",
    "logging.time_sync",
)


def hostile_fortigate() -> dict[str, Any]:
    """The hardened FortiGate with hostile names; ``FAILS`` says what it fails."""
    state: dict[str, Any] = fortigate_state("hardened")
    state["hostname"] = "FW" + SCRIPT
    settings = state["global"]["system/global"]
    settings["hostname"] = "FW" + SCRIPT
    settings["admintimeout"] = 480
    policies = state["vdoms"]["root"]["firewall/policy"]
    policies[0].update(name=SCRIPT, comments=IMG)
    policies[1].update(name=IMG, logtraffic="disable")
    policies[2].update(name=TEMPLATE + BIDI, comments=TEMPLATE)
    policies[3].update(name="deny" + CONTROL)
    lan = "LAN" + IMG
    for address in state["vdoms"]["root"]["firewall/address"]:
        if address["name"] == _LAN:
            address.update(name=lan, q_origin_key=lan, comment=SCRIPT)
    for policy in policies:
        for ref in policy["srcaddr"] + policy["dstaddr"]:
            if ref["name"] == _LAN:
                ref.update(name=lan, q_origin_key=lan)
    # a copy of the NOC administrator (two-factor, trusted hosts) that is not on the list
    admins = state["global"]["system/admin"]
    intruder = copy.deepcopy(admins[0])
    intruder.update(name=SCRIPT, q_origin_key=SCRIPT, comments=IMG)
    admins.append(intruder)
    return state


@dataclass
class LabClient:
    folder: Path
    config: Path  # serve.yaml
    inventory: Path
    waivers: Path
    key: Path  # the signing key evidence packs are signed with
    token: str  # an API token of the technician
    firewall: FortigateLab
    pc: WindowsLab | None


def _secret(path: Path, value: str) -> str:
    path.touch()
    path.chmod(0o600)  # before the secret is in it
    path.write_text(value)
    return f"file:{path}"


@contextmanager
def lab_client(folder: Path, *, windows: bool = False) -> Iterator[LabClient]:
    """The labs running, client ``oficina`` (site ``lab``) of them in an inventory, a serve
    config over a SQLite store in ``folder``, technician ``tom`` (``PASSWORD``) and a token."""
    folder.mkdir(parents=True, exist_ok=True)
    token, password = secrets.token_hex(15), secrets.token_urlsafe(18)
    key = folder / "keys" / "signing-key.pem"
    init_key(key)
    with ExitStack() as stack:
        firewall = stack.enter_context(
            FortigateLab(
                hostile_fortigate(), tokens={token: "baluarte-ro"}, cert_dir=folder / "fortigate"
            )
        )
        pc = (
            stack.enter_context(
                WindowsLab(windows_state("office-pc"), users={WINDOWS_USER: password}, auth="ntlm")
            )
            if windows
            else None
        )
        fw_entry = fortigate_device(firewall, FIREWALL)
        fw_entry["fortios"]["token"] = _secret(folder / "fortigate.token", token)
        devices = [fw_entry]
        if pc is not None:
            pc_entry = lab_devices(firewall, pc)[1]
            pc_entry["winrm"]["password"] = _secret(folder / "windows.password", password)
            devices.append(pc_entry)
        inventory = folder / "inventory.yaml"
        doc = {"clients": [{"name": CLIENT, "legal_name": LEGAL_NAME,
                            "sites": [{"name": SITE, "devices": devices}]}]}  # fmt: skip
        inventory.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
        waivers = folder / "waivers.yaml"
        waivers.write_text("waivers: []\n")
        config = folder / "serve.yaml"
        config.write_text(
            f"db: {str(folder / 'b.db')!r}\n"
            f"inventory: [{inventory}]\n"
            f"policies: {POLICIES}\n"
            f"waivers: {waivers}\n"
            f"artifacts: {folder / 'artifacts'}\n"
            "language: es\n"
            "timezone: Europe/Madrid\n"
        )
        db = ServiceDb.open(folder / "b.db")
        try:
            accounts.add_user(db, TECHNICIAN, "technician", PASSWORD)
            api_token = accounts.create_token(db, TECHNICIAN)
        finally:
            db.close()
        yield LabClient(folder, config, inventory, waivers, key, api_token, firewall, pc)
