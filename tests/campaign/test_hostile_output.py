"""Issue 12, class 3 (+ the PDF bound of class 7): untrusted text stays inert, on every platform and
in every output.

One inventory holds a real lab Linux host, the FortiOS emulator and the WinRM lab server, each
saying hostile things in the places a device chooses: an account name with UID 0 (Linux), a
firewall policy name and a one-megabyte one (FortiGate), a local administrator's name and a
firewall rule's (Windows). Each carries Rich markup that crashes a renderer (``[/x]``), a live
hyperlink, a fake green PASS, HTML, a formula, terminal escapes (``ESC[2J``, an OSC 8 link, the
8-bit CSI) and a bidi override. The Linux host also prints bytes that are not UTF-8 (a Latin-1
comment in rsyslog.conf, a Latin-1 path in a sudo rule).

One ``check`` stores one run; every output is then read with a real parser: the terminal in a
pipe and in a pseudo-terminal (``check``, ``show``), the HTML and JSON reports, and the evidence
pack (HTML, PDF through pdftotext, CSV, JUnit through defusedxml, OSCAL through
compliance-trestle, results.json), plus ``validate`` with a hostile key.

Before this change: ``check`` crashed after storing its run (exit 1 instead of 3 or 1), ``show``
of the run crashed forever, the Linux host was an ``error`` ("printed no JSON document"), the
escapes reached the terminal, the HTML, the CSV and junit.xml (invalid XML), and the export of a
one-megabyte value ran for hours in PDF line breaking.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET
import pytest
from tinyhtml5.parser import HTMLParser
from trestle.oscal.assessment_results import Model

from baluarte.engine import exit_status
from baluarte.evidence.keys import init_key
from baluarte.lab.fortigate import FortigateLab
from baluarte.lab.fortigate.shipped import shipped_state as fortigate_state
from baluarte.lab.linux_hosts import LinuxHost, LinuxHostLab
from baluarte.lab.windows import WindowsLab
from baluarte.lab.windows.shipped import shipped_state as windows_state
from baluarte.store import Store
from reports.html_report import EVIDENCE_MAX_CHARS
from tests.integration import conftest as hosts
from tests.integration.cli import BIN, CANARY
from tests.terminal import run_in_terminal

lab = hosts.lab  # the lab fixture of tests/integration, here too


def hostile(tag: str, *, surrogate: str = "") -> str:
    """What a device may call something: markup, a link, a fake PASS, HTML, escapes (clear
    screen, OSC 8 hyperlink, 8-bit CSI), a bidi override (and, in JSON, a lone surrogate)."""
    return (
        f"{tag}[/x][link=evil.example/{tag}]{tag}-click[/link][green]PASS[/green]"
        f"<b>{tag}</b>\x1b[2J\x1b]8;;evil.example/\x07\x9b31m\u202e{surrogate}{tag}-end"
    )


def shown(tag: str, *, linux: bool = False) -> str:
    """The same text as every output must show it: escapes visible, nothing acted on. Linux's
    script drops C0 control characters itself, so ESC and BEL never leave a Linux host."""
    if linux:
        return (
            f"{tag}[/x][link=evil.example/{tag}]{tag}-click[/link][green]PASS[/green]"
            f"<b>{tag}</b>[2J]8;;evil.example/\\x9b31m\\u202e{tag}-end"
        )
    return (
        f"{tag}[/x][link=evil.example/{tag}]{tag}-click[/link][green]PASS[/green]"
        f"<b>{tag}</b>\\x1b[2J\\x1b]8;;evil.example/\\x07\\x9b31m\\u202e\\ud800{tag}-end"
    )


TAGS = {"linux": "lx", "fortigate": "fg", "windows": "win"}
DEVICES = {"linux": "srv-hostile", "fortigate": "fw-hostile", "windows": "pc-hostile"}
LINUX_ACCOUNT = hostile("lx")  # no ":" in it: that would end the name in /etc/passwd
# a one-megabyte FortiGate policy name, in words: every space a place WeasyPrint may break a
# line, the case whose layout time grows with the square of its length (15+ minutes before)
MEGABYTE = "word " * 200_000
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
OSC_OR_CSI = re.compile("\x1b\\]|\x1b\\[2J|\x9b")
SGR = re.compile("\x1b\\[[0-9;]*m")

LINUX_POLICY = """\
id: hostile-linux
version: "1"
title: hostile output (Linux)
applies_to: {platform: linux}
access:
  admin_accounts: {allowed: [root]}
