"""Evidence packs end to end: a real SQLite store, the real CLI, sha256sum and openssl.

One store and one pack per module; each tampering test works on its own copy of the pack.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from baluarte.engine import operator_name
from baluarte.errors import InputError
from baluarte.evidence.gather import gather
from baluarte.evidence.keys import init_key, load_private_key, pseudonym_key, public_pem
from baluarte.evidence.pack import (
    MANIFEST,
    PUBLIC_KEY,
    SIGNATURE,
    Renderers,
    default_renderers,
    manifest_bytes,
    write_pack,
)
from baluarte.evidence.verify import verify_pack
from baluarte.evidence.verify_text import OPENSSL, RUN_OPENSSL, SHA256SUM
from baluarte.findings import Finding, Severity, Status, WaiverRef
from baluarte.remediation import RemediationRecord, RemediationResult
from baluarte.run import InputFile, RunKind
from baluarte.store import Store

BIN = Path(sys.executable).parent / "baluarte"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
# Personal names the fixture plants; --redact must leave none of them anywhere.
PERSONAL = ("tecnico.lopez", "PORTATIL-LOPEZ", "jgarcia", "ana.garcia", "pc-mgarcia", "María")
SECRET = "SH2qQv8canaryPassword"

INVENTORY = """\
clients:
  - name: acme
    legal_name: ACME Asesores S.L.
    sites:
      - name: madrid-hq
        devices:
          - name: srv-files
            platform: linux
            address: 127.0.0.1
            tags: [server]
          - name: fw-hq
            platform: fortigate
            address: 127.0.0.1
            fortios:
              token: "env:ACME_FW_TOKEN"
          - name: pc-mgarcia
            platform: windows
            address: 127.0.0.1
            tags: [workstation]
            winrm:
              user: ACME\\baluarte
              password: "env:ACME_WINRM"
"""
BACKUP = f"""\
#config-version=FGT60F-7.4.4-FW-build2662-240514:opmode=0:vdom=0
config system admin
    edit "jgarcia"
        set password ENC {SECRET}
    next
end
config vpn ipsec phase1-interface
    edit "to-branch"
        set psksecret ENC {SECRET}
    next
