"""A sample stored Run for the report tests: three clients, every status, waivers, odd evidence."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from baluarte.controls import Control, Domain
from baluarte.findings import Finding, Severity, Status, WaiverRef
from baluarte.operator import Operator
from baluarte.remediation import RemediationRecord, RemediationResult
from baluarte.run import InputFile, RunInfo, RunKind, RunRecord, RunState

MADRID = timezone(timedelta(hours=1))
SCRIPT_EVIDENCE = 'Package: <script>alert("x")</script> & more'
UNKNOWN_CONTROL = "patching.not_in_catalogue_yet"
LONG_EVIDENCE = "\n".join(
    f"Inst linux-image-6.1.0-{i} [security] (6.1.{i}-1 Debian:12)" for i in range(80)
)

ACTIVE_WAIVER = WaiverRef(
    reason="ERP vendor certifies kernel updates monthly",
    approved_by="María López (DPO, ACME)",
    ticket="ACME-1042",
    expires=date(2027, 1, 31),
)
EXPIRED_WAIVER = WaiverRef(
    reason="Legacy scanner driver needs SMBv1 until replacement",
    approved_by="Jordi Puig (IT manager)",
    ticket="CSUR-77",
    expires=date(2026, 10, 1),
    expired=True,
)


def sample_controls() -> dict[str, Control]:
    """A small catalogue built with the real Domain declarations."""
    patching = Domain(
        "patching",
        gdpr=("32(1)(b)", "32(1)(d)"),
        iso27001=("8.8", "8.19"),
        ens=("op.exp.4",),
        nis2=("(e)",),
        cis=("7.3", "7.4"),
    )
    both = ("linux", "windows")
    patching.declare(
        "security_updates_pending",
        title="No security updates pending",
        rationale="Known vulnerabilities stay exploitable until their fixes are installed.",
        severity=Severity.HIGH,
        platforms=both,
    )
    patching.declare(
        "reboot_required",
        title="No pending reboot past the grace period",
        rationale="Installed kernel and library fixes only take effect after a reboot.",
        severity=Severity.MEDIUM,
        platforms=both,
    )
    firewall = Domain("firewall", gdpr=("32(1)(b)", "25"), iso27001=("8.20", "8.22"))
    firewall.declare(
        "enabled",
        title="Host firewall enabled",
        rationale="A host firewall limits exposure when the perimeter fails.",
        severity=Severity.HIGH,
        platforms=both,
    )
    firewall.declare(
        "no_any_any_accept",
        title="No any-to-any accept policy",
        rationale="An any/any/any accept policy defeats the firewall.",
        severity=Severity.CRITICAL,
        platforms=("fortigate",),
        benchmark="CIS FortiGate 7.x 3.1",
    )
    access = Domain("access", gdpr=("32(1)(b)",), ens=("op.acc.1",))
    access.declare(
        "insecure_admin_protocols",
        title="No insecure management protocols",
        rationale="Clear-text management protocols expose credentials.",
        severity=Severity.HIGH,
        platforms=("linux", "windows", "fortigate"),
    )
    backup = Domain("backup", gdpr=("32(1)(c)",), iso27001=("8.13",))
    backup.declare(
        "last_success_age",
        title="Recent successful backup",
        rationale="Data can only be restored from a backup that exists and is recent.",
        severity=Severity.HIGH,
        platforms=both,
    )
    out: dict[str, Control] = {}
    for d in (patching, firewall, access, backup):
        out.update((c.id, c) for c in d.controls.values())
    return out


def _f(
    client: str, site: str, device: str, platform: str, control: str, status: Status, **kw: object
) -> Finding:
    kw.setdefault("severity", Severity.HIGH)
    return Finding(
        client=client,
        site=site,
        device=device,
        platform=platform,
        control=control,
        status=status,
        policy=f"{platform}-baseline",
        **kw,
    )


def sample_findings() -> tuple[Finding, ...]:
    acme = ("acme", "madrid-hq")
    return (
        _f(
            *acme,
            "srv-files",
            "linux",
            "patching.security_updates_pending",
            Status.FAIL,
            expected="at most 0",
            observed="3 pending",
            evidence=SCRIPT_EVIDENCE,
            reason="3 security updates are pending",
        ),
        _f(
            *acme,
            "srv-files",
            "linux",
            "patching.reboot_required",
            Status.WAIVED,
            severity=Severity.MEDIUM,
            expected="no reboot pending > 7 days",
            observed="reboot pending for 12 days",
            waiver=ACTIVE_WAIVER,
        ),
        _f(
            *acme,
            "srv-files",
            "linux",
            "firewall.enabled",
            Status.PASS,
            expected="active",
            observed="nftables active",
            evidence="table inet filter {...}",
        ),
        _f(
            *acme,
            "srv-files",
            "linux",
            "backup.last_success_age",
            Status.PASS,
            expected="at most 26 h",
            observed="5 h ago",
        ),
        _f(
            *acme,
            "srv-files",
            "linux",
            UNKNOWN_CONTROL,
            Status.PASS,
            severity=Severity.LOW,
            expected="x",
            observed="x",
        ),
        _f(
            *acme,
            "fw-hq",
            "fortigate",
            "firewall.no_any_any_accept",
            Status.PASS,
            severity=Severity.CRITICAL,
            expected="none",
            observed="none",
        ),
        _f(
            *acme,
            "fw-hq",
            "fortigate",
            "firewall.enabled",
            Status.NOT_APPLICABLE,
            reason="firewall.enabled does not apply to fortigate",
        ),
        _f(
            *acme,
            "pc-recepcion",
            "windows",
            "patching.security_updates_pending",
            Status.FAIL,
            expected="at most 0",
            observed="1 pending",
            evidence=LONG_EVIDENCE,
        ),
        _f(
            "bodega-lopez",
            "tienda",
            "srv-tpv",
            "linux",
            "patching.security_updates_pending",
            Status.ERROR,
            reason="unreachable: connection timed out after 10 s",
        ),
        _f(
            "bodega-lopez",
            "tienda",
            "srv-tpv",
            "linux",
            "firewall.enabled",
            Status.ERROR,
            reason="unreachable: connection timed out after 10 s",
        ),
        _f(
            "clinica-sur",
            "consulta-1",
            "pc-rx",
            "windows",
            "access.insecure_admin_protocols",
            Status.FAIL,
            expected="SMBv1 off",
            observed="SMBv1 on",
            waiver=EXPIRED_WAIVER,
            reason="waiver expired on 2026-10-01",
        ),
        _f(
            "clinica-sur",
            "consulta-1",
            "pc-rx",
            "windows",
            "backup.last_success_age",
            Status.ERROR,
            reason="Veeam Agent answered without a last-run time",
        ),
        _f(
            "clinica-sur",
            "consulta-1",
            "pc-rx",
            "windows",
            "firewall.enabled",
            Status.PASS,
            expected="all three profiles on",
            observed="Domain, Private, Public on",
        ),
    )


def sample_remediations() -> tuple[RemediationRecord, ...]:
    """An apply run's records: one change applied and verified, one manual, one refused."""
    common = {"client": "acme", "site": "madrid-hq", "device": "srv-files", "platform": "linux"}
    return (
        RemediationRecord(
            **common,
            control="access.ssh_password_authentication",
            policy="linux-baseline",
            result=RemediationResult.APPLIED,
            before="PasswordAuthentication yes",
            action="PasswordAuthentication yes → no\n- sshd drop-in\n    $ sshd -t",
            after="password logins off",
            detail="$ sshd -t",
            verification=Status.PASS,
            ticket="CHG-2211",
            approved_by="María López",
        ),
        RemediationRecord(
            **common,
            control="endpoint.disk_encryption",
            result=RemediationResult.MANUAL,
            action="encrypt the system volume with LUKS at the next reinstall",
        ),
        RemediationRecord(
            **common,
            control="firewall.enabled",
            result=RemediationResult.REFUSED,
            action="would lock Baluarte out",
            detail="would lock Baluarte out",
        ),
    )