logging:
  remote_forwarding: {required: true}
"""
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class World:
    tmp: Path
    db: Path
    run_id: int
    check: subprocess.CompletedProcess[str]
    run: Any  # the stored RunRecord


def _fortigate() -> dict[str, Any]:
    state = fortigate_state("small-office")
    policies = state["vdoms"]["root"]["firewall/policy"]
    policies[0]["name"] = hostile("fg", surrogate="\ud800")
    policies[2]["name"] = MEGABYTE  # policy 3: no profiles, no logging, named in findings
    return state


def _windows() -> dict[str, Any]:
    state = windows_state("office-pc")
    checks = state["output"]["checks"]
    name = hostile("win", surrogate="\ud800")
    checks["localadmins"]["data"]["Members"][1]["Name"] = "PC-RECEPCION\\" + name
    for rule in checks["firewall.rules"]["data"]["Rules"]:
        rule["DisplayName"] = name
    return state


def _linux(host: LinuxHost) -> None:
    # a second UID 0 account, named by whoever could write /etc/passwd (or a directory service)
    line = f"{LINUX_ACCOUNT}:x:0:0::/root:/bin/sh\n"
    with (host.root / "etc/passwd").open("a", encoding="utf-8") as fh:
        fh.write(line)
    # bytes that are not UTF-8: a Latin-1 comment, a Latin-1 path in a sudo rule
    with (host.root / "etc/rsyslog.conf").open("ab") as fh:
        fh.write(b"# configuraci\xf3n de la oficina\n")
    rule = host.root / "etc/sudoers.d/oficina"
    rule.write_bytes(b"root ALL=(ALL) NOPASSWD: /usr/local/bin/caf\xe9\n")
    rule.chmod(0o440)


def _inventory(tmp: Path, the_lab: LinuxHostLab, host: LinuxHost, fg: FortigateLab,
               win: WindowsLab) -> None:  # fmt: skip
    devices = f"""\
        - name: {DEVICES["linux"]}
          platform: linux
          address: {host.address}
          ssh: {{user: root, key: "file:{the_lab.key_path}", known_hosts: {the_lab.known_hosts_path}}}
        - name: {DEVICES["fortigate"]}
          platform: fortigate
          address: {fg.host}
          port: {fg.port}
          fortios: {{token: "env:BALUARTE_TEST_CANARY", vdom: root, ca_bundle: "{fg.ca_path}"}}
        - name: {DEVICES["windows"]}
          platform: windows
          address: {win.host}
          port: {win.port}
          winrm: {{user: baluarte, password: "env:BALUARTE_TEST_CANARY", auth: ntlm, https: false}}
    """
    (tmp / "inventory.yaml").write_text(
        "clients:\n  - name: acme\n    legal_name: ACME Asesores S.L.\n    sites:\n"
        "      - name: hq\n        devices:\n" + textwrap.indent(textwrap.dedent(devices), " " * 10)
    )
    policies = tmp / "policies"
    policies.mkdir()
    (policies / "linux.yaml").write_text(LINUX_POLICY)
    for name in ("fortigate-baseline.yaml", "windows-baseline.yaml"):
        shutil.copy(ROOT / "policies" / name, policies / name)
    (tmp / "waivers.yaml").write_text("waivers: []\n")


def run(world_tmp: Path, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    """The real command, in a pipe, wide enough that no table folds a name."""
    env = {**os.environ, "BALUARTE_TEST_CANARY": CANARY, "COLUMNS": "4000", "TERM": "dumb",
           "BALUARTE_ARTIFACTS": str(world_tmp / "artifacts")}  # fmt: skip
    return subprocess.run(
        [str(BIN), *args], capture_output=True, text=True, env=env, cwd=world_tmp, timeout=600,
        **kw,
    )  # fmt: skip


def inputs(tmp: Path) -> list[str]:
    return ["--inventory", str(tmp / "inventory.yaml"), "--policies", str(tmp / "policies"),
            "--waivers", str(tmp / "waivers.yaml")]  # fmt: skip


@pytest.fixture(scope="module")
def world(lab: LinuxHostLab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("hostile")
    host = lab.up("hostile-out")
    try:
        _linux(host)
        with (
            FortigateLab(_fortigate(), tokens={CANARY: "baluarte-ro"}) as fg,
            WindowsLab(_windows(), users={"baluarte": CANARY}, auth="ntlm") as win,
        ):
            _inventory(tmp, lab, host, fg, win)
            db = tmp / "runs.db"
            check = run(tmp, "check", "--db", str(db), "--artifacts", str(tmp / "artifacts"),
                        *inputs(tmp))  # fmt: skip
        with Store.open(db) as store:
            stored = store.list_runs(limit=1)[0]
            record = store.get_run(stored.id)
        yield World(tmp, db, stored.id, check, record)
    finally:
        lab.down(host)


def _visible(platform: str) -> str:
    return shown(TAGS[platform], linux=platform == "linux")


PLATFORMS = sorted(TAGS)


# -- the run itself ---------------------------------------------------------------------------


def test_check_stores_the_run_and_exits_as_its_findings_say(world: World) -> None:
    assert "Traceback" not in world.check.stderr, world.check.stderr[-3000:]
    assert world.check.returncode == exit_status(world.run), world.check.stderr[-3000:]
    assert world.run.info.state == "complete"
    devices = {f.device for f in world.run.findings}
    assert devices == set(DEVICES.values())


@pytest.mark.parametrize("platform", PLATFORMS)
def test_each_platform_said_its_hostile_text_and_the_store_holds_it_inert(
    world: World, platform: str
) -> None:
    own = [f for f in world.run.findings if f.device == DEVICES[platform]]
    texts = [t for f in own for t in (f.expected, f.observed, f.reason, f.evidence) if t]
    assert any(_visible(platform) in t for t in texts), texts[:5]
    assert not any(RAW_CONTROL.search(t) for t in texts)


def test_bytes_that_are_not_utf8_cost_the_linux_host_nothing_and_are_named(world: World) -> None:
    own = {f.control: f for f in world.run.findings if f.device == DEVICES["linux"]}
    assert {f.status for f in own.values()} <= {"pass", "fail"}, {
        c: (f.status, f.reason) for c, f in own.items()
    }
    sudo = own["access.admin_accounts"].evidence or ""
    assert "/usr/local/bin/caf\ufffd" in sudo
    assert "not UTF-8 (in access.sudo)" in sudo
    assert "not UTF-8 (in logging." in (own["logging.remote_forwarding"].evidence or "")


# -- the terminal ----------------------------------------------------------------------------


def _terminal_shows(text: str, platform: str) -> None:
    assert not RAW_CONTROL.search(text.replace("\n", ""))
    assert _visible(platform) in text  # not interpreted: the markup is there, as text


@pytest.mark.parametrize("platform", PLATFORMS)
def test_check_in_a_pipe_prints_hostile_text_as_text(world: World, platform: str) -> None:
    _terminal_shows(world.check.stdout, platform)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_show_later_in_a_pipe(world: World, platform: str) -> None:
    done = run(world.tmp, "show", str(world.run_id), "--all", "--db", str(world.db))
    assert done.returncode == 0, done.stderr[-3000:]
    _terminal_shows(done.stdout, platform)


def test_show_on_a_terminal_has_our_colours_and_no_link_or_escape_of_theirs(world: World) -> None:
    code, text = run_in_terminal(["show", str(world.run_id), "--all", "--db", str(world.db)],
                                 cwd=world.tmp, columns=4000, timeout=300)  # fmt: skip
    assert code == 0, text[-3000:]
    assert SGR.search(text)  # a terminal: Rich coloured the statuses
    assert not OSC_OR_CSI.search(text)  # no hyperlink (OSC 8), no clear screen, no 8-bit CSI
    plain = SGR.sub("", text).replace("\r\n", "\n")
    assert "\x1b" not in plain
    for platform in PLATFORMS:
        assert _visible(platform) in plain


# -- reports ---------------------------------------------------------------------------------


def _html_ok(html: str) -> None:
    parser = HTMLParser()
    parser.parse(html)
    assert parser.errors == []
    assert not RAW_CONTROL.search(html)
    assert 'href="evil.example' not in html and "<b>fg</b>" not in html
    for platform in PLATFORMS:
        assert _visible(platform).replace("<", "&lt;").replace(">", "&gt;") in html


def test_html_report(world: World) -> None:
    out = world.tmp / "run.html"
    done = run(world.tmp, "report", str(world.run_id), "-f", "html", "-o", str(out),
               "--db", str(world.db))  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    html = out.read_text(encoding="utf-8")
    _html_ok(html)
    # the one-megabyte name: cut for the page (the JSON report keeps it whole)
    assert MEGABYTE[:500] in html and MEGABYTE[: EVIDENCE_MAX_CHARS + 5] not in html


def test_json_report_keeps_whole_values(world: World) -> None:
    done = run(world.tmp, "report", str(world.run_id), "-f", "json", "--db", str(world.db))
    assert done.returncode == 0, done.stderr[-3000:]
    doc = json.loads(done.stdout)
    texts = [f.get("observed") or "" for f in doc["findings"]]
    assert any(MEGABYTE in t for t in texts)
    for platform in PLATFORMS:
        assert any(_visible(platform) in json.dumps(f, ensure_ascii=False).replace("\\\\", "\\")
                   for f in doc["findings"])  # fmt: skip


# -- the evidence pack -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def pack(world: World) -> tuple[Path, float]:
    key = world.tmp / "keys" / "signing-key.pem"
    init_key(key)
    out = world.tmp / "pack"
    started = time.monotonic()
    done = run(world.tmp, "evidence", "export", "--client", "acme", "-o", str(out),
               "--key", str(key), "--db", str(world.db))  # fmt: skip
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-3000:]
    return out, took


def test_export_with_a_megabyte_value_finishes_in_bounded_time(pack: tuple[Path, float]) -> None:
    assert pack[1] < 120, f"evidence export took {pack[1]:.0f} s"  # a bound: it was hours


def test_pack_html(pack: tuple[Path, float]) -> None:
    _html_ok((pack[0] / "report.html").read_text(encoding="utf-8"))


def test_pack_pdf(pack: tuple[Path, float]) -> None:
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pack[0] / "report.pdf"), "-"],
                          check=True, capture_output=True, text=True).stdout  # fmt: skip
    assert not RAW_CONTROL.search(text.replace("\x0c", ""))
    # pdftotext drops the hyphen where a line broke at one
    flat = "".join(text.split()).replace("-", "")
    for platform in PLATFORMS:
        assert "".join(_visible(platform).split()).replace("-", "") in flat


def test_pack_csv(pack: tuple[Path, float]) -> None:
    text = (pack[0] / "findings.csv").read_text(encoding="utf-8-sig")  # a Spanish pack: ";"
    assert not RAW_CONTROL.search(text.replace("\r\n", ""))
    rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))
    header = text.splitlines()[0].split(";")
    assert rows and all(len(r) == len(header) and None not in r for r in rows)
    cells = {c for r in rows for c in r.values()}
    for platform in PLATFORMS:
        assert any(_visible(platform) in c for c in cells)


def test_pack_junit(pack: tuple[Path, float]) -> None:
    root = SafeET.fromstring((pack[0] / "junit.xml").read_bytes())
    texts = [v for e in root.iter() for v in (e.text or "", *e.attrib.values())]
    for platform in PLATFORMS:
        assert any(_visible(platform) in t for t in texts)


def test_pack_oscal(pack: tuple[Path, float]) -> None:
    text = (pack[0] / "oscal-assessment-results.json").read_text(encoding="utf-8")
    Model.parse_obj(json.loads(text))
    assert not RAW_CONTROL.search(text)


def test_pack_results_json_keeps_whole_values(pack: tuple[Path, float]) -> None:
    doc = json.loads((pack[0] / "results.json").read_text(encoding="utf-8"))
    observed = [f.get("observed") or "" for r in doc["runs"] for f in r["findings"]]
    assert any(MEGABYTE in o for o in observed)


def test_pack_verifies(world: World, pack: tuple[Path, float]) -> None:
    done = run(world.tmp, "evidence", "verify", str(pack[0]))
    assert done.returncode == 0, done.stdout + done.stderr


# -- input files -----------------------------------------------------------------------------


def test_validate_names_a_hostile_key_without_acting_on_it(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "inventory.yaml").write_text(
        'clients:\n  - name: acme\n    legal_name: ACME\n    "\\e[2J[/x][link=evil.example/]'
        'k[/link]\\u202e": 1\n    sites: []\n'
    )
    (tmp_path / "waivers.yaml").write_text("waivers: []\n")
    done = run(tmp_path, "validate", *inputs(tmp_path))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "\\x1b[2J[/x][link=evil.example/]k[/link]\\u202e" in done.stderr
    assert not RAW_CONTROL.search(done.stderr.replace("\n", ""))
    code, text = run_in_terminal(["validate", *inputs(tmp_path)], cwd=tmp_path, columns=4000)
    assert code == 2 and not OSC_OR_CSI.search(text) and "[/x]" in SGR.sub("", text)