end
"""


def finding(device: str, control: str, status: Status, **kw: object) -> Finding:
    fields: dict[str, object] = {
        "client": "acme",
        "site": "madrid-hq",
        "device": device,
        "platform": "linux",
        "control": control,
        "policy": "linux-baseline",
        "status": status,
        "severity": Severity.HIGH,
    }
    fields.update(kw)
    return Finding.model_validate(fields)


def findings_of_run(backup_sha: str, backup_name: str) -> list[Finding]:
    return [
        finding("srv-files", "patching.security_updates_pending", Status.PASS, observed="0"),
        finding(
            "srv-files",
            "access.admin_accounts",
            Status.FAIL,
            expected="privileged accounts only among: root, ana.garcia",
            observed="unexpected privileged accounts: jgarcia (member of sudo)",
            evidence="root: UID 0\njgarcia: member of sudo",
        ),
        finding(
            "srv-files",
            "patching.reboot_required",
            Status.WAIVED,
            waiver=WaiverRef(
                reason="ERP vendor certifies kernels monthly",
                approved_by="María López",
                ticket="ACME-1042",
                expires=date(2027, 1, 31),
            ),
        ),
        finding(
            "srv-files",
            "firewall.enabled",
            Status.FAIL,
            expected="enabled",
            observed="inactive",
            waiver=WaiverRef(
                reason="migration window",
                approved_by="IT lead",
                expires=date(2026, 1, 1),
                expired=True,
            ),
        ),
        finding(
            "pc-mgarcia",
            "endpoint.installed",
            Status.ERROR,
            platform="windows",
            reason="unreachable: connection refused by pc-mgarcia",
        ),
        finding(
            "fw-hq",
            "backup.config_saved",
            Status.PASS,
            platform="fortigate",
            observed=f"configuration backup (global): sha256 {backup_sha}",
            evidence=f"sha256 {backup_sha}\nsize 10\npath /srv/elsewhere/{backup_name}\n"
            "#config-version=FGT60F",
        ),
    ]


@dataclass(frozen=True)
class World:
    root: Path
    db: Path
    key: Path
    artifacts: Path
    pack: Path
    zip: Path
    redacted: Path
    run_ids: tuple[int, ...]


def renderers() -> Renderers:
    """The real renderers; while OSCAL is being written (issue 7), the pack goes without it."""
    try:
        return default_renderers()
    except InputError:
        from reports.evidence import render_html, render_pdf

        return Renderers(html=render_html, pdf=render_pdf, oscal=None)


def cli_ready() -> None:
    try:
        default_renderers()
    except InputError as exc:
        pytest.skip(f"the CLI exports only with every renderer: {exc}")


def baluarte(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_store(
    root: Path, artifacts: Path, key: Ed25519PrivateKey | None = None
) -> tuple[Path, tuple[int, ...]]:
    inv = root / "inventory.yaml"
    inv.write_text(INVENTORY)
    policy = root / "policies" / "linux-baseline.yaml"
    policy.parent.mkdir()
    policy.write_text("access:\n  admin_accounts:\n    allowed: [root, ana.garcia]\n")
    waivers = root / "policies" / "waivers.yaml"
    waivers.write_text("waivers: []\n")
    old = root / "policies" / "old-baseline.yaml"
    old.write_text("version: 1\n")
    backup = BACKUP.encode()
    name = "20261102T090000Z-abc.conf"
    folder = artifacts / "fortigate" / "acme" / "madrid-hq" / "fw-hq"
    folder.mkdir(parents=True)
    (folder / name).write_bytes(backup)
    files = [
        InputFile(role="inventory", path=str(inv), sha256=sha(inv)),
        InputFile(role="policy", path=str(policy), sha256=sha(policy)),
        InputFile(role="waivers", path=str(waivers), sha256=sha(waivers)),
        InputFile(role="policy", path=str(old), sha256=sha(old)),
    ]
    db = root / "baluarte.db"
    ids = []
    with Store.open(db, signing_key=key) as store:
        for day, client, kind in ((0, "acme", RunKind.CHECK), (1, "globex", RunKind.CHECK),
                                  (2, "acme", RunKind.APPLY)):  # fmt: skip
            start = T0 + timedelta(days=day)
            run = store.start_run(
                kind=kind,
                operator="tecnico.lopez@PORTATIL-LOPEZ",
                tool_version="0.test",
                inventory_sha256=hashlib.sha256(sha(inv).encode()).hexdigest(),
                files=files,
                scope={"client": client},
                devices_total=3,
                started_at=start,
            )
            found = findings_of_run(hashlib.sha256(backup).hexdigest(), name)
            if client == "globex":
                found = [f.model_copy(update={"client": "globex"}) for f in found[:1]]
            if kind is RunKind.APPLY:
                store.add_remediations(
                    run,
                    [
                        RemediationRecord(
                            client="acme",
                            site="madrid-hq",
                            device="srv-files",
                            platform="linux",
                            control="firewall.enabled",
                            result=RemediationResult.APPLIED,
                            before="inactive",
                            action="ufw enable",
                        )
                    ],
                )
                found[3] = found[3].model_copy(update={"status": Status.PASS, "waiver": None})
            store.add_findings(run, found)
            store.finish_run(run, ended_at=start + timedelta(minutes=5))
            ids.append(run)
    old.write_text("version: 2\n")  # changed after the runs: listed, not copied
    return db, tuple(ids)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("evidence")
    artifacts = root / "artifacts"
    key = root / "keys" / "signing-key.pem"
    init_key(key)
    signing = load_private_key(key)
    db, ids = build_store(root, artifacts, signing)  # every run signed as it finishes
    with Store.open(db) as store:
        for out, lang, redact in (("pack", "es", False), ("pack.zip", "en", False),
                                  ("redacted", "es", True)):  # fmt: skip
            gathered = gather(
                store,
                "acme",
                start=date(2026, 11, 1),
                end=date(2026, 11, 30),
                lang=lang,  # type: ignore[arg-type]
                operator=operator_name(),
                pseudonym_key=pseudonym_key(key, "acme") if redact else None,
                artifacts=artifacts,
                # the zip: runs checked by their stored records (tags), the others rebuilt
                signing_key=signing if out == "pack.zip" else None,
            )
            write_pack(gathered, root / out, signing, renderers())
    return World(root, db, key, artifacts, root / "pack", root / "pack.zip", root / "redacted", ids)


@pytest.fixture
def copy(world: World, tmp_path: Path) -> Path:
    out = tmp_path / "pack"
    shutil.copytree(world.pack, out)
    return out


def stock_tools(pack: Path) -> tuple[bool, bool]:
    """(sha256sum -c passes, openssl verifies) — the commands exactly as VERIFY.txt gives them."""
    text = (pack / "VERIFY.txt").read_text()
    assert SHA256SUM in text and OPENSSL in text
    sums = subprocess.run(SHA256SUM.split(), cwd=pack, capture_output=True, text=True)
    ssl = subprocess.run(OPENSSL.split(), cwd=pack, capture_output=True, text=True)
    return sums.returncode == 0, ssl.returncode == 0


def resign(pack: Path, key: Ed25519PrivateKey) -> None:
    files = {p.relative_to(pack).as_posix(): p.read_bytes() for p in pack.rglob("*") if p.is_file()}
    manifest = manifest_bytes(files)
    (pack / MANIFEST).write_bytes(manifest)
    (pack / SIGNATURE).write_bytes(key.sign(manifest))


# -- a good pack ----------------------------------------------------------------------------


def test_pack_holds_every_file_and_verifies_with_stock_tools(world: World) -> None:
    pack = world.pack
    names = {p.relative_to(pack).as_posix() for p in pack.rglob("*") if p.is_file()}
    expected = {"results.json", "findings.csv", "junit.xml", "inventory.json", "chain.json"}
    expected |= {MANIFEST, SIGNATURE, PUBLIC_KEY, "VERIFY.txt", "policies/index.json"}
    expected |= {"policies/linux-baseline.yaml", "policies/waivers.yaml", "backups/index.json"}
    assert expected <= names
    private = [n for n in names if b"PRIVATE KEY" in (pack / n).read_bytes()]
    assert private == [] and "signing-key.pem" not in names
    assert stock_tools(pack) == (True, True)
    assert "Cómo verificar" in (pack / "VERIFY.txt").read_text()
    result = verify_pack(pack, world.key.with_name("signing-key.pub.pem"))
    assert result.problems == [] and result.notes == []
    # every run's record (globex's too: a record holds hashes only), and its signature
    assert result.runs_checked == 3 and result.signatures_checked == 3
    # the acme runs' parts: their details, their findings (6 each) and the one remediation
    assert result.parts_checked == 2 * (1 + 6) + 1


def test_contents_follow_the_store_and_inputs(world: World) -> None:
    pack = world.pack
    results = json.loads((pack / "results.json").read_text())
    acme = [world.run_ids[0], world.run_ids[2]]
    assert [r["run"]["id"] for r in results["runs"]] == acme
    assert results["period"] == {"from": "2026-11-01", "to": "2026-11-30"}
    chain = json.loads((pack / "chain.json").read_text())
    assert [link["run_id"] for link in chain["links"]] == list(world.run_ids)
    globex = world.run_ids[1]
    with Store.open(world.db) as store:
        for run_id in world.run_ids:
            assert (pack / f"runs/{run_id:03d}.json").read_bytes() == store.canonical(run_id)
    assert not (pack / f"runs/{globex:03d}.parts.json").exists()  # another client's findings
    opened = json.loads((pack / f"runs/{acme[0]:03d}.parts.json").read_text())
    parts = opened["parts"]
    assert [p["part"] for p in parts] == ["info"] + [f"findings/{i}" for i in range(6)]
    # a run wholly acme's, unredacted: every part by the run's salt, as the store keeps it
    assert re.fullmatch("[0-9a-f]{64}", opened["salt"])
    assert parts[2]["fields"]["status"] == "fail" and "leaves" not in parts[2]
    assert "acme" not in (pack / f"runs/{globex:03d}.json").read_text()
    inventory = json.loads((pack / "inventory.json").read_text())
    assert inventory["verified"] is True
    assert {d["device"] for d in inventory["devices"]} == {"srv-files", "fw-hq", "pc-mgarcia"}
    assert "env:" not in (pack / "inventory.json").read_text()
    index = {
        Path(e["path"]).name: e for e in json.loads((pack / "policies/index.json").read_text())
    }
    assert index["old-baseline.yaml"]["status"].startswith("changed")
    assert not (pack / "policies/old-baseline.yaml").exists()
    backups = json.loads((pack / "backups/index.json").read_text())
    assert {b["status"] for b in backups} == {"included"}
    text = (pack / backups[0]["file"]).read_text()
    assert SECRET not in text and "set password ENC ********" in text
    assert "set psksecret ENC ********" in text
    csv = (pack / "findings.csv").read_text()
    assert csv.count("firewall.enabled") == 2 and ";fail;" in csv and ";waived;" in csv
    junit = (pack / "junit.xml").read_text()
    assert "<failure" in junit and "<error" in junit and "<skipped" in junit


def test_zip_pack_verifies_and_unzips_for_stock_tools(world: World, tmp_path: Path) -> None:
    assert verify_pack(world.zip).problems == []
    with zipfile.ZipFile(world.zip) as zf:
        zf.extractall(tmp_path)
    assert stock_tools(tmp_path) == (True, True)
    assert "How to verify" in (tmp_path / "VERIFY.txt").read_text()


def test_verify_command_exit_codes(world: World, copy: Path) -> None:
    good = baluarte("evidence", "verify", world.pack, cwd=world.root)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "SHA256:" in good.stdout and "OK" in good.stdout
    (copy / "findings.csv").write_text("edited\n")
    bad = baluarte("evidence", "verify", copy, cwd=world.root)
    assert bad.returncode == 1
    assert "findings.csv: changed" in bad.stdout
    missing = baluarte("evidence", "verify", world.root / "nothing-here", cwd=world.root)
    assert missing.returncode == 2


# -- tampering --------------------------------------------------------------------------------


KINDS = [
    "report.html",
    "report.pdf",
    "oscal-assessment-results.json",
    "results.json",
    "findings.csv",
    "junit.xml",
    "inventory.json",
    "policies/linux-baseline.yaml",
    "policies/index.json",
    "backups/index.json",
    "backups/fw-hq/20261102T090000Z-abc.conf",
    "chain.json",
    "runs/001.json",
    "runs/001.parts.json",
    "runs/001.json.sig",
    "VERIFY.txt",
    PUBLIC_KEY,
    MANIFEST,
    SIGNATURE,
]


@pytest.mark.parametrize("name", KINDS)
def test_one_changed_byte_is_detected(copy: Path, name: str) -> None:
    path = copy / name
    if not path.exists():
        pytest.skip(f"{name} not in this pack (its renderer is not written yet)")
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle] = (data[middle] + 1) % 256 if data[middle] != 0x0A else 0x20
    path.write_bytes(bytes(data))
    assert verify_pack(copy).problems, name
    assert stock_tools(copy) != (True, True), name


def test_a_new_file_is_detected(copy: Path) -> None:
    (copy / "policies" / "extra.yaml").write_text("x: 1\n")
    assert any("not listed" in p for p in verify_pack(copy).problems)


def test_deleted_run_record_is_detected_even_when_resigned(world: World, copy: Path) -> None:
    gone = f"runs/{world.run_ids[0]:03d}.json"
    (copy / gone).unlink()
    resign(copy, load_private_key(world.key))
    assert stock_tools(copy) == (True, True)  # the stock tools cannot see it
    problems = verify_pack(copy).problems
    assert problems == [f"run {world.run_ids[0]}: its record {gone} is missing from the pack"]


def edit_parts(pack: Path, run_id: int, part: str, leaf: str, value: str) -> None:
    """Set a disclosed leaf (``value`` as JSON), in either form a parts file takes."""
    path = pack / f"runs/{run_id:03d}.parts.json"
    doc = json.loads(path.read_text())
    for p in doc["parts"]:
        if p["part"] == part and "fields" in p:
            p["fields"][leaf] = json.loads(value)
        elif p["part"] == part:
            p["leaves"][leaf]["value"] = value
    path.write_text(json.dumps(doc))


def test_a_finding_edited_in_the_pack_is_found_even_when_resigned(world: World, copy: Path) -> None:
    run_id = world.run_ids[0]
    edit_parts(copy, run_id, "findings/1", "status", '"pass"')  # access.admin_accounts
    csv_path = copy / "findings.csv"
    csv_path.write_text(csv_path.read_text().replace(";fail;high;", ";pass;high;", 1))
    resign(copy, load_private_key(world.key))
    assert stock_tools(copy) == (True, True)  # the manifest holds
    assert verify_pack(copy).problems == [
        f"run {run_id}: part findings/1 of runs/{run_id:03d}.parts.json does not match its "
        "record (edited after the run finished)"
    ]


def test_a_wrong_run_salt_in_the_parts_is_found(world: World, copy: Path) -> None:
    run_id = world.run_ids[0]
    path = copy / f"runs/{run_id:03d}.parts.json"
    doc = json.loads(path.read_text())
    doc["salt"] = "0" * 64  # every leaf salt derived from it is then wrong
    path.write_text(json.dumps(doc))
    resign(copy, load_private_key(world.key))
    problems = verify_pack(copy).problems
    assert len(problems) == len(doc["parts"])
    assert all(f"of runs/{run_id:03d}.parts.json does not match its record" in p for p in problems)


def test_a_run_of_several_clients_discloses_leaf_by_leaf_never_its_salt(tmp_path: Path) -> None:
    """The run's salt would let a reader derive the leaf salts of the other client's findings
    and confirm guesses of them: such a run shows only the client's parts, each leaf salted."""
    key = tmp_path / "keys" / "signing-key.pem"
    init_key(key)
    signing = load_private_key(key)
    with Store.open(tmp_path / "b.db", signing_key=signing) as store:
        run = store.start_run(
            kind=RunKind.CHECK, operator="noc", tool_version="0.test", inventory_sha256="1" * 64,
            files=[], scope={}, devices_total=2, started_at=T0,
        )  # fmt: skip
        found = findings_of_run("2" * 64, "x.conf")[:2]
        store.add_findings(run, [found[0], found[1].model_copy(update={"client": "globex"})])
        store.finish_run(run, ended_at=T0 + timedelta(minutes=1))
        for with_key in (None, signing):  # rebuilt from its rows, and taken as tagged
            out = tmp_path / f"pack-{with_key is None}"
            gathered = gather(store, "acme", operator="noc", signing_key=with_key)
            write_pack(gathered, out, signing, renderers())
            doc = json.loads((out / f"runs/{run:03d}.parts.json").read_text())
            assert "salt" not in doc
            assert [p["part"] for p in doc["parts"]] == ["info", "findings/0"]
            assert doc["parts"][1]["leaves"]["client"]["value"] == '"acme"'
            assert "globex" not in json.dumps(doc)
            assert verify_pack(out).problems == []


