"""Why a device could not be checked, what a waiver did to a finding, and apply's notes and
refusals — the sentences the engine, the transports (SSH, WinRM, the FortiOS client) and apply
write into a finding's reason or a remediation record — are shown in Spanish in a Spanish pack.
They are read from the source with ``ast`` (``_engine_texts``), with sample values where a
device, a library or the policy gives one, and put through ``phrase``: a new or edited English
sentence that no entry of ``phrase_table_engine.py`` covers fails here, naming where it is
written."""

from __future__ import annotations

import re

import pytest

from reports.evidence.phrase_table import TEMPLATES
from reports.evidence.phrase_table_engine import ENGINE_KINDS, ENGINE_TEMPLATES
from reports.evidence.phrases import phrase_lines

from ._engine_texts import EngineTexts, Written

# Words of ours kept as written in a Spanish text: settings and identifiers (winrm.ca_bundle,
# admin-sport, src_text…), commands, and words Spanish writes the same (error, bytes).
KEPT = re.compile(
    r"`[^`]*`|\b(?:https|admin-sport|trusthosts|allowaccess|src_text|src|files\.put|sudo|pyinfra|"
    r"auth|basic|certificate|certificate_key|true|winrm\.user|winrm\.ca_bundle|"
    r"fortios\.ca_bundle|host\.Now|host\.ComputerName|checks|changed|transaction-start|"
    r"transaction-id|current-admins|chmod|baluarte apply|name|error|bytes)\b"
)
# What the reading of the source finds but nothing stores as it is (a part of a text built in
# steps), with why.
NEVER_STORED = (
    # evaluate.py's waiver note, before the result it hides is appended to it
    re.compile(r"waived until \S+: [^()]*"),
    # a tail another text is given (the meaning of a FortiOS error code, after the status)
    re.compile(r": .*"),
)
_PROSE = re.compile(r"(?<![\w/.=-])[a-z]{3,}(?![\w/.=-])")  # a word in lower case: our prose


@pytest.fixture(scope="module")
def written() -> list[Written]:
    return EngineTexts().written()


def _ours(w: Written) -> list[str]:
    """The parts of the text that are our words (not values, settings or names), line by line."""
    parts = (line.strip(" ,;:") for text, ours in w.segments if ours for line in text.split("\n"))
    return [part for part in parts if _PROSE.search(KEPT.sub("", part))]


def untranslated(written: list[Written]) -> list[str]:
    """Each text shown in a Spanish pack as stored, or with some of our English words left."""
    out = []
    for w in written:
        ours = _ours(w)
        if not ours or any(p.fullmatch(w.text) for p in NEVER_STORED):
            continue  # values only: a library's or a device's words
        shown = phrase_lines(w.text, "es")
        left = [p for p in ours if re.search(rf"(?<![\w./=-]){re.escape(p)}(?![\w./=-])", shown)]
        if shown == w.text or left:
            out.append(f"{w.where}: {w.text!r} -> {shown!r}")
    return out


def test_the_engine_transport_and_apply_texts_are_found(written):
    texts = {w.text for w in written}
    assert len(texts) > 250
    for sample in (
        "device unreachable: x1",  # describe_device_error, by the error's kind
        "x1; waiver expired on 2027-01-31 and no longer applies",  # evaluate's waiver note
        "credentials unavailable: x1",  # checks/device_errors.py
        "the collection command failed on the host",  # the SSH worker
        "credentials refused (NTLM): wrong user or password, or the account may not use WinRM",
        "the API user's profile has no read access to this object",  # FortiOS, reason_for
        "secret env:ACME_FW_TOKEN cannot be read: x1",  # a secret, and why (below)
        "environment variable ACME_FW_TOKEN is not set",
        "\n(the commands run differ from the plan's)",  # apply's note on a record
        "not applied: x1",  # the FortiGate executor
        "install nftables failed: x1 x1",  # the Linux executor
        "the fix script's answer has no changed field",  # the Windows executor
    ):
        assert sample in texts, sample


def test_every_engine_transport_and_apply_text_is_shown_in_spanish(written):
    left = untranslated(written)
    assert not left, "\n".join(
        ["untranslated (reports/evidence/phrase_table_engine.py, then the .po):", *left]
    )


def test_the_english_pack_shows_them_as_stored(written):
    assert all(phrase_lines(w.text, "en") == w.text for w in written)


def test_a_new_engine_text_without_an_entry_is_named(tmp_path):
    (tmp_path / "widget.py").write_text(
        "from baluarte.errors import Unreachable\n"
        "def connect(url):\n"
        '    raise Unreachable(f"the widget at {url} hung up")\n'
        "def record(detail):\n"
        '    detail = "not run: the widget was busy"\n'
        "    return detail\n"
        "def fine(url):\n"
        '    raise Unreachable(f"cannot connect to {url}: {url}")\n'
    )
    widget = EngineTexts([tmp_path / "widget.py"]).written()
    assert [line.split(" -> ")[0] for line in untranslated(widget)] == [
        "widget.py:3: 'the widget at https://10.0.0.1:443 hung up'",
        "widget.py:5: 'not run: the widget was busy'",
    ]


def test_the_engine_frames_have_slots_of_their_own():
    """Every kind the engine declares is a slot of its frames, and of no other frame: the
    engine's part of the table changes how nothing else is read."""
    slots = re.compile(r"%\((\w+)\)s")
    engine = {s for t in ENGINE_TEMPLATES for s in slots.findall(t)}
    others = {s for t in TEMPLATES if t not in ENGINE_TEMPLATES for s in slots.findall(t)}
    assert set(ENGINE_KINDS) <= engine
    assert not set(ENGINE_KINDS) & others


