"""Endpoint protection: the controls of the ``endpoint`` domain, each beside its evaluate function.

Every function takes (EndpointFacts, its policy parameters, EvalContext) and returns an Outcome.
``product: any`` passes when any installed product satisfies the control; when none does and
one of them could not be read, the verdict is ``error`` (it might have passed), never ``pass``.

Disk encryption protects confidentiality rather than integrity, so it adds GDPR 32(1)(a),
ISO/IEC 27001:2022 8.24, ENS mp.si.2 / mp.eq.* and CIS Controls 3.6 to the domain's mappings.
"""

from __future__ import annotations

from collections.abc import Callable

from baluarte.controls import Domain, EvalContext
from baluarte.findings import Outcome, Severity
from checks.evaluators.common import CLOCK_SLACK_HOURS, not_required
from checks.facts.endpoint import PRODUCTS, EndpointFacts, ProductStatus
from checks.policy.base import Required
from checks.policy.endpoint import Installed, ProductRequired, SignatureAge

DOMAIN = Domain(
    "endpoint",
    gdpr=("32(1)(b)",),
    iso27001=("8.7",),
    ens=("op.exp.6",),
    nis2=("(e)", "(g)"),
    cis=("10.1", "10.2", "10.7"),
)
_WINDOWS_AV = "CIS Microsoft Windows Benchmarks, Microsoft Defender Antivirus"
_NAMES = {
    "clamav": "ClamAV",
    "defender": "Microsoft Defender for Endpoint",
    "sophos": "Sophos Protection for Linux",
    "crowdstrike": "CrowdStrike Falcon",
    "any": "any supported anti-malware product",
}


def _name(p: ProductStatus) -> str:
    return p.label or _NAMES[p.product]


def _named(facts: EndpointFacts, product: str) -> str:
    """The product's name as this device's platform calls it."""
    for p in facts.products or ():
        if p.product == product and p.label:
            return p.label
    return _NAMES[product]


# how far a signature stamp may run ahead of a clock (skew) before it proves nothing
_CLOCK_SLACK_DAYS = CLOCK_SLACK_HOURS / 24
# (verdict for one installed product: True pass, False fail, None unknown; what was seen)
_Judge = Callable[[ProductStatus], tuple[bool | None, str]]


def _unreadable(facts: EndpointFacts, what: str) -> Outcome:
    why = "; ".join(facts.problems) or f"{what} could not be read from the device"
    return Outcome.unreadable(why)


def _judge(
    facts: EndpointFacts, product: str, expected: str, judge: _Judge, *, engines: bool = False
) -> Outcome:
    """Apply ``judge`` to the named product, or to every installed one for ``any``.

    ``engines``: for ``any``, only the products whose engine runs are judged when one does, so
    a PC protected by Sophos is judged on Sophos, not on a passive Defender's settings or
    signatures (which protect nothing, and which Windows may not even let us read)."""
    if facts.products is None:
        return _unreadable(facts, "the installed anti-malware products")
    wanted = [p for p in facts.products if product in ("any", p.product)]
    installed = [p for p in wanted if p.installed]
    if not installed:
        return Outcome.failed(expected, f"{_named(facts, product)} is not installed")
    running = [p for p in installed if p.running is True]
    if engines and product == "any" and running:
        installed = running
    verdicts = [(p, *judge(p)) for p in installed]
    seen = "; ".join(f"{_name(p)}: {text}" for p, _, text in verdicts)
    if any(ok is True for _, ok, _ in verdicts):
        return Outcome.passed(expected, seen)
    unknown = [(p, text) for p, ok, text in verdicts if ok is None]
    if unknown:
        reasons = "; ".join(f"{_name(p)}: {'; '.join(p.problems) or text}" for p, text in unknown)
        # a product whose state could not be read, or was read and does not tell
        read_failed = any(p.problems for p, _ in unknown)
        return (Outcome.unreadable if read_failed else Outcome.error)(reasons, expected=expected)
    return Outcome.failed(expected, seen)


@DOMAIN.control(
    title="Anti-malware is installed",
    rationale="Anti-malware stops and records known malicious software before it runs.",
    severity=Severity.HIGH,
    platforms=("linux", "windows"),
    benchmark="CIS Controls v8 10.1",
)
def installed(facts: EndpointFacts, params: Installed, ctx: EvalContext) -> Outcome:
    if facts.products is None:
        return _unreadable(facts, "the installed anti-malware products")
    name = _named(facts, params.product)
    expected = f"{name} installed"
    found = [p for p in facts.products if p.installed]
    wanted = [p for p in found if params.product in ("any", p.product)]
    if wanted:
        seen = "; ".join(f"{_name(p)} ({p.installed_detail})" for p in wanted)
        return Outcome.passed(expected, f"installed: {seen}")
    others = ", ".join(_name(p) for p in found)
    looked = [_name(p) for p in facts.products] or [_NAMES[p] for p in PRODUCTS]
    checked = ", ".join(looked) if params.product == "any" else ""
    observed = f"{name} not found" + (f" (checked {checked})" if checked else "")
    if others:
        observed += f"; installed instead: {others}"
    return Outcome.failed(expected, observed)


def _running(p: ProductStatus) -> tuple[bool | None, str]:
    if p.running is False or p.enabled is False:
        return False, p.running_detail
    if p.running is None or p.enabled is None:
        return None, p.running_detail
    return True, p.running_detail


