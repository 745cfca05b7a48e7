"""Driving the real `baluarte` command against lab hosts: inputs, invocation, findings.

    write_inputs(tmp_path, lab, [host], policy=POLICY)
    result = baluarte(tmp_path, "check", "--format", "json")
    got = findings(result)              # {(device, control): finding dict}

Every device carries an ``ssh.password`` reference to a canary secret; ``findings`` and
``assert_no_canary`` fail if the canary shows up anywhere.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from baluarte.lab.linux_hosts import LinuxHost, LinuxHostLab

CANARY = "canary-Zq8v1XkP-do-not-leak"
BIN = Path(sys.executable).parent / "baluarte"


def write_inputs(
    tmp: Path,
    lab: LinuxHostLab,
    hosts: list[LinuxHost],
    *,
    policy: str,
    waivers: str = "",
    extra_env: dict[str, str] | None = None,
) -> Path:
    """inventory.yaml (client acme, site hq), policies/test.yaml and waivers.yaml in ``tmp``."""
    devices = "\n".join(
        textwrap.indent(
            textwrap.dedent(f"""\
            - name: {h.name}
              platform: linux
              address: {h.address}
              tags: [server]
              ssh:
                user: root
                key: "file:{lab.key_path}"
                known_hosts: {lab.known_hosts_path}
                password: "env:BALUARTE_TEST_CANARY"
            """),
            " " * 10,
        )
        for h in hosts
    )
    (tmp / "inventory.yaml").write_text(
        "clients:\n  - name: acme\n    legal_name: ACME Asesores S.L.\n    sites:\n"
        "      - name: hq\n        devices:\n" + devices
    )
    (tmp / "policies").mkdir(exist_ok=True)
    (tmp / "policies" / "test.yaml").write_text(policy)
    (tmp / "waivers.yaml").write_text(waivers or "waivers: []\n")
    return tmp


def baluarte(
    tmp: Path, *args: str, db: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the command with the inputs in ``tmp`` (and its store, unless ``db`` is given)."""
    full_env = {**os.environ, "BALUARTE_TEST_CANARY": CANARY, **(env or {})}
    cmd = [str(BIN), *args]
    if args[0] != "validate":
        cmd += ["--db", db or str(tmp / "runs.db")]
    if args[0] in ("check", "validate", "apply"):
        cmd += [
            "--inventory", str(tmp / "inventory.yaml"),
            "--policies", str(tmp / "policies"),
            "--waivers", str(tmp / "waivers.yaml"),
        ]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=300, cwd=tmp)


def ssh(lab: LinuxHostLab, host: LinuxHost, command: str) -> subprocess.CompletedProcess[str]:
    """The system OpenSSH client, with the lab's key and strict host-key checking."""
    return subprocess.run(
        [
            "ssh",
            "-i", str(lab.key_path),
            "-o", "StrictHostKeyChecking=yes",
            "-o", f"UserKnownHostsFile={lab.known_hosts_path}",
            "-o", "BatchMode=yes",
            "-o", "ConnectTimeout=5",
            "-p", str(host.port),
            f"root@{host.address}",
            command,
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )  # fmt: skip


def assert_no_canary(*texts: str) -> None:
    for text in texts:
        assert CANARY not in text


def findings(result: subprocess.CompletedProcess[str]) -> dict[tuple[str, str], dict]:
    """The JSON report's findings by (device, control); fails if the canary leaked."""
    assert_no_canary(result.stdout, result.stderr)
    doc = json.loads(result.stdout)
    return {(f["device"], f["control"]): f for f in doc["findings"]}
