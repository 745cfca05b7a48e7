"""The evidence report's PDF: WeasyPrint renders it; its text has the Spanish headings and
every device; the first two pages are rendered to PNG for a person to look at."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from reports.evidence import render_html, render_pdf

from ._sample import DEVICES, evidence_data
from .test_html import HEADINGS

PREVIEW = Path("/tmp/evidence-preview")


@pytest.fixture(scope="module")
def pdf(tmp_path_factory) -> Path:
    html = render_html(evidence_data("es"))
    started = time.perf_counter()
    data = render_pdf(html)
    print(f"\nPDF (es) rendered in {time.perf_counter() - started:.2f} s, {len(data)} bytes")
    path = tmp_path_factory.mktemp("pdf") / "report.pdf"
    path.write_bytes(data)
    return path


def _text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_pdf_is_a4_with_numbered_pages(pdf):
    assert pdf.read_bytes().startswith(b"%PDF-")
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    assert "x 841.89 pts (A4)" in info
    pages = int(next(line for line in info.splitlines() if line.startswith("Pages:")).split()[1])
    assert pages >= 3
    assert f"Página {pages} / {pages}" in _text(pdf)


def test_pdf_text_has_spanish_headings_and_every_device(pdf):
    text = " ".join(_text(pdf).split())
    for heading in HEADINGS["es"]:
        assert heading in text
    for device in DEVICES:
        assert device in text
    assert "acme · 1 de noviembre de 2026 – 28 de noviembre de 2026" in text  # running header


def test_pdf_embeds_dejavu_fonts(pdf):
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True)
    assert "DejaVu-Sans" in fonts.stdout
    assert all(" yes " in line for line in fonts.stdout.splitlines()[2:])  # embedded


def test_first_pages_render_to_png(pdf):
    PREVIEW.mkdir(parents=True, exist_ok=True)
    for old in PREVIEW.glob("report-es-*.png"):
        old.unlink()
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "50",
            "-png",
            "-f",
            "1",
            "-l",
            "2",
            str(pdf),
            str(PREVIEW / "report-es"),
        ],
        check=True,
    )
    pngs = sorted(PREVIEW.glob("report-es-*.png"))
    print("\n" + "\n".join(f"preview: {p}" for p in pngs))
    assert len(pngs) == 2
    assert all(p.stat().st_size > 5000 for p in pngs)  # a blank page is ~1 kB


def test_external_resources_are_never_fetched(tmp_path):
    image = tmp_path / "pixel.png"
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "5",
            "-singlefile",
            "-f",
            "1",
            "-l",
            "1",
            str(_blank_pdf(tmp_path)),
            str(tmp_path / "pixel"),
        ],
        check=True,
    )
    assert image.stat().st_size > 0  # a real image the page names by file URL
    html = f'<html><body><img src="file://{image}"><p>x</p></body></html>'
    out = tmp_path / "out.pdf"
    out.write_bytes(render_pdf(html))
    images = subprocess.run(
        ["pdfimages", "-list", str(out)], check=True, capture_output=True, text=True
    )
    assert len(images.stdout.splitlines()) == 2  # header lines only: the image was not read


def _blank_pdf(tmp_path: Path) -> Path:
    path = tmp_path / "blank.pdf"
    path.write_bytes(render_pdf("<p>blank</p>"))
    return path