def sample_run(
    *,
    state: RunState = RunState.COMPLETE,
    findings: tuple[Finding, ...] | None = None,
    kind: RunKind = RunKind.CHECK,
    remediations: tuple[RemediationRecord, ...] = (),
) -> RunRecord:
    started = datetime(2026, 11, 27, 2, 0, 13, tzinfo=MADRID)
    info = RunInfo(
        id=42,
        kind=kind,
        state=state,
        started_at=started,
        ended_at=started + timedelta(minutes=3, seconds=7) if state is RunState.COMPLETE else None,
        operator="ana.garcia",
        operator_identity=Operator(
            name="Ana García", email="ana.garcia@proveedor.es", role="técnica de sistemas"
        ),
        tool_version="0.1.0",
        inventory_sha256="9f2c" + "0" * 56 + "abcd",
        scope={"client": "acme,bodega-lopez,clinica-sur"},
        files=(
            InputFile(role="inventory", path="inventory/example.yaml", sha256="a" * 64),
            InputFile(role="policy", path="policies/linux-baseline.yaml", sha256="b" * 64),
            InputFile(role="waivers", path="policies/waivers.yaml", sha256="c" * 64),
        ),
        devices_total=6,
    )
    return RunRecord(
        info=info,
        findings=sample_findings() if findings is None else findings,
        remediations=remediations,
    )


def sample_history() -> tuple[RunRecord, ...]:
    """Runs 40 and 41, a week apart before ``sample_run``: drift has every kind of change.

    srv-files' pending updates fail in both (still failing since run 40); its firewall failed
    in both and passes now (newly passing, 14 days); pc-recepcion passed in 41 (newly failing);
    pc-rx was never checked before (newly failing, previous None).
    """
    current = sample_run()
    out = []
    for run_id, weeks in ((40, 2), (41, 1)):
        older = []
        for f in current.findings:
            if f.device == "pc-rx":
                continue
            if f.device == "srv-files" and f.control == "firewall.enabled":
                f = f.model_copy(update={"status": Status.FAIL})
            if f.device == "pc-recepcion":
                f = f.model_copy(update={"status": Status.PASS})
            older.append(f)
        started = current.info.started_at - timedelta(weeks=weeks)
        info = current.info.model_copy(
            update={"id": run_id, "started_at": started, "ended_at": started + timedelta(minutes=2)}
        )
        out.append(RunRecord(info=info, findings=tuple(older)))
    return tuple(out)


__all__ = [
    "sample_controls",
    "sample_findings",
    "sample_history",
    "sample_remediations",
    "sample_run",
]
