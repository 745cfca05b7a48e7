"""A client of FortiGate devices on the FortiOS emulator, for tests of the real CLI's outputs:
its policy, waivers, signing key and token in a folder, and inventory entries for the unit.

    env, key = fortigate_inputs(root)
    with fortigate_lab(root, env) as firewall:
        devices = [fortigate_device(firewall, "fw-a")]
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Any

from baluarte.cli.demo import TOKEN_VARIABLE
from baluarte.evidence.keys import init_key
from baluarte.lab.fortigate import FortigateLab
from baluarte.lab.fortigate.shipped import shipped_state as fortigate_state


def fortigate_inputs(root: Path) -> tuple[dict[str, str], Path]:
    """policies/ (the FortiGate baseline), waivers.yaml and a signing key in ``root``; the
    environment that holds the emulator's read-only token, and the key's path."""
    key = root / "signing-key.pem"
    init_key(key)
    (root / "policies").mkdir()
    shutil.copy(Path("policies") / "fortigate-baseline.yaml", root / "policies")
    (root / "waivers.yaml").write_text("waivers: []\n")
    return {TOKEN_VARIABLE: secrets.token_hex(15)}, key


def fortigate_lab(root: Path, env: dict[str, str]) -> FortigateLab:
    """The emulator in its small-office state (an any-to-any accept rule among others)."""
    return FortigateLab(
        fortigate_state("small-office"),
        tokens={env[TOKEN_VARIABLE]: "baluarte-ro"},
        cert_dir=root / "fw",
    )


def fortigate_device(firewall: FortigateLab, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "platform": "fortigate",
        "address": firewall.host,
        "port": firewall.port,
        "fortios": {
            "token": f"env:{TOKEN_VARIABLE}",
            "ca_bundle": str(firewall.ca_path.resolve()),
        },
    }