def test_a_table_failing_in_its_fork_fails_the_export_and_writes_nothing(
    world: World, tmp_path: Path
) -> None:
    def broken(data: object) -> bytes:
        raise ValueError("the OSCAL renderer broke")

    with Store.open(world.db) as store:
        gathered = gather(store, "acme", operator="noc")
    out = tmp_path / "pack"
    with pytest.raises(RuntimeError, match="ValueError: the OSCAL renderer broke"):
        write_pack(gathered, out, load_private_key(world.key), Renderers(None, None, broken))
    assert list(tmp_path.iterdir()) == []


def test_a_pdf_failing_after_files_were_written_leaves_nothing(
    world: World, tmp_path: Path
) -> None:
    """Files are written as they are made, beside the pack's place: a failure after some were
    (here the report, results.json and the fork's tables) removes them all."""
    from reports.evidence import render_html
    from reports.evidence.oscal import assessment_results_json

    seen: list[str] = []

    def broken(html: str, files: dict[str, bytes]) -> bytes:
        seen.extend(p.name for p in tmp_path.iterdir())  # the pack's place: not there yet
        raise ValueError("the PDF renderer broke")

    with Store.open(world.db) as store:
        gathered = gather(store, "acme", operator="noc")
    out = tmp_path / "pack"
    with pytest.raises(ValueError, match="the PDF renderer broke"):
        write_pack(
            gathered,
            out,
            load_private_key(world.key),
            Renderers(render_html, broken, assessment_results_json),
        )
    assert len(seen) == 1 and seen[0].startswith(".pack.") and seen[0].endswith(".partial")
    assert list(tmp_path.iterdir()) == []


