"""A hand-built EvidenceData: one client, three runs over November 2026 with every status, an
active and an expired waiver, an apply run with remediation records, drift, trend and chain."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

from baluarte.evidence.data import EvidenceData, Lang, PackFile
from baluarte.findings import Finding, Severity, Status, WaiverRef
from baluarte.history import ChainLink, ControlState, Drift
from baluarte.posture import posture_trend
from baluarte.remediation import RemediationRecord, RemediationResult
from baluarte.run import InputFile, RunInfo, RunKind, RunRecord, RunState

CLIENT, SITE = "acme", "madrid-hq"
DEVICES = ("srv-files", "pc-recepcion", "fw-hq", "srv-backup", "pc-mgarcia")
UNREACHABLE = "srv-backup"  # every control an error in the latest run
NOT_CHECKED = "pc-mgarcia"  # in scope, no finding at all
PLATFORMS = ("linux", "windows", "fortigate", "linux", "windows")
EVIDENCE = "Inst openssl [3.0.15-1~deb12u1] (3.0.15-1~deb12u2 Debian-Security:12/stable-security)"

ACTIVE_WAIVER = WaiverRef(
    reason="ERP vendor certifies kernel updates monthly",
    approved_by="María López (DPO, ACME)",
    ticket="ACME-1042",
    expires=date(2027, 1, 31),
)
EXPIRED_WAIVER = WaiverRef(
    reason="Legacy scanner driver needs SMBv1 until replacement",
    approved_by="Jordi Puig (IT manager)",
    ticket="ACME-77",
    expires=date(2026, 11, 20),
    expired=True,
)
POLICY_TEXT = 'id: linux-baseline\nversion: "2026.11"\ntitle: Linux baseline\n'


def _f(device: str, platform: str, control: str, status: Status, **kw: object) -> Finding:
    kw.setdefault("severity", Severity.HIGH)
    return Finding(
        client=CLIENT,
        site=SITE,
        device=device,
        platform=platform,
        control=control,
        status=status,
        policy=f"{platform}-baseline",
        **kw,
    )


def _findings(n: int) -> tuple[Finding, ...]:
    """The findings of the n-th run (0, 1, 2): ssh passwords fixed in run 1, a firewall policy
    newly failing in run 2, pending updates failing throughout, srv-backup unreachable in 2."""
    fixed = n >= 1
    out = [
        _f(
            "srv-files",
            "linux",
            "patching.security_updates_pending",
            Status.FAIL,
            expected="at most 0",
            observed="3 pending",
            reason="3 security updates are pending",
            evidence=EVIDENCE,
        ),
        _f(
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
            "srv-files",
            "linux",
            "access.ssh_password_authentication",
            Status.PASS if fixed else Status.FAIL,
            expected="no",
            observed="no" if fixed else "yes",
            evidence="PasswordAuthentication no" if fixed else "PasswordAuthentication yes",
        ),
        _f(
            "srv-files",
            "linux",
            "firewall.enabled",
            Status.PASS,
            expected="active",
            observed="nftables active",
            evidence="table inet filter {...}",
        ),
        _f(
            "pc-recepcion",
            "windows",
            "access.insecure_admin_protocols",
            Status.FAIL,
            expected="SMBv1 off",
            observed="SMBv1 on",
            reason="waiver expired on 2026-11-20",
            waiver=EXPIRED_WAIVER,
        )
        if n == 2
        else _f(
            "pc-recepcion",
            "windows",
            "access.insecure_admin_protocols",
            Status.WAIVED,
            expected="SMBv1 off",
            observed="SMBv1 on",
            waiver=EXPIRED_WAIVER.model_copy(update={"expired": False}),
        ),
        _f(
            "pc-recepcion",
            "windows",
            "endpoint.realtime_protection",
            Status.PASS,
            expected="on",
            observed="on",
        ),
        _f(
            "pc-recepcion",
            "windows",
            "firewall.enabled",
            Status.NOT_APPLICABLE,
            reason="managed by group policy outside Baluarte's scope",
        ),
        _f(
            "fw-hq",
            "fortigate",
            "firewall.no_any_any_accept",
            Status.FAIL if n == 2 else Status.PASS,
            severity=Severity.CRITICAL,
            expected="none",
            observed="policy 7: any → any accept" if n == 2 else "none",
        ),
        _f(
            "fw-hq",
            "fortigate",
            "backup.config_saved",
            Status.PASS,
            expected="within 7 days",
            observed="2 days ago",
        ),
    ]
    for control in ("patching.security_updates_pending", "backup.last_success_age"):
        out.append(
            _f(
                UNREACHABLE,
                "linux",
                control,
                Status.ERROR,
                reason="unreachable: connection timed out after 10 s",
            )
            if n == 2
            else _f(UNREACHABLE, "linux", control, Status.PASS, expected="ok", observed="ok")
        )
    return tuple(out)


RUN_STARTS = (
    datetime(2026, 11, 2, 1, 0, tzinfo=UTC),
    datetime(2026, 11, 14, 9, 30, tzinfo=UTC),
    datetime(2026, 11, 28, 1, 0, tzinfo=UTC),
)
RUN_IDS = (40, 41, 42)


def _remediations() -> tuple[RemediationRecord, ...]:
    common = {"client": CLIENT, "site": SITE, "device": "srv-files", "platform": "linux"}
    return (
        RemediationRecord(
            **common,
            control="access.ssh_password_authentication",
            policy="linux-baseline",
            result=RemediationResult.APPLIED,
            before="PasswordAuthentication yes",
            action="PasswordAuthentication yes → no\n- sshd drop-in\n    $ sshd -t",
            after="no",
            detail="$ sshd -t",
            verification=Status.PASS,
        ),
        RemediationRecord(
            **common,
            control="patching.reboot_required",
            result=RemediationResult.MANUAL,
            action="reboot in the next maintenance window",
        ),
    )


def runs() -> tuple[RunRecord, ...]:
    out = []
    for n, (rid, started) in enumerate(zip(RUN_IDS, RUN_STARTS, strict=True)):
        info = RunInfo(
            id=rid,
            kind=RunKind.APPLY if n == 1 else RunKind.CHECK,
            state=RunState.COMPLETE,
            started_at=started,
            ended_at=started + timedelta(minutes=3),
            operator="tech-0042",
            tool_version="0.1.0",
            inventory_sha256="9" * 64,
            scope={"client": CLIENT},
            files=(InputFile(role="policy", path="policies/linux-baseline.yaml", sha256="b" * 64),),
            devices_total=len(DEVICES),
        )
        out.append(
            RunRecord(
                info=info, findings=_findings(n), remediations=_remediations() if n == 1 else ()
            )
        )
    return tuple(out)


def _state(
    device: str, control: str, status: Status, previous: Status | None, **kw: object
) -> ControlState:
    return ControlState(
        client=CLIENT,
        site=SITE,
        device=device,
        control=control,
        status=status,
        previous=previous,
        **kw,
    )  # type: ignore[arg-type]


def drift() -> Drift:
    # posture_drift of runs(): the period's first run against its end
    return Drift(
        from_run=40,
        to_run=42,
        newly_failing=(
            _state(
                "fw-hq",
                "firewall.no_any_any_accept",
                Status.FAIL,
                Status.PASS,
                failing_since=RUN_STARTS[2],
            ),
            _state(
                "pc-recepcion",
                "access.insecure_admin_protocols",
                Status.FAIL,
                Status.WAIVED,
                failing_since=RUN_STARTS[2],
            ),
        ),
        newly_passing=(
            _state(
                "srv-files",
                "access.ssh_password_authentication",
                Status.PASS,
                Status.FAIL,
                failing_since=RUN_STARTS[0],
                time_to_remediate=RUN_STARTS[1] - RUN_STARTS[0],
            ),
        ),
        still_failing=(
            _state(
                "srv-files",
                "patching.security_updates_pending",
                Status.FAIL,
                Status.FAIL,
                failing_since=RUN_STARTS[0],
            ),
        ),
    )


def chain(rs: tuple[RunRecord, ...]) -> tuple[ChainLink, ...]:
    links, previous = [], hashlib.sha256(b"run 39").hexdigest()
    for r in rs:
        record = hashlib.sha256(f"{r.info.id}{previous}".encode()).hexdigest()
        links.append(
            ChainLink(
                run_id=r.info.id,
                started_at=r.info.started_at,
                ended_at=r.info.ended_at,
                previous_sha256=previous,
                record_sha256=record,
            )
        )
        previous = record
    return tuple(links)


def evidence_data(lang: Lang = "es", *, redacted: bool = False) -> EvidenceData:
    rs = runs()
    scope = {(CLIENT, SITE, d): p for d, p in zip(DEVICES, PLATFORMS, strict=True)}
    return EvidenceData(
        client=CLIENT,
        legal_name="ACME Asesores S.L.",
        period_from=date(2026, 11, 1),
        period_to=date(2026, 11, 28),
        lang=lang,
        generated_at=datetime(2026, 11, 28, 10, 0, tzinfo=UTC),
        tool_version="0.1.0",
        operator="tech-0042",
        runs=rs,
        devices_in_scope=tuple(
            {"client": CLIENT, "site": SITE, "device": d, "platform": p, "tags": ["madrid"]}
            for d, p in zip(DEVICES, PLATFORMS, strict=True)
        ),
        files=(
            PackFile(
                role="policy",
                path="policies/linux-baseline.yaml",
                sha256="b" * 64,
                text=POLICY_TEXT,
            ),
            PackFile(role="waivers", path="policies/waivers.yaml", sha256="c" * 64, text=None),
        ),
        drift=drift(),
        trend=tuple(posture_trend(rs, date(2026, 11, 1), date(2026, 11, 28), scope)),
        chain=chain(rs),
        redacted=redacted,
    )
