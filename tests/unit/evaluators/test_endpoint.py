"""The endpoint evaluators: facts + parameters -> verdict, no I/O."""

from datetime import UTC, datetime

import pytest

from baluarte.controls import EvalContext
from baluarte.findings import Status
from checks.evaluators import endpoint as ev
from checks.facts.endpoint import DiskEncryption, EndpointFacts, ProductStatus
from checks.policy.base import Required
from checks.policy.endpoint import Installed, ProductRequired, SignatureAge

CTX = EvalContext(now=datetime(2026, 11, 28, 12, 0, tzinfo=UTC))
GOOD = dict(
    installed=True,
    installed_detail="package clamav-daemon 1.4.3",
    running=True,
    enabled=True,
    running_detail="process clamd running; enabled by clamav-daemon.service",
    realtime=True,
    realtime_detail="clamonacc and clamd running",
    signature_age_days=0.5,
    signatures_detail="daily.cld built 2026-11-28",
)


def product(name: str = "clamav", **kw) -> ProductStatus:
    return ProductStatus(product=name, **{**GOOD, **kw})


def absent(name: str) -> ProductStatus:
    return ProductStatus(product=name, installed=False, has_signatures=name != "crowdstrike")


def facts(*present: ProductStatus, disk: DiskEncryption | None = None) -> EndpointFacts:
    names = {p.product for p in present}
    others = [absent(n) for n in ("clamav", "defender", "sophos", "crowdstrike") if n not in names]
    return EndpointFacts(products=(*present, *others), disk=disk)


UNREAD = EndpointFacts(products=None, disk=None, problems=("packages were not collected",))


def test_installed_named_product():
    assert ev.installed(facts(product()), Installed(product="clamav"), CTX).status is Status.PASS
    out = ev.installed(facts(product()), Installed(product="defender"), CTX)
    assert out.status is Status.FAIL
    assert out.observed == ("Microsoft Defender for Endpoint not found; installed instead: ClamAV")


def test_installed_any_lists_what_was_checked():
    out = ev.installed(facts(), Installed(product="any"), CTX)
    assert out.status is Status.FAIL and "checked ClamAV, Microsoft Defender" in out.observed
    out = ev.installed(facts(product("sophos")), Installed(), CTX)
    assert out.status is Status.PASS and "Sophos Protection for Linux" in out.observed


@pytest.mark.parametrize(
    ("control", "params"),
    [
        (ev.installed, Installed()),
        (ev.running, ProductRequired()),
        (ev.realtime_protection, ProductRequired()),
        (ev.signatures_current, SignatureAge()),
    ],
)
def test_unreadable_products_are_error_never_pass(control, params):
    out = control(UNREAD, params, CTX)
    assert out.status is Status.ERROR and out.reason == "packages were not collected"


def test_running_needs_running_and_enabled():
    params = ProductRequired(product="clamav")
    assert ev.running(facts(product()), params, CTX).status is Status.PASS
    stopped = product(running=False, running_detail="no clamd process running; enabled")
    out = ev.running(facts(stopped), params, CTX)
    assert out.status is Status.FAIL and out.observed.startswith("ClamAV: no clamd process")
    disabled = product(enabled=False)
    assert ev.running(facts(disabled), params, CTX).status is Status.FAIL
    unknown = product(enabled=None, running_detail="no init configuration found to tell")
    out = ev.running(facts(unknown), params, CTX)
    assert out.status is Status.ERROR and "no init configuration" in out.reason


def test_named_product_not_installed_fails_each_control():
    params = ProductRequired(product="defender")
    out = ev.running(facts(product()), params, CTX)
    assert out.status is Status.FAIL
    assert out.observed == "Microsoft Defender for Endpoint is not installed"


def test_any_passes_when_one_product_satisfies():
    clam = product(running=False, running_detail="no clamd process running")
    spl = product("sophos", running_detail="process sophos_watchdog running")
    out = ev.running(facts(clam, spl), ProductRequired(), CTX)
    assert out.status is Status.PASS
    assert "ClamAV: no clamd process running" in out.observed
    assert "Sophos Protection for Linux: process sophos_watchdog" in out.observed


