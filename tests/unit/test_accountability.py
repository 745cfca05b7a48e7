"""What auditors ask for, on the input side: the operator's identity, a waiver's approval date
and compensating control, a client's change control and inventory completeness — each
validated with file:line:column — and sealed records that keep the hash they had before."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from baluarte.chain import canonical_record, record_sha256
from baluarte.evidence.record import seal
from baluarte.findings import Finding, WaiverRef
from baluarte.inventory import load_inventory
from baluarte.operator import (
    ENV_OPERATOR,
    ENV_OPERATOR_FILE,
    Operator,
    current_operator,
    parse_operator,
)
from baluarte.remediation import RemediationRecord
from baluarte.run import InputFile, RunInfo, RunRecord
from baluarte.waivers import load_waivers
from tests.unit.loading._helpers import only_error

INVENTORY = """\
clients:
  - name: acme
    legal_name: ACME Asesores S.L.
{extra}    sites:
      - name: hq
        devices:
          - name: pc1
            platform: linux
            address: 10.0.0.5
"""


@pytest.fixture(autouse=True)
def no_operator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENV_OPERATOR, raising=False)
    monkeypatch.delenv(ENV_OPERATOR_FILE, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            "Ana García <ana.garcia@proveedor.es>, técnica de sistemas",
            Operator(
                name="Ana García", email="ana.garcia@proveedor.es", role="técnica de sistemas"
            ),
        ),
        ("  Ana García , jefa de soporte ", Operator(name="Ana García", role="jefa de soporte")),
        ("Ana García <ana@proveedor.es>", Operator(name="Ana García", email="ana@proveedor.es")),
        ("Ana García", Operator(name="Ana García")),
    ],
)
def test_the_operator_variable_reads_name_email_and_role(
    monkeypatch: pytest.MonkeyPatch, spec: str, expected: Operator
) -> None:
    assert parse_operator(spec) == expected
    monkeypatch.setenv(ENV_OPERATOR, spec)
    assert current_operator() == expected


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ("Ana <no-email>", "'no-email' is not an email address"),
        ("<ana@proveedor.es>", "is not an operator"),
        ("Ana <ana@proveedor.es> extra", "is not an operator"),
        ("Ana, ", "role"),
    ],
)
def test_a_bad_operator_variable_is_named_with_the_format(spec: str, said: str) -> None:
    err = only_error(lambda: parse_operator(spec))
    assert (err.code, err.key) == ("wrong_value", ENV_OPERATOR)
    assert said in err.message and err.allowed is not None and "Name <email>, role" in err.allowed


def test_nothing_set_means_no_identity_and_the_default_file_is_read(tmp_path: Path) -> None:
    assert current_operator() is None
    path = tmp_path / "home" / ".config" / "baluarte" / "operator.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("name: Ana García\nemail: ana@proveedor.es\nrole: técnica\n")
    assert current_operator() == Operator(
        name="Ana García", email="ana@proveedor.es", role="técnica"
    )


def test_a_bad_operator_file_is_an_error_at_its_line_and_column(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "operator.yaml"
    path.write_text("name: Ana García\nemail: not-an-email\n")
    monkeypatch.setenv(ENV_OPERATOR_FILE, str(path))
    err = only_error(current_operator)
    assert (err.file, err.line, err.column, err.key) == (str(path), 2, 1, "email")
    path.write_text("name: Ana García\nphone: 600\n")
    err = only_error(current_operator)
    assert (err.code, err.line, err.key) == ("unknown_key", 2, "phone")
    monkeypatch.setenv(ENV_OPERATOR_FILE, str(tmp_path / "missing.yaml"))
    assert only_error(current_operator).code == "missing_file"


def waivers_file(tmp_path: Path, extra: str, expires: str = "2027-03-31") -> Path:
    path = tmp_path / "waivers.yaml"
    path.write_text(
        "waivers:\n  - control: patching.reboot_required\n    client: acme\n"
        "    reason: vendor certifies kernels monthly\n    approved_by: María López\n"
        f"    expires: {expires}\n{extra}"
    )
    return path


def test_a_waiver_keeps_its_approval_date_and_compensating_control(tmp_path: Path) -> None:
    path = waivers_file(
        tmp_path, "    approved_on: 2026-11-02\n    compensating_control: reinicio semanal\n"
    )
    (waiver,) = load_waivers(path).waivers
    ref = waiver.to_ref(date(2026, 12, 1))
    assert (ref.approved_on, ref.compensating_control) == (date(2026, 11, 2), "reinicio semanal")


@pytest.mark.parametrize(
    ("extra", "line", "said"),
    [
        ("    approved_on: {tomorrow}\n", 7, "is in the future"),
        ("    approved_on: 2026-02-30\n", 7, ""),
        ("    approved_on: 2026-11-02\n", 2, "is after expires 2026-10-31"),
        ('    compensating_control: ""\n', 7, ""),
    ],
)
def test_a_bad_approval_date_or_control_is_an_error_at_its_place(
    tmp_path: Path, extra: str, line: int, said: str
) -> None:
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    expires = "2026-10-31" if "2026-11-02" in extra else "2027-03-31"
    path = waivers_file(tmp_path, extra.format(tomorrow=tomorrow), expires)
    err = only_error(lambda: load_waivers(path))
    assert (err.file, err.line) == (str(path), line) and err.column is not None
    assert said in err.message


def test_change_control_and_inventory_completeness_are_read(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    extra = (
        "    change_control: {require_ticket: true}\n    declared_devices: 12\n"
        "    inventory_attestation: Inventario revisado con el cliente el 2026-11-30\n"
    )
    path.write_text(INVENTORY.format(extra=extra))
    (client,) = load_inventory([path]).clients
    assert client.change_control.require_ticket is True and client.declared_devices == 12
    assert client.inventory_attestation == "Inventario revisado con el cliente el 2026-11-30"
    path.write_text(INVENTORY.format(extra=""))
    (client,) = load_inventory([path]).clients
    assert client.change_control.require_ticket is False and client.declared_devices is None


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ("    declared_devices: true\n", "clients[0].declared_devices"),
        ("    declared_devices: -1\n", "clients[0].declared_devices"),
        (
            "    change_control: {require_ticket: 'yes'}\n",
            "clients[0].change_control.require_ticket",
        ),
        ("    change_control: {require: true}\n", "clients[0].change_control.require"),
        ('    inventory_attestation: ""\n', "clients[0].inventory_attestation"),
    ],
)
def test_bad_change_control_or_completeness_is_an_error_at_its_place(
    tmp_path: Path, extra: str, key: str
) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY.format(extra=extra))
    err = only_error(lambda: load_inventory([path]))
    assert (err.file, err.line, err.key) == (str(path), 4, key) and err.column is not None


def sample_run(**later: object) -> RunRecord:
    """A run as one stored before revision 0006; ``later``: the waiver fields it added (and
    then the operator, ticket and approver too)."""
    waiver = WaiverRef(
        reason="vendor", approved_by="María", ticket="W-1", expires=date(2027, 1, 31)
    )
    change = RemediationRecord(client="acme", site="hq", device="pc1", platform="windows",
                               control="firewall.enabled", result="applied", before="off",
                               action="on")  # fmt: skip
    if later:
        waiver = WaiverRef.model_validate({**waiver.model_dump(), **later})
        change = change.model_copy(update={"ticket": "CHG-1", "approved_by": "Luis Pérez"})
    info = RunInfo(id=7, kind="apply", state="complete",
                   started_at=datetime(2026, 11, 2, 9, tzinfo=UTC),
                   ended_at=datetime(2026, 11, 2, 9, 5, tzinfo=UTC), operator="tecnico@pc",
                   tool_version="0.test", inventory_sha256="a" * 64, scope={"device": "pc1"},
                   files=(InputFile(role="inventory", path="inv.yaml", sha256="b" * 64),),
                   devices_total=1,
                   operator_identity=Operator(name="Ana") if later else None)  # fmt: skip
    finding = Finding(client="acme", site="hq", device="pc1", platform="windows",
                      control="patching.reboot_required", status="waived", severity="low",
                      evidence="uptime 3d", waiver=waiver)  # fmt: skip
    return RunRecord(info=info, findings=(finding,), remediations=(change,))


def test_records_sealed_before_the_new_fields_keep_their_hashes() -> None:
    # Computed with the code of revision 0005 (before operator, ticket and waiver approval
    # fields existed): a run that names none of them hashes as it did, format 2 and format 1.
    run = sample_run()
    sealed = seal(run, salt=b"\x01" * 32, previous="c" * 64, running=[])
    assert sealed.sha256 == "b9ad00d713f7b442b95761e270f5ae28497910e1ed0984cbde0c0f4f9646f478"
    assert record_sha256(canonical_record(run, "c" * 64)) == (
        "3955e7c223a6aeca510f8245ae3747e517c1e6074a0561a111e17b7c60100dad"
    )


def test_the_new_fields_are_sealed_leaf_by_leaf() -> None:
    run = sample_run(approved_on=date(2026, 11, 2), compensating_control="reinicio semanal")
    sealed = seal(run, salt=b"\x01" * 32, previous="c" * 64, running=[])
    leaves = {p.name: {n: leaf.value for n, leaf in p.leaves.items()} for p in sealed.parts}
    assert leaves["info"]["operator_identity.name"] == '"Ana"'
    assert leaves["findings/0"]["waiver.approved_on"] == '"2026-11-02"'
    assert leaves["findings/0"]["waiver.compensating_control"] == '"reinicio semanal"'
    assert leaves["remediations/0"]["ticket"] == '"CHG-1"'
    assert leaves["remediations/0"]["approved_by"] == '"Luis P\\u00e9rez"'
    assert (
        sealed.sha256 != seal(sample_run(), salt=b"\x01" * 32, previous="c" * 64, running=[]).sha256
    )
