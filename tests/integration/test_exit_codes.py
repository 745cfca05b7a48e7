"""Exit 3 means only that a device could not be read (issue 12, class 9), end to end on lab hosts.

A host that was read but has nothing the policy can judge (no backup at all) fails the control;
a host read whose facts do not settle a control is ``error`` of kind ``undetermined`` and the
run exits 1; a host that cannot be reached is ``error`` of kind ``unreadable`` and exits 3.
"""

from __future__ import annotations

import json
import subprocess

from baluarte.lab.linux_hosts import LinuxHost
from tests.integration import cli
from tests.integration.cli import baluarte, findings

POLICY = """\
id: exit-codes
version: "1"
title: Exit codes (test)
applies_to: {platform: linux}
backup:
  configured: {repository: /srv/backup, paths: [/srv/data]}
  encrypted: {required: true}
"""


def check(tmp_path) -> subprocess.CompletedProcess[str]:
    return baluarte(tmp_path, "check", "--format", "json")


def test_a_host_read_with_no_backup_fails_backup_encrypted_and_exits_1(tmp_path, lab, linux_host):
    cli.write_inputs(tmp_path, lab, [linux_host], policy=POLICY)
    result = check(tmp_path)
    got = findings(result)
    encrypted = got[(linux_host.name, "backup.encrypted")]
    assert encrypted["status"] == "fail", encrypted
    assert encrypted["error_kind"] is None
    assert "no backup" in encrypted["reason"] and "/srv/backup" in encrypted["observed"]
    assert got[(linux_host.name, "backup.configured")]["status"] == "fail"
    assert result.returncode == 1, result.stderr


def test_a_host_read_but_undetermined_exits_1_and_says_so(tmp_path, lab, linux_host):
    # no package lists on the host: the pending set is unknown, though reading the host worked
    linux_host.run("rm -rf /var/lib/apt/lists/*")
    policy = POLICY.replace(
        "backup:\n  configured: {repository: /srv/backup, paths: [/srv/data]}\n"
        "  encrypted: {required: true}\n",
        "patching:\n  security_updates_pending: {max: 0}\n",
    )
    cli.write_inputs(tmp_path, lab, [linux_host], policy=policy)
    result = check(tmp_path)
    pending = findings(result)[(linux_host.name, "patching.security_updates_pending")]
    assert (pending["status"], pending["error_kind"]) == ("error", "undetermined"), pending
    assert "unknown" in pending["reason"], pending["reason"]
    assert result.returncode == 1, result.stderr


def test_a_host_that_cannot_be_reached_is_unreadable_and_exits_3(
    tmp_path, lab, linux_host: LinuxHost
):
    cli.write_inputs(tmp_path, lab, [linux_host], policy=POLICY)
    inventory = tmp_path / "inventory.yaml"
    # a lab address nothing answers on
    inventory.write_text(inventory.read_text().replace(linux_host.address, "10.200.255.254"))
    result = baluarte(tmp_path, "check", "--format", "json", "--timeout", "5")
    doc = json.loads(result.stdout)
    assert {(f["status"], f["error_kind"]) for f in doc["findings"]} == {("error", "unreadable")}
    assert result.returncode == 3, result.stderr