def test_any_with_an_unknown_product_and_no_pass_is_error():
    clam = product(realtime=False, realtime_detail="no OnAccessIncludePath")
    mde = product("defender", realtime=None, problems=("mdatp health gave no health report",))
    out = ev.realtime_protection(facts(clam, mde), ProductRequired(), CTX)
    assert out.status is Status.ERROR
    assert out.reason == "Microsoft Defender for Endpoint: mdatp health gave no health report"


def test_any_with_nothing_installed_fails():
    out = ev.realtime_protection(facts(), ProductRequired(), CTX)
    assert out.status is Status.FAIL
    assert out.observed == "any supported anti-malware product is not installed"


@pytest.mark.parametrize(
    ("control", "what"),
    [
        (ev.running, "a running anti-malware engine"),
        (ev.realtime_protection, "real-time protection"),
        (ev.tamper_protection, "tamper protection"),
        (ev.disk_encryption, "disk encryption"),
    ],
)
def test_not_required_is_not_applicable_never_a_pass_on_nothing(control, what):
    params = (Required if control is ev.disk_encryption else ProductRequired)(required=False)
    out = control(UNREAD, params, EvalContext(now=CTX.now, policy="linux-baseline"))
    assert out.status is Status.NOT_APPLICABLE
    assert out.reason == f"{what} not required by policy linux-baseline (required: false)"


def test_signature_age_against_max_days():
    fresh = facts(product(signature_age_days=1.9))
    assert ev.signatures_current(fresh, SignatureAge(max_days=2), CTX).status is Status.PASS
    stale = facts(product(signature_age_days=2.1))
    out = ev.signatures_current(stale, SignatureAge(max_days=2), CTX)
    assert out.status is Status.FAIL and out.observed.endswith("2.1 days old")


def test_no_signatures_at_all_fails_but_unreadable_ones_are_error():
    never = product(signature_age_days=None, signatures_detail="no daily database")
    out = ev.signatures_current(facts(never), SignatureAge(), CTX)
    assert out.status is Status.FAIL and "no daily database" in out.observed
    broken = product(signature_age_days=None, problems=("daily.cld: unreadable CVD header",))
    out = ev.signatures_current(facts(broken), SignatureAge(), CTX)
    assert out.status is Status.ERROR and "unreadable CVD header" in out.reason


def test_falcon_has_no_signatures_so_the_control_does_not_apply():
    cs = product("crowdstrike", has_signatures=False, signature_age_days=None,
                 signatures_detail="Falcon has no local signature database")  # fmt: skip
    for name in ("crowdstrike", "any"):
        out = ev.signatures_current(facts(cs), SignatureAge(product=name), CTX)
        assert out.status is Status.NOT_APPLICABLE
    # with ClamAV also installed, 'any' judges ClamAV's signatures
    stale = product(signature_age_days=9.0)
    out = ev.signatures_current(facts(cs, stale), SignatureAge(product="any"), CTX)
    assert out.status is Status.FAIL


def test_disk_encryption():
    enc = DiskEncryption(
        encrypted=True, layers=("vg0-root lvm ext4", "root_crypt crypt"), detail="dm-crypt"
    )
    out = ev.disk_encryption(facts(disk=enc), Required(), CTX)
    assert out.status is Status.PASS and out.evidence == "vg0-root lvm ext4\nroot_crypt crypt"
    plain = DiskEncryption(encrypted=False, detail="/ is overlay (overlay), not on a block device")
    out = ev.disk_encryption(facts(disk=plain), Required(), CTX)
    assert out.status is Status.FAIL and out.observed.startswith("/ is overlay")
    unknown = EndpointFacts(products=(), disk=None, problems=("could not trace / (zfs)",))
    out = ev.disk_encryption(unknown, Required(), CTX)
    assert out.status is Status.ERROR and out.reason == "could not trace / (zfs)"


def test_tamper_protection_stays_windows_only():
    ctl = ev.DOMAIN.controls["tamper_protection"]
    assert ctl.evaluate is ev.tamper_protection and ctl.platforms == frozenset({"windows"})
    for name in ("installed", "running", "realtime_protection", "signatures_current"):
        assert ev.DOMAIN.controls[name].platforms == frozenset({"linux", "windows"})
    assert ev.DOMAIN.controls["disk_encryption"].mappings["gdpr"] == ("32(1)(b)", "32(1)(a)")
