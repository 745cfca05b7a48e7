"""What the dashboard's pages show: posture figures, the grid, devices, runs, waivers; device
text escaped; every word of ours in Spanish or in English."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from baluarte.findings import Status
from baluarte.service.app import create_app
from baluarte.service.db import ServiceDb
from baluarte.service.tables import service_checks
from baluarte.service.web.i18n import messages
from reports.evidence.i18n import LOCALES, catalogue_path
from tests.service._fixtures import finding, store_run
from tests.service._web import (
    HOSTILE,
    HOSTILE_EVIDENCE,
    HOSTILE_REASON,
    Dashboard,
    TestClient,
    build,
    csrf_of,
    log_in,
)


@pytest.fixture
def dash(tmp_path: Path) -> Iterator[Dashboard]:
    d = build(tmp_path / "svc")
    yield d
    d.service.close()


def _admin(dash: Dashboard, lang: str = "es") -> TestClient:
    web = TestClient(create_app(dash.service, secure_cookies=False))
    web.get(f"/login?lang={lang}")
    assert log_in(web, "ana").status_code == 303
    return web


def _pages(dash: Dashboard) -> list[str]:
    return [
        "/",
        "/clients/acme",
        "/clients/beta",
        "/clients/acme/devices/madrid/srv-web",
        "/clients/acme/devices/sevilla/pc-sev",
        f"/runs/{dash.runs['acme_new']}",
        "/waivers",
        "/users",
        "/audit",
        "/clients/acme/export",
        "/clients/nowhere",
        "/no/such/page",
        f"/checks/{_queued_check(dash)}",
    ]


def _queued_check(dash: Dashboard) -> int:
    """A check another process queued (this one would start it at once)."""
    with dash.service.db.write() as conn:
        return int(
            conn.execute(
                service_checks.insert()
                .values(origin="schedule", schedule="nightly", requested_at=datetime.now(UTC),
                        client="acme", site="madrid", state="queued", holder="elsewhere")
                .returning(service_checks.c.id)
            ).scalar_one()
        )  # fmt: skip


def test_device_text_is_shown_as_text_on_every_page_that_shows_it(dash: Dashboard):
    web = _admin(dash)
    for path in (
        "/clients/acme",
        "/clients/acme/devices/madrid/srv-web",
        f"/runs/{dash.runs['acme_new']}",
    ):
        html = web.get(path).text
        assert HOSTILE not in html and "<iframe" not in html and "<img src=x" not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
        assert "&lt;iframe src=//evil.example&gt;&lt;/iframe&gt;" in html, path
    device = web.get("/clients/acme/devices/madrid/srv-web").text
    assert HOSTILE_EVIDENCE not in device and "<b>bold</b>" not in device
    assert "&lt;/pre&gt;&lt;b&gt;bold&lt;/b&gt;" in device
    assert HOSTILE_REASON not in device


def test_a_name_typed_at_the_login_form_is_text_in_the_audit_log(dash: Dashboard):
    stranger = TestClient(create_app(dash.service, secure_cookies=False))
    assert log_in(stranger, '<img src=x onerror="alert(3)">', "whatever").status_code == 401
    html = _admin(dash).get("/audit").text
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=&#34;alert(3)&#34;&gt;" in html


def test_pages_forbid_framing_caching_and_inline_script(dash: Dashboard):
    web = _admin(dash)
    answer = web.get("/clients/acme")
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["cache-control"] == "no-store"
    assert "<script" not in answer.text and "style=" not in answer.text


def test_the_overview_shows_each_client_from_its_posture(dash: Dashboard):
    html = _admin(dash).get("/").text
    acme = html[html.index("Acme S.L.") : html.index("Beta S.L.")]
    # srv-files passes ssh, fails the firewall; srv-web fails ssh; pc-sev never read
    assert "33,3" in acme
    assert "1 de 3" in acme  # devices not verified of those in scope
    assert "▲</span> 2" in acme  # new drift: both failures passed at the previous posture
    assert re.search(r'class="count count-warn">1<', acme)  # the firewall waiver, in 5 days
    assert '<svg class="spark"' in acme and "Cumplimiento en los últimos 30 días" in acme
    beta = html[html.index("Beta S.L.") :]
    assert "100,0" in beta and "ninguno de 1" in beta
    assert f'href="/runs/{dash.runs["beta"]}"' in beta


def test_the_client_page_has_the_grid_the_failing_controls_and_its_runs(dash: Dashboard):
    html = _admin(dash).get("/clients/acme").text
    grid = html[html.index('<table class="grid">') :]
    grid = grid[: grid.index("</table>")]
    assert "Acceso" in grid and "Cortafuegos" in grid
    assert set(re.findall(r'devices/\w+/([\w-]+)">', grid)) == {"srv-files", "srv-web", "pc-sev"}
    web_row = grid[grid.index("devices/madrid/srv-web") :].split("</tr>")[0]
    assert 'class="cell st-fail"' in web_row and "No cumple" in web_row  # colour and words
    pc_row = grid[grid.index("devices/sevilla/pc-sev") :].split("</tr>")[0]
    assert "No verificado" in pc_row and "st-pass" not in pc_row
    failing = html[html.index("Controles que no cumplen") :]
    assert "firewall.enabled" in failing and "access.ssh_root_login" in failing
    assert "Incumple desde" in failing
    assert f'href="/runs/{dash.runs["acme_new"]}"' in html
    assert f'href="/runs/{dash.runs["acme_old"]}"' in html


def test_the_device_page_has_its_findings_and_history(dash: Dashboard):
    html = _admin(dash).get("/clients/acme/devices/madrid/srv-files").text
    assert "firewall.enabled" in html and "inactive" in html
    assert "Verificar este dispositivo ahora" in html
    history = html[html.index("Historial") :]
    assert f"#{dash.runs['acme_new']}" in history and f"#{dash.runs['acme_old']}" in history
    assert "100,0" in history and "50,0" in history  # each run's figure for this device
    never = _admin(dash).get("/clients/acme/devices/sevilla/pc-sev").text
    assert "No verificado" in never
    assert "Ninguna ejecución ha leído este dispositivo en los últimos 90 días." in never
    # a pass older than the posture's window is history, never current posture
    old = store_run(
        dash.service.db.store,
        datetime.now(UTC) - timedelta(days=40),
        [finding("acme", "sevilla", "pc-sev", "access.ssh_root_login", Status.PASS)],
        client="acme",
    )
    stale = _admin(dash).get("/clients/acme/devices/sevilla/pc-sev").text
    assert "No verificado" in stale and "Aún no se ha observado ningún hallazgo." in stale
    assert f'href="/runs/{old}"' in stale[stale.index("Historial") :]
    assert _admin(dash).get("/clients/acme/devices/madrid/pc-sev").status_code == 404


def test_the_waiver_register_says_what_is_expired_expiring_and_active(dash: Dashboard):
    html = _admin(dash).get("/waivers").text
    rows = html[html.index("<tbody>") :].split("</tr>")
    assert len([r for r in rows if "ctl-id" in r]) == 3
    expired = next(r for r in rows if "Legacy backup agent" in r)
    assert "waiver-expired" in expired and "Caducada" in expired
    expiring = next(r for r in rows if "perimeter unit" in r)
    assert "Caduca en 5 días" in expiring and "ACME-12" in expiring
    active = next(r for r in rows if "Vendor support" in r)
    assert "Vigente" in active and "sede: sevilla" in active


def test_a_run_page_lists_its_findings_with_counts(dash: Dashboard):
    html = _admin(dash, "en").get(f"/runs/{dash.runs['acme_new']}").text
    assert "Run 2" in html and "Compliance check" in html and "Complete" in html
    tally = html[html.index('class="tally"') :].split("</ul>")[0]
    assert re.search(r"Fail</span> <strong>2</strong>", tally)
    assert re.search(r"Pass</span> <strong>1</strong>", tally)
    assert "client: acme" in html  # its scope
    assert _admin(dash).get("/runs/424242").status_code == 404


def test_an_address_no_page_has_is_a_page_of_the_dashboard_not_the_apis(dash: Dashboard):
    web = _admin(dash)
    page = web.get("/clients/acme/nothing/here")
    assert page.status_code == 404 and "No encontrado" in page.text
    api = web.get("/api/v1/nothing-here")
    assert api.status_code == 404 and api.headers["content-type"] == "application/json"
    unreadable = web.get("/runs/not-a-number")
    assert unreadable.status_code == 400 and "Solicitud no válida" in unreadable.text
    anonymous = TestClient(create_app(dash.service, secure_cookies=False)).get("/nothing")
    assert anonymous.status_code == 404 and "Acme" not in anonymous.text


# -- language ----------------------------------------------------------------------------------


class _Text(HTMLParser):
    """A page's words as a reader meets them: text, and the attributes shown or read aloud."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("code", "pre"):
            self._skip += 1
        for name, value in attrs:
            if name in ("title", "aria-label", "data-label", "alt", "placeholder") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("code", "pre"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _words(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def _catalogue(lang: str) -> dict[str, str]:
    with catalogue_path(lang).open("rb") as fh:
        cat = read_po(fh, locale=LOCALES[lang])
    out = {}
    for m in cat:
        if m.id and isinstance(m.id, str) and not m.context:
            out[m.id] = m.string
        elif m.id and not m.context:
            out[m.id[0]] = m.string[0]
    return out


def _phrases(text: str) -> list[str]:
    """The parts of a message a reader would see verbatim (its placeholders left out)."""
    return [p.strip(" :.,·()") for p in re.split(r"%\(\w+\)[sd]", text) if len(p.strip()) > 2]


def _untranslated(page: str, wrong: set[str]) -> list[str]:
    return sorted(p for p in wrong if re.search(rf"(?<![\w-]){re.escape(p)}(?![\w-])", page))


@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_dashboard_message_is_in_the_catalogues(lang: str):
    with catalogue_path(lang).open("rb") as fh:
        cat = read_po(fh, locale=LOCALES[lang])
    used = messages()
    assert len(used) > 150  # the templates' text was found
    for msgid in used:
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        entry = cat.get(key)
        assert entry is not None, f"{lang}: no entry for {msgid!r}"
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        assert all(strings) and not entry.fuzzy, f"{lang}: {msgid!r} untranslated"
    # the dashboard's block adds messages, never a second entry for one the reports have
    text = catalogue_path(lang).read_text()
    assert text.count("\n# service: dashboard\n") == 1
    head, block = text.split("\n# service: dashboard\n")
    # msgids of the reports (those under a msgctxt are another message)
    before = set(
        re.findall(r'^msgid "(.*)"$', re.sub(r"^msgctxt .*\nmsgid .*$", "", head, flags=re.M), re.M)
    )
    # (later blocks follow it; those under a msgctxt are other messages there too)
    added = re.findall(
        r'^msgid "(.*)"$', re.sub(r"^msgctxt .*\nmsgid .*$", "", block, flags=re.M), re.M
    )
    assert len(added) == len(set(added)) and not set(added) & before


def test_spanish_pages_have_no_english_words_of_ours_and_english_pages_no_spanish(
    dash: Dashboard,
):
    es, en = _catalogue("es"), _catalogue("en")
    ours = {m[0] if isinstance(m, tuple) else m for m in messages()}
    english = {p for m in ours if es[m] != m for p in _phrases(m)}
    spanish = {p for m in ours if es[m] != m for p in _phrases(es[m])}
    # a word both languages use ("Error", "API", "con error") proves nothing either way
    all_es = " ".join(es[m] for m in ours)
    all_en = " ".join(en[m] for m in ours)
    english = {p for p in english if not _untranslated(all_es, {p})}
    spanish = {p for p in spanish if not _untranslated(all_en, {p})}
    assert len(english) > 150 and len(spanish) > 150
    seen = {"es": 0, "en": 0}
    for lang, wrong in (("es", english), ("en", spanish)):
        web = _admin(dash, lang)
        pages = [web.get(p) for p in _pages(dash)]
        web.post("/logout", data={"csrf_token": csrf_of(pages[0].text)})
        pages.append(web.get(f"/login?lang={lang}"))
        for answer in pages:
            words = _words(answer.text)
            assert f'lang="{lang}"' in answer.text
            left = _untranslated(words, wrong)
            assert not left, (lang, str(answer.url), left)
            seen[lang] += len(words)
    assert seen["es"] > 5000 and seen["en"] > 5000


@pytest.mark.postgres
def test_the_postgresql_store_serves_the_same_pages(tmp_path: Path, pg_db: ServiceDb):
    dash = build(tmp_path / "pg", pg_db)
    web = _admin(dash)
    assert "33,3" in web.get("/").text
    assert "&lt;script&gt;" in web.get("/clients/acme").text
    assert web.get(f"/runs/{dash.runs['beta']}").status_code == 200