def test_the_pdf_is_the_same_made_in_one_step_two_steps_or_here(
    world: World, tmp_path: Path
) -> None:
    """Two steps (layout first, drawn with results.json later) in the PDF's process, as the
    CLI does; one step there; or here, for a renderer that cannot be named (a closure)."""
    from reports.evidence import render_html, render_pdf

    def here(html: str, files: dict[str, bytes]) -> bytes:
        return b"%PDF-made-here " + files["results.json"][:1]

    with Store.open(world.db) as store:
        gathered = gather(store, "acme", operator="noc")
    made = {}
    for name, chosen in (
        ("two", default_renderers()),
        ("one", Renderers(html=render_html, pdf=render_pdf, oscal=None)),
        ("here", Renderers(html=render_html, pdf=here, oscal=None)),
    ):
        write_pack(gathered, tmp_path / name, load_private_key(world.key), chosen)
        made[name] = (tmp_path / name / "report.pdf").read_bytes()
    assert made["here"] == b"%PDF-made-here {"
    # the same report, results.json embedded (the pack's generation time differs, by seconds)
    for name in ("one", "two"):
        text = subprocess.run(
            ["pdftotext", str(tmp_path / name / "report.pdf"), "-"], capture_output=True, text=True
        ).stdout
        assert "srv-files" in text
        listed = subprocess.run(
            ["pdfdetach", "-list", str(tmp_path / name / "report.pdf")],
            capture_output=True,
            text=True,
        ).stdout
        assert "results.json" in listed


