"""The dashboard's "Collectors" page against the real RabbitMQ: each declared collector in the
state its broker says (working, never seen, not provisioned), its heartbeat's words shown as
text, in Spanish and in English; staff only; and a broker that cannot be reached, does not
answer or is not configured said on the page instead of an error.

The module's vhost holds collectors SEEN (heartbeats every 0.2 s, with hostile words in them)
and NEVER (provisioned, never started); GHOST is declared in the inventory only.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from baluarte.collectors.broker import parse_broker_url
from baluarte.errors import InputError
from baluarte.service import accounts
from baluarte.service.app import create_app
from baluarte.service.collectors import statuses
from baluarte.service.config import load_config
from baluarte.service.context import Service
from baluarte.service.db import ServiceDb
from tests.integration.rabbit import Vhost, needs_rabbitmq, vhost
from tests.service._collectors import (
    HOSTILE_HOST,
    HOSTILE_VERSION,
    HostileSender,
    write_config,
    write_inventory,
)
from tests.service._web import PASSWORD, TestClient, log_in

pytestmark = needs_rabbitmq


@dataclass
class Site:
    box: Vhost
    folder: Path
    seen: str
    never: str
    ghost: str
    service: Service


ACCOUNTS = (("ana", "admin", None), ("tom", "technician", None), ("aud", "auditor", ["acme"]))


def _service(
    folder: Path, inventory: Path, broker_url: str | None, accounts_made: int = 3
) -> Service:
    folder.mkdir(parents=True, exist_ok=True)
    config = load_config(write_config(folder, inventory, broker_url=broker_url))
    service = Service(config, ServiceDb.open(config.db_location), holder="test")
    for name, role, clients in ACCOUNTS[:accounts_made]:
        accounts.add_user(service.db, name, role, PASSWORD, clients=clients)
    return service


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("collectors-page")
    with vhost() as box:
        seen, never = box.collector("seen"), box.collector("never")
        ghost = f"{box.prefix}-ghost"
        inventory = write_inventory(folder, seen, never, ghost)
        sender = HostileSender(parse_broker_url(box.urls[seen]), seen, interval=0.2)
        sender.start()
        service = _service(folder / "svc", inventory, box.central)
        try:
            yield Site(box, folder, seen, never, ghost, service)
        finally:
            sender.stop(5)
            service.close()


def _web(service: Service, user: str = "ana", lang: str = "es") -> TestClient:
    web = TestClient(create_app(service, secure_cookies=False))
    web.get(f"/login?lang={lang}")
    assert log_in(web, user).status_code == 303
    return web


def _row(html: str, name: str) -> str:
    start = html.index(f"<code>{name}</code>")
    return html[start : html.index("</tr>", start)]


def test_each_declared_collector_is_shown_in_the_state_its_broker_says(site: Site):
    html = _web(site.service).get("/collectors").text
    assert '<a href="/collectors" aria-current="page">Colectores</a>' in html
    assert "<h1>Colectores de sede</h1>" in html
    assert "tras 1 minuto sin enviar latidos" in html  # 90 s, as a person says it
    seen = _row(html, site.seen)
    assert "En funcionamiento" in seen and "st-pass" in seen
    assert re.search(r"hace \d+ segundos?<", seen)
    assert '<td data-label="Tareas en cola" class="num"><span class="count count-ok">0<' in seen
    # the collector's words are text: escaped, and its escape and override made visible
    assert "<script" not in html and "<img src=x" not in html and "\x1b" not in html
    assert "\u202e" not in html and HOSTILE_HOST not in html and HOSTILE_VERSION not in html
    assert "&lt;script&gt;alert(&#34;host&#34;)&lt;/script&gt;\\x1b[2J\\u202epi-madrid" in seen
    assert "&lt;img src=x onerror=alert(1)&gt;" in seen
    # the inventory's description too, and the sites the collector serves
    assert "Raspberry Pi &lt;b&gt;in the rack&lt;/b&gt; of ACME Madrid" in seen
    assert '<a href="/clients/acme">acme</a> / madrid' in seen
    never = _row(html, site.never)
    assert "Nunca visto" in never and '<span class="muted">—</span>' in never
    assert '<a href="/clients/beta">beta</a> / bilbao' in never  # bound by its client
    ghost = _row(html, site.ghost)
    assert "Sin dar de alta" in ghost
    assert f"baluarte collectors provision {site.ghost}" in ghost
    kpis = html[html.index('class="kpis"') : html.index("</ul>", html.index('class="kpis"'))]
    assert [int(n) for n in re.findall(r'kpi-value">(\d+)<', kpis)] == [3, 1, 2]
    assert "gamma" not in html  # collected directly: no collector of its own


def test_the_page_speaks_english_too(site: Site):
    html = _web(site.service, "tom", "en").get("/collectors").text
    assert "<h1>Site collectors</h1>" in html
    seen = _row(html, site.seen)
    assert "Working" in seen and re.search(r"\d+ seconds? ago<", seen)
    assert "Never seen" in _row(html, site.never)
    assert "Not provisioned" in _row(html, site.ghost)
    for spanish in ("Colector", "Sedes", "Nunca visto", "hace ", "Tareas en cola"):
        assert spanish not in html


def test_an_auditor_neither_sees_the_page_nor_its_link(site: Site):
    web = _web(site.service, "aud")
    answer = web.get("/collectors")
    assert answer.status_code == 403 and site.seen not in answer.text
    assert 'href="/collectors"' not in web.get("/").text


def test_a_broker_that_cannot_be_reached_or_is_not_configured_is_said_on_the_page(
    site: Site,
):
    inventory = site.folder / "inventory.yaml"
    down = _service(site.folder / "down", inventory, "amqp://guest:s3cret-Pw@127.0.0.1:1/x", 1)
    none = _service(site.folder / "none", inventory, None, 1)
    try:
        answer = _web(down).get("/collectors")
        assert answer.status_code == 200
        assert "No se puede consultar el broker en este momento" in answer.text
        assert "127.0.0.1:1" in answer.text and "s3cret-Pw" not in answer.text
        # what went wrong in the page's language too (the OS's own words stay as it said them)
        assert "no se puede contactar con el broker amqp://guest:***@127.0.0.1:1/x" in answer.text
        assert "cannot reach" not in answer.text
        assert "Desconocido" in _row(answer.text, site.seen)  # still listed
        answer = _web(none, lang="en").get("/collectors")
        assert answer.status_code == 200 and "No broker is configured" in answer.text
        assert "Unknown" in _row(answer.text, site.never)
    finally:
        down.close()
        none.close()


def test_a_broker_that_does_not_answer_is_given_up_after_the_timeout():
    # a port that accepts connections and never speaks: the AMQP handshake would wait 10 s
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        port = listener.getsockname()[1]
        broker = parse_broker_url(f"amqp://guest:guest@127.0.0.1:{port}/x")
        with pytest.raises(InputError, match=r"did not answer within 0\.5 s"):
            statuses(broker, ["madrid"], timeout=0.5)
