"""Microsoft Defender remedies: real-time protection on; security intelligence updated.

Only Defender is changed from here. Sophos and other products are managed from their own
console, and Defender in passive mode (another product is primary) is not the engine to turn
on: those are manual.
"""

from __future__ import annotations

from baluarte.remediation import Manual, Refused, Remedy, RemedyContext
from checks.facts.endpoint import EndpointFacts, ProductStatus
from checks.policy.endpoint import ProductRequired, SignatureAge
from deploys.common import needed
from deploys.windows.fixes import fix_script

__all__ = ["realtime_protection", "signatures_current"]

_CONSOLE = (
    "{product}: turn it on from the product's management console (Sophos Central: Threat "
    "Protection policy); Baluarte changes Microsoft Defender only."
)


def _defender(facts: EndpointFacts, product: str) -> ProductStatus | Manual:
    """Defender's status when it is the product to fix, else what to do by hand."""
    if product not in ("any", "defender"):
        return Manual(text=_CONSOLE.format(product=product.capitalize()))
    defender = facts.product("defender")
    if defender is None or not defender.installed:
        return Manual(
            text="Microsoft Defender Antivirus is not available (Get-MpComputerStatus failed): "
            "fix the installed product from its console, or re-enable Defender (Windows "
            "Security, or remove the policy that turns it off)."
        )
    if defender.running is not True:
        return Manual(
            text=f"Microsoft Defender is not the active anti-malware engine "
            f"({defender.running_detail}): turn real-time protection on in the primary "
            "product, or uninstall it so Defender becomes active."
        )
    return defender


def realtime_protection(
    facts: EndpointFacts, params: ProductRequired, ctx: RemedyContext
) -> Remedy | Manual | Refused | None:
    state = needed("endpoint.realtime_protection", facts, params, ctx)
    if state is not True:
        return state
    defender = _defender(facts, params.product)
    if isinstance(defender, Manual):
        return defender
    return Remedy(
        summary="turn on Defender real-time protection",
        before=defender.realtime_detail,
        after="RealTimeProtectionEnabled True",
        script=fix_script("defender-realtime"),
    )


def signatures_current(
    facts: EndpointFacts, params: SignatureAge, ctx: RemedyContext
) -> Remedy | Manual | Refused | None:
    state = needed("endpoint.signatures_current", facts, params, ctx)
    if state is not True:
        return state
    defender = _defender(facts, params.product)
    if isinstance(defender, Manual):
        return defender
    age = defender.signature_age_days
    return Remedy(
        summary="update Defender's security intelligence (Update-MpSignature)",
        before=defender.signatures_detail + (f", {age:.1f} days old" if age is not None else ""),
        after=f"signatures at most {params.max_days} days old",
        script=fix_script("defender-signatures"),
        parameters={"MaxDays": params.max_days},
    )
