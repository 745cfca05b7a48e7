"""The dashboard in a real browser: Debian's Chromium driven by Playwright against a real
``baluarte serve`` process on 127.0.0.1.

Signs in, reads the overview, opens a client, starts a check of one device and follows it to
its run, downloads the signed evidence pack, signs out; an auditor meets another client's page
as "not found"; device text with markup stays text (no dialog ever opens). Then the same with a
lab device: the FortiOS emulator (real HTTPS, its own CA) whose policies, address objects and
administrators have hostile names is checked from the dashboard, and its names are shown as
text on the run, device and client pages, with the statuses its state decides. Screenshots of
each page at 1280×900 and 390×844 go to ``$BALUARTE_SCREENSHOTS`` (default: the test's
temporary folder), to be looked at.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from baluarte.evidence.keys import init_key, public_key_path
from baluarte.evidence.verify import verify_pack
from tests.service._labs import (
    BIDI,
    CLIENT,
    CONTROL,
    FAILS,
    FIREWALL,
    IMG,
    LEGAL_NAME,
    PASSES,
    SCRIPT,
    SITE,
    TECHNICIAN,
    TEMPLATE,
    lab_client,
)
from tests.service._serve import serving
from tests.service._web import HOSTILE, PASSWORD, build

if TYPE_CHECKING:
    from playwright.sync_api import Dialog, Page

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SIZES = {"phone": (390, 844), "desktop": (1280, 900)}

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed at /usr/bin/chromium (make test installs it)",
)


@dataclass
class Server:
    url: str
    folder: Path
    runs: dict[str, int]
    key: Path


def _dismissing(seen: list[str]) -> Callable[[Dialog], None]:
    """A dialog handler that notes what a dialog said (a script ran) and closes it."""

    def dismiss(dialog: Dialog) -> None:
        seen.append(dialog.message)
        dialog.dismiss()

    return dismiss


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    key = tmp_path / "keys" / "signing-key.pem"
    os.environ["BALUARTE_SIGNING_KEY"] = str(key)  # the runs built below are signed with it
    try:
        init_key(key)
        dash = build(tmp_path / "svc")
        dash.service.close()
    finally:
        os.environ.pop("BALUARTE_SIGNING_KEY")
    with serving(tmp_path / "svc" / "serve.yaml", tmp_path, key=key) as url:
        yield Server(url, tmp_path, dash.runs, key)


@pytest.fixture
def lab_server(tmp_path: Path) -> Iterator[Server]:
    """The service over client oficina, whose FortiGate is the lab emulator in a hostile state."""
    with (
        lab_client(tmp_path / "lab") as lab,
        serving(lab.config, lab.folder, key=lab.key) as url,
    ):
        yield Server(url, lab.folder, {}, lab.key)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("BALUARTE_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_a_technician_signs_in_checks_a_device_exports_and_signs_out(
    server: Server, shots: Path, tmp_path: Path
):
    from playwright.sync_api import expect, sync_playwright

    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            # the phone first: the desktop pass ends by checking srv-web, which changes acme
            for size, (width, height) in SIZES.items():
                context = browser.new_context(
                    viewport={"width": width, "height": height}, locale="es-ES",
                    accept_downloads=True,
                )  # fmt: skip
                page = context.new_page()
                page.on("dialog", _dismissing(dialogs))

                def shot(name: str) -> None:
                    page.screenshot(path=str(shots / f"{name}-{size}.png"), full_page=True)  # noqa: B023

                page.goto(server.url + "/")
                expect(page).to_have_url(server.url + "/login")
                shot("login")
                page.fill("#name", "tom")
                page.fill("#password", PASSWORD)
                page.get_by_role("button", name="Iniciar sesión").click()
                expect(page).to_have_url(server.url + "/")
                expect(page.get_by_role("heading", name="Clientes")).to_be_visible()
                expect(page.get_by_role("link", name="Acme S.L.")).to_be_visible()
                expect(page.get_by_text("33,3 %", exact=True)).to_be_visible()
                shot("overview")

                page.get_by_role("link", name="Acme S.L.").click()
                expect(page).to_have_url(server.url + "/clients/acme")
                expect(page.get_by_role("heading", name="Dispositivos por ámbito")).to_be_visible()
                # the device's own words, shown as words
                expect(page.get_by_text(HOSTILE).first).to_be_visible()
                shot("client")

                page.get_by_role("link", name="srv-web").first.click()
                expect(page.get_by_role("heading", name="srv-web")).to_be_visible()
                page.locator("details.evidence summary").first.click()
                expect(page.locator("details.evidence pre").first).to_contain_text("<b>bold</b>")
                shot("device")

                if size == "desktop":  # one check and one pack are enough
                    page.get_by_role("button", name="Verificar este dispositivo ahora").click()
                    expect(page).to_have_url(f"{server.url}/checks/1")
                    # the page refreshes itself until the check ends
                    expect(page.locator(".check-state")).to_have_attribute(
                        "data-state", "done", timeout=90_000
                    )
                    shot("check")
                    page.locator("a.run-link").click()
                    expect(page.get_by_role("heading", name="Ejecución 4")).to_be_visible()
                    shot("run")

                    page.goto(server.url + "/clients/acme/export")
                    shot("export")
                    with page.expect_download(timeout=90_000) as download:
                        page.get_by_role("button", name="Descargar el paquete firmado").click()
                    pack = tmp_path / download.value.suggested_filename
                    download.value.save_as(pack)
                    assert zipfile.is_zipfile(pack)
                    assert verify_pack(pack, public_key_path(server.key)).ok

                page.goto(server.url + "/waivers")
                expect(page.get_by_text("Caduca en 5 días")).to_be_visible()
                shot("waivers")

                page.get_by_role("button", name="Cerrar sesión").click()
                expect(page).to_have_url(server.url + "/login")
                page.goto(server.url + "/clients/acme")
                expect(page).to_have_url(server.url + "/login?next=/clients/acme")
                context.close()
        finally:
            browser.close()
    assert dialogs == []  # no script from a device ever ran
    assert {f.name for f in shots.iterdir()} >= {
        f"{name}-{size}.png"
        for name in ("login", "overview", "client", "device", "waivers")
        for size in SIZES
    }


def test_an_auditor_in_english_reaches_only_their_client(server: Server, shots: Path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            for size, (width, height) in SIZES.items():
                context = browser.new_context(viewport={"width": width, "height": height})
                page = context.new_page()
                page.goto(server.url + "/login?lang=en")
                page.fill("#name", "aud")
                page.fill("#password", PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                expect(page.get_by_role("link", name="Beta S.L.")).to_be_visible()
                expect(page.get_by_text("Acme S.L.")).to_have_count(0)
                page.screenshot(path=str(shots / f"auditor-overview-{size}.png"), full_page=True)
                page.get_by_role("link", name="Beta S.L.").click()
                expect(page.get_by_role("heading", name="Devices by domain")).to_be_visible()
                expect(page.get_by_role("button", name="Start check")).to_have_count(0)
                page.screenshot(path=str(shots / f"auditor-client-{size}.png"), full_page=True)
                answer = page.goto(server.url + "/clients/acme")
                assert answer is not None and answer.status == 404
                expect(page.get_by_role("heading", name="Not found")).to_be_visible()
                page.screenshot(path=str(shots / f"auditor-notfound-{size}.png"), full_page=True)
                # the language switch of the page's header
                page.get_by_role("button", name="ES").click()
                expect(page.get_by_role("heading", name="No encontrado")).to_be_visible()
                context.close()
        finally:
            browser.close()


# -- a lab FortiGate with hostile names -------------------------------------------------------

# the override and the terminal's controls as their escapes: shown, never acted on
SHOWN_BIDI = BIDI.replace("\u202e", "\\u202e")
SHOWN_CONTROL = CONTROL.replace("\x1b", "\\x1b").replace("\x07", "\\x07")


def _nothing_injected(page: Page) -> None:
    """No element or script the device's names would have made, had they been taken as HTML."""
    assert page.locator("img[src=x]").count() == 0
    assert page.locator("[onerror]").count() == 0
    scripts = "() => [...document.scripts].filter(s => s.textContent.includes('alert')).length"
    assert page.evaluate(scripts) == 0
    html = page.content()
    assert "\u202e" not in html and "\x1b" not in html and "\x07" not in html


