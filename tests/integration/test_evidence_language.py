"""A pack is in one language (issue 13, item 5), from a real run through the real CLI.

This machine checked locally (@local) and the FortiOS emulator in its small-office state,
then ``apply --device fw-oficina --yes`` (a write run), then ``evidence export`` in Spanish and
in English: each PDF's text holds the catalogue's control titles and rationales in its own
language only.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from baluarte.controls import catalogue
from reports.evidence.i18n import translations
from tests.integration.cli import baluarte
from tests.integration.fortigate_client import fortigate_device, fortigate_inputs, fortigate_lab


@dataclass(frozen=True)
class Packs:
    text: dict[str, str]  # lang → the PDF's text, whitespace collapsed
    controls: set[str]  # the controls the runs evaluated
    folders: dict[str, Path]  # lang → the pack


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def packs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Packs]:
    root = tmp_path_factory.mktemp("language")
    env, key = fortigate_inputs(root)
    shutil.copy(Path("policies") / "linux-baseline.yaml", root / "policies")
    with fortigate_lab(root, env) as firewall:
        devices = [
            {"name": "this-machine", "platform": "linux", "address": "@local"},
            fortigate_device(firewall, "fw-oficina"),
        ]
        client = {
            "name": "demo",
            "legal_name": "Demo Asesores S.L.",
            "sites": [{"name": "lab", "devices": devices}],
        }
        inventory = {"clients": [client]}
        (root / "inventory.yaml").write_text(yaml.safe_dump(inventory, sort_keys=False))
        check = baluarte(root, "check", "--client", "demo", "--format", "json", env=env)
        assert check.returncode in (0, 1), check.stderr
        fix = baluarte(
            root, "apply", "--device", "fw-oficina", "--yes", "--format", "json", env=env
        )
        assert fix.returncode in (0, 1), fix.stderr
    controls = {f["control"] for f in json.loads(check.stdout)["findings"]}
    text, folders = {}, {}
    for lang in ("es", "en"):
        out = root / f"pack-{lang}"
        export = baluarte(
            root, "evidence", "export", "--client", "demo", "-o", str(out),
            "--lang", lang, "--key", str(key),
        )  # fmt: skip
        assert export.returncode == 0, export.stderr
        pdf = subprocess.run(
            ["pdftotext", str(out / "report.pdf"), "-"], capture_output=True, text=True
        )
        assert pdf.returncode == 0, pdf.stderr
        text[lang] = _flat(pdf.stdout)
        folders[lang] = out
    yield Packs(text, controls, folders)


def _spanish(english: str) -> str:
    spanish = translations("es").gettext(english)
    assert spanish != english, f"no Spanish for {english!r}"
    return spanish


def test_the_spanish_pdf_has_spanish_control_titles_and_no_english_one(packs: Packs) -> None:
    es = packs.text["es"]
    ctls = catalogue()
    assert len(packs.controls) > 10
    for cid in packs.controls:  # every control the runs evaluated, named in Spanish
        assert _flat(_spanish(ctls[cid].title)) in es, cid
    english = [c.title for c in ctls.values() if c.title in es]
    assert not english, english


def test_the_english_pdf_has_no_spanish_control_title(packs: Packs) -> None:
    en = packs.text["en"]
    ctls = catalogue()
    for cid in packs.controls:
        assert _flat(ctls[cid].title) in en, cid
    spanish = [_spanish(c.title) for c in ctls.values() if _spanish(c.title) in en]
    assert not spanish, spanish


def test_rationales_are_in_the_packs_language(packs: Packs) -> None:
    ctls = catalogue()
    for cid in packs.controls:
        english, spanish = ctls[cid].rationale, _spanish(ctls[cid].rationale)
        assert _flat(spanish) in packs.text["es"] and english not in packs.text["es"], cid
        assert _flat(english) in packs.text["en"] and spanish not in packs.text["en"], cid


def test_the_method_says_what_the_period_did_over_the_transports_used(packs: Packs) -> None:
    es, en = packs.text["es"], packs.text["en"]
    method = es[es.index("Qué hicieron las ejecuciones") : es.index("Ejecuciones del periodo")]
    # the check only read; the apply wrote to the firewall, and says how many changes it made
    assert "1 ejecución del periodo fue una comprobación de solo lectura." in method
    assert "1 ejecución escribió en los dispositivos (aplicación de la línea base)" in method
    changed = method[method.upper().index("CAMBIOS APLICADOS") : method.index("Cómo se leyó")]
    assert "fw-oficina" in changed and "this-machine" not in changed
    # this machine was checked locally, the firewall over its REST API: no SSH at all
    assert "Linux — en local, en el propio equipo donde se ejecuta Baluarte" in method
    assert "FortiGate — por la API REST de FortiOS" in method
    assert "SSH" not in method and "no se cambia nada" not in es
    assert "1 run wrote to devices (baseline apply)" in en and "Linux — locally" in en


def test_no_python_repr_of_a_list_reaches_the_pack(packs: Packs) -> None:
    # the FortiGate's any-to-any rule: its addresses as a reader writes them ("all"), in the
    # findings (evidence included) and the report, never a tuple's repr "('all',)"
    repr_of_tuple = re.compile(r"\('[^']*',\)|\('[^']*', '[^']*'")
    doc = json.loads((packs.folders["es"] / "results.json").read_text(encoding="utf-8"))
    for run in doc["runs"]:
        for f in run["findings"]:
            for key in ("expected", "observed", "reason", "evidence"):
                leak = repr_of_tuple.search(f.get(key) or "")
                assert leak is None, (f["control"], key, leak)
    for lang, text in packs.text.items():
        assert not repr_of_tuple.search(text)
        verb = {"es": "acepta", "en": "accepts"}[lang]  # the frame in the pack's language
        assert f"{verb} srcaddr all → dstaddr all" in text
