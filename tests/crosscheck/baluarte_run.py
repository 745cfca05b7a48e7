"""Baluarte's verdicts: the real ``baluarte check`` over SSH against the hosts of a wave.

Two runs (at once), because Baluarte judges password quality and lockout in one control: the
``main`` policy checks access.password_policy on length and classes only, the ``lockout`` policy
on the lockout threshold only (lockout duration cannot be shown by behaviour in the test's time:
no row claims it). Waivers come from each state's ``waive``.
"""

from __future__ import annotations

import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from baluarte.lab.linux_hosts import LinuxHostLab
from baluarte.lab.systemd_hosts import SystemdHost
from tests.crosscheck.states import HostState
from tests.integration.cli import baluarte, findings, write_inputs

__all__ = ["POLICIES", "run_baluarte"]

POLICIES = {
    "main": """\
id: crosscheck
version: "1"
title: Cross-check against OpenSCAP and Lynis
applies_to: {platform: linux}
patching:
  security_updates_pending: {max: 0}
  automatic_updates: {required: true}
firewall:
  enabled: {required: true}
  default_inbound_deny: {required: true}
access:
  ssh_password_authentication: {required: true}
  ssh_root_login: {allowed: prohibit-password}
  admin_accounts: {allowed: [root]}
  password_policy:
    {min_length: 14, complexity: true, complexity_classes: 3, lockout_threshold: null,
     lockout_minutes: null}
  insecure_admin_protocols: {forbidden: [telnet, ftp, rsh, rlogin]}
logging:
  remote_forwarding: {required: true, targets: ["logs.example.net:6514"]}
  time_sync: {required: true, max_offset_seconds: 0.5}
""",
    "lockout": """\
id: crosscheck-lockout
version: "1"
title: Cross-check, lockout only
applies_to: {platform: linux}
access:
  password_policy:
    {min_length: 1, complexity: false, lockout_threshold: 5, lockout_minutes: null}
""",
}


def _waivers(states: list[HostState]) -> str:
    entries = [
        textwrap.dedent(f"""\
          - control: {control}
            client: acme
            devices: [{state.name}]
            reason: cross-check, a waiver must never hide an error
            approved_by: Baluarte cross-check
            expires: 2099-01-31
        """)
        for state in states
        for control in state.waive
    ]
    return "waivers:\n" + "".join(entries) if entries else "waivers: []\n"


def run_baluarte(
    workdir: Path, lab: LinuxHostLab, hosts: list[SystemdHost], states: list[HostState]
) -> tuple[dict[str, dict[tuple[str, str], dict[str, Any]]], float]:
    """{policy: {(device, control): finding}} for both policies, and the total wall time.

    The two runs go at once: each has its own inputs and store, and a check only reads hosts.
    """
    started = time.monotonic()

    def check(name: str) -> dict[tuple[str, str], dict[str, Any]]:
        tmp = workdir / name
        tmp.mkdir(parents=True, exist_ok=True)
        write_inputs(tmp, lab, list(hosts), policy=POLICIES[name], waivers=_waivers(states))
        result = baluarte(tmp, "check", "--format", "json")
        if result.returncode not in (0, 1, 3):
            raise AssertionError(
                f"baluarte check ({name}) exited {result.returncode}: {result.stderr}"
            )
        return findings(result)

    with ThreadPoolExecutor(len(POLICIES)) as pool:
        got = dict(zip(POLICIES, pool.map(check, POLICIES), strict=True))
    return got, time.monotonic() - started
