"""The evidence export from the dashboard: the command's signed pack, as a download."""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from baluarte.evidence.keys import init_key, public_key_path
from baluarte.evidence.verify import verify_pack
from baluarte.service import audit
from baluarte.service.app import create_app
from tests.service._web import Dashboard, TestClient, build, csrf_of, log_in


@pytest.fixture
def temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The process's temporary folder, watched: the pack's folder must be gone after."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def signing_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    key = tmp_path / "keys" / "signing-key.pem"
    monkeypatch.setenv("BALUARTE_SIGNING_KEY", str(key))
    monkeypatch.delenv("BALUARTE_SIGNING_PASSPHRASE", raising=False)
    init_key(key)
    return key


@pytest.fixture
def dash(tmp_path: Path, signing_key: Path) -> Iterator[Dashboard]:
    d = build(tmp_path / "svc")  # its runs are signed with the key, as the service's would be
    yield d
    d.service.close()


def _tech(dash: Dashboard) -> tuple[TestClient, str]:
    web = TestClient(create_app(dash.service, secure_cookies=False))
    assert log_in(web, "tom").status_code == 303
    page = web.get("/clients/acme/export")
    assert page.status_code == 200
    return web, csrf_of(page.text)


def test_a_technician_downloads_the_signed_pack_of_a_period(
    dash: Dashboard, signing_key: Path, temp: Path, tmp_path: Path
):
    web, token = _tech(dash)
    today = datetime.now(UTC).date()
    answer = web.post(
        "/clients/acme/export",
        data={"csrf_token": token, "from": (today - timedelta(days=7)).isoformat(),
              "to": today.isoformat()},
    )  # fmt: skip
    assert answer.status_code == 200, answer.text[:500]
    assert answer.headers["content-type"] == "application/zip"
    assert "baluarte-evidence-acme-" in answer.headers["content-disposition"]
    pack = tmp_path / "pack.zip"
    pack.write_bytes(answer.content)
    result = verify_pack(pack, public_key_path(signing_key))
    assert result.ok, result.problems
    with zipfile.ZipFile(io.BytesIO(answer.content)) as z:
        names = z.namelist()
    assert {"MANIFEST.sha256", "MANIFEST.sha256.sig", "report.pdf", "report.html"} <= {
        n.rsplit("/", 1)[-1] for n in names
    }, names
    [entry] = [e for e in audit.recent(dash.service.db) if e.action == "export"]
    assert (entry.user_name, entry.client) == ("tom", "acme")
    # the period's runs of acme (beta's run is only a link of the chain)
    assert entry.detail["runs"] == 2 and entry.detail["to"] == today.isoformat()
    assert list(temp.iterdir()) == []  # the pack's folder is removed once sent


def test_without_a_signing_key_nothing_is_exported_and_the_page_says_why(
    dash: Dashboard, signing_key: Path, temp: Path
):
    web, token = _tech(dash)
    signing_key.rename(signing_key.with_suffix(".moved"))
    answer = web.post("/clients/acme/export", data={"csrf_token": token, "from": "", "to": ""})
    assert answer.status_code == 503
    assert "Falta la clave de firma" in answer.text
    assert list(temp.iterdir()) == []
    assert not [e for e in audit.recent(dash.service.db) if e.action == "export"]


def test_a_period_that_ends_before_it_starts_is_refused(dash: Dashboard, temp: Path):
    web, token = _tech(dash)
    answer = web.post(
        "/clients/acme/export", data={"csrf_token": token, "from": "2026-05-02", "to": "2026-05-01"}
    )
    assert answer.status_code == 400 and "El primer día es posterior al último." in answer.text
    bad = web.post("/clients/acme/export", data={"csrf_token": token, "from": "yesterday"})
    assert bad.status_code == 400
    assert list(temp.iterdir()) == []


def test_an_auditor_exports_only_the_clients_given_to_them(dash: Dashboard, signing_key: Path):
    web = TestClient(create_app(dash.service, secure_cookies=False))
    assert log_in(web, "aud").status_code == 303  # an auditor of beta only
    form = web.get("/clients/beta/export")
    assert form.status_code == 200
    token = csrf_of(form.text)
    own = web.post("/clients/beta/export", data={"csrf_token": token, "from": "", "to": ""})
    assert own.status_code == 200 and own.headers["content-type"] == "application/zip"
    other = web.post("/clients/acme/export", data={"csrf_token": token, "from": "", "to": ""})
    assert other.status_code == 404
    exports = [e for e in audit.recent(dash.service.db) if e.action == "export"]
    assert [(e.user_name, e.client) for e in exports] == [("aud", "beta")]
