"""Bad input through the real command: file:line:column, exit 2, no traceback, nothing stored."""

from __future__ import annotations

import json
import re
import subprocess
import sys
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
