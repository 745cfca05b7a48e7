"""Stored English phrases in the reader's language (issue 13, item 5): remediation texts and
fixed evaluator phrases are catalogued, and the Spanish pack shows them in Spanish while the
records keep them as stored."""

from __future__ import annotations

import ast
import bisect
import dataclasses
import functools
import re
import subprocess
from pathlib import Path

import pytest
import tree_sitter
import tree_sitter_powershell

from baluarte.evidence.data import EvidenceData
from baluarte.findings import Finding, Severity, Status
from baluarte.remediation import RemediationRecord, RemediationResult
from reports.evidence import render_html, render_pdf
from reports.evidence.control_text import missing
from reports.evidence.i18n import LOCALES, translations
from reports.evidence.phrase_table_earlier import EARLIER_PHRASES, EARLIER_TEMPLATES
from reports.evidence.phrase_table_fixes import (
    FIX_PHRASES,
    FIX_TEMPLATES,
    SHARED_WITH_FIX_SCRIPTS,
)
from reports.evidence.phrases import EVALUATOR_PHRASES, TEMPLATES, phrase
from reports.evidence.remedy_text import remedy_texts, sources

from ._sample import CLIENT, SITE, evidence_data

ROOT = Path(__file__).parents[3]


def _texts() -> set[str]:
    return {t.text for t in remedy_texts() if t.text}


def test_the_declared_remediation_texts_are_extracted():
    texts = _texts()
    assert len(texts) >= 80
    # a MANUAL table, a module constant, a summary passed by position to an imported helper,
    # a step's name, apply's own note
    for expected in (
        "move the backups to an encrypted repository: `restic init` (always encrypted) or "
        "`borg init --encryption=repokey`, keep the key safe, then retire the old one.",
        "install Sophos Protection for Linux with SophosSetup.sh from Sophos Central; check "
        "`systemctl status sophos-spl`",
        "turn on FortiGuard scheduled updates",
        "turn off SSH password logins (sshd drop-in)",
        "install nftables",
        "not run: the apply was interrupted before it started",
    ):
        assert expected in texts, expected
    # a helper's ``what`` (a noun: "system/global") is not prose
    assert "system/global" not in texts and "security " not in texts


@pytest.mark.parametrize("lang", sorted(LOCALES))
def test_every_remediation_text_and_phrase_is_translated(lang):
    parts = ("remedy", "phrase", "template")
    left = [f"{m.control}: {m.text[:60]}" for m in missing(lang) if m.part in parts]
    assert not left, f"{lang}: untranslated (python -m reports.evidence.control_text): {left}"


def test_a_new_remedy_text_is_found_and_a_built_one_counted(tmp_path, monkeypatch):
    module = tmp_path / "newdeploy.py"
    module.write_text(
        "def _helper(ctx, summary):\n"
        "    return Remedy(summary=summary, before='', after='')\n"
        "def fix(facts, params, ctx):\n"
        "    if facts:\n"
        "        return Manual(text='call the vendor before the warranty ends')\n"
        "    if params:\n"
        "        return Remedy(summary=f'set {params} on', before='', after='')\n"
        "    return _helper(ctx, 'turn the widget off')\n"
    )
    from reports.evidence import remedy_text

    monkeypatch.setattr(remedy_text, "sources", lambda: [module])
    found = remedy_text.remedy_texts()
    assert {t.text for t in found if t.text} == {
        "call the vendor before the warranty ends",
        "turn the widget off",
    }
    assert [t.where for t in found if t.built] == ["newdeploy.py:7"]
    assert sources()[-1].name == "apply.py"


