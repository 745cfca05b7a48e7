"""``baluarte report RUN --format pdf|html`` of an apply run: the intervention report.

Real apply runs on the FortiOS lab emulator through the CLI — one with a read-write API user
(changes made, a configuration backup taken, one change refused by the lockout guard), one with
a read-only API user whose name carries a terminal escape and HTML (every change fails, the
ticket is ``<script>``) — then the report, read back with pdftotext: Spanish by default, who,
when, the ticket and approver, before → after, the backup, the re-check, one or two pages, and a
signature beside it that the provider's public key verifies. A check run has no such report.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from tinyhtml5.parser import HTMLParser

from baluarte.evidence.keys import init_key, signature_valid
from baluarte.lab.fortigate import FortigateLab
from baluarte.timezones import local_text
from reports.intervention.words import catalogue_messages, catalogue_path
from tests.integration.cli import CANARY, assert_no_canary, baluarte
from tests.integration.test_apply_fortigate import inputs, office_state
from tests.terminal import run_in_terminal

TICKET = "CHG-1042"
APPROVER = "Luis Pérez"
OPERATOR = "Ana García <ana.garcia@proveedor.es>, técnica de sistemas"
HOSTILE_USER = "ro\x1b[2J<b>fg</b>"  # the read-only API user's name, as the unit gives it
HOSTILE_TICKET = "<script>alert(1)</script>"
# what an English report says and a Spanish one must not (headings, labels, statuses)
ENGLISH = (
    "Intervention report", "Found (before)", "What was done", "Verified", "Technician",
    "Account that ran it", "Change ticket", "Change approved by", "Configuration backup",
    "Generated", "Page ", "Pass", "Fail", "Changed", "Refused", "Planned", "Why:",
    "controls checked", "not met before",
)  # fmt: skip


@dataclass(frozen=True)
class Applied:
    folder: Path
    run: dict[str, Any]  # the apply's JSON report of its run
    returncode: int


@dataclass(frozen=True)
class World:
    key: Path
    public: Ed25519PublicKey
    written: Applied  # read-write: changes made, one refused
    refused: Applied  # read-only: every change fails; hostile user name and ticket
    check_run: int  # a check run in ``written``'s store


def _apply(folder: Path, unit: FortigateLab, env: dict[str, str], ticket: str) -> Applied:
    """``apply --yes --all`` with a ticket and its approver, as ``env``'s operator."""
    inputs(folder, unit)
    done = baluarte(folder, "apply", "--format", "json", "--artifacts", str(folder / "artifacts"),
                    "--yes", "--all", "--ticket", ticket, "--approved-by", APPROVER, env=env)  # fmt: skip
    assert_no_canary(done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return Applied(folder, json.loads(done.stdout)["run"], done.returncode)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("intervention")
    key = root / "keys" / "signing-key.pem"
    public = init_key(key)
    env = {"BALUARTE_OPERATOR": OPERATOR, "BALUARTE_SIGNING_KEY": str(key)}
    written_dir, refused_dir = root / "rw", root / "ro"
    written_dir.mkdir()
    refused_dir.mkdir()
    # arriving on wan1, as the lab does by default: the lockout guard refuses one change
    with FortigateLab(office_state(), tokens={CANARY: "baluarte-rw"}) as unit:
        written = _apply(written_dir, unit, env, TICKET)
        checked = baluarte(written_dir, "check", "--format", "json", env=env)
        assert checked.returncode in (0, 1), checked.stderr[-3000:]
        check_run = json.loads(checked.stdout)["run"]["id"]
    state = office_state()
    state["global"]["system/api-user"].append(
        {
            "name": HOSTILE_USER,
            "accprofile": "baluarte_ro",
            "vdom": [{"name": "root"}],
            "trusthost": [
                {"id": 1, "type": "ipv4-trusthost", "ipv4-trusthost": "127.0.0.0 255.0.0.0"}
            ],
        }
    )
    with FortigateLab(state, tokens={CANARY: HOSTILE_USER}) as unit:
        refused = _apply(refused_dir, unit, env, HOSTILE_TICKET)
    return World(key, public, written, refused, check_run)


def report(folder: Path, *args: str, key: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``baluarte report`` on ``folder``'s store; signed with ``key`` when given, else there is
    no signing key."""
    signing = str(key) if key is not None else str(folder / "no-key" / "signing-key.pem")
    return baluarte(folder, "report", *args, env={"BALUARTE_SIGNING_KEY": signing})


def pdf_text(path: Path) -> str:
    done = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                          check=True, timeout=60)  # fmt: skip
    return done.stdout.decode("utf-8")


def pdf_pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    found = re.search(r"^Pages:\s+(\d+)", info.stdout, re.MULTILINE)
    assert found is not None, info.stdout
    return int(found.group(1))


def flat(text: str) -> str:
    """The PDF's words on one line: a table cell wraps anywhere."""
    return " ".join(text.split())


def records(applied: Applied) -> dict[str, dict[str, Any]]:
    return {r["control"]: r for r in applied.run["remediations"]}


def test_the_pdf_of_an_apply_run_is_its_signed_spanish_intervention_report(
    world: World,
) -> None:
    written = world.written
    assert {r["result"] for r in records(written).values()} == {"applied", "refused"}
    out = written.folder / "out" / "informe.pdf"
    done = report(written.folder, str(written.run["run"]["id"]), "--format", "pdf", "-o",
                  str(out), key=world.key)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"wrote {out} and its signature {out}.sig" in done.stderr
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert signature_valid(world.public, Path(f"{out}.sig").read_bytes(), pdf)
    assert not signature_valid(world.public, Path(f"{out}.sig").read_bytes(), pdf + b"\n")
    assert pdf_pages(out) in (1, 2)

    text = pdf_text(out)
    words = flat(text)
    joined = "".join(text.split())  # hashes and paths wrap anywhere in a cell
    assert "Informe de intervención" in words and "fw-office" in words
    # who, when, under which change
    info = written.run["run"]
    assert "Ana García <ana.garcia@proveedor.es>, técnica de sistemas" in words
    assert info["operator"] in words  # the account: user@host
    assert TICKET in words and APPROVER in words
    started = datetime.fromisoformat(info["started_at"])
    day, clock, offset = local_text(started, "Europe/Madrid").split(" ")
    assert f"{datetime.strptime(day, '%Y-%m-%d'):%d/%m/%Y} {clock} {offset}" in words
    # what was found and changed, before → after, and the re-check
    timeout = records(written)["access.admin_session_timeout"]
    assert timeout["verification"] == "pass"
    assert "system/global: admintimeout 480" in words  # before
    assert "admintimeout 5 min" in words  # after, as the re-check observed it
    assert "Las sesiones de administración inactivas caducan" in words  # the control, in Spanish
    assert "Aplicado" in words and "Cumple" in words
    assert "Rechazado" in words and "No cumple" in words  # the lockout guard's refusal
    assert "protección contra bloqueos" in words  # its reason, through the phrase tables
    # the configuration backup taken before the first write
    (backup,) = (written.folder / "artifacts").rglob("*.conf")
    sha256 = hashlib.sha256(backup.read_bytes()).hexdigest()
    assert str(backup) in joined and sha256 in joined
    # Spanish labels, and no English heading left
    for label in ("Encontrado (antes)", "Después", "Qué se hizo", "Verificado",
                  "Técnico responsable", "Ticket del cambio", "Cambio aprobado por",
                  "Copia de la configuración tomada antes del cambio"):  # fmt: skip
        assert label.lower() in words.lower(), label  # headings are upper case on paper
    for english in ENGLISH:
        assert not re.search(rf"\b{re.escape(english.strip())}\b", words, re.IGNORECASE), english
    # the signature is named in the report, with how to check it
    assert "informe.pdf.sig" in joined and "openssl pkeyutl -verify" in words


def test_english_on_request(world: World) -> None:
    out = world.written.folder / "report-en.pdf"
    run_id = str(world.written.run["run"]["id"])
    done = report(world.written.folder, run_id, "-f", "pdf", "--lang", "en", "-o", str(out))
    assert done.returncode == 0, done.stderr
    words = flat(pdf_text(out))
    for label in ("Intervention report", "Found (before)", "What was done", "Verified",
                  "Technician responsible", "Change ticket", "Idle administrator sessions time "
                  "out", "Pass", "Refused"):  # fmt: skip
        assert label.lower() in words.lower(), label
    assert "Informe de intervención" not in words and "Cumple" not in words


def test_changes_that_failed_say_why_unsigned_without_a_key(world: World) -> None:
    refused = world.refused
    assert refused.returncode == 1
    results = {r["result"] for r in records(refused).values()}
    assert results == {"failed", "refused"}
    out = refused.folder / "informe.pdf"
    Path(f"{out}.sig").write_bytes(b"an older report's signature")
    done = report(refused.folder, str(refused.run["run"]["id"]), "--format", "pdf", "-o",
                  str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "unsigned: no signing key" in done.stderr
    assert not Path(f"{out}.sig").exists()  # it would not match this report
    assert pdf_pages(out) in (1, 2)
    words = flat(pdf_text(out))
    assert "No se pudo hacer y verificar ninguno de los 9 cambios" in words
    assert "Fallido" in words and "Previsto:" in words and "No cumple" in words
    # the unit's refusal of the backup, once for every change it stopped
    assert words.count("403 Forbidden") == 1 and "Motivo: nota 1, bajo la tabla" in words
    assert "no se aplicó nada: no hay copia de seguridad de la configuración" in words
    assert "Copia de la configuración tomada" not in words  # none was taken
    # device text stays text, its escape shown; the hostile ticket is just a ticket
    assert "ro\\x1b[2J<b>fg</b>" in words and "\x1b" not in words
    assert HOSTILE_TICKET in words


def test_html_is_the_same_report_with_device_text_escaped(world: World) -> None:
    refused = world.refused
    run_id = str(refused.run["run"]["id"])
    out = refused.folder / "informe.html"
    done = report(refused.folder, run_id, "-o", str(out), key=world.key)  # html by default
    assert done.returncode == 0, done.stderr
    html = out.read_text(encoding="utf-8")
    assert signature_valid(world.public, Path(f"{out}.sig").read_bytes(), out.read_bytes())
    shown = report(refused.folder, run_id, "--format", "html")  # stdout: no file to sign
    assert shown.returncode == 0, shown.stderr
    for page in (html, shown.stdout):
        parser = HTMLParser()
        parser.parse(page)
        assert parser.errors == []
        assert "Informe de intervención" in page
        assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "ro\\x1b[2J&lt;b&gt;fg&lt;/b&gt;" in page
        assert "\x1b" not in page and "<b>fg" not in page


def test_a_check_run_has_no_intervention_report(world: World) -> None:
    folder, run_id = world.written.folder, str(world.check_run)
    out = folder / "check.pdf"
    done = report(folder, run_id, "--format", "pdf", "-o", str(out))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "pdf is the intervention report of an apply run" in done.stderr
    assert "--format html or json" in done.stderr
    assert not out.exists()
    code, text = run_in_terminal(["report", run_id, "--format", "pdf", "-o", str(out),
                                  "--db", str(folder / "runs.db")], cwd=folder, columns=4000)  # fmt: skip
    assert code == 2 and "Traceback" not in text
    assert "intervention report of an apply run" in " ".join(text.split())
    # its html is still the run's report, and an apply run's json is unchanged
    html = report(folder, run_id, "--format", "html")
    assert html.returncode == 0 and "Informe de intervención" not in html.stdout
    doc = report(folder, str(world.written.run["run"]["id"]), "--format", "json")
    assert doc.returncode == 0
    assert json.loads(doc.stdout)["remediations"] == world.written.run["remediations"]


def test_a_pdf_needs_a_file_and_a_clients_report_has_no_pdf(world: World) -> None:
    folder = world.written.folder
    done = report(folder, str(world.written.run["run"]["id"]), "--format", "pdf")
    assert done.returncode == 2 and "give -o FILE.pdf" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    client = report(folder, "--client", "acme", "--format", "pdf")
    assert client.returncode == 2 and "baluarte evidence export" in client.stderr
    assert "Traceback" not in client.stderr


def test_every_word_of_the_report_is_translated_and_none_is_left_over() -> None:
    with catalogue_path().open("rb") as fh:
        cat = read_po(fh, locale="es_ES")
    used = catalogue_messages()
    assert len(used) > 40  # the extraction found the view's and the template's words
    ids = {m if isinstance(m, str) else m[0] for m in used}
    for msgid in ids:
        entry = cat.get(msgid)
        assert entry is not None, f"no Spanish for {msgid!r}"
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        assert all(strings) and not entry.fuzzy, msgid
        for text in strings:
            english = msgid if isinstance(entry.id, str) else entry.id[-1]
            assert set(re.findall(r"%\(\w+\)[sd]", text)) <= set(
                re.findall(r"%\(\w+\)[sd]", english)
            ), msgid
    assert {m.id if isinstance(m.id, str) else m.id[0] for m in cat if m.id} == ids
