"""findings.csv, junit.xml, the manifest format and VERIFY.txt."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, date, datetime

from baluarte.evidence.data import EvidenceData
from baluarte.evidence.pack import MANIFEST, SIGNATURE, manifest_bytes
from baluarte.evidence.tables import CSV_COLUMNS, findings_csv, junit_xml
from baluarte.evidence.verify_text import OPENSSL, SHA256SUM, verify_txt
from baluarte.findings import Finding, Severity, Status, WaiverRef
from baluarte.run import RunInfo, RunKind, RunRecord, RunState

T = datetime(2026, 11, 2, 9, tzinfo=UTC)


def f(control: str, status: Status, **kw: object) -> Finding:
    base: dict[str, object] = dict(
        client="acme", site="hq", device="srv", platform="linux", control=control,
        status=status, severity=Severity.LOW,
    )  # fmt: skip
    return Finding.model_validate(base | kw)


def data() -> EvidenceData:
    waiver = WaiverRef(reason="r", approved_by="IT", expires=date(2026, 1, 1), expired=True)
    run = RunRecord(
        info=RunInfo(
            id=7,
            kind=RunKind.CHECK,
            state=RunState.COMPLETE,
            started_at=T,
            operator="op",
            tool_version="1",
            inventory_sha256="0" * 64,
        ),
        findings=(
            f("a.pass", Status.PASS),
            f("a.fail", Status.FAIL, observed="off, really", waiver=waiver),
            f("a.error", Status.ERROR, reason="timeout"),
            f("a.waived", Status.WAIVED, waiver=waiver.model_copy(update={"expired": False})),
        ),
    )
    return EvidenceData(
        client="acme", legal_name=None, period_from=None, period_to=None, lang="es",
        generated_at=T, tool_version="1", operator="op", runs=(run,), devices_in_scope=(),
        files=(), drift=None, trend=(), chain=(), redacted=False,
    )  # fmt: skip


def test_csv_has_one_row_per_finding_with_waiver_columns() -> None:
    text = findings_csv(data()).removeprefix("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["status"] for r in rows] == ["pass", "fail", "error", "waived"]
    assert rows[1]["observed"] == "off, really" and rows[1]["waiver_expired"] == "yes"
    assert rows[3]["waiver_expired"] == "no" and rows[0]["waiver_expires"] == ""


def test_csv_opens_in_the_packs_language_as_verify_txt_says() -> None:
    accented = f("a.fail", Status.FAIL, observed="contraseña débil; ñandú", reason="configuración")
    for lang, sep in (("es", ";"), ("en", ",")):
        base = data()
        run = base.runs[0].model_copy(update={"findings": (accented,)})
        pack_bytes = findings_csv(replace(base, lang=lang, runs=(run,))).encode()
        assert pack_bytes.startswith(b"\xef\xbb\xbf")  # UTF-8 byte order mark: Excel reads UTF-8
        said = verify_txt(lang, "SHA256:ab", "pack.zip")  # type: ignore[arg-type]
        declared = re.search(r"findings\.csv:.*?\((.)\)", said, re.DOTALL)
        assert declared is not None and declared.group(1) == sep
        text = pack_bytes.decode("utf-8-sig")
        assert text.splitlines()[0] == sep.join(CSV_COLUMNS)
        [row] = list(csv.DictReader(io.StringIO(text), delimiter=declared.group(1)))
        assert row["observed"] == "contraseña débil; ñandú" and row["reason"] == "configuración"
        assert row["control"] == "a.fail"


def test_junit_maps_statuses() -> None:
    suite = ET.fromstring(junit_xml(data()).encode())[0]
    assert suite.get("tests") == "4" and suite.get("failures") == "1"
    assert suite.get("errors") == "1" and suite.get("skipped") == "1"
    kinds = [[c.tag for c in case] for case in suite]
    assert kinds == [[], ["failure"], ["error"], ["skipped"]]


def test_manifest_is_sha256sum_format_sorted_and_skips_itself() -> None:
    files = {"b.txt": b"b", "a/x.json": b"{}", MANIFEST: b"old", SIGNATURE: b"sig"}
    lines = manifest_bytes(files).decode().splitlines()
    assert lines == [
        f"{hashlib.sha256(b'{}').hexdigest()}  a/x.json",
        f"{hashlib.sha256(b'b').hexdigest()}  b.txt",
    ]


def test_verify_txt_gives_the_two_commands_in_both_languages() -> None:
    for lang, heading in (("es", "Cómo verificar"), ("en", "How to verify")):
        text = verify_txt(lang, "SHA256:ab", "pack.zip")  # type: ignore[arg-type]
        assert heading in text and SHA256SUM in text and OPENSSL in text
        assert "SHA256:ab" in text and "baluarte evidence verify pack.zip --key" in text


def test_the_tables_are_made_below_the_pdfs_priority() -> None:
    # two cores, three processes: the fork yields to the PDF's layout, the export's longest path
    from baluarte.evidence.pack import _FORK_NICENESS, _Forked

    here = os.nice(0)
    answer = _Forked(lambda: {"niceness": str(os.nice(0)).encode()}).result()
    assert int(answer["niceness"]) == min(19, here + _FORK_NICENESS) > here
    assert os.nice(0) == here  # this process keeps its own
