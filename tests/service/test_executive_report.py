"""The monthly executive report: its figures from the client's stored runs (posture, never the
last run), the PDF's text in Spanish throughout (English on request), hostile text inert, and
the signature beside it."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from baluarte.evidence.keys import fingerprint, public_pem
from baluarte.service.snapshots import POSTURE_DAYS
from reports.evidence.i18n import translations
from reports.executive import Month, build_report, executive_figures, render_html
from reports.executive.figures import POSTURE_DAYS as REPORT_POSTURE_DAYS
from reports.executive.words import CONTEXT, catalogue_messages
from tests.service._executive import (
    HOSTILE,
    executive_service,
    pdf_pages,
    pdf_text,
    store_two_months,
    write_waivers,
)

NOVEMBER = Month(2026, 11)
AFTER = datetime(2026, 12, 3, 9, tzinfo=UTC)  # when the report is made


@pytest.fixture
def service(tmp_path):
    svc = executive_service(tmp_path, extra=f"waivers: {write_waivers(tmp_path)}\n")
    store_two_months(svc.db.store)
    yield svc
    svc.close()


def acme(service):
    inputs = service.inputs()
    (client,) = [c for c in inputs.inventory.clients if c.name == "acme"]
    return client, inputs.waivers.waivers


def figures(service, month=NOVEMBER, now=AFTER):
    client, waivers = acme(service)
    runs = service.db.store.client_findings("acme", start=datetime(2026, 9, 1, tzinfo=UTC))
    return executive_figures(client, runs, waivers, month, now=now)


def test_the_posture_window_is_the_dashboards():
    assert REPORT_POSTURE_DAYS == POSTURE_DAYS


def test_figures_are_the_posture_at_each_months_end(service):
    f = figures(service)
    assert (f.compliance, f.previous, f.change) == (91.7, 75.0, 16.7)
    assert (f.in_scope, f.verified, f.unverified) == (2, 2, ())
    assert f.complete and f.runs == 30  # the nightly runs of November, in Madrid's days
    assert f.start == datetime(2026, 10, 31, 23, tzinfo=UTC)  # 1 November, 00:00 in Madrid
    # one point per day of November; the fix of 15 November, the new fail of 16 November
    assert len(f.trend) == 30 and f.trend[0].day == date(2026, 11, 1)
    by_day = {p.day.day: p.percent for p in f.trend}
    assert (by_day[1], by_day[4], by_day[5], by_day[15], by_day[16], by_day[30]) == (
        75.0, 75.0, 83.3, 100.0, 91.7, 91.7,
    )  # fmt: skip


def test_what_was_fixed_in_the_month_and_how_fast(service):
    f = figures(service)
    fixed = {x.control: x for x in f.fixed}
    # patching, firewall and endpoint were fixed in October: not November's work
    assert sorted(fixed) == ["access.ssh_root_login", "backup.configured", "logging.time_sync"]
    backup = fixed["backup.configured"]
    assert backup.fixed_at == datetime(2026, 11, 5, 1, tzinfo=UTC)
    # failing since the first run read (30 days before November): a lower bound
    assert backup.failing_since == datetime(2026, 10, 2, 1, tzinfo=UTC) and backup.at_least
    assert backup.took == timedelta(days=34)
    (still,) = f.open
    assert (still.device, still.control, still.status) == (
        "srv-web", "patching.security_updates_pending", "fail",
    )  # fmt: skip
    assert still.since == datetime(2026, 11, 16, 1, tzinfo=UTC) and still.new
    assert not still.at_least and f.new_failures == 1


def test_the_month_in_progress_and_a_month_to_come(service):
    f = figures(service, now=datetime(2026, 11, 10, 12, tzinfo=UTC))
    assert not f.complete and len(f.trend) == 10
    # access was fixed by the run of the 10th, 01:00 UTC: before "now"
    assert [x.control for x in f.fixed] == ["backup.configured", "access.ssh_root_login"]
    with pytest.raises(ValueError, match="has not begun"):
        figures(service, month=Month(2026, 12), now=datetime(2026, 11, 30, 22, tzinfo=UTC))


def test_the_waivers_in_force_or_expired_in_the_month(service):
    f = figures(service)
    assert [(w.control, w.devices, w.state) for w in f.waivers] == [
        ("access.password_policy", ("srv-files", "srv-web"), "expired"),
        ("patching.reboot_required", ("srv-web",), "expiring"),  # 10 December: within 14 days
    ]
    assert f.waivers[1].approved_by == "María López (gerencia)"


def test_the_pdf_says_it_in_spanish_with_the_right_figures(service, tmp_path):
    client, waivers = acme(service)
    report = build_report(service.db.store, client, waivers, NOVEMBER, now=AFTER)
    assert report.pdf.startswith(b"%PDF-") and report.signature is None
    assert report.filename == "informe-ejecutivo-acme-2026-11.pdf"
    pages = pdf_pages(report.pdf, tmp_path)
    main = pdf_text(report.pdf, tmp_path, last=pages - 1)
    annex = pdf_text(report.pdf, tmp_path, first=pages, last=pages)
    flat = " ".join(main.split())
    rows = " ".join(pdf_text(report.pdf, tmp_path, layout=True).split())
    assert pages <= 3 and "Anexo: detalle técnico" in annex  # two pages, then the annex
    assert "Anexo" not in main
    # a table's rows, as laid out
    assert "Copias de seguridad 1 34 días 34 días o más" in rows
    assert "Actualizaciones de seguridad 1 1 1 16 nov 2026 0" in rows
    for expected in [
        "Informe ejecutivo de cumplimiento",
        "Acme S.L.",
        "Noviembre de 2026",
        "Buena situación y mejorando: se cumple el 91,7 % de las comprobaciones.",
        "+16,7 puntos respecto a octubre",
        "2 de 2",
        "Este mes se corrigieron 3 problemas.",
        "La mitad se corrigió en 39 días o menos; el más lento tardó 44 días o más.",
        "Queda 1 problema abierto.",
        "Sin actualizaciones de seguridad pendientes",  # the requirement, in plain words
        "la línea discontinua es la cifra a final de octubre (75,0 %)",
        "Los equipos se revisaron 30 veces este mes.",
        "Excepciones aceptadas",
        "Ventana de mantenimiento acordada",
        "María López (gerencia)",
        "10 de diciembre de 2026",
        "VENCE PRONTO",  # a waiver's state, in capitals
        "CADUCADA",
    ]:
        assert expected in flat, expected
    # no control id in the main text: the annex lists them
    assert not re.search(r"\b(patching|firewall|endpoint|backup|access|logging)\.[a-z_]+", main)
    assert "patching.security_updates_pending" in annex and "backup.configured" in annex
    assert "CHG-1042" in annex


def _english_fragments() -> list[str]:
    """Pieces of our English text that the Spanish text must never hold: each msgid cut at its
    placeholders, where the Spanish translation differs."""
    es = translations("es")
    out = []
    for _, msgid in catalogue_messages():
        ids = msgid if isinstance(msgid, tuple) else (msgid,)
        spanish = str(
            es.npgettext(CONTEXT, ids[0], ids[-1], 2)
            if len(ids) > 1
            else es.pgettext(CONTEXT, ids[0])
        )
        for text in ids:
            for piece in re.split(r"%\(\w+\)[sd]", text):
                piece = piece.strip(" .,:;()“”")
                if len(piece) >= 6 and piece not in spanish:
                    out.append(piece)
    return out


ENGLISH_WORDS = {
    "the", "and", "of", "fixed", "month", "devices", "device", "problems", "since", "until",
    "reason", "page", "generated", "compliance", "report", "checks", "exceptions", "area",
    "security", "updates", "pending", "approved", "expires", "good", "position", "observed",
}  # fmt: skip


def test_spanish_throughout_and_english_on_request(service, tmp_path):
    client, waivers = acme(service)
    spanish = pdf_text(
        build_report(service.db.store, client, waivers, NOVEMBER, now=AFTER).pdf, tmp_path
    )
    fragments = _english_fragments()
    assert len(fragments) > 80  # the catalogue's messages were found
    flat = " ".join(spanish.split())
    leaked = [p for p in fragments if p in flat]
    assert not leaked
    # the annex's control ids are identifiers, not words
    prose = re.sub(r"\b[a-z]+\.[a-z_]+\b", " ", flat)
    words = set(re.findall(r"[a-záéíóúñü]+", prose.lower()))
    assert not words & ENGLISH_WORDS, words & ENGLISH_WORDS
    english = pdf_text(
        build_report(service.db.store, client, waivers, NOVEMBER, now=AFTER, lang="en").pdf,
        tmp_path,
    )
    flat_en = " ".join(english.split())
    assert "Good position, and improving: 91.7% of the checks are met." in flat_en
    assert "+16.7 points on October" in flat_en and "No pending security updates" in flat_en


def test_hostile_waiver_reasons_and_observed_values_are_text(tmp_path):
    svc = executive_service(tmp_path, extra=f"waivers: {write_waivers(tmp_path, HOSTILE)}\n")
    try:
        store_two_months(svc.db.store, observed=HOSTILE)
        client, waivers = acme(svc)
        f = figures(svc)
        html = render_html(f, "es")
        # escaped in the HTML: no element, no style closed early, no control character
        assert "<img" not in html and "</style><b>" not in html and "\x1b" not in html
        assert "&lt;img src=x onerror=alert(1)&gt; &lt;/style&gt;&lt;b&gt;big&lt;/b&gt;" in html
        assert "\\x1b[2J" in html
        text = " ".join(
            pdf_text(
                build_report(svc.db.store, client, waivers, NOVEMBER, now=AFTER).pdf, tmp_path
            ).split()
        )
        # on paper it is the text as written, shown, never obeyed
        assert "<img src=x onerror=alert(1)> </style><b>big</b> \\x1b[2J" in text
        assert "Mientras tanto: Reinicio manual cada domingo <img src=x" in text
        assert text.count("<img src=x onerror=alert(1)>") >= 3  # reason, meanwhile, observed
    finally:
        svc.close()


def test_a_signed_report_verifies_with_openssl(service, tmp_path):
    client, waivers = acme(service)
    key = Ed25519PrivateKey.generate()
    report = build_report(service.db.store, client, waivers, NOVEMBER, now=AFTER, signing_key=key)
    assert report.signature is not None and report.signed_by == fingerprint(key.public_key())
    folder = tmp_path / "sent"
    folder.mkdir()
    (folder / report.filename).write_bytes(report.pdf)
    (folder / report.signature_filename).write_bytes(report.signature)
    (folder / "signing-key.pub.pem").write_bytes(public_pem(key.public_key()))
    command = (
        "openssl pkeyutl -verify -pubin -inkey signing-key.pub.pem -rawin"
        f" -in {report.filename} -sigfile {report.signature_filename}"
    )
    done = subprocess.run(command.split(), cwd=folder, capture_output=True, text=True)
    assert done.returncode == 0 and "Signature Verified Successfully" in done.stdout
    # the annex says how: the same command, and the key's fingerprint
    packed = "".join(pdf_text(report.pdf, tmp_path).split())  # lines wrap anywhere in them
    assert command.replace(" ", "") in packed and report.signed_by in packed
    # a changed PDF does not verify
    middle = len(report.pdf) // 2
    changed = report.pdf[:middle] + bytes([report.pdf[middle] ^ 1]) + report.pdf[middle + 1 :]
    (folder / report.filename).write_bytes(changed)
    done = subprocess.run(command.split(), cwd=folder, capture_output=True, text=True)
    assert done.returncode != 0


def test_a_client_never_checked_has_a_report_that_says_so(tmp_path):
    svc = executive_service(tmp_path)
    try:
        inputs = svc.inputs()
        (beta,) = [c for c in inputs.inventory.clients if c.name == "beta"]
        report = build_report(svc.db.store, beta, (), NOVEMBER, now=AFTER)
        text = " ".join(pdf_text(report.pdf, tmp_path).split())
        assert "Sin cifras este mes: no se pudo comprobar ningún equipo." in text
        assert "0 de 1" in text and "srv-db" in text and "nunca comprobado" in text
        assert "Este mes no se pudo comprobar ningún equipo: no hay evolución que mostrar." in text
        assert report.figures.compliance is None  # never 0: nothing was judged
    finally:
        svc.close()
