"""The remediation log on paper: a pack with twenty changes (long PowerShell and shell scripts,
FortiOS requests, failures and refusals) written by the real pack writer and WeasyPrint, read
back with pdftotext, pdfinfo and pdfdetach.

Each change is one block with its result; the scripts are in the pack's remediations/ files the
blocks cite by hash, never in the PDF; ids do not break mid-word; the PDF has a table of
contents, stays short, and is PDF/A-3 with results.json embedded.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from baluarte.controls import catalogue
from baluarte.evidence.data import EvidenceData
from baluarte.evidence.gather import Gathered
from baluarte.evidence.pack import MANIFEST, default_renderers, write_pack
from baluarte.evidence.remediation_files import remediation_files
from baluarte.findings import Status
from baluarte.remediation import RemediationRecord, RemediationResult
from baluarte.run import RunInfo
from reports.evidence import render_html, render_pdf

from ._sample import CLIENT, SITE, evidence_data

APPLY_RUN = 41  # the sample's apply run
RESULTS = (
    [RemediationResult.APPLIED] * 12
    + [RemediationResult.FAILED] * 4
    + [RemediationResult.REFUSED] * 2
    + [RemediationResult.MANUAL, RemediationResult.NOT_RUN]
)
WORD = {
    "es": {
        RemediationResult.APPLIED: "Aplicado",
        RemediationResult.FAILED: "Fallido",
        RemediationResult.REFUSED: "Rechazado (protección contra bloqueo)",
        RemediationResult.MANUAL: "Manual",
        RemediationResult.NOT_RUN: "No ejecutado",
    },
    "en": {
        RemediationResult.APPLIED: "Applied",
        RemediationResult.FAILED: "Failed",
        RemediationResult.REFUSED: "Refused (lockout guard)",
        RemediationResult.MANUAL: "Manual",
        RemediationResult.NOT_RUN: "Not run",
    },
}
LOG = {"es": ("Registro de remediación", "Registro de excepciones"),
       "en": ("Remediation log", "Waiver register")}  # fmt: skip
CONTROLS = (
    "access.ssh_password_authentication",
    "firewall.security_services_current",
    "patching.security_updates_pending",
    "access.insecure_admin_protocols",
    "logging.audit_policy",
)
DOMAINS = "access|patching|firewall|endpoint|backup|logging"


def _powershell(n: int) -> str:
    """A remediation script as long as real ones: ~70 lines, indented blocks, a unique marker."""
    body = [
        "param([string]$Marker)",
        "$ErrorActionPreference = 'Stop'",
        f"# change {n}: ScriptMarker{n:02d}",
    ]
    for i in range(22):
        body += [
            f"if ((Get-ItemProperty -Path 'HKLM:\\SYSTEM\\CurrentControlSet\\Services\\Key{i}')"
            f".Value -ne 0) {{",
            f"    Set-ItemProperty -Path 'HKLM:\\SYSTEM\\CurrentControlSet\\Services\\Key{i}' "
            f"-Name Value -Value 0 -Type DWord  # Marker{n:02d}x{i:02d}",
            "}",
        ]
    return "\n".join(body)


def _shell(n: int) -> str:
    lines = [f"cat > /etc/ssh/sshd_config.d/50-baluarte-{n}.conf <<'EOF'"]
    lines += [f"# ShellMarker{n:02d} line {i}\nPasswordAuthentication no" for i in range(25)]
    lines += ["EOF", "sshd -t && systemctl reload ssh"]
    return "\n".join(lines)


def _command_lines(script: str) -> str:
    """As apply writes commands into a record: ``$ `` first, further lines indented by two."""
    first, *rest = script.split("\n")
    return "\n".join([f"$ {first}", *(f"  {line}" for line in rest)])


def _record(n: int, result: RemediationResult) -> RemediationRecord:
    platform = ("windows", "linux", "fortigate")[n % 3]
    script = {
        "windows": _powershell(n),
        "linux": _shell(n),
        "fortigate": f'PUT /api/v2/cmdb/system/global {{"admin-ssh-password": "disable"}} '
        f"FortiMarker{n:02d}",
    }[platform]
    steps = "\n".join(f"    {line}" for line in _command_lines(script).split("\n"))
    before = (
        "config system global\n    set admin-ssh-password enable\n    set admin-telnet enable\nend"
        if platform == "fortigate"
        else f"setting {n} on"
    )
    fields: dict[str, object] = {
        "client": CLIENT,
        "site": SITE,
        "device": f"{platform[:3]}-device-{n:02d}",
        "platform": platform,
        "control": CONTROLS[n % len(CONTROLS)],
        "result": result,
        "before": before,
        "action": f"Summary of change {n}: setting on → off\n- remediation step {n}\n{steps}",
        "detail": _command_lines(script)
        if result is RemediationResult.APPLIED
        else f"step {n} failed: access denied\n{_command_lines(script)}",
        "after": f"setting {n} off" if result is RemediationResult.APPLIED else "",
        "verification": Status.PASS if result is RemediationResult.APPLIED else None,
    }
    if n % 2 == 0 and "ticket" in RemediationRecord.model_fields:
        fields |= {"ticket": f"CHG-{1000 + n}", "approved_by": "Marta Ruiz"}
    return RemediationRecord.model_validate(fields)


def many_changes(lang: str) -> EvidenceData:
    data = evidence_data(lang)  # type: ignore[arg-type]
    records = tuple(_record(n, r) for n, r in enumerate(RESULTS, 1))
    update: dict[str, object] = {"remediations": records}
    if "operator_identity" in RunInfo.model_fields:  # the person responsible, when recorded
        apply = next(r for r in data.runs if r.info.id == APPLY_RUN)
        person = {"name": "Luis Pérez", "role": "técnico N2", "email": "lperez@example.com"}
        update["info"] = RunInfo.model_validate(
            apply.info.model_dump() | {"operator_identity": person}
        )
    runs = tuple(r.model_copy(update=update) if r.info.id == APPLY_RUN else r for r in data.runs)
    return dataclasses.replace(data, runs=runs)


@dataclasses.dataclass(frozen=True)
class Pack:
    lang: str
    root: Path
    text: str  # pdftotext -layout of report.pdf
    log: str  # its remediation log section

    @property
    def pdf(self) -> Path:
        return self.root / "report.pdf"


@pytest.fixture(scope="module", params=["es", "en"])
def pack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Pack:
    lang = request.param
    root = tmp_path_factory.mktemp(f"pack-{lang}") / "pack"
    gathered = Gathered(
        data=many_changes(lang), records={}, record_notes={}, inventory={}, backups=()
    )
    write_pack(gathered, root, Ed25519PrivateKey.generate(), default_renderers())
    text = subprocess.run(
        ["pdftotext", "-layout", str(root / "report.pdf"), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    start, end = LOG[lang]
    # the headings as the log's own: after the contents page (which names them too)
    body = text[text.index("\f") :]
    log = body[body.index(start) : body.index(end)]
    return Pack(lang, root, text, log)


def test_every_change_shows_its_result_once(pack: Pack) -> None:
    words = WORD[pack.lang]
    for result, word in words.items():
        expected = RESULTS.count(result)
        found = len(re.findall(rf"(?<!\w){re.escape(word)}(?!\w)", pack.log))
        assert found == expected, f"{word}: {found} in the log, {expected} changes"
    flat = " ".join(pack.log.split())
    if "ticket" in RemediationRecord.model_fields:  # who approved the change, and its ticket
        assert flat.count("CHG-1002") == 1 and flat.count("Marta Ruiz") == len(RESULTS) // 2
    if "operator_identity" in RunInfo.model_fields:  # who made it: the person, and the account
        assert flat.count("Luis Pérez (técnico N2) · tech-0042") == len(RESULTS)


def test_no_control_id_breaks_mid_word(pack: Pack) -> None:
    data = many_changes(pack.lang)
    known = set(catalogue()) | {f.control for r in data.runs for f in r.findings}
    known |= set(CONTROLS)
    for token in re.findall(rf"\b(?:{DOMAINS})\.[a-z0-9_.]*", pack.text):
        # whole, or cut at a dot or an underscore (where the report allows a line break)
        if token not in known:
            assert token.endswith((".", "_")), f"{token!r}: an id broken mid-word"
            assert any(c.startswith(token) for c in known), token
    for n, control in enumerate(CONTROLS):
        changes = sum(1 for i in range(1, len(RESULTS) + 1) if i % len(CONTROLS) == n)
        assert pack.log.count(control) == changes, control


def test_scripts_are_in_the_cited_files_not_in_the_pdf(pack: Pack) -> None:
    manifest = dict(
        reversed(line.split("  ", 1)) for line in (pack.root / MANIFEST).read_text().splitlines()
    )
    html = (pack.root / "report.html").read_text()
    flat = "".join(pack.text.split())
    for n in range(1, len(RESULTS) + 1):
        name = f"remediations/{APPLY_RUN:03d}-{n:02d}.txt"
        content = (pack.root / name).read_bytes()
        digest = hashlib.sha256(content).hexdigest()
        assert manifest[name] == digest  # listed, like every file of the pack
        assert name in pack.log and f"{digest[:16]}…" in pack.log  # cited on paper
        assert digest in html  # in full on screen
        marker = {1: "ShellMarker", 2: "FortiMarker", 0: "ScriptMarker"}[n % 3]
        assert f"{marker}{n:02d}".encode() in content  # the whole script is in the file
        assert f"{marker}{n:02d}" not in flat and f"{marker}{n:02d}" not in html
        assert f"Summary of change {n}:" in pack.log  # what it did, in one line
    assert "Set-ItemProperty" not in pack.text and "systemctl reload" not in pack.text


def test_pdf_has_contents_with_page_numbers(pack: Pack) -> None:
    pages = pack.text.split("\f")
    title, log_heading = {"es": "Índice", "en": "Contents"}[pack.lang], LOG[pack.lang][0]
    assert title in pages[0]
    (entry,) = [line for line in pages[0].splitlines() if log_heading in line]
    page = int(entry.split()[-1])  # "Remediation log ........ 6"
    assert re.search(r"\.{5,}\s*\d+$", entry)
    assert log_heading in pages[page - 1]  # the number is where the section starts


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True)
    return int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))  # type: ignore[union-attr]


def test_pdf_stays_short_and_is_pdf_a3_with_results_json(pack: Pack, tmp_path: Path) -> None:
    sample = tmp_path / "sample.pdf"  # the same report with the sample's two changes
    sample.write_bytes(render_pdf(render_html(evidence_data(pack.lang))))  # type: ignore[arg-type]
    pages, without = _pages(pack.pdf), _pages(sample)
    print(f"\n{pack.lang}: {len(RESULTS)} changes, {pages} pages ({without} with 2 changes)")
    # 18 more changes in at most 3 more pages: 6 blocks a page or better (the table this
    # replaces spent 78 pages on 7 runs' changes); the rest of the report is other sections'
    assert pages - without <= 3
    meta = subprocess.run(
        ["pdfinfo", "-meta", str(pack.pdf)], check=True, capture_output=True, text=True
    ).stdout
    assert 'pdfaid:part="3"' in meta and 'pdfaid:conformance="B"' in meta
    listed = subprocess.run(
        ["pdfdetach", "-list", str(pack.pdf)], check=True, capture_output=True, text=True
    ).stdout
    assert listed.splitlines()[1:] == ["1: results.json"]
    out = tmp_path / "results.json"
    subprocess.run(["pdfdetach", "-save", "1", "-o", str(out), str(pack.pdf)], check=True)
    assert out.read_bytes() == (pack.root / "results.json").read_bytes()


def test_multiline_values_keep_their_indentation(pack: Pack) -> None:
    html = (pack.root / "report.html").read_text()
    assert '<pre class="value">config system global\n    set admin-ssh-password enable' in html


def test_a_changes_file_shows_hostile_text_inert() -> None:
    from .test_hostile_text import RAW_CONTROL, VISIBLE, hostile_data

    (change,) = [f for f in remediation_files(hostile_data()) if f.run_id == 42]
    text = change.content.decode("utf-8")
    assert VISIBLE in text and not RAW_CONTROL.search(text)


def test_the_pdf_renders_to_the_same_bytes_again(pack: Pack) -> None:
    html = (pack.root / "report.html").read_text()
    again = render_pdf(html, {"results.json": (pack.root / "results.json").read_bytes()})
    assert again == pack.pdf.read_bytes()  # the embedded file dated by the report, not the clock
