"""The collectors page in a real browser: Debian's Chromium driven by Playwright against a real
``baluarte serve`` process and the real RabbitMQ, in Spanish and in English, on a desktop and a
phone. One collector works (its heartbeat's host name and version are hostile words), one has
gone silent, one was never seen and one is not provisioned; no script of the collector's ever
runs. Screenshots go to ``$BALUARTE_SCREENSHOTS`` (default: the test's temporary folder).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from baluarte.collectors.broker import parse_broker_url
from baluarte.collectors.health import HeartbeatSender
from baluarte.evidence.keys import init_key
from baluarte.service import accounts
from baluarte.service.db import ServiceDb
from tests.integration.rabbit import needs_rabbitmq, vhost
from tests.service._collectors import (
    HOSTILE_VERSION,
    HostileSender,
    write_config,
    write_inventory,
)
from tests.service._serve import serving
from tests.service._web import PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Dialog

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
SIZES = {"phone": (390, 844), "desktop": (1280, 900)}

pytestmark = [
    needs_rabbitmq,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]

WORDS = {
    "es": ("Colectores de sede", "En funcionamiento", "Sin señal desde hace", "Nunca visto",
           "Sin dar de alta", "Iniciar sesión"),
    "en": ("Site collectors", "Working", "Silent for", "Never seen", "Not provisioned",
           "Sign in"),
}  # fmt: skip


def _dismiss(dialog: Dialog, seen: list[str]) -> None:
    """A dialog is a script that ran: noted, and closed."""
    seen.append(dialog.message)
    dialog.dismiss()


def test_the_collectors_page_in_a_browser(tmp_path: Path):
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("BALUARTE_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    key = tmp_path / "keys" / "signing-key.pem"
    init_key(key)
    with vhost() as box:
        seen, never, quiet = (box.collector(n) for n in ("seen", "never", "quiet"))
        inventory = write_inventory(tmp_path, seen, never, f"{box.prefix}-ghost", quiet)
        config = write_config(
            tmp_path, inventory, broker_url=box.central, extra="collector_silent_after: 2\n"
        )
        db = ServiceDb.open(tmp_path / "runs.db")
        accounts.add_user(db, "tom", "technician", PASSWORD)
        db.close()
        working = HostileSender(parse_broker_url(box.urls[seen]), seen, interval=0.5)
        working.start()
        gone = HeartbeatSender(parse_broker_url(box.urls[quiet]), quiet, interval=60)
        gone.start()  # one heartbeat, then silence
        dialogs: list[str] = []
        try:
            with serving(config, tmp_path, key=key) as url, sync_playwright() as p:
                while gone.sent < 1 or time.time() - gone.started_at.timestamp() < 2.5:
                    time.sleep(0.1)
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
                try:
                    for lang, words in WORDS.items():
                        heading, ok, silent, never_seen, unprovisioned, sign_in = words
                        for size, (width, height) in SIZES.items():
                            context = browser.new_context(
                                viewport={"width": width, "height": height}
                            )
                            page = context.new_page()
                            page.on("dialog", lambda dialog: _dismiss(dialog, dialogs))
                            page.goto(f"{url}/login?lang={lang}&next=/collectors")
                            page.fill("#name", "tom")
                            page.fill("#password", PASSWORD)
                            page.get_by_role("button", name=sign_in).click()
                            expect(page.get_by_role("heading", name=heading)).to_be_visible()
                            rows = page.locator("table.collectors tbody tr")
                            expect(rows).to_have_count(4)
                            expect(rows.filter(has_text=seen)).to_contain_text(ok)
                            expect(rows.filter(has_text=quiet)).to_contain_text(silent)
                            expect(rows.filter(has_text=never)).to_contain_text(never_seen)
                            expect(rows.filter(has_text=f"{box.prefix}-ghost")).to_contain_text(
                                unprovisioned
                            )
                            # the collector's words, as words
                            expect(page.get_by_text(HOSTILE_VERSION)).to_be_visible()
                            assert page.locator("img[src=x]").count() == 0
                            page.screenshot(
                                path=str(shots / f"collectors-{lang}-{size}.png"), full_page=True
                            )
                            context.close()
                finally:
                    browser.close()
        finally:
            working.stop(5)
            gone.stop(5)
    assert dialogs == []
