"""The saved plan file (baluarte/saved_plan.py): written 0600, read back whole or refused with
file:line:column; a device's fresh plan compared with its saved one; inputs compared by content."""

from __future__ import annotations

import hashlib
import json
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from baluarte.engine import Inputs, load_inputs
from baluarte.errors import InputError
from baluarte.remediation import ChangeKind, PlannedChange, Step
from baluarte.run import InputFile
from baluarte.saved_plan import (
    MadeFrom,
    SavedChange,
    SavedPlan,
    differences,
    input_changes,
    load_plan,
    save_plan,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def inputs() -> Inputs:
    return load_inputs(
        [ROOT / "inventory" / "example.yaml"],
        ROOT / "policies",
        ROOT / "policies" / "waivers.yaml",
    )


def change(control: str = "access.ssh_root_login", **values: Any) -> PlannedChange:
    fields: dict[str, Any] = {
        "client": "demo", "site": "local", "device": "this-machine", "platform": "linux",
        "control": control, "policy": "linux-baseline", "kind": ChangeKind.CHANGE,
        "summary": "PermitRootLogin yes → prohibit-password", "before": "PermitRootLogin yes",
        "after": "PermitRootLogin prohibit-password", "diff": "--- a\n+++ b\n",
        "steps": (Step(what="write drop-in", commands=("upload <content> -> /etc/x", "sshd -t")),),
    }  # fmt: skip
    return PlannedChange(**(fields | values))


def saved(inputs: Inputs, *changes: PlannedChange) -> SavedPlan:
    refs = inputs.inventory.devices()
    return SavedPlan.of(inputs, refs, changes, {}, operator="tech@desk",
                        selectors={"client": "demo"}, controls=None)  # fmt: skip


def written(tmp_path: Path, inputs: Inputs) -> Path:
    path = tmp_path / "plan.json"
    save_plan(saved(inputs, change(), change("logging.time_sync", kind=ChangeKind.MANUAL)), path)
    return path


def load_error(path: Path) -> InputError:
    with pytest.raises(InputError) as caught:
        load_plan(path)
    return caught.value


def redigest(doc: dict[str, Any]) -> None:
    """What a forger does: recompute the digest after editing (the rule is no secret)."""
    body = {k: v for k, v in doc.items() if k != "digest"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    doc["digest"] = hashlib.sha256(canonical.encode()).hexdigest()


def test_a_saved_plan_reads_back_as_written_and_only_its_owner_can_read_it(
    tmp_path: Path, inputs: Inputs
) -> None:
    path = tmp_path / "plan.json"
    path.write_text("{}")
    path.chmod(0o644)  # an older file in the way: replaced, not reused with its mode
    plan = saved(inputs, change())
    sha = save_plan(plan, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sha == hashlib.sha256(path.read_bytes()).hexdigest()
    loaded, loaded_sha = load_plan(path)
    assert loaded == plan and loaded_sha == sha
    assert [d.key for d in loaded.devices] == ["demo/local/this-machine"]
    assert loaded.devices[0].planned_changes() == [change()]
    assert loaded.made_from.files == tuple(inputs.files())
    assert loaded.made_from.selectors == {"client": "demo"}
    # Stable: the same plan writes the same bytes, keys in model order.
    again = tmp_path / "again.json"
    save_plan(plan, again)
    assert again.read_bytes() == path.read_bytes()
    assert list(json.loads(path.read_text())) == [
        "format", "version", "digest", "made_from", "devices"
    ]  # fmt: skip
    assert not list(tmp_path.glob(".plan.json.*"))  # no temporary file left behind


def test_bad_json_is_reported_at_its_line_and_column(tmp_path: Path, inputs: Inputs) -> None:
    path = written(tmp_path, inputs)
    lines = path.read_text().splitlines()
    lines[3] = lines[3].rstrip(",")  # "digest": "…" without its comma
    path.write_text("\n".join(lines))
    err = load_error(path)
    assert err.code == "json_syntax"
    assert (err.file, err.line) == (str(path), 5)
    assert str(err).startswith(f"{path}:5:3: not valid JSON: Expecting ',' delimiter")


def test_another_plan_version_is_refused_saying_which_one_is_read(
    tmp_path: Path, inputs: Inputs
) -> None:
    path = written(tmp_path, inputs)
    doc = json.loads(path.read_text())
    doc["version"] = 2
    path.write_text(json.dumps(doc, indent=2))
    err = load_error(path)
    assert (err.code, err.key, err.allowed, err.line, err.column) == (
        "wrong_value", "version", "1", 3, 3
    )  # fmt: skip


def test_a_file_that_is_no_plan_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text('{"run": {"id": 3}}\n')
    err = load_error(path)
    assert (err.code, err.key, err.allowed) == ("wrong_value", "format", "baluarte-plan")


def test_an_unknown_key_is_located_and_the_allowed_keys_listed(
    tmp_path: Path, inputs: Inputs
) -> None:
    path = written(tmp_path, inputs)
    doc = json.loads(path.read_text())
    doc["devices"][0]["changes"][0]["comand"] = "touch /tmp/pwned"
    redigest(doc)
    text = json.dumps(doc, indent=2)
    path.write_text(text)
    err = load_error(path)
    assert err.code == "unknown_key"
    assert err.key == "devices[0].changes[0].comand"
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if '"comand"' in ln)
    assert err.line == line and err.column is not None
    assert err.allowed is not None and "steps" in err.allowed and "before" in err.allowed


def test_an_edit_that_keeps_the_schema_is_refused_by_the_digest(
    tmp_path: Path, inputs: Inputs
) -> None:
    path = written(tmp_path, inputs)
    doc = json.loads(path.read_text())
    doc["devices"][0]["changes"][0]["steps"][0]["commands"][1] = "touch /tmp/pwned"
    path.write_text(json.dumps(doc, indent=2))
    err = load_error(path)
    assert (err.code, err.key, err.line) == ("plan_edited", "digest", 4)
    assert "make a new one" in str(err)
    # Whitespace is not content: a reformatted plan still reads.
    path.write_text(json.dumps(json.loads(written(tmp_path, inputs).read_text())))
    load_plan(path)


def test_a_missing_plan_file_is_an_input_error(tmp_path: Path) -> None:
    assert load_error(tmp_path / "nope.json").code == "missing_file"
    assert load_error(tmp_path).code == "unreadable_file"


def test_a_plan_holds_when_nothing_differs() -> None:
    assert differences([change()], [change()]) == []
    # the manual text may word things differently: only what would run is compared
    assert differences([change(reason="x")], [change(reason="y")]) == []


@pytest.mark.parametrize(
    ("fresh", "expected"),
    [
        (
            [change(before="PermitRootLogin without-password")],
            "access.ssh_root_login: before was 'PermitRootLogin yes', now"
            " 'PermitRootLogin without-password'",
        ),
        (
            [
                change(
                    steps=(
                        Step(
                            what="write drop-in",
                            commands=("upload <content> -> /etc/x", "touch /tmp/pwned"),
                        ),
                    )
                )
            ],
            "access.ssh_root_login: step 'write drop-in' runs 'sshd -t' in the saved plan,"
            " 'touch /tmp/pwned' now",
        ),
        (
            [change(diff="--- a\n+++ b\n+PermitRootLogin yes\n")],
            "access.ssh_root_login: what it writes differs from the saved diff",
        ),
        (
            [change(kind=ChangeKind.REFUSED, reason="Baluarte logs in as root")],
            "access.ssh_root_login: planned as change, now refused (Baluarte logs in as root)",
        ),
        ([], "access.ssh_root_login: the planned change is no longer needed"),
        (
            [change(), change("logging.time_sync", summary="chrony on")],
            "logging.time_sync: change not in the saved plan: chrony on",
        ),
    ],
    ids=["before", "step", "diff", "kind", "gone", "appeared"],
)
def test_any_difference_in_what_would_run_is_named(
    fresh: list[PlannedChange], expected: str
) -> None:
    found = differences([change()], fresh)
    assert len(found) == 1 and found[0].startswith(expected), found


def test_a_step_added_or_dropped_is_a_difference() -> None:
    longer = change(steps=(*change().steps, Step(what="reload sshd", commands=("reload",))))
    assert differences([change()], [longer]) == [
        "access.ssh_root_login: the saved plan has 2 command(s), the device needs 3 now"
    ]


def test_inputs_match_by_content_whatever_path_names_them() -> None:
    then = (InputFile(role="policy", path="policies/a.yaml", sha256="1" * 64),)
    from_plan = _made_from(then)
    same = [InputFile(role="policy", path="/repo/policies/a.yaml", sha256="1" * 64)]
    assert input_changes(from_plan, same, "0.1.0") == []
    edited = [InputFile(role="policy", path="policies/a.yaml", sha256="2" * 64)]
    assert input_changes(from_plan, edited, "0.1.0") == [
        "policy policies/a.yaml changed (sha256 111111111111… then, 222222222222… now)"
    ]
    added = [*then, InputFile(role="waivers", path="w.yaml", sha256="3" * 64)]
    assert input_changes(from_plan, added, "0.1.0") == [
        "waivers w.yaml was not among the plan's inputs"
    ]
    assert input_changes(from_plan, [], "0.1.0") == ["policy policies/a.yaml is no longer read"]
    assert input_changes(from_plan, then, "0.2.0") == [
        "the plan was made by Baluarte 0.1.0, this is 0.2.0"
    ]


def _made_from(files: tuple[InputFile, ...]) -> MadeFrom:
    return MadeFrom(tool_version="0.1.0", made_at=datetime(2026, 1, 1, tzinfo=UTC),
                    operator="tech@desk", inventory_sha256="0" * 64, files=files)  # fmt: skip


def test_a_saved_change_keeps_every_field_of_a_planned_change_but_the_device() -> None:
    """SavedChange repeats PlannedChange's fields: a new one must reach the plan file too."""
    device = {"client", "site", "device", "platform"}
    assert list(SavedChange.model_fields) == [
        f for f in PlannedChange.model_fields if f not in device
    ]
    for name, info in SavedChange.model_fields.items():
        assert info.annotation == PlannedChange.model_fields[name].annotation, name