def _statuses_shown(page: Page) -> None:
    """Each control's row says what the state decides: its three failures, and passes."""
    from playwright.sync_api import expect

    rows = page.locator("table.findings tbody tr")
    for control in FAILS:
        row = rows.filter(has=page.get_by_text(control, exact=True))
        expect(row).to_have_count(1)
        expect(row).to_have_class(re.compile(r"\brow-fail\b"))
    for control in PASSES:
        row = rows.filter(has=page.get_by_text(control, exact=True))
        expect(row).to_have_count(1)
        expect(row).to_have_class(re.compile(r"\brow-pass\b"))
    expect(page.locator("table.findings tr.row-fail")).to_have_count(len(FAILS))
    expect(page.locator("table.findings tr.row-error")).to_have_count(0)


def _names_shown_as_text(page: Page) -> None:
    """The hostile names as the device gave them, in the rows that name them, and in evidence."""
    from playwright.sync_api import expect

    rows = page.locator("table.findings tbody tr")
    admins = rows.filter(has=page.get_by_text("access.admin_accounts", exact=True))
    # the observed value (the expected one is the policy's list), on screen
    expect(admins.locator(".value").filter(has_text=SCRIPT)).to_be_visible()
    logging = rows.filter(has=page.get_by_text("firewall.policy_logging", exact=True))
    expect(logging.locator(".value").filter(has_text=IMG)).to_be_visible()
    evidence = logging.locator("details.evidence")
    evidence.locator("summary").click()
    pre = evidence.locator("pre")
    # {{7*7}} as written: no template engine evaluated it
    for name in (SCRIPT, IMG, TEMPLATE + SHOWN_BIDI, "deny" + SHOWN_CONTROL):
        expect(pre).to_contain_text(name)
    _nothing_injected(page)