@DOMAIN.control(
    title="Anti-malware engine is running and enabled",
    rationale="An installed but stopped engine protects nothing and is a common result of "
    "failed updates or tampering.",
    severity=Severity.HIGH,
    platforms=("linux", "windows"),
    benchmark="CIS Controls v8 10.1",
)
def running(facts: EndpointFacts, params: ProductRequired, ctx: EvalContext) -> Outcome:
    if not params.required:
        return not_required("a running anti-malware engine", ctx)
    expected = f"{_named(facts, params.product)} engine running and enabled at boot"
    return _judge(facts, params.product, expected, _running)


@DOMAIN.control(
    title="Real-time protection is on",
    rationale="On-access scanning catches malware when a file is written or opened, not at "
    "the next scheduled scan.",
    severity=Severity.HIGH,
    platforms=("linux", "windows"),
    benchmark=f"{_WINDOWS_AV} (real-time protection)",
)
def realtime_protection(facts: EndpointFacts, params: ProductRequired, ctx: EvalContext) -> Outcome:
    if not params.required:
        return not_required("real-time protection", ctx)
    expected = f"{_named(facts, params.product)} real-time (on-access) protection on"
    return _judge(
        facts, params.product, expected, lambda p: (p.realtime, p.realtime_detail), engines=True
    )


@DOMAIN.control(
    title="Anti-malware signatures are current",
    rationale="Signature-based detection is only as good as its last update.",
    severity=Severity.MEDIUM,
    platforms=("linux", "windows"),
    benchmark="CIS Controls v8 10.2",
)
def signatures_current(facts: EndpointFacts, params: SignatureAge, ctx: EvalContext) -> Outcome:
    expected = f"{_named(facts, params.product)} signatures at most {params.max_days} days old"
    if facts.products is not None:
        # Falcon has no local signatures: the control cannot apply to it, so say so, not fail
        mine = [p for p in facts.products if p.installed and params.product in ("any", p.product)]
        if mine and not any(p.has_signatures for p in mine):
            return Outcome.not_applicable("; ".join(p.signatures_detail for p in mine))

    def judge(p: ProductStatus) -> tuple[bool | None, str]:
        if not p.has_signatures:
            return False, p.signatures_detail
        if p.signature_age_days is None:
            # no daily database at all is a fact (never updated); an unreadable one is not
            unknown = p.problems or not p.signatures_read
            return (None if unknown else False), p.signatures_detail or "no signatures found"
        age = p.signature_age_days
        # a stamp ahead of the device's clock or of this run's says a clock is wrong: its
        # negative age would pass whatever the signatures' real age
        ahead = [(-age, "the device's clock")]
        if p.signatures_built is not None:
            run = (p.signatures_built - ctx.now).total_seconds() / 86400
            ahead.append((run, "this run's clock"))
        days, clock = max(ahead)
        if days > _CLOCK_SLACK_DAYS:
            return None, (
                f"{p.signatures_detail}: dated {days:.1f} days ahead of {clock}, so how old "
                "the signatures really are cannot be told"
            )
        text = f"{p.signatures_detail}, {age:.1f} days old"
        return age <= params.max_days, text

    return _judge(facts, params.product, expected, judge, engines=True)


@DOMAIN.control(
    title="Tamper protection is on",
    rationale="Tamper protection stops malware and careless users from switching the "
    "protection off.",
    severity=Severity.MEDIUM,
    platforms=("windows",),
    benchmark=f"{_WINDOWS_AV}",
)
def tamper_protection(facts: EndpointFacts, params: ProductRequired, ctx: EvalContext) -> Outcome:
    """Defender: ``IsTamperProtected``; Sophos: Sophos Endpoint Defense's ``SEDEnabled``
    (its tamper protection key); a product whose setting cannot be read is ``error``."""
    if not params.required:
        return not_required("tamper protection", ctx)
    expected = f"{_named(facts, params.product)} tamper protection on"
    return _judge(
        facts,
        params.product,
        expected,
        lambda p: (p.tamper_protected, p.tamper_detail),
        engines=True,
    )


@DOMAIN.control(
    title="The system volume is encrypted",
    rationale="A lost or stolen laptop or disk without encryption is a personal-data breach; "
    "with it, usually not one that must be notified.",
    severity=Severity.HIGH,
    platforms=("linux", "windows"),
    benchmark="CIS Controls v8 3.6; CIS Microsoft Windows Benchmarks, BitLocker Drive Encryption",
    mappings={
        "gdpr": ("32(1)(a)",),
        "iso27001": ("8.24",),
        "ens": ("mp.si.2", "mp.eq.*"),
        "cis": ("3.6",),
    },
)
def disk_encryption(facts: EndpointFacts, params: Required, ctx: EvalContext) -> Outcome:
    if not params.required:
        return not_required("disk encryption", ctx)
    disk = facts.disk
    if disk is None or disk.encrypted is None:
        return _unreadable(facts, "the system volume's encryption")
    expected = "the root filesystem on an encrypted (dm-crypt/LUKS) block device"
    if disk.kind == "bitlocker":
        expected = "the system volume fully encrypted by BitLocker, protection on"
    evidence = "\n".join(disk.layers) or None
    if disk.encrypted:
        return Outcome.passed(expected, disk.detail, evidence)
    return Outcome.failed(expected, disk.detail, evidence=evidence)