def test_a_report_that_says_otherwise_than_the_records_is_found(world: World, copy: Path) -> None:
    csv_path = copy / "findings.csv"
    csv_path.write_text(csv_path.read_text().replace(";fail;high;", ";pass;high;", 1))
    resign(copy, load_private_key(world.key))
    assert verify_pack(copy).problems == [
        f"run {world.run_ids[0]}: finding 2 in findings.csv says status 'pass', its record "
        "proves 'fail'"
    ]


def test_run_signatures_verify_with_stock_tools_and_a_forged_one_is_found(
    world: World, copy: Path
) -> None:
    chain = json.loads((copy / "chain.json").read_text())
    signed = [link for link in chain["links"] if link["signature"]]
    assert len(signed) == 3 and "runs/NNN.json.sig" in (copy / "VERIFY.txt").read_text()
    for link in signed:
        command = RUN_OPENSSL.replace("runs/NNN.json", link["record"])
        done = subprocess.run(command.split(), cwd=copy, capture_output=True, text=True)
        assert done.returncode == 0 and "Signature Verified Successfully" in done.stdout
        assert sha(copy / link["record"]) == link["record_sha256"]
    forged = copy / signed[0]["signature"]
    forged.write_bytes(Ed25519PrivateKey.generate().sign((copy / signed[0]["record"]).read_bytes()))
    resign(copy, load_private_key(world.key))
    problems = verify_pack(copy).problems
    assert len(problems) == 1 and "does not verify with SHA256:" in problems[0]


