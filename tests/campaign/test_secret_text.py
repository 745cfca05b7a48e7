"""Secrets in error text (issue 12, class 5): every resolved secret is masked in every exception,
finding, log line, store row and report; a secret file that is not a plain secret is refused.

The secrets here are canaries: each test greps for every piece of them in what a person or a file
could see — the command's stdout and stderr, the store's raw bytes, the reports, the evidence pack.
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from baluarte.errors import DeviceError, InputError, InputErrors
from baluarte.findings import Finding, Severity, Status
from baluarte.masking import (
    Masker,
    forget_secrets,
    install_log_masking,
    mask_secrets,
    register_secret,
)
from baluarte.remediation import RemediationRecord, RemediationResult
from baluarte.run import RunKind
from baluarte.secrets import SecretRef, resolve

BIN = Path(sys.executable).parent / "baluarte"

# A token a library refuses to send (a newline, a DEL) and quotes back as b'Bearer …'.
NEWLINE_TOKEN = "Zq8vNL-first-line\nZq8vNL-second-line\x7f"
PIECES = ("Zq8vNL", "first-line", "second-line")


@pytest.fixture(autouse=True)
def clean_registry() -> Iterator[None]:
    forget_secrets()
    yield
    forget_secrets()


# -- the masking itself ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "secret",
    [NEWLINE_TOKEN, "pa'ss\"wörd\\x", "tab\tand\r\nCRLF-secret", "plain-Zq8v-secret"],
    ids=["newline-del", "quotes-unicode", "tab-crlf", "plain"],
)
def test_a_registered_secret_is_masked_in_every_shape_libraries_print_it(secret):
    register_secret(secret)
    shapes = [
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        quote(secret, safe=""),
        repr(secret),
        repr(secret.encode()),
        f"Illegal header value {('Bearer ' + secret).encode()!r}",
    ]
    for shape in shapes:
        masked = mask_secrets(f"before {shape} after")
        assert "***" in masked, shape
        for line in secret.splitlines():
            if len(line.strip()) >= 6:
                assert line.strip() not in masked, (shape, masked)


def test_each_line_of_a_multi_line_secret_is_masked_on_its_own():
    register_secret(NEWLINE_TOKEN)
    # a message that shows only the first line (a header cut at the newline)
    assert mask_secrets("sent Bearer Zq8vNL-first-line then") == "sent Bearer *** then"
    # short pieces are not masked alone: they would hide ordinary words everywhere
    register_secret("ab\nZq8v-longer-line")
    assert mask_secrets("ab cd") == "ab cd"


def test_a_device_masker_also_masks_every_registered_secret():
    register_secret("Zq8v-other-device-secret")
    mask = Masker(["Zq8v-this-device"])
    assert mask("Zq8v-this-device and Zq8v-other-device-secret") == "*** and ***"
    assert not Masker([None]) and Masker(["x"])  # truthy only with its own secrets


def test_every_baluarte_error_masks_registered_secrets():
    register_secret("Zq8v-in-an-error")
    single = InputError("bad Zq8v-in-an-error", code="wrong_value", key="k")
    assert "Zq8v" not in str(single) and "***" in str(single)
    assert "Zq8v" not in str(InputErrors([single, single]))
    assert str(DeviceError("refused Zq8v-in-an-error")) == "refused ***"


def test_log_lines_and_their_tracebacks_are_masked_whatever_the_handler():
    install_log_masking()
    register_secret(NEWLINE_TOKEN)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    parent = logging.getLogger("campaign_secret_text")
    parent.addHandler(handler)  # on the parent: the record propagates from a child logger
    parent.setLevel(logging.INFO)
    try:
        child = parent.getChild("collector")
        child.info("sending %s", NEWLINE_TOKEN)
        try:
            raise ValueError(f"Illegal header value {NEWLINE_TOKEN.encode()!r}")
        except ValueError:
            child.exception("collecting %s failed", "fw-hq")
    finally:
        parent.removeHandler(handler)
    text = stream.getvalue()
    assert "sending ***" in text and "collecting fw-hq failed" in text
    assert "Traceback" in text and "Illegal header value b'***'" in text
    for piece in PIECES:
        assert piece not in text


def test_a_crash_traceback_from_the_cli_is_masked(monkeypatch, capsys):
    from baluarte.cli import app as cli_app

    register_secret("Zq8v-crash-secret")

    def crash(**_: object) -> None:
        raise RuntimeError("library said Zq8v-crash-secret")

    monkeypatch.setattr(cli_app, "app", crash)
    with pytest.raises(SystemExit) as exited:
        cli_app.main()
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "RuntimeError: library said ***" in err and "Zq8v" not in err


# -- the store's writer is the last line of defence ------------------------------------------


def finding_with(text: str) -> Finding:
    return Finding(
        client="acme", site="hq", device="fw", platform="fortigate",
        control="access.admin_mfa", status=Status.ERROR, severity=Severity.HIGH,
        expected=f"e {text}", observed=f"o {text}", reason=f"r {text}", evidence=f"v {text}",
    )  # fmt: skip


def store_with_leaky_rows(db: str) -> int:
    from baluarte.store import Store

    with Store.open(db) as store:
        run_id = store.start_run(
            kind=RunKind.APPLY, operator="t", tool_version="0", inventory_sha256="1" * 64,
            files=[], scope={}, devices_total=1, started_at=datetime.now(UTC),
        )  # fmt: skip
        store.add_findings(run_id, [finding_with(f"Illegal header value {NEWLINE_TOKEN!r}")])
        record = RemediationRecord(
            client="acme", site="hq", device="fw", platform="fortigate",
            control="access.admin_mfa", result=RemediationResult.FAILED,
            before=NEWLINE_TOKEN, action=f"set {NEWLINE_TOKEN}", after="-",
            detail=f"device echoed {NEWLINE_TOKEN.encode()!r}",
        )  # fmt: skip
        store.add_remediations(run_id, [record])
        store.finish_run(run_id)
        stored = store.get_run(run_id)
    assert stored.findings[0].reason is not None and "***" in stored.findings[0].reason
    return run_id


def test_the_store_never_keeps_a_registered_secret_sqlite(tmp_path):
    register_secret(NEWLINE_TOKEN)
    db = tmp_path / "runs.db"
    store_with_leaky_rows(str(db))
    with sqlite3.connect(db) as conn:  # flush the WAL into the file before reading its bytes
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("runs.db"))
    for piece in PIECES:
        assert piece.encode() not in raw


@pytest.mark.postgres
def test_the_store_never_keeps_a_registered_secret_postgresql(pg_url):
    register_secret(NEWLINE_TOKEN)
    run_id = store_with_leaky_rows(pg_url)
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute(
            "SELECT f::text FROM findings f WHERE run_id = %s UNION ALL "
            "SELECT r::text FROM remediations r WHERE run_id = %s",
            (run_id, run_id),
        ).fetchall()
    dump = "\n".join(r[0] for r in rows)
    assert len(rows) == 2 and "***" in dump
    for piece in PIECES:
        assert piece not in dump


# -- end to end: the lab FortiGate, a token with a newline -----------------------------------


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args], cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip


def every_text(root: Path) -> Iterator[tuple[str, str]]:
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".pdf" and shutil.which("pdftotext"):
            pdf = subprocess.run(["pdftotext", path, "-"], capture_output=True, text=True)
            yield path.name, pdf.stdout
        yield path.name, path.read_bytes().decode("utf-8", "replace")


def test_a_newline_token_is_masked_in_findings_store_reports_and_the_pack(tmp_path):
    from baluarte.lab.fortigate import FortigateLab
    from baluarte.lab.fortigate.shipped import shipped_state
    from tests.integration.test_check_fortigate import write_inputs

    env = {"FW_TOKEN": NEWLINE_TOKEN, "BALUARTE_TEST_CANARY": "unused"}
    with FortigateLab(shipped_state("hardened"), tokens={"unused": "baluarte-ro"}) as unit:
        write_inputs(tmp_path, {"fw-hq": unit}, fortios={"token": "env:FW_TOKEN"})
        inputs = [
            "--inventory", str(tmp_path / "inventory.yaml"),
            "--policies", str(tmp_path / "policies"), "--waivers", str(tmp_path / "waivers.yaml"),
        ]  # fmt: skip
        db = str(tmp_path / "runs.db")
        checked = run(
            ["check", "--format", "json", "--db", db, "--artifacts", str(tmp_path / "a"), *inputs],
            tmp_path,
            env,
        )
    assert checked.returncode == 3, checked.stderr  # the unit could not be read
    found = json.loads(checked.stdout)["findings"]
    assert found and all(f["status"] == "error" for f in found)
    assert "Illegal header value b'Bearer ***'" in found[0]["reason"]
    outputs = {"check stdout": checked.stdout, "check stderr": checked.stderr}
    for fmt in ("json", "html"):
        shown = run(["report", "1", "--format", fmt, "--db", db], tmp_path, env)
        assert shown.returncode == 0, shown.stderr
        outputs[f"report {fmt}"] = shown.stdout + shown.stderr
    key = tmp_path / "keys" / "signing-key.pem"
    assert run(["keys", "init", "--key", str(key)], tmp_path, env).returncode == 0
    pack = tmp_path / "pack"
    exported = run(
        ["evidence", "export", "--client", "acme", "--db", db, "--key", str(key), "-o", str(pack),
         "--artifacts", str(tmp_path / "a")],
        tmp_path,
        env,
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    outputs.update(every_text(pack))
    outputs["store"] = b"".join(
        p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("runs.db")
    ).decode("latin-1")
    assert any("***" in text for text in outputs.values())
    for name, text in outputs.items():
        for piece in PIECES:
            assert piece not in text, f"{piece} in {name}"


# -- end to end: a secret reference to a file that is not a secret ---------------------------


def test_a_shadow_shaped_secret_file_is_refused_before_anything_reads_or_keeps_it(tmp_path):
    shadow = tmp_path / "shadow"
    shadow.write_text(
        "root:$y$j9T$Zq8vShadowSaltHash/AbCdEf:20000:0:99999:7:::\n"
        "maria:$y$j9T$Zq8vMariaHashXyZ:20000:0:99999:7:::\n"
    )
    shadow.chmod(0o640)  # as /etc/shadow: not world-readable, several lines
    (tmp_path / "inv.yaml").write_text(
        "clients:\n- name: acme\n  legal_name: ACME\n  sites:\n  - name: hq\n    devices:\n"
        "    - name: fw\n      platform: fortigate\n      address: 127.0.0.1\n"
        f'      fortios: {{token: "file:{shadow}", ca_bundle: /nonexistent.pem}}\n'
    )
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "p.yaml").write_text('id: p\nversion: "1"\ntitle: t\n')
    inputs = ["--inventory", str(tmp_path / "inv.yaml"), "--policies", str(tmp_path / "p")]
    db = tmp_path / "runs.db"
    for args in (["validate"], ["check", "--db", str(db)]):
        done = run([*args, *inputs], tmp_path, {})
        assert done.returncode == 2, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        assert f"{tmp_path / 'inv.yaml'}:10:17: " in done.stderr
        assert "secret file:" in done.stderr and "it holds 2 lines" in done.stderr
        for piece in ("Zq8v", "maria", "99999"):
            assert piece not in done.stdout + done.stderr
    assert not db.exists()


def test_a_file_secret_goes_through_resolve_and_is_masked_then(tmp_path):
    f = tmp_path / "token"
    f.write_text("Zq8v-file-token\n")
    f.chmod(0o600)
    assert resolve(SecretRef.parse(f"file:{f}")) == "Zq8v-file-token"
    assert mask_secrets("echo Zq8v-file-token") == "echo ***"
