"""Which values of a pack are personal (pure): approvers, folders, computer names, policies."""

from __future__ import annotations

from datetime import UTC, date, datetime

from baluarte.evidence.personal import person_names, personal_values
from baluarte.evidence.redact import Redactor
from baluarte.findings import Finding, Severity, Status, WaiverRef
from baluarte.remediation import RemediationRecord, RemediationResult
from baluarte.run import InputFile, RunInfo, RunKind, RunRecord, RunState

KEY = b"k" * 32


def finding(device: str, control: str, **kw: object) -> Finding:
    fields: dict[str, object] = {
        "client": "acme", "site": "hq", "device": device, "platform": "windows",
        "control": control, "status": Status.FAIL, "severity": Severity.HIGH,
    }  # fmt: skip
    return Finding.model_validate({**fields, **kw})


def run(*findings: Finding, remediations: tuple[RemediationRecord, ...] = ()) -> RunRecord:
    info = RunInfo(
        id=1,
        kind=RunKind.CHECK,
        state=RunState.COMPLETE,
        started_at=datetime(2026, 11, 2, tzinfo=UTC),
        operator="tecnico@PORTATIL-TEC",
        tool_version="t",
        inventory_sha256="1" * 64,
        files=(InputFile(role="policy", path="/home/rsanz/policies/base.yaml", sha256="2" * 64),),
    )
    return RunRecord(info=info, findings=findings, remediations=remediations)


def test_an_approver_is_also_known_by_the_name_alone() -> None:
    assert person_names("María López (DPO, ACME)") == [
        "María López (DPO, ACME)", "María López", "María", "López",
    ]  # fmt: skip
    assert person_names("Juan Pérez <jperez@acme.es>")[1:] == [
        "jperez@acme.es", "jperez", "Juan Pérez", "Juan", "Pérez",
    ]  # fmt: skip
    assert person_names("Ana de la Fuente y Luis Gil") == [
        "Ana de la Fuente y Luis Gil", "Ana de la Fuente", "Ana", "Fuente", "Luis Gil", "Luis", "Gil",
    ]  # fmt: skip
    # a role is replaced as written, never word by word ("Security" is in control titles)
    assert person_names("IT lead") == ["IT lead"]
    assert person_names("Security Team") == ["Security Team"]


def test_personal_values_come_from_every_place_a_pack_holds() -> None:
    admins = finding(
        "pc-mgarcia",
        "access.admin_accounts",
        evidence=(
            "PORTATIL-MARIA\\Administrator: member of Administrators (S-1-5-32-544), User; "
            "Local S-1-5-21-1-2-3-500\n"
            "PORTATIL-MARIA\\soporte: member of Administrators (S-1-5-32-544), User; "
            "Local S-1-5-21-1-2-3-1003\n"
            "ACME\\Domain Admins: member of Administrators (S-1-5-32-544), Group; "
            "ActiveDirectory S-1-5-21-9-9-9-512"
        ),
    )
    server_admins = finding(
        "srv",
        "access.admin_accounts",
        evidence="SRV01\\backupadmin: member; Local S-1-5-21-4-5-6-1001",
    )
    sudo = finding(
        "srv",
        "access.admin_accounts",
        platform="linux",
        evidence="deploy: sudo (root) sudoedit /etc/sudoers.d/maria /etc/sudoers.d/backup "
        "/etc/sudoers.d/90-cloud-init\ndeploy: sudo (root) /home/lmartinez/bin/tool",
        waiver=WaiverRef(reason="x", approved_by="María López (DPO)", expires=date(2099, 1, 1)),
    )
    fix = RemediationRecord(
        client="acme", site="hq", device="srv", platform="linux", control="backup.configured",
        result=RemediationResult.APPLIED, detail="restic -r /home/pgomez/repo init",
    )  # fmt: skip
    found = personal_values(
        [run(admins, server_admins, sudo, remediations=(fix,))],
        [{"device": "pc-mgarcia", "tags": ["workstation"]}, {"device": "srv", "tags": []}],
        operator="ana@PORTATIL-ANA",
        inventory_verified=True,
        waiver_texts=["waivers:\n  - approved_by: Lucía Fernández\n    reason: r\n"],
        policy_texts=["access:\n  admin_accounts:\n    allowed: [root, ana.garcia]\n"],
        addresses={"pc-mgarcia": "pc-mgarcia.acme.lan", "srv": "10.0.0.5"},
    )
    users, hosts = set(found.users), set(found.hosts)
    assert {"ana", "tecnico", "maria", "lmartinez", "pgomez", "rsanz", "ana.garcia"} <= users
    assert {"María López", "María", "López", "Lucía Fernández", "Fernández"} <= users
    assert {"PORTATIL-ANA", "PORTATIL-TEC", "pc-mgarcia", "pc-mgarcia.acme.lan"} <= hosts
    assert "PORTATIL-MARIA" in hosts  # the laptop's own name, from its local accounts
    assert "SRV01" not in hosts and "ACME" not in hosts  # a server's, a domain's: not personal
    assert "10.0.0.5" not in hosts and "backup" not in users  # system account's drop-in


def test_unverified_inventory_makes_every_device_personal() -> None:
    found = personal_values(
        [run(finding("srv", "patching.reboot_required"))],
        [],
        operator="ana@x",
        inventory_verified=False,
    )
    assert "srv" in found.hosts


def test_a_name_is_replaced_whatever_its_case_and_accents() -> None:
    r = Redactor(KEY, ["María López"], [])
    alias = r.pseudonym("user", "María López")
    assert r.text("MARÍA LÓPEZ, María López y Maria Lopez") == f"{alias}, {alias} y {alias}"
    r = Redactor(KEY, ["maria"], [])
    assert r.text("/etc/sudoers.d/maria /etc/sudoers.d/María") == (
        f"/etc/sudoers.d/{r.pseudonym('user', 'maria')} /etc/sudoers.d/{r.pseudonym('user', 'maria')}"
    )
    assert r.text("marian mariajose") == "marian mariajose"  # whole words only
