"""Endpoint remedies: ClamAV installed, its daemons enabled and running (Debian, Ubuntu).

Both controls plan the same idempotent operations, so planning both changes nothing twice.
Commercial products (Defender, Sophos, CrowdStrike) are installed from their vendor's console:
their remedy is manual. On the RHEL family ClamAV comes from EPEL with a clamd@scan unit that
needs its scan.conf edited first, so it is manual there too.
"""

from __future__ import annotations

from baluarte.remediation import Manual, Refused, Remedy, RemedyContext
from checks.facts.endpoint import EndpointFacts
from checks.policy.endpoint import Installed, ProductRequired
from deploys.linux.common import family, needed, op

__all__ = ["installed", "running"]

_PACKAGES = ("clamav-daemon", "clamav-freshclam")
_VENDOR = {
    "defender": "install Microsoft Defender for Endpoint (mdatp) from packages.microsoft.com "
    "and onboard it with the onboarding script from the Defender portal; check `mdatp health`",
    "sophos": "install Sophos Protection for Linux with SophosSetup.sh from Sophos Central; "
    "check `systemctl status sophos-spl`",
    "crowdstrike": "install the Falcon sensor package, set the CID with `falconctl -s "
    "--cid=…` and start falcon-sensor; check `falconctl -g --rfm-state`",
}
_EPEL = (
    "install ClamAV from EPEL (`dnf install clamav clamd clamav-update`), remove the Example "
    "line from /etc/clamd.d/scan.conf and set LocalSocket, run freshclam, then `systemctl "
    "enable --now clamav-freshclam clamd@scan`"
)


def _target(facts: EndpointFacts, product: str) -> str:
    """The product to act on: the policy's, or for ``any`` ClamAV unless another is installed."""
    if product != "any":
        return product
    present = [p.product for p in facts.products or () if p.installed]
    return "clamav" if not present or "clamav" in present else present[0]


def _clamav(facts: EndpointFacts, product: str, ctx: RemedyContext) -> Remedy | Manual:
    target = _target(facts, product)
    if target != "clamav":
        return Manual(text=_VENDOR[target])
    if family(ctx) != "apt":
        return Manual(text=_EPEL)
    status = facts.product("clamav")
    before = "ClamAV not installed"
    if status is not None and status.installed:
        before = f"ClamAV installed ({status.installed_detail}); {status.running_detail}"
    return Remedy(
        summary="install ClamAV and keep it running (clamav-daemon, clamav-freshclam)",
        before=before,
        after="clamav-daemon and clamav-freshclam installed, enabled at boot and running",
        ops=(
            op("install ClamAV", "apt", "packages", packages=list(_PACKAGES)),
            # freshclam first: clamd will not start without a signature database
            *(
                op(
                    f"enable and start {unit}",
                    "systemd",
                    "service",
                    service=unit,
                    running=True,
                    enabled=True,
                )
                for unit in ("clamav-freshclam", "clamav-daemon")
            ),
        ),
    )


def installed(
    facts: EndpointFacts, params: Installed, ctx: RemedyContext
) -> Remedy | Manual | Refused | None:
    state = needed("endpoint.installed", facts, params, ctx)
    if state is not True:
        return state
    return _clamav(facts, params.product, ctx)


def running(
    facts: EndpointFacts, params: ProductRequired, ctx: RemedyContext
) -> Remedy | Manual | Refused | None:
    state = needed("endpoint.running", facts, params, ctx)
    if state is not True:
        return state
    return _clamav(facts, params.product, ctx)
