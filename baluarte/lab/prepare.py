"""Build (or find cached) every lab image the tests use, before the tests start.

    python -m baluarte.lab.prepare

A cold build takes minutes (debootstrap from the machine's Debian mirror); doing it here keeps
that out of any single test's time limit. Without root there is nothing to prepare: the tests
that need lab hosts skip with their reason.
"""

from __future__ import annotations

import os
import sys
import time

from baluarte.lab.crosscheck import ensure_crosscheck
from baluarte.lab.images import ensure_image
from baluarte.lab.rhel_like import ensure_rhel_like_image
from baluarte.lab.systemd_hosts import ensure_systemd_image


def main() -> int:
    if os.geteuid() != 0:
        print("lab images: not root, nothing prepared (lab tests will skip)")
        return 0
    for name, build in (
        ("Debian", ensure_image),
        ("Debian + systemd", ensure_systemd_image),
        ("RHEL-like (Debian + dnf/rpm)", ensure_rhel_like_image),
        ("cross-check (Debian + systemd + OpenSCAP/Lynis, SCAP content)", ensure_crosscheck),
    ):
        started = time.monotonic()
        path = build()
        print(f"lab image {name}: {path} ({time.monotonic() - started:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