def test_a_technician_checks_a_hostile_fortigate_and_its_names_stay_text(
    lab_server: Server, shots: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    server = lab_server
    dialogs: list[str] = []
    client_url = f"{server.url}/clients/{CLIENT}"
    device_url = f"{client_url}/devices/{SITE}/{FIREWALL}"
    run_url = ""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            # the desktop first: it starts the check whose run both sizes then show
            for size in ("desktop", "phone"):
                width, height = SIZES[size]
                context = browser.new_context(
                    viewport={"width": width, "height": height}, locale="es-ES",
                    accept_downloads=True,
                )  # fmt: skip
                page = context.new_page()
                page.on("dialog", _dismissing(dialogs))

                def shot(name: str) -> None:
                    page.screenshot(path=str(shots / f"{name}-{size}.png"), full_page=True)  # noqa: B023

                page.goto(server.url + "/login")
                page.fill("#name", TECHNICIAN)
                page.fill("#password", PASSWORD)
                page.get_by_role("button", name="Iniciar sesión").click()
                expect(page).to_have_url(server.url + "/")
                page.get_by_role("link", name=LEGAL_NAME).click()
                expect(page).to_have_url(client_url)

                if size == "desktop":
                    expect(page.get_by_text(SCRIPT)).to_have_count(0)  # nothing read yet
                    page.select_option("#target", f"device:{SITE}/{FIREWALL}")
                    page.get_by_role("button", name="Lanzar verificación").click()
                    expect(page).to_have_url(re.compile(re.escape(server.url) + r"/checks/\d+$"))
                    # the page refreshes itself until the check ends
                    expect(page.locator(".check-state")).to_have_attribute(
                        "data-state", "done", timeout=60_000
                    )
                    shot("lab-check")
                    page.locator("a.run-link").click()
                    expect(page).to_have_url(re.compile(re.escape(server.url) + r"/runs/\d+$"))
                    run_url = page.url
                else:
                    page.goto(run_url)
                expect(
                    page.get_by_role("heading", name=re.compile(r"^Ejecución \d+"))
                ).to_be_visible()
                _statuses_shown(page)
                _names_shown_as_text(page)
                shot("lab-run")

                page.goto(device_url)
                expect(page.get_by_role("heading", name=FIREWALL)).to_be_visible()
                _statuses_shown(page)
                _names_shown_as_text(page)
                shot("lab-device")

                page.goto(client_url)
                failing = page.locator("table.stack tr.row-fail")
                expect(failing).to_have_count(len(FAILS))
                expect(failing.filter(has_text="access.admin_accounts")).to_contain_text(SCRIPT)
                expect(failing.filter(has_text="firewall.policy_logging")).to_contain_text(IMG)
                _nothing_injected(page)
                shot("lab-client")

                if size == "desktop":
                    page.goto(client_url + "/export")
                    with page.expect_download(timeout=60_000) as download:
                        page.get_by_role("button", name="Descargar el paquete firmado").click()
                    pack = tmp_path / download.value.suggested_filename
                    download.value.save_as(pack)
                    assert verify_pack(pack, public_key_path(server.key)).ok
                    with zipfile.ZipFile(pack) as z:
                        pages = [z.read(n).decode() for n in z.namelist() if n.endswith(".html")]
                    assert pages and all(SCRIPT not in html for html in pages)
                    assert any("&lt;script&gt;alert(1)&lt;/script&gt;" in html for html in pages)

                page.get_by_role("button", name="Cerrar sesión").click()
                expect(page).to_have_url(server.url + "/login")
                context.close()
        finally:
            browser.close()
    assert dialogs == []  # no script from the device ever ran
    assert {f"{name}-{size}.png" for name in ("lab-run", "lab-device", "lab-client")
            for size in SIZES} <= {f.name for f in shots.iterdir()}  # fmt: skip