def test_run_cut_from_the_chain_is_detected(world: World, copy: Path) -> None:
    chain = json.loads((copy / "chain.json").read_text())
    cut = world.run_ids[1]
    chain["links"] = [link for link in chain["links"] if link["run_id"] != cut]
    (copy / "chain.json").write_text(json.dumps(chain))
    resign(copy, load_private_key(world.key))
    problems = verify_pack(copy).problems
    assert problems[0].startswith(f"between run {world.run_ids[0]} and run {world.run_ids[2]}")
    assert problems[1:] == [  # its record and signature are left over
        f"runs/{cut:03d}.json: a run record that chain.json does not link",
        f"runs/{cut:03d}.json.sig: a run record that chain.json does not link",
    ]


def test_swapped_public_key_is_detected_against_the_providers_key(world: World, copy: Path) -> None:
    other = Ed25519PrivateKey.generate()
    (copy / PUBLIC_KEY).write_bytes(public_pem(other.public_key()))
    resign(copy, other)
    assert stock_tools(copy) == (True, True)  # consistent in itself…
    assert verify_pack(copy).problems == []
    provider = world.key.with_name("signing-key.pub.pem")
    problems = verify_pack(copy, provider).problems  # …but not the provider's
    assert any("is not the provider's key" in p for p in problems)
    assert any("was not made by the provider's key" in p for p in problems)
    ssl = subprocess.run(
        OPENSSL.replace(PUBLIC_KEY, str(provider)).split(), cwd=copy, capture_output=True
    )
    assert ssl.returncode != 0
    done = baluarte("evidence", "verify", copy, "--key", provider, cwd=world.root)
    assert done.returncode == 1 and "is not the provider's key" in done.stdout


