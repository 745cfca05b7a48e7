"""Issue 12, class 8: ``--redact`` leaves no personal value in any string of a pack.

One real ``baluarte check`` over the three platforms of one client — a Debian lab host over SSH,
the WinRM lab server as a staff laptop, the FortiOS emulator — with personal values planted
where the campaign found them left behind: an approver's name inside waivers' free text (with
and without its accents), a waiver whose approver no finding names (only the waiver file), a
laptop's own computer name in its local Administrators and its Veeam backup job, people's
names inside paths (``/etc/sudoers.d/maria``, ``/home/lmartinez/…``), a FortiGate admin, the
accounts a policy allows. The redacted pack is then searched, file by file — the PDF through
``pdftotext``, JSON, CSV and JUnit through their parsers too — for every one of them, whatever
its case or accents. The same export without ``--redact`` is the positive control: every
value is there.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import os
import shutil
import subprocess
import textwrap
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from baluarte.evidence.keys import init_key
from baluarte.lab.fortigate import FortigateLab
from baluarte.lab.fortigate.shipped import shipped_state as fortigate_state
from baluarte.lab.linux_hosts import LinuxHost, LinuxHostLab
from baluarte.lab.windows import WindowsLab
from baluarte.lab.windows.shipped import shipped_state as windows_state
from tests.integration import conftest as hosts
from tests.integration.cli import BIN, CANARY, baluarte

lab, make_host = hosts.lab, hosts.make_host  # the lab fixtures of tests/integration, here too

ROOT = Path(__file__).resolve().parents[2]
COMPUTER = "PORTATIL-MARIA"  # the laptop's own name, not its inventory name
# Every personal value planted; the redacted pack must hold none of them, in any case or accent.
PERSONAL = (
    "María López",  # approver, also inside waiver reasons
    "López",
    "Juan Pérez",  # approver of the laptop's waiver
    "jperez",  # his e-mail's local part
    "Lucía Fernández",  # approver of a waiver no finding names: only in the waiver file
    "Fernández",
    COMPUTER,  # the laptop's own computer name (local admins, Veeam job)
    "pc-mgarcia",  # the laptop's inventory name
    "maria.garcia",  # a local administrator of the laptop
    "maria",  # /etc/sudoers.d/maria, and María without accent
    "lmartinez",  # /home/lmartinez/bin/tool
    "jgarcia",  # a FortiGate admin
    "ana.garcia",  # allowed by the Linux policy
)
LINUX_POLICY = """\
id: linux-access
version: "1"
title: Linux access (test)
applies_to: {platform: linux}
access:
  admin_accounts: {allowed: [root, ana.garcia]}
"""
WAIVERS = """\
waivers:
  - control: access.admin_accounts
    client: acme
    devices: [srv-files]
    reason: "Accepted by María López until the migration; Maria Lopez reviews it monthly"
    approved_by: "María López (DPO, ACME)"
    ticket: ACME-1042
    expires: 2099-01-31
  - control: endpoint.realtime_protection
    client: acme
    devices: [pc-mgarcia]
    reason: "Juan's laptop: Pérez signs off the exception"
    approved_by: "Juan Pérez <jperez@acme.es>"
    expires: 2099-01-31
  - control: backup.restore_tested
    client: acme
    devices: [srv-files]
    reason: "restore drill pending, Fernández to schedule"
    approved_by: "Lucía Fernández"
    expires: 2099-01-31
"""
# deploy may edit maria's sudoers drop-in (root-equivalent) and run a tool from lmartinez's home
SUDO_SETUP = r"""
useradd -m -s /bin/sh deploy; useradd -m -s /bin/sh lmartinez; useradd -m -s /bin/sh ana.garcia
mkdir -p /home/lmartinez/bin; printf '#!/bin/sh\necho tool\n' > /home/lmartinez/bin/tool
chmod 755 /home/lmartinez/bin/tool
printf 'deploy ALL=(root) sudoedit /etc/sudoers.d/maria\ndeploy ALL=(root) NOPASSWD: /home/lmartinez/bin/tool\n' > /etc/sudoers.d/maria
chmod 440 /etc/sudoers.d/maria
echo 'ana.garcia ALL=(ALL:ALL) ALL' > /etc/sudoers.d/ana; chmod 440 /etc/sudoers.d/ana
visudo -c >/dev/null
"""


def laptop_state() -> dict[str, Any]:
    """The office PC as María's laptop: its own name everywhere, her local admin account."""
    state = json.loads(json.dumps(windows_state("office-pc")).replace("PC-RECEPCION", COMPUTER))
    members = state["output"]["checks"]["localadmins"]["data"]["Members"]
    member = copy.deepcopy(members[-1])
    member.update(Name=f"{COMPUTER}\\maria.garcia", SID=member["SID"].rsplit("-", 1)[0] + "-1004")
    members.append(member)
    state["output"]["checks"]["localadmins"]["data"]["Count"] = len(members)
    return state


def firewall_state() -> dict[str, Any]:
    state = fortigate_state("small-office")
    admins = state["global"]["system/admin"]
    admin = copy.deepcopy(admins[-1])
    admin.update(name="jgarcia", q_origin_key="jgarcia")
    admins.append(admin)
    return state


@dataclass(frozen=True)
class Packs:
    plain: Path
    redacted: Path


