"""The ``endpoint:`` section of a policy.

``product`` names the anti-malware product a control is about; ``any`` is satisfied by any
supported product that meets the control (on Linux: clamav, defender, sophos, crowdstrike).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from checks.policy.base import ControlParams, Required, Section

__all__ = ["EndpointSection", "Installed", "Product", "ProductRequired", "SignatureAge"]

Product = Literal["clamav", "defender", "sophos", "crowdstrike", "any"]


class Installed(ControlParams):
    product: Product = Field(
        default="any", description="the product required; 'any' accepts any of the known ones"
    )


class ProductRequired(Required):
    product: Product = Field(
        default="any",
        description="the product this control is about; 'any' passes if any installed one does",
    )


class SignatureAge(ControlParams):
    max_days: int = Field(default=2, ge=0, description="oldest acceptable signatures, in days")
    product: Product = Field(
        default="any",
        description="the product whose signatures count; 'any' passes if any installed one does",
    )


class EndpointSection(Section):
    installed: Installed | None = Field(default=None, description="the product is installed")
    running: ProductRequired | None = Field(
        default=None, description="its engine is running and enabled at boot"
    )
    realtime_protection: ProductRequired | None = Field(
        default=None, description="on-access scanning is on"
    )
    signatures_current: SignatureAge | None = Field(
        default=None, description="signatures no older than max_days"
    )
    tamper_protection: ProductRequired | None = Field(
        default=None, description="Windows: tamper protection is on"
    )
    disk_encryption: Required | None = Field(
        default=None, description="the system volume is encrypted (LUKS, BitLocker)"
    )