# -- redaction --------------------------------------------------------------------------------


def every_text(pack: Path) -> Iterator[tuple[str, str]]:
    for path in sorted(pack.rglob("*")):
        if not path.is_file():
            continue
        name = path.relative_to(pack).as_posix()
        if path.suffix == ".pdf":
            if shutil.which("pdftotext"):
                pdf = subprocess.run(["pdftotext", path, "-"], capture_output=True, text=True)
                yield name, pdf.stdout
            yield name, path.read_bytes().decode("latin-1")
        else:
            yield name, path.read_bytes().decode("utf-8", "replace")


def test_redacted_pack_has_no_personal_name_anywhere(world: World) -> None:
    pack = world.redacted
    for name, text in every_text(pack):
        for word in PERSONAL:
            assert word.casefold() not in text.casefold(), f"{word} in {name}"
    assert verify_pack(pack).problems == []
    assert stock_tools(pack) == (True, True)
    results = (pack / "results.json").read_text()
    assert "user-" in results and "host-" in results
    # the records are there, and each field without personal data is proven by the chain
    result = verify_pack(pack)
    assert result.runs_checked == 3 and result.parts_checked == 2 * 7 + 1
    parts = json.loads((pack / f"runs/{world.run_ids[0]:03d}.parts.json").read_text())["parts"]
    info = parts[0]["leaves"]
    assert set(info["operator"]) == {"sha256", "redacted"} and "salt" not in info["operator"]
    assert info["operator"]["redacted"].startswith("user-")
    laptop = [p for p in parts[1:] if "redacted" in p["leaves"]["device"]]
    assert [p["leaves"]["device"]["redacted"][:5] for p in laptop] == ["host-"]
    error = laptop[0]
    assert error["leaves"]["status"]["value"] == '"error"'  # the laptop's finding: status shown
    keys = list((world.key.parent / "pseudonym-keys").iterdir())
    assert [k.name for k in keys] == ["acme.key"]
    assert oct(keys[0].stat().st_mode & 0o777) == "0o600"
    assert keys[0].read_text().strip() not in results


