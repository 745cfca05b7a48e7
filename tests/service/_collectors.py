"""Inputs for the service's site-collector tests: an inventory whose sites name collectors, a
serve config whose ``broker:`` is a file reference, and heartbeats with hostile words in them.
"""

from __future__ import annotations

from pathlib import Path

from baluarte.collectors.health import Heartbeat, HeartbeatSender
from tests.service._fixtures import POLICIES

__all__ = ["HOSTILE_HOST", "HOSTILE_VERSION", "HostileSender", "write_config", "write_inventory"]

# what a compromised collector may put in its own heartbeat: markup, a terminal escape, a
# right-to-left override
HOSTILE_HOST = '<script>alert("host")</script>\x1b[2J\u202epi-madrid'
HOSTILE_VERSION = "<img src=x onerror=alert(1)>"


class HostileSender(HeartbeatSender):
    """A collector's real heartbeats (its own login, its own queue) saying hostile words."""

    def heartbeat(self) -> Heartbeat:
        return (
            super()
            .heartbeat()
            .model_copy(update={"hostname": HOSTILE_HOST, "version": HOSTILE_VERSION})
        )


def write_inventory(
    folder: Path, seen: str, never: str, ghost: str, quiet: str | None = None
) -> Path:
    """acme: madrid through ``seen``, sevilla through ``ghost`` (declared, not provisioned);
    beta: every site through ``never`` (named by the client); gamma: collected directly, or
    through ``quiet`` when given."""
    path = folder / "inventory.yaml"
    device = (
        "          - {{name: {0}, platform: linux, address: 127.0.0.1,"
        " ssh: {{user: root, port: 1}}}}\n"
    )
    path.write_text(
        "collectors:\n"
        f"  - name: {seen}\n"
        "    description: Raspberry Pi <b>in the rack</b> of ACME Madrid\n"
        f"  - name: {never}\n"
        f"  - name: {ghost}\n"
        + (f"  - name: {quiet}\n    description: the office's NAS, a container\n" if quiet else "")
        + "clients:\n"
        "  - name: acme\n    legal_name: ACME Asesores S.L.\n    sites:\n"
        f"      - name: madrid\n        collector: {seen}\n        devices:\n"
        + device.format("srv-files")
        + f"      - name: sevilla\n        collector: {ghost}\n        devices:\n"
        + device.format("pc-sev")
        + f"  - name: beta\n    legal_name: Beta S.L.\n    collector: {never}\n    sites:\n"
        "      - name: bilbao\n        devices:\n"
        + device.format("srv-db")
        + "  - name: gamma\n    legal_name: Gamma S.L.\n    sites:\n"
        "      - name: hq\n"
        + (f"        collector: {quiet}\n" if quiet else "")
        + "        devices:\n"
        + device.format("srv-hq")
    )
    return path


def write_config(folder: Path, inventory: Path, *, broker_url: str | None, extra: str = "") -> Path:
    """serve.yaml over a SQLite store in ``folder``; ``broker:`` a 0600 file holding
    ``broker_url`` (None: no broker)."""
    broker = ""
    if broker_url is not None:
        secret = folder / "broker-url"
        secret.write_text(broker_url + "\n")
        secret.chmod(0o600)
        broker = f"broker: file:{secret}\n"
    path = folder / "serve.yaml"
    path.write_text(
        f"db: {folder / 'runs.db'}\n"
        f"inventory: [{inventory}]\n"
        f"policies: {POLICIES}\n"
        f"artifacts: {folder / 'artifacts'}\n"
        "timezone: Europe/Madrid\n" + broker + extra
    )
    return path
