"""``baluarte report executive``: the monthly executive report on demand, from the service's
configuration or from the CLI's own inputs, signed beside it when the key is here; a month that
is not one, or has not begun, is a usage error (exit 2) that writes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.dates import format_skeleton

from baluarte.evidence.keys import init_key
from baluarte.timezones import zone
from reports.executive import Month
from tests.service._executive import executive_service, pdf_text, store_two_months, write_waivers

BIN = Path(sys.executable).parent / "baluarte"


@pytest.fixture
def setup(tmp_path: Path) -> Path:
    """The service's folder: serve.yaml, inventory.yaml, waivers.yaml and b.db with two months
    of acme's runs."""
    svc = executive_service(tmp_path, extra=f"waivers: {write_waivers(tmp_path)}\n")
    store_two_months(svc.db.store)
    svc.close()
    return tmp_path


def baluarte(folder: Path, *args: str, key: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"BALUARTE_SIGNING_KEY": str(key or folder / "no-key" / "key.pem")}
    env.pop("BALUARTE_DB", None)
    return subprocess.run(
        [str(BIN), "report", "executive", *args],
        capture_output=True, text=True, timeout=180, check=False, cwd=folder, env=env,
    )  # fmt: skip


def test_it_writes_the_pdf_and_its_signature(setup: Path) -> None:
    key = setup / "keys" / "signing-key.pem"
    public = init_key(key)
    out = setup / "out" / "acme-noviembre.pdf"
    done = baluarte(
        setup, "--client", "acme", "--month", "2026-11", "--config", "serve.yaml",
        "--out", str(out), key=key,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"wrote {out} and its signature {out}.sig" in done.stderr
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF-")
    public.verify(Path(f"{out}.sig").read_bytes(), pdf)  # raises when it does not verify
    text = " ".join(pdf_text(pdf, setup).split())
    assert "Informe ejecutivo de cumplimiento" in text and "Noviembre de 2026" in text
    assert "Buena situación y mejorando: se cumple el 91,7 % de las comprobaciones." in text
    assert "Ventana de mantenimiento acordada" in text  # the waivers of the config
    # the annex names the signature file as it was written
    assert "acme-noviembre.pdf.sig" in "".join(text.split())


def test_the_clis_own_inputs_and_english_and_no_stale_signature(setup: Path) -> None:
    out = setup / "report.pdf"
    Path(f"{out}.sig").write_bytes(b"an older report's signature")
    done = baluarte(
        setup, "--client", "acme", "--month", "2026-11", "--db", str(setup / "b.db"),
        "--inventory", "inventory.yaml", "--lang", "en", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "unsigned: no signing key" in done.stderr
    assert not Path(f"{out}.sig").exists()  # it would not match this PDF
    text = " ".join(pdf_text(out.read_bytes(), setup).split())
    assert "Executive compliance report" in text and "November 2026" in text
    assert "Good position, and improving: 91.7% of the checks are met." in text
    assert "No exception is in force." in text  # no waiver file given, none at ./policies


def test_without_a_month_it_is_the_last_whole_one(setup: Path) -> None:
    out = setup / "last.pdf"
    done = baluarte(setup, "--client", "acme", "--config", "serve.yaml", "--out", str(out))
    assert done.returncode == 0, done.stderr
    today = datetime.now(UTC).astimezone(zone("Europe/Madrid")).date()
    last = Month.before(today).first_day
    title = format_skeleton("yMMMM", last, locale="es_ES")
    assert title[:1].upper() + title[1:] in pdf_text(out.read_bytes(), setup)


@pytest.mark.parametrize("month", ["2026-13", "11-2026", "2026-1", "noviembre", "2026-00", ""])
def test_a_bad_month_is_a_usage_error(setup: Path, month: str) -> None:
    out = setup / "bad.pdf"
    done = baluarte(
        setup, "--client", "acme", "--month", month, "--config", "serve.yaml", "--out", str(out)
    )
    assert done.returncode == 2
    assert f"error: --month: {month!r} is not a month: expected YYYY-MM, e.g. 2026-11" in (
        done.stderr
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "2099-01"], "error: --month: 2099-01 has not begun yet (in Europe/Madrid)"),
        (["--client", "acmee"], "no client named 'acmee' in the inventory; did you mean 'acme'?"),
        (["--format", "json"], "report executive is a PDF of a month: no --format"),
        (["--out", ""], "give --out FILE.pdf"),
    ],
)
def test_other_mistakes_are_usage_errors(setup: Path, args: list[str], message: str) -> None:
    given = {"--client": "acme", "--out": str(setup / "x.pdf"), "--config": "serve.yaml"}
    for name, value in zip(args[::2], args[1::2], strict=True):
        given[name] = value
    flat = [item for name, value in given.items() if value for item in (name, value)]
    done = baluarte(setup, *flat)  # an empty value: the option left out
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert not (setup / "x.pdf").exists()
