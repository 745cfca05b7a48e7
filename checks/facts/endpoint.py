"""EndpointFacts: the anti-malware products on a device and whether its system volume is encrypted.

``None`` always means "could not tell"; an evaluator that needs it reports ``error``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["PRODUCTS", "DiskEncryption", "EndpointFacts", "ProductName", "ProductStatus"]

ProductName = Literal["clamav", "defender", "sophos", "crowdstrike"]
PRODUCTS: tuple[ProductName, ...] = ("clamav", "defender", "sophos", "crowdstrike")


class ProductStatus(BaseModel):
    """One anti-malware product as seen on the device (installed or not)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    product: ProductName
    installed: bool
    installed_detail: str = ""  # what showed it (or its absence): packages, paths
    version: str | None = None
    running: bool | None = None  # the engine is up (process, service or a health answer)
    enabled: bool | None = None  # the engine starts at boot
    running_detail: str = ""
    realtime: bool | None = None  # on-access scanning is active
    realtime_detail: str = ""
    signatures_built: datetime | None = None  # build time of the newest signatures
    signature_age_days: float | None = None  # against the device's own clock
    signatures_detail: str = ""
    # False for products with no local signature database (CrowdStrike Falcon)
    has_signatures: bool = True
    problems: tuple[str, ...] = ()  # what could not be read, and why
    label: str = ""  # the product's name on this platform, when not the catalogue's
    tamper_protected: bool | None = None  # tamper protection on (Windows products)
    tamper_detail: str = ""
    signatures_read: bool = True  # False: this platform's check does not read the signature age


class DiskEncryption(BaseModel):
    """Whether the root (system) filesystem sits on an encrypted block device."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    encrypted: bool | None
    root: str = ""  # "ext4 on /dev/mapper/luks-…", "overlay"
    layers: tuple[str, ...] = ()  # from the filesystem down: "luks-root crypt aes-xts-plain64"
    source: str = ""  # which record decided: "lsblk", "sysfs", "mountinfo"
    detail: str = ""
    kind: Literal["luks", "bitlocker"] = "luks"  # what encrypts the system volume


class EndpointFacts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    products: tuple[ProductStatus, ...] | None  # every supported product, installed or not
    disk: DiskEncryption | None
    problems: tuple[str, ...] = ()

    def product(self, name: str) -> ProductStatus | None:
        for status in self.products or ():
            if status.product == name:
                return status
        return None