def test_pseudonyms_are_stable_across_packs_and_the_cli_exports(
    world: World, tmp_path: Path
) -> None:
    cli_ready()
    again = tmp_path / "again"
    done = baluarte(
        "evidence", "export", "--client", "acme", "--db", world.db, "--key", world.key,
        "--redact", "--from", "2026-11-03", "--to", "2026-11-30", "-o", again, cwd=world.root,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert verify_pack(again).problems == []
    assert (again / "oscal-assessment-results.json").is_file()
    first = json.loads((world.redacted / "results.json").read_text())["runs"][-1]
    later = json.loads((again / "results.json").read_text())["runs"][-1]
    assert first["findings"] == later["findings"]


# -- keys -------------------------------------------------------------------------------------


def test_keys_init_writes_a_private_key_0600_and_refuses_to_overwrite(tmp_path: Path) -> None:
    key = tmp_path / "k" / "signing-key.pem"
    env = {**os.environ, "PACK_PASS": "correct horse"}
    args = [str(BIN), "keys", "init", "--key", str(key), "--passphrase", "env:PACK_PASS"]
    done = subprocess.run(args, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert b"ENCRYPTED PRIVATE KEY" in key.read_bytes()
    assert "correct horse" not in done.stdout + done.stderr
    assert (tmp_path / "k" / "signing-key.pub.pem").read_bytes().startswith(b"-----BEGIN PUBLIC")
    again = subprocess.run(args, capture_output=True, text=True, env=env)
    assert again.returncode == 2 and "already exists" in again.stderr
    literal = [str(BIN), "keys", "init", "--key", str(tmp_path / "x.pem"), "--passphrase", "pw"]
    refused = subprocess.run(literal, capture_output=True, text=True)
    assert refused.returncode == 2 and not (tmp_path / "x.pem").exists()


def documented_recipe(example: str, run_file: str, part: int, pack: Path) -> str:
    """The docs/evidence.md recipe starting ``P=<example>.parts.json``, run on ``run_file``'s
    part ``part`` (``findings/<part - 1>``) in ``pack``: its standard output."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "evidence.md").read_text()
    head = f"P={example}.parts.json"
    script = (head + doc.split(head, 1)[1].split("```", 1)[0]).replace(example, run_file)
    script = script.replace(".parts[1]", f".parts[{part}]")
    script = script.replace("findings/0", f"findings/{part - 1}")
    script = script.replace(".parts.findings[0]", f".parts.findings[{part - 1}]")
    done = subprocess.run(
        ["bash", "-c", script], cwd=pack, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.skipif(shutil.which("jq") is None, reason="the documented recipe uses jq")
@pytest.mark.parametrize("part", [1, 5])  # findings/0 (all disclosed), findings/4 (the laptop's)
def test_the_documented_sha256sum_recipe_proves_a_part_of_a_redacted_record(
    world: World, part: int
) -> None:
    run_file = f"runs/{world.run_ids[0]:03d}"
    out = documented_recipe("runs/012", run_file, part, world.redacted)
    leaf, whole, recorded = out.split("\n")[:3]
    parts = json.loads((world.redacted / f"{run_file}.parts.json").read_text())["parts"]
    status = parts[part]["leaves"]["status"]
    assert (
        leaf.split()[0]
        == hashlib.sha256(f"{status['salt']}\n{status['value']}".encode()).hexdigest()
    )
    assert whole.split()[0] == recorded  # the part, recomputed from the pack, is the record's
    redacted = [n for n, leaf in parts[part]["leaves"].items() if "redacted" in leaf]
    assert bool(redacted) == (part == 5)


@pytest.mark.skipif(
    shutil.which("jq") is None or shutil.which("openssl") is None,
    reason="the documented recipe uses jq and openssl",
)
@pytest.mark.parametrize("part", [1, 3])  # findings/0; findings/2: a waiver, "María López"
def test_the_documented_recipe_proves_a_part_disclosed_by_the_run_salt(
    world: World, part: int
) -> None:
    run_file = f"runs/{world.run_ids[0]:03d}"
    assert "salt" in json.loads((world.pack / f"{run_file}.parts.json").read_text())
    whole, recorded = documented_recipe("runs/007", run_file, part, world.pack).split("\n")[:2]
    assert whole.split()[0] == recorded and re.fullmatch("[0-9a-f]{64}", recorded)
