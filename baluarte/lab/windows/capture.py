"""Capture a Windows host's check-script answer as a lab state file, so the lab can play it.

    state = capture(device)           # device: baluarte.inventory.Device
    Path("pc-recepcion.json").write_text(json.dumps(state, indent=2))

Read-only: it runs the same check script ``baluarte check`` runs (reads only, one pipeline)
and returns the state-file format of ``checks/windows/document.py``: ``{"hostname", "os",
"output": <the document>}``. The document holds no secrets (the script reports counts and
types, never keys or passwords).
"""

from __future__ import annotations

from typing import Any

from baluarte.errors import InputError
from baluarte.inventory import Device
from baluarte.transports.winrm import WinrmClient
from checks.windows.collector import document_of, search_seconds, target_for
from checks.windows.script import check_script

__all__ = ["capture", "os_name"]


def capture(device: Device, *, timeout: float = 120.0) -> dict[str, Any]:
    """The lab state of one Windows host. Raises DeviceError / InputError when it cannot."""
    if device.winrm is None:
        raise InputError(
            "a Windows device needs winrm settings to be captured", code="missing_key", key="winrm"
        )
    target = target_for(device, timeout=timeout)
    answer = WinrmClient(target).run_script(check_script(search_seconds(target.deadline)))
    document = document_of(answer)
    host = document.get("host")
    hostname = host.get("ComputerName") if isinstance(host, dict) else None
    # the lab wants both; a host whose os.build check failed is still a state worth keeping
    return {
        "hostname": str(hostname or device.name),
        "os": os_name(document) or "Windows (version not read)",
        "output": document,
    }


def os_name(document: dict[str, Any]) -> str:
    """'Windows 11 Pro 24H2' from the os.build check: caption and version; '' when unknown."""
    checks = document.get("checks")
    entry = checks.get("os.build") if isinstance(checks, dict) else None
    data = entry.get("data") if isinstance(entry, dict) and entry.get("ok") else None
    if not isinstance(data, dict):
        return ""
    caption = str(data.get("Caption") or data.get("ProductName") or "").strip()
    caption = caption.removeprefix("Microsoft ").strip()
    version = str(data.get("DisplayVersion") or data.get("Version") or "").strip()
    return " ".join(part for part in (caption, version) if part)