def _literals() -> list[str]:
    """Every string literal of checks/, deploys/ and the engine (baluarte/: its reasons,
    transports and apply), and the fixed parts of f-strings."""
    out: list[str] = []
    for folder in ("checks", "deploys", "baluarte"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    out.append(node.value)
    return out


def _built_from(text: str, literals: list[str]) -> bool:
    """``text`` is literals written one after another (``+=``, an f-string's parts), the first
    and the last perhaps in part (a phrase inside a longer literal; a template's frame starts
    or ends where a value does)."""
    pieces = _Pieces.of(frozenset(lit for lit in literals if lit))

    @functools.cache
    def rest(i: int) -> bool:
        tail = text[i:]
        return pieces.starts(tail) or any(
            tail[:k] in pieces.whole and rest(i + k) for k in range(1, len(tail))
        )

    return text in pieces.joined or any(
        text[:k] in pieces.ends and rest(k) for k in range(1, len(text))
    )


# the longest text looked for: the literals' endings are kept up to this length
_LONGEST = max(len(t) for t in (*EVALUATOR_PHRASES, *TEMPLATES))


@dataclasses.dataclass(frozen=True)
class _Pieces:
    """The literals, indexed once: whole, in order (a prefix is found by bisection), joined
    (a text inside one of them), and their endings up to ``_LONGEST`` characters."""

    whole: frozenset[str]
    ordered: tuple[str, ...]
    joined: str
    ends: frozenset[str]

    @staticmethod
    @functools.cache
    def of(whole: frozenset[str]) -> _Pieces:
        ends = frozenset(p[-k:] for p in whole for k in range(1, min(len(p), _LONGEST) + 1))
        return _Pieces(whole, tuple(sorted(whole)), "\0".join(whole), ends)

    def starts(self, text: str) -> bool:
        """Some literal starts with ``text``."""
        i = bisect.bisect_left(self.ordered, text)
        return i < len(self.ordered) and self.ordered[i].startswith(text)


def test_the_phrase_table_is_what_the_checks_deploys_and_engine_write():
    """Each fixed phrase, and each template's fixed parts, is still in the source it comes
    from: an edited English phrase no longer matches its entry, and this names it."""
    literals = _literals()
    for text in EVALUATOR_PHRASES:
        # FIX_PHRASES are written in PowerShell: checked against the scripts; EARLIER_PHRASES
        # are what older versions wrote: kept for their stored records, in no source now
        if text not in FIX_PHRASES and text not in EARLIER_PHRASES:
            assert _built_from(text, literals), text
    for template in TEMPLATES:
        if template in FIX_TEMPLATES or template in EARLIER_TEMPLATES:
            continue
        for part in re.split(r"%\(\w+\)s", template):
            fixed = part.replace("%%", "%").strip(" :")
            found = any(fixed in lit for lit in literals) or _built_from(fixed, literals)
            assert found, f"{template!r}: {part!r}"


FIX_SCRIPTS = ROOT / "deploys" / "windows" / "ps"
PS_PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
# where a fix script's text holds a value: "$var", "${name}" or "$(…)" in a string, a "{0}" of
# -f, or an expression joined to strings with +; a template's slot stands for any of them
VALUE = "\ue000"
_FORMAT_ITEM = re.compile(r"\{\d+(?:,-?\d+)?(?::[^{}]*)?\}")
# a script's error text: thrown, put in its answer's error, or gathered in $problems first
_WRITES_ERROR = re.compile(r"\$result\['error'\]|\$problems")


def _as_written(text: str) -> str:
    """A template as a script writes it: each slot a value, values side by side as one."""
    marked = re.sub(r"%\(\w+\)s", VALUE, text).replace("%%", "%")
    return re.sub(f"{VALUE}+", VALUE, marked)


def _ps_string(node: tree_sitter.Node) -> str | None:
    """A string literal of a script as it reads once run, each value in it as ``VALUE``."""
    raw = node.text or b""
    if node.type == "verbatim_string_characters":  # '…': only '' is special
        text = raw.decode("utf-8")[1:-1].replace("''", "'")
    elif node.type == "expandable_string_literal":  # "…": $variables and $(subexpressions)
        start, parts = node.start_byte, []
        for child in node.children:
            parts.append(raw[: child.start_byte - start].decode("utf-8"))
            raw, start = raw[child.end_byte - start :], child.end_byte
        parts.append(raw.decode("utf-8"))
        text = VALUE.join(parts)[1:-1].replace('""', '"')
        text = re.sub(r"`(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), text)
    else:
        return None
    return re.sub(f"{VALUE}+", VALUE, _FORMAT_ITEM.sub(VALUE, text))


def _ps_strings(node: tree_sitter.Node, inside_values: bool = True) -> list[str]:
    """The strings under ``node``; with ``inside_values``, those inside a string's $(…) too."""
    text = _ps_string(node)
    if text is not None and (not inside_values or node.type != "expandable_string_literal"):
        return [text]
    out = [] if text is None else [text]
    for child in node.children:
        out += _ps_strings(child, inside_values)
    return out


def _script_literals(folder: Path = FIX_SCRIPTS) -> list[str]:
    """Every string of the fix scripts, and ``VALUE`` alone: an expression joined with +."""
    out = [VALUE]
    for path in sorted(folder.glob("*.ps1")):
        out += _ps_strings(PS_PARSER.parse(path.read_bytes()).root_node)
    return out


def _error_texts(folder: Path = FIX_SCRIPTS) -> list[tuple[str, str]]:
    """(script, string) for each string of a statement writing a fix script's error, but not
    those inside its values (``$after['SMB1FeatureState']``) nor separators (``'; '``)."""
    out = []
    for path in sorted(folder.glob("*.ps1")):
        todo = [PS_PARSER.parse(path.read_bytes()).root_node]
        while todo:
            node = todo.pop()
            kinds = [c.type for c in node.children]
            if node.type == "flow_control_statement" and kinds[:1] == ["throw"]:
                written = node.children[1:]
            elif node.type == "assignment_expression" and _WRITES_ERROR.fullmatch(
                (node.children[0].text or b"").decode()
            ):
                written = node.children[2:]
            else:
                todo += node.children
                continue
            for part in written:
                out += [(path.name, t) for t in _ps_strings(part, inside_values=False)]
    return [(name, t) for name, t in out if any(c.isalpha() for c in t)]


def _fix_entries_not_in(literals: list[str]) -> list[str]:
    """The fix scripts' entries of the phrase table that ``literals`` do not write."""
    return [
        entry
        for entry in (*FIX_PHRASES, *FIX_TEMPLATES, *SHARED_WITH_FIX_SCRIPTS)
        if not _built_from(_as_written(entry), literals)
    ]


def test_the_fix_scripts_phrases_are_what_the_scripts_write():
    """Each entry of the Windows fix scripts' part of the table is what a script writes, its
    slots where the script puts a value: an edited PowerShell message fails here."""
    assert _fix_entries_not_in(_script_literals()) == []
    table = {*EVALUATOR_PHRASES, *TEMPLATES}
    assert set(SHARED_WITH_FIX_SCRIPTS) <= table  # and checked against the Python guard above


def test_every_error_a_fix_script_writes_has_its_entry():
    """Each text a fix script throws or answers as its error is (part of) an entry: a new
    message without one fails here."""
    entries = [_as_written(e) for e in (*FIX_PHRASES, *FIX_TEMPLATES, *SHARED_WITH_FIX_SCRIPTS)]
    texts = _error_texts()
    assert len(texts) >= 15
    left = [(name, t) for name, t in texts if not any(t in e for e in entries)]
    assert not left, left


def test_an_edited_fix_script_message_is_named(tmp_path):
    for script in FIX_SCRIPTS.glob("*.ps1"):
        (tmp_path / script.name).write_bytes(script.read_bytes())
    ps1 = tmp_path / "updates-install.ps1"
    text = ps1.read_text(encoding="utf-8")
    ps1.write_text(text.replace("updates not found by Windows", "updates missing from Windows"))
    assert _fix_entries_not_in(_script_literals(tmp_path)) == [
        "%(num)s of %(num2)s updates not found by Windows Update (superseded, hidden or installed "
        "since the check?): %(update_ids)s"
    ]
    assert any("missing from" in t for _, t in _error_texts(tmp_path))
    # a value moved: the slot no longer stands where the script puts it
    ps1.write_text(text.replace("within $TimeoutSeconds s", "within s ($TimeoutSeconds)"))
    assert _fix_entries_not_in(_script_literals(tmp_path)) == [
        "the update task %(task)s did not finish within %(num)s s; it is left to finish: check "
        "Get-ScheduledTask and the Windows Update history"
    ]


@pytest.mark.parametrize(
    ("stored", "spanish"),
    [
        ("not run", "no ejecutado"),
        (
            "unexpected privileged accounts: soporte (accprofile super_admin)",
            "cuentas privilegiadas no previstas: soporte (accprofile super_admin)",
        ),
        (
            "at most 0 pending security updates",
            "como máximo 0 actualizaciones de seguridad pendientes",
        ),
        ("ClamAV not found", "ClamAV no encontrado"),
        (
            "any supported anti-malware product installed",
            "cualquier producto antimalware compatible instalado",
        ),
        (
            "run fix defender-realtime: turn on Defender real-time protection",
            "ejecutar la corrección defender-realtime: activar la protección en tiempo real de "
            "Defender",
        ),
        ("update system/global", "actualizar system/global"),
        (
            "the job's service backup.service is not installed",
            "el servicio de la tarea, backup.service, no está instalado",
        ),
        # parts joined with "; " (not inside parentheses), each translated, values as stored
        (
            "no inbound filtering loaded (default inbound: ipv4 accept (policy accept); ipv6 "
            "accept (policy accept)); nftables is set to start at boot but its rules are not "
            "loaded",
            "ningún filtrado de entrada cargado (entrada por defecto: ipv4 accept (policy "
            "accept); ipv6 accept (policy accept)); nftables está configurado para iniciarse en "
            "el arranque, pero sus reglas no están cargadas",
        ),
        (
            "ClamAV: LibClamAV Warning: daily.cld is older than 7 days; Sophos Protection for "
            "Linux: SAV returned 0x2",
            None,  # the products' own words: as stored
        ),
        # a list joined with ", ": only when every item is a phrase
        (
            "minimum length ≥ 12, ≥ 3 character classes, password age ≤ 90 days",
            "longitud mínima ≥ 12, ≥ 3 clases de caracteres, antigüedad de la contraseña ≤ 90 días",
        ),
        ("antivirus, IPS, web filter", "antivirus, IPS, filtro web"),
        ("web filter, tcp-22", None),
        # the collectors' own sentences copied into an observed value, the device's words kept
        (
            "default inbound: ipv4 accept (no inbound filtering chain loaded); ipv6 accept "
            "(policy accept)",
            "entrada por defecto: ipv4 accept (ninguna cadena de filtrado de entrada cargada); "
            "ipv6 accept (policy accept)",
        ),
        (
            "not synchronised: no NTP client is running (chronyd, ntpd; systemd is not PID 1)",
            "sin sincronizar: no hay ningún cliente NTP en ejecución (chronyd, ntpd; systemd no "
            "es el PID 1)",
        ),
        (
            "C: BitLocker FullyDecrypted, protection Off, 0% encrypted, None; key protectors: none",
            "C: BitLocker FullyDecrypted, protección Off, 0 % cifrado, None; protectores de "
            "clave: ninguno",
        ),
        (
            "tcp/445 from any source (Windows Firewall rule FPS-SMB-In-TCP, profiles Private, "
            "Public: File and Printer Sharing (SMB-In), program System)",
            "tcp/445 desde cualquier origen (regla FPS-SMB-In-TCP del Firewall de Windows, "
            "perfiles Private, Public: File and Printer Sharing (SMB-In), programa System)",
        ),
        (
            "? on vda: no dm-crypt layer under the root filesystem",
            "? en vda: ninguna capa dm-crypt bajo el sistema de archivos raíz",
        ),
        (
            "a container (/.dockerenv present): its kernel is the host's",
            "un contenedor (existe /.dockerenv): su núcleo es el del anfitrión",
        ),
        # why a device of a collector's site has no facts: frames translated, names as stored
        (
            "device timed out: collector madrid did not answer within 600 s; last seen never",
            "el dispositivo no respondió a tiempo: el colector madrid no respondió en 600 s; "
            "última señal: nunca",
        ),
        (
            "device timed out: collector madrid did not answer within 2.5 s; last seen "
            "2026-12-07 20:01:02 UTC",
            "el dispositivo no respondió a tiempo: el colector madrid no respondió en 2.5 s; "
            "última señal: 2026-12-07 20:01:02 UTC",
        ),
        (
            "device could not be checked: collector madrid refused the device: its site "
            "acme/oficina is bound to collector 'sevilla', not to this collector 'madrid'",
            "no se pudo comprobar el dispositivo: el colector madrid rechazó el dispositivo: su "
            "sede acme/oficina está asignada al colector 'sevilla', no a este colector 'madrid'",
        ),
        (
            "the broker's certificate could not be verified (self-signed certificate) at "
            "amqps://c:***@rabbit.example:5671/v: give the CA that signed it with --broker-ca "
            "FILE (or BALUARTE_BROKER_CA); without it the system's CAs are used",
            "no se pudo verificar el certificado del broker (self-signed certificate) en "
            "amqps://c:***@rabbit.example:5671/v: indique la CA que lo firmó con --broker-ca "
            "FICHERO (o BALUARTE_BROKER_CA); sin ella se usan las CA del sistema",
        ),
        # not a phrase: shown as stored
        ("backup.service: Main process exited, code=exited, status=1/FAILURE", None),
        ("minimum length ≥ 12; rm -rf /", "longitud mínima ≥ 12; rm -rf /"),
        ("<script>unexpected privileged accounts</script>", None),
        ("Changes", None),  # a device's text that reads like one of the report's labels
    ],
)
def test_a_stored_phrase_in_spanish_and_as_stored_in_english(stored, spanish):
    assert phrase(stored, "es") == (spanish or stored)
    assert phrase(stored, "en") == stored


@pytest.mark.parametrize(
    "hostile",
    [
        "x: " * 1300,  # a name and a phrase, nested as deep as a device cares to
        "(" * 3000 + ")" * 3000,
        "no backup found; " * 5000,  # longer than a template is matched against
        "a via " * 700,
    ],
)
def test_a_hostile_text_is_shown_without_failing(hostile):
    """Phrases are looked up inside phrases only so deep: no recursion error, no blow-up."""
    assert 0 < len(phrase(hostile, "es")) < 3 * len(hostile)
    assert phrase(hostile, "en") == hostile


# a remediation log and key risks written as apply and the evaluators write them
SUMMARY = "turn on the firewall: deny inbound except the policy's services"
STEPS = ("install nftables", "enable nftables at boot")
MANUAL_TEXT = (
    "move the backups to an encrypted repository: `restic init` (always encrypted) or "
    "`borg init --encryption=repokey`, keep the key safe, then retire the old one."
)
NOT_RUN = "not run: the apply was interrupted before it started"
RISK = "unexpected privileged accounts: soporte (accprofile super_admin)"
# the engine's own words: why a device could not be read, and why a change was not made
UNREADABLE = "device timed out: connection timed out"
NOT_PLANNED = "could not be planned: device timed out: the unit did not answer within 120 s"
NO_BACKUP = (
    "nothing applied: no configuration backup (the unit refused the configuration backup: 403 "
    "Forbidden: the API user's profile has no write access to this object, or the CSRF token is "
    "missing — allow the API user's profile to run backups (System > Maintenance))"
)


def _data(lang: str) -> EvidenceData:
    data = evidence_data(lang)  # type: ignore[arg-type]
    common = {"client": CLIENT, "site": SITE, "device": "srv-files", "platform": "linux"}
    action = "\n".join([SUMMARY, *(f"- {s}\n    $ systemctl enable nftables" for s in STEPS)])
    records = (
        RemediationRecord(
            **common,
            control="firewall.default_inbound_deny",
            result=RemediationResult.APPLIED,
            action=action,
            detail="$ systemctl enable nftables",
            after="no inbound service open",
            verification=Status.PASS,
        ),
        RemediationRecord(
            **common,
            control="backup.encrypted",
            result=RemediationResult.MANUAL,
            action=MANUAL_TEXT,
            detail=MANUAL_TEXT,
        ),
        RemediationRecord(
            **common,
            control="patching.automatic_updates",
            result=RemediationResult.NOT_RUN,
            action="turn on automatic security updates (unattended-upgrades)\n"
            "- install unattended-upgrades\n    $ apt-get install unattended-upgrades",
            detail=NOT_RUN,
        ),
        RemediationRecord(
            **{**common, "device": "fw-hq", "platform": "fortigate"},
            control="access.admin_session_timeout",
            result=RemediationResult.MANUAL,
            action=NOT_PLANNED,
            detail=NOT_PLANNED,
        ),
        RemediationRecord(
            **{**common, "device": "fw-hq", "platform": "fortigate"},
            control="firewall.policy_logging",
            result=RemediationResult.FAILED,
            action="log traffic (all) on every enabled policy\n- update firewall/policy 7",
            detail=NO_BACKUP,
        ),
    )
    risk = Finding(
        **common,
        control="access.admin_accounts",
        status=Status.FAIL,
        severity=Severity.CRITICAL,
        policy="linux-baseline",
        expected="privileged accounts only among: admin",
        observed=RISK,
    )
    last = data.runs[-1].info.id
    runs = tuple(
        r.model_copy(update={"remediations": records})
        if r.remediations
        else r.model_copy(update={"findings": (*r.findings, risk)})
        if r.info.id == last
        else r
        for r in data.runs
    )
    # the device that could not be read gives the reason evaluate writes
    runs = tuple(
        r.model_copy(
            update={
                "findings": tuple(
                    f.model_copy(update={"reason": UNREADABLE}) if f.status is Status.ERROR else f
                    for f in r.findings
                )
            }
        )
        for r in runs
    )
    return dataclasses.replace(data, runs=runs)


@pytest.fixture(scope="module")
def pdf_text(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = {}
    for lang in ("es", "en"):
        pdf = tmp_path_factory.mktemp(lang) / "report.pdf"
        pdf.write_bytes(render_pdf(render_html(_data(lang))))
        text = subprocess.run(
            ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True
        ).stdout
        out[lang] = " ".join(text.split())
    return out


ENGLISH = (SUMMARY, *STEPS, MANUAL_TEXT, NOT_RUN, RISK, "no inbound service open", UNREADABLE)
ENGINE_ENGLISH = ("could not be planned", "did not answer", "nothing applied", "write access")


def test_the_spanish_remediation_log_and_key_risks_have_no_english_phrase(pdf_text):
    text = pdf_text["es"]
    for english in ENGLISH:
        assert english not in text, english
    cat = translations("es")
    for english in (SUMMARY, *STEPS):
        assert cat.gettext(english) in text, english
    assert "ningún servicio de entrada" in text  # after the change (a column: the line wraps)
    assert "cuentas privilegiadas no previstas: soporte (accprofile super_admin)" in text
    assert "no ejecutado: la aplicación se interrumpió antes de empezar" in text
    assert "traslade las copias a un repositorio cifrado" in text
    # the engine's words: a device not read, a change not planned, one not made
    for english in ENGINE_ENGLISH:
        assert english not in text, english
    assert "el dispositivo no respondió a tiempo: se agotó el tiempo de conexión" in text
    assert "no se pudo planificar: el dispositivo no respondió a tiempo: el equipo no" in text
    assert "no se aplicó nada: no hay copia de seguridad de la configuración" in text


def test_the_english_pack_shows_the_phrases_as_stored(pdf_text):
    text = pdf_text["en"]
    for english in (SUMMARY, *STEPS, RISK, NOT_RUN, UNREADABLE, NOT_PLANNED):
        assert english in text, english
    assert "traslade" not in text and "cuentas privilegiadas" not in text


def test_a_remedy_text_missing_from_a_catalogue_is_named(tmp_path, monkeypatch):
    from babel.messages.pofile import read_po, write_po

    from reports.evidence import control_text
    from reports.evidence.i18n import catalogue_path

    with catalogue_path("es").open("rb") as fh:
        cat = read_po(fh, locale="es_ES")
    del cat["install nftables"]
    po = tmp_path / "baluarte.po"
    with po.open("wb") as fh:
        write_po(fh, cat)
    monkeypatch.setattr(control_text, "catalogue_path", lambda lang: po)
    (left,) = control_text.missing("es")
    assert (left.text, left.part) == ("install nftables", "remedy")
    assert left.control.startswith("deploys/linux/firewall.py:")  # where it is written


@pytest.mark.parametrize(
    ("stored", "spanish"),
    [
        (
            "Microsoft Defender real-time protection on (Set-MpPreference)",
            "protección en tiempo real de Microsoft Defender activada (Set-MpPreference)",
        ),
        ("time synchronisation with pool.ntp.org", "sincronización horaria con pool.ntp.org"),
    ],
)
def test_a_summary_stored_in_an_earlier_wording_is_still_translated(stored, spanish):
    """Records keep the words their version wrote: rewording a remedy in deploys/ must not
    leave older apply runs' evidence packs in English."""
    assert phrase(stored, "es") == spanish


def test_the_fortigate_profiles_summary_is_translated():
    """deploys/fortigate/firewall.py quotes the profile's name (repr): the slot takes it."""
    assert phrase("attach the 'default' antivirus, ips, webfilter profiles", "es") == (
        "asignar los perfiles antivirus, ips, webfilter 'default'"
    )