@pytest.mark.parametrize(
    ("stored", "spanish"),
    [
        (
            "device unreachable: cannot connect to https://10.0.0.1:443: All connection attempts "
            "failed",
            "dispositivo inaccesible: no se puede conectar con https://10.0.0.1:443: All "
            "connection attempts failed",  # httpx's words, as stored
        ),
        (
            "device could not be checked: 403 Forbidden: the API user's profile has no read "
            "access to this object (FortiOS error -14) [GET /api/v2/cmdb/system/global]",
            "no se pudo comprobar el dispositivo: 403 Forbidden: el perfil del usuario de la API "
            "no tiene acceso de lectura a este objeto (error -14 de FortiOS) "
            "[GET /api/v2/cmdb/system/global]",
        ),
        (
            "device unreachable: TLS certificate verification failed for https://10.0.0.1:443: "
            "self-signed certificate (set fortios.ca_bundle to the unit's CA)",
            "dispositivo inaccesible: falló la verificación del certificado TLS de "
            "https://10.0.0.1:443: self-signed certificate (defina en fortios.ca_bundle la CA "
            "del equipo)",
        ),
        (
            "device timed out: connection timed out",
            "el dispositivo no respondió a tiempo: se agotó el tiempo de conexión",
        ),
        (
            "device could not be checked: credentials unavailable: secret env:ACME_FW_TOKEN "
            "cannot be read: environment variable ACME_FW_TOKEN is not set",
            "no se pudo comprobar el dispositivo: credenciales no disponibles: no se puede leer "
            "el secreto env:ACME_FW_TOKEN: la variable de entorno ACME_FW_TOKEN no está definida",
        ),
        (
            "device authentication refused: the WinRM service at https://10.0.0.5:5986/wsman "
            "does not offer client certificate authentication (it offers: Negotiate, Kerberos)",
            "el dispositivo rechazó la autenticación: el servicio WinRM de "
            "https://10.0.0.5:5986/wsman no ofrece autenticación por certificado de cliente "
            "(ofrece: Negotiate, Kerberos)",
        ),
        (
            "device authentication refused: login refused: 429 Too Many Requests — the unit "
            "blocks this address after too many failed logins; wait before trying again "
            "[POST /api/v2/authentication]",
            "el dispositivo rechazó la autenticación: inicio de sesión rechazado: 429 Too Many "
            "Requests. El equipo bloquea esta dirección tras demasiados inicios de sesión "
            "fallidos; espere antes de volver a intentarlo [POST /api/v2/authentication]",
        ),
        # a waiver's note after the reason it is joined to, each part in turn
        (
            "device unreachable: connection timed out; a waiver (until 2027-01-31: ERP vendor "
            "certifies kernel updates monthly) covers this control, but not a result that could "
            "not be established",
            "dispositivo inaccesible: se agotó el tiempo de conexión; una excepción (hasta el "
            "2027-01-31: ERP vendor certifies kernel updates monthly) cubre este control, pero "
            "no un resultado que no se pudo determinar",
        ),
        (
            "waived until 2027-01-31: ERP vendor certifies kernel updates monthly (result "
            "without waiver: fail)",
            "exceptuado hasta el 2027-01-31: ERP vendor certifies kernel updates monthly "
            "(resultado sin la excepción: no cumple)",
        ),
        (
            "no backup found; waiver expired on 2026-10-31 and no longer applies",
            "no se encontró ninguna copia de seguridad; la excepción caducó el 2026-10-31 y ya "
            "no se aplica",
        ),
        # apply's notes and refusals in a remediation record
        (
            "could not be planned: install nftables: sudo asked for a password; enable nftables "
            "at boot: not planned: an earlier operation could not be planned",
            "no se pudo planificar: instalar nftables: sudo pidió una contraseña; habilitar "
            "nftables en el arranque: no planificado: no se pudo planificar una operación "
            "anterior",
        ),
        (
            "nothing applied: no configuration backup (the unit refused the configuration "
            "backup: 403 Forbidden: the API user's profile has no write access to this object, "
            "or the CSRF token is missing — allow the API user's profile to run backups (System "
            "> Maintenance))",
            "no se aplicó nada: no hay copia de seguridad de la configuración (el equipo rechazó "
            "la copia de seguridad de la configuración: 403 Forbidden: el perfil del usuario de "
            "la API no tiene acceso de escritura a este objeto, o falta el token CSRF. Permita "
            "que el perfil del usuario de la API haga copias (System > Maintenance))",
        ),
        (
            "lockout guard: it changes system/accprofile, which may take Baluarte's access away "
            "(api-baluarte from 10.0.0.9 on port1 (admin-sport 443, trusthosts 10.0.0.0/8))",
            "protección contra bloqueos: modifica system/accprofile, lo que puede quitarle el "
            "acceso a Baluarte (api-baluarte desde 10.0.0.9 por port1 (admin-sport 443, "
            "trusthosts 10.0.0.0/8))",
        ),
        (
            "install nftables failed: failed running 'apt-get install -y nftables': E: Unable "
            "to locate package nftables",
            "el paso «instalar nftables» falló: falló al ejecutar 'apt-get install -y nftables': "
            "E: Unable to locate package nftables",  # the host's words, as stored
        ),
        # what a library or a device said stays as stored, inside the translated frame
        (
            "device unreachable: Could not connect ([Errno 111] Connection refused)",
            "dispositivo inaccesible: Could not connect ([Errno 111] Connection refused)",
        ),
    ],
)
def test_a_stored_engine_text_in_spanish_and_as_stored_in_english(stored, spanish):
    assert phrase_lines(stored, "es") == spanish
    assert phrase_lines(stored, "en") == stored
