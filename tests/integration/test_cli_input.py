"""Bad input through the real command: file:line:column, exit 2, no traceback, nothing stored."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests" / "samples" / "bad"
BIN = Path(sys.executable).parent / "baluarte"
GOOD_INVENTORY = ROOT / "inventory" / "example.yaml"
GOOD_POLICIES = ROOT / "policies" / "linux-baseline.yaml"
GOOD_WAIVERS = ROOT / "policies" / "waivers.yaml"

# sample -> (which input it is, the key path the message must name)
SAMPLES = {
    "yaml_syntax.yaml": ("inventory", None),
    "tab_indentation.yaml": ("inventory", None),
    "empty.yaml": ("inventory", None),
    "not_utf8.yaml": ("inventory", None),
    "duplicate_keys.yaml": ("inventory", "platform"),
    "duplicate_device_names.yaml": ("inventory", "name"),
    "unknown_key_adress.yaml": ("inventory", "adress"),
    "wrong_enum_platform.yaml": ("inventory", "platform"),
    "wrong_type_port.yaml": ("inventory", "port"),
    "literal_secret.yaml": ("inventory", "token"),
    "ansible_literal_password.yaml": ("inventory", "ansible_password"),
    "policy_unknown_control_key.yaml": ("policies", "default_inbound_dney"),
    "policy_unquoted_version.yaml": ("policies", "version"),
    "unknown_extends": ("policies", "extends"),
    "extends_cycle": ("policies", "extends"),
    "waiver_unknown_control.yaml": ("waivers", "control"),
    "waiver_without_expiry.yaml": ("waivers", "expires"),
}


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def inputs_with(kind: str, sample: Path) -> list[str]:
    chosen = {"inventory": GOOD_INVENTORY, "policies": GOOD_POLICIES, "waivers": GOOD_WAIVERS}
    chosen[kind] = sample
    return [
        "--inventory", str(chosen["inventory"]), "--policies", str(chosen["policies"]),
        "--waivers", str(chosen["waivers"]),
    ]  # fmt: skip


def assert_clean_error(result: subprocess.CompletedProcess[str], sample: Path) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    where = re.escape(str(sample)) if sample.is_file() else re.escape(str(sample)) + r"/[\w.]+"
    assert re.search(where + r":\d+:\d+: ", result.stderr), result.stderr


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_validate_reports_where_and_what(tmp_path, name):
    kind, key = SAMPLES[name]
    sample = BAD / name
    result = run("validate", *inputs_with(kind, sample), cwd=tmp_path)
    assert_clean_error(result, sample)
    if key:
        assert key in result.stderr
    assert "Sup3rS3cretT0ken" not in result.stderr + result.stdout
    assert "hunter2-literal" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    "name", ["unknown_key_adress.yaml", "extends_cycle", "waiver_without_expiry.yaml"]
)
def test_check_refuses_bad_input_before_touching_anything(tmp_path, name):
    kind, _ = SAMPLES[name]
    db = tmp_path / "runs.db"
    result = run("check", *inputs_with(kind, BAD / name), "--db", str(db), cwd=tmp_path)
    assert_clean_error(result, BAD / name)
    assert not db.exists()


def test_did_you_mean_for_a_misspelt_key(tmp_path):
    result = run(
        "validate", *inputs_with("inventory", BAD / "unknown_key_adress.yaml"), cwd=tmp_path
    )
    assert "did you mean 'address'" in result.stderr


def test_missing_files_are_named(tmp_path):
    missing = tmp_path / "nowhere.yaml"
    result = run("validate", *inputs_with("inventory", missing), cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert str(missing) in result.stderr
    named = run("validate", *inputs_with("waivers", tmp_path / "gone.yaml"), cwd=tmp_path)
    assert named.returncode == 2 and "gone.yaml" in named.stderr


def test_a_directory_given_as_waiver_file_is_an_error(tmp_path):
    result = run("validate", *inputs_with("waivers", tmp_path), cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert str(tmp_path) in result.stderr


def test_errors_in_several_files_are_all_reported(tmp_path):
    result = run(
        "validate",
        "--inventory", str(BAD / "unknown_key_adress.yaml"),
        "--policies", str(BAD / "policy_unknown_control_key.yaml"),
        "--waivers", str(BAD / "waiver_unknown_control.yaml"),
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    for name in ("unknown_key_adress", "policy_unknown_control_key", "waiver_unknown_control"):
        assert name in result.stderr


def test_unknown_selector_is_usage_error(tmp_path):
    result = run(
        "check", *inputs_with("inventory", GOOD_INVENTORY), "--client", "nobody",
        "--db", str(tmp_path / "runs.db"), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "nobody" in result.stderr and "demo" in result.stderr


def test_unknown_run_and_bad_store_url_are_clean_errors(tmp_path):
    missing = run("show", "42", "--db", str(tmp_path / "runs.db"), cwd=tmp_path)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr and "42" in missing.stderr
    secret = "pw-Zx81-never-shown"
    bad = run("runs", "--db", f"postgresql://u:{secret}@127.0.0.1:1/x", cwd=tmp_path)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert secret not in bad.stderr + bad.stdout


def test_shipped_inputs_validate_and_controls_list(tmp_path):
    ok = run("validate", *inputs_with("inventory", GOOD_INVENTORY), cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    listed = run("controls", "--platform", "linux", "--format", "json", cwd=tmp_path)
    assert listed.returncode == 0
    ids = [c["id"] for c in json.loads(listed.stdout)]
    assert "patching.security_updates_pending" in ids
    assert "firewall.no_any_any_accept" not in ids  # FortiGate only
    assert all("linux" in c["platforms"] for c in json.loads(listed.stdout))


@pytest.mark.parametrize(
    "args",
    [
        ["check", "--parallel", "0"],
        ["check", "--no-such-option"],
        ["apply", "--control", "no.such_control"],
        ["history", "--from", "28/11/2026"],
    ],
    ids=["bad-value", "unknown-option", "unknown-control", "bad-date"],
)
def test_usage_errors_exit_2_without_a_traceback(tmp_path, args):
    done = subprocess.run(
        [str(BIN), *args], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stderr.strip()


def test_demo_outside_the_project_folder_says_where_to_run_it(tmp_path):
    result = run("demo", "--db", str(tmp_path / "d.db"), cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "the demo runs from Baluarte's project folder" in result.stderr
    assert not (tmp_path / "baluarte-reports").exists() and not (tmp_path / "d.db").exists()


# -- issue 12, class 7: input that used to escape as a traceback or be silently misread -------

INVENTORY_TEXT = GOOD_INVENTORY.read_text()
WAIVER_TEXT = (
    "waivers:\n  - control: endpoint.disk_encryption\n    client: demo\n"
    "    devices: [this-machine]\n    reason: r\n    approved_by: a\n    expires: 2027-03-31\n"
)
# (which input, its text, the key path and the words the message must hold)
HOSTILE = {
    "waiver-feb-30": (
        "waivers", WAIVER_TEXT.replace("2027-03-31", "2026-02-30"), "waivers[0].expires",
        "'2026-02-30' is not a date the calendar has",
    ),
    "inventory-year-0": (
        "inventory", INVENTORY_TEXT.replace("tags: [server, demo]", "tags: [server, 0000-01-01]"),
        "tags[1]", "'0000-01-01' is not a date the calendar has",
    ),
    "policy-bool-max-hours": (
        "policies",
        GOOD_POLICIES.read_text().replace("max_hours: 26", "max_hours: true"),
        "backup.last_success_age.max_hours", "expected a whole number, found true",
    ),
    "inventory-bool-port": (
        "inventory", INVENTORY_TEXT.replace('address: "@local"', 'address: "@local"\n            port: true'),
        "port", "expected a whole number, found true",
    ),
    "waiver-unknown-device": (
        "waivers", WAIVER_TEXT.replace("this-machine", "this-machin"), "waivers[0].devices[0]",
        "no device named 'this-machin' in the inventory of site 'local' of client 'demo': the"
        " waiver would cover nothing; did you mean 'this-machine'?",
    ),
    "waiver-unknown-client": (
        "waivers", WAIVER_TEXT.replace("client: demo", "client: dmeo"), "waivers[0].client",
        "no client named 'dmeo'",
    ),
    "waiver-unknown-site": (
        "waivers", WAIVER_TEXT.replace("client: demo", "client: demo\n    site: lokal"),
        "waivers[0].site", "did you mean 'local'?",
    ),
    "yaml-int-tag": (
        "waivers", WAIVER_TEXT.replace("reason: r", "reason: !!int 'x'"), "waivers[0].reason",
        "'x' is not a valid !!int value",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_values_are_exit_2_with_file_line_column(tmp_path, case):
    kind, text, key, words = HOSTILE[case]
    sample = tmp_path / f"{kind}.yaml"
    sample.write_text(text)
    for command in ("validate", "check"):
        db = tmp_path / "runs.db"
        extra = ["--db", str(db)] if command == "check" else []
        result = run(command, *inputs_with(kind, sample), *extra, cwd=tmp_path)
        assert_clean_error(result, sample)
        assert key in result.stderr and words in result.stderr, result.stderr
        assert not db.exists()


@pytest.mark.parametrize(
    "url",
    [
        "mysql://u:pw-Zx81-never-shown@127.0.0.1/x",
        "postgresql+psycopg2://u:pw-Zx81-never-shown@127.0.0.1/x",
        "oracle://127.0.0.1/x",
        "sqlite+aiosqlite:///x.db",
    ],
)
def test_an_unknown_store_url_scheme_is_exit_2_naming_what_is_allowed(tmp_path, url):
    for args in (["runs"], ["check", *inputs_with("inventory", GOOD_INVENTORY)]):
        result = run(*args, "--db", url, cwd=tmp_path)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        assert "unsupported store URL scheme" in result.stderr
        assert "postgresql://USER@HOST/DATABASE" in result.stderr
        assert "pw-Zx81-never-shown" not in result.stdout + result.stderr


def test_a_50_mb_inventory_is_refused_in_bounded_time_and_memory(tmp_path):
    big = tmp_path / "fleet.yaml"
    device = (
        "          - {name: dev-%07d, platform: linux, address: 10.0.0.1,"
        " tags: [server, personal-data]}\n"
    )
    with big.open("w") as out:
        out.write("clients:\n  - name: acme\n    legal_name: A\n    sites:\n      - name: hq\n"
                  "        devices:\n")  # fmt: skip
        i = 0
        while out.tell() < 50 * 1024 * 1024:
            out.write("".join(device % n for n in range(i, i + 10_000)))
            i += 10_000
    started = time.monotonic()
    # 1 GB of address space: loading it whole used to take ~5 GB
    done = subprocess.run(
        ["bash", "-c", 'ulimit -v 1000000; exec "$@"', "_", str(BIN), "validate",
         *inputs_with("inventory", big)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert time.monotonic() - started < 30
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr
    assert f"{big}: the file is larger than" in done.stderr and "8 MiB" in done.stderr
