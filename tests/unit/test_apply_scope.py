"""What `apply` accepts before it reads anything: no --yes without a scope someone named."""

from __future__ import annotations

from pathlib import Path

import pytest

from baluarte.apply import ApplyOptions, apply, check_scope
from baluarte.engine import load_inputs
from baluarte.errors import InputError


def refused(options: ApplyOptions, *, saved_plan: bool = False) -> str:
    with pytest.raises(InputError) as caught:
        check_scope(options, saved_plan=saved_plan)
    assert caught.value.code == "usage"
    return str(caught.value)


def test_yes_without_a_selector_is_refused_saying_how_to_scope_it() -> None:
    message = refused(ApplyOptions(yes=True))
    assert message.startswith("--yes: no devices named")
    assert "--device" in message and "--all" in message and "--plan" in message


@pytest.mark.parametrize(
    "options",
    [
        ApplyOptions(yes=True, all_devices=True),
        ApplyOptions(yes=True, scope={"device": "srv-files"}),
        ApplyOptions(yes=True, scope={"tags": "server"}),
        ApplyOptions(yes=True, controls=["access.ssh_root_login"]),
        ApplyOptions(),  # a plan of everything changes nothing
        ApplyOptions(out=Path("plan.json")),
    ],
)
def test_yes_with_a_selector_or_all_and_plans_without_yes_are_accepted(
    options: ApplyOptions,
) -> None:
    check_scope(options)


def test_all_with_a_selector_is_refused() -> None:
    message = refused(ApplyOptions(yes=True, all_devices=True, scope={"client": "acme"}))
    assert (
        message == "--all: it means every device of the inventory, so it does not go with --client"
    )


def test_a_saved_plan_is_for_review_first() -> None:
    message = refused(ApplyOptions(yes=True, out=Path("plan.json"), scope={"device": "x"}))
    assert message.startswith("--out: a saved plan is for review first")


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (ApplyOptions(yes=True, scope={"device": "x"}), "--device"),
        (ApplyOptions(controls=["access.ssh_root_login"]), "--control"),
        (ApplyOptions(yes=True, all_devices=True), "--all"),
        (ApplyOptions(out=Path("again.json")), "--out"),
    ],
)
def test_with_a_saved_plan_the_plan_is_the_scope(options: ApplyOptions, named: str) -> None:
    message = refused(options, saved_plan=True)
    assert message == f"--plan: the saved plan is the scope: --plan does not go with {named}"


def test_a_saved_plan_with_yes_alone_is_accepted() -> None:
    check_scope(ApplyOptions(yes=True), saved_plan=True)


def test_a_plan_with_nowhere_to_be_saved_is_refused_before_any_device_is_read(
    tmp_path: Path,
) -> None:
    root = Path(__file__).resolve().parents[2]
    inputs = load_inputs([root / "inventory" / "example.yaml"], root / "policies")
    options = ApplyOptions(out=tmp_path / "missing" / "plan.json")
    with pytest.raises(InputError) as caught:
        apply(inputs, store=None, options=options)  # type: ignore[arg-type]  # never reached
    assert (caught.value.code, caught.value.key) == ("missing_file", "--out")
