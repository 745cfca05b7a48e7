"""The dashboard in a real browser: Debian's Chromium driven by Playwright against a real
``baluarte serve`` process on 127.0.0.1.

Signs in, reads the overview, opens a client, starts a check of one device and follows it to
its run, downloads the signed evidence pack, signs out; an auditor meets another client's page
as "not found"; device text with markup stays text (no dialog ever opens). Screenshots of each
page at 1280×900 and 390×844 go to ``$BALUARTE_SCREENSHOTS`` (default: the test's temporary
folder), to be looked at.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from baluarte.evidence.keys import init_key, public_key_path
from baluarte.evidence.verify import verify_pack
from tests.service._web import HOSTILE, PASSWORD, build

CHROMIUM = Path("/usr/bin/chromium")
BIN = Path(sys.executable).parent / "baluarte"
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    key = tmp_path / "keys" / "signing-key.pem"
    env = {
        **os.environ,
        "BALUARTE_SIGNING_KEY": str(key),
        # the service keeps its session key here: never in the tester's home
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    env.pop("BALUARTE_SIGNING_PASSPHRASE", None)
    os.environ["BALUARTE_SIGNING_KEY"] = str(key)  # the runs built below are signed with it
    try:
        init_key(key)
        dash = build(tmp_path / "svc")
        dash.service.close()
    finally:
        os.environ.pop("BALUARTE_SIGNING_KEY")
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [str(BIN), "serve", "--config", str(tmp_path / "svc" / "serve.yaml"),
         "--host", "127.0.0.1", "--port", str(port), "--insecure-cookies"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield Server(url, tmp_path, dash.runs, key)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


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
                page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

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