@pytest.fixture(scope="module")
def packs(tmp_path_factory: pytest.TempPathFactory, lab: LinuxHostLab) -> Iterator[Packs]:
    tmp = tmp_path_factory.mktemp("redaction")
    host = lab.up("srv-files")
    try:
        host.run(SUDO_SETUP)
        with (
            WindowsLab(laptop_state(), users={"baluarte": CANARY}, auth="ntlm", https=False) as pc,
            FortigateLab(firewall_state(), tokens={CANARY: "baluarte-ro"}) as fw,
        ):
            write_inputs(tmp, lab, host, pc, fw)
            checked = baluarte(tmp, "check", "--format", "json", "--artifacts", str(tmp / "art"))
            assert checked.returncode in (1, 3), checked.stderr[-3000:]
        key = tmp / "keys" / "signing-key.pem"
        init_key(key)
        out = Packs(tmp / "plain", tmp / "redacted")
        for pack, extra in ((out.plain, ()), (out.redacted, ("--redact",))):
            done = baluarte(
                tmp, "evidence", "export", "--client", "acme", "--key", str(key),
                "--artifacts", str(tmp / "art"), "-o", str(pack), *extra,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr[-3000:]
        yield out
    finally:
        lab.down(host)


def write_inputs(
    tmp: Path, lab: LinuxHostLab, host: LinuxHost, pc: WindowsLab, fw: FortigateLab
) -> None:
    inventory = f"""\
        clients:
          - name: acme
            legal_name: ACME Asesores S.L.
            sites:
              - name: madrid-hq
                devices:
                  - name: srv-files
                    platform: linux
                    address: {host.address}
                    tags: [server]
                    ssh:
                      user: root
                      key: "file:{lab.key_path}"
                      known_hosts: {lab.known_hosts_path}
                  - name: pc-mgarcia
                    platform: windows
                    address: {pc.host}
                    port: {pc.port}
                    tags: [workstation]
                    winrm: {{user: baluarte, password: "env:BALUARTE_TEST_CANARY", auth: ntlm, https: false}}
                  - name: fw-hq
                    platform: fortigate
                    address: {fw.host}
                    port: {fw.port}
                    tags: [firewall]
                    fortios: {{token: "env:BALUARTE_TEST_CANARY", ca_bundle: "{fw.ca_path}"}}
        """
    (tmp / "inventory.yaml").write_text(textwrap.dedent(inventory))
    policies = tmp / "policies"
    policies.mkdir()
    (policies / "linux-access.yaml").write_text(LINUX_POLICY)
    for name in ("windows-baseline.yaml", "fortigate-baseline.yaml"):
        shutil.copy(ROOT / "policies" / name, policies / name)
    (tmp / "waivers.yaml").write_text(WAIVERS)


def folded(text: str) -> str:
    """Case- and accent-insensitive form: "María" and "MARIA" are both "maria"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def texts(pack: Path) -> Iterator[tuple[str, str]]:
    """Every file's text; the PDF's through pdftotext; JSON, CSV, JUnit through a real parser
    (so an escaped value, ``\\u00ed``, is searched as it reads)."""
    for path in sorted(p for p in pack.rglob("*") if p.is_file()):
        name = path.relative_to(pack).as_posix()
        data = path.read_bytes()
        if path.suffix == ".pdf":
            pdf = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True)
            assert pdf.returncode == 0, pdf.stderr
            yield name, pdf.stdout
            yield name, data.decode("latin-1")
            continue
        text = data.decode("utf-8", "replace")
        yield name, text
        if path.suffix == ".json":
            yield name, json.dumps(json.loads(text), ensure_ascii=False)
        elif path.suffix == ".csv":
            sep = ";" if text.lstrip("\ufeff").startswith("run_id;") else ","  # a Spanish pack
            rows = csv.reader(io.StringIO(text), delimiter=sep)
            yield name, "\n".join("\t".join(row) for row in rows)
        elif path.suffix == ".xml":
            root = ET.fromstring(data)
            yield (
                name,
                " ".join(" ".join([*(e.attrib.values()), e.text or ""]) for e in root.iter()),
            )


needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="no pdftotext")


@needs_pdftotext
def test_every_personal_value_is_in_the_plain_pack(packs: Packs) -> None:
    """Positive control: the values really were planted where the redacted pack is searched."""
    everything = folded("\n".join(text for _, text in texts(packs.plain)))
    missing = [value for value in PERSONAL if folded(value) not in everything]
    assert missing == []
    by_file = {name: folded(text) for name, text in texts(packs.plain)}
    csv_text = by_file["findings.csv"]
    assert folded(COMPUTER) in csv_text and "backup job portatil-maria" in csv_text
    assert "accepted by maria lopez until" in csv_text  # the approver inside a waiver reason
    assert "/etc/sudoers.d/maria" in csv_text
    assert "/home/lmartinez/bin/tool" in by_file["results.json"]  # in the evidence
    assert "lucia fernandez" in by_file["policies/waivers.yaml"]
    assert "lucia fernandez" not in csv_text  # that waiver covers no finding


@needs_pdftotext
def test_no_personal_value_is_left_in_any_file_of_the_redacted_pack(packs: Packs) -> None:
    found = sorted(
        {
            (value, name)
            for name, text in texts(packs.redacted)
            for value in PERSONAL
            if folded(value) in folded(text)
        }
    )
    assert found == []


def test_the_redacted_pack_verifies_and_its_records_prove_what_is_not_personal(
    packs: Packs,
) -> None:
    done = subprocess.run(
        [str(BIN), "evidence", "verify", str(packs.redacted)],
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=120,
    )
    assert done.returncode == 0, done.stdout
    chain = json.loads((packs.redacted / "chain.json").read_text())
    (link,) = [link for link in chain["links"] if link["parts"]]
    parts = json.loads((packs.redacted / link["parts"]).read_text())["parts"]
    laptop = [p for p in parts if p["leaves"].get("device", {}).get("redacted")]
    assert laptop and all("value" in p["leaves"]["status"] for p in laptop)
    assert all(p["leaves"]["device"]["redacted"].startswith("host-") for p in laptop)
