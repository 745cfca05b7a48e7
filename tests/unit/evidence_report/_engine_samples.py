"""Sample values for what the engine, the transports and apply format into a text, chosen by
the name of what is formatted: the form a device, a library or the policy gives it, so that the
frames' slot kinds see realistic values. Helpers of ``_engine_texts``."""

from __future__ import annotations

import ast

# Sample values by the name of what is formatted ("object.attribute" first, then the name).
SAMPLES: dict[str, str] = {
    "url": "https://10.0.0.1:443",
    "self.url": "https://10.0.0.1:443",
    "t.url": "https://10.0.0.5:5986/wsman",
    "where": "GET /api/v2/cmdb/system/global",
    "method": "GET",
    "path": "/etc/baluarte/fw-token",
    "w.path": "system/interface",
    "mkey": "port1",
    "status": "403",
    "outcome.status": "fail",
    "status_code": "403",
    "http_status": "403",
    "code": "-14",
    "error_code": "-14",
    "phrase": "Forbidden",
    "auth": "NTLM",
    "domain": "patching",
    "platform": "linux",
    "control.id": "patching.security_updates_pending",
    "control.domain": "patching",
    "user": "api-baluarte",
    "path.user": "api-baluarte",
    "source": "10.0.0.9",
    "interface": "port1",
    "sport": "443",
    "path.sport": "443",
    "isoformat": "2027-01-31",
    "tid": "7",
    "revision": "12",
    "stamp": "2026-11-20T02:00:00Z",
    "sha256": "0123abcd",
    "backup.path": "/var/lib/baluarte/artifacts/fortigate/acme/hq/fw-hq/x.conf",
    "table": "antivirus/profile",
    "key": "allowaccess",
    "name": "allowaccess",
    "first.name": "install nftables",
    "o.name": "install nftables",
    "SCHEMA": "baluarte-linux/1",
    "folder": "/srv/baluarte-artifacts/fortigate/acme/hq/fw-hq",
    "ref": "env:ACME_FW_TOKEN",
    "ref.target": "ACME_FW_TOKEN",
    "ref.scheme": "vault",
    "scheme": "vault",
    "service": "baluarte",
    "offered": "Negotiate, Kerberos",
    "len": "2",
    "ran": " running 'apt-get install -y nftables'",
    "env.status": "error",
    "env.error": "-3",
    "control_id": "patching.security_updates_pending",
    "describe": "api-baluarte from 10.0.0.9 on port1 (admin-sport 443, trusthosts 10.0.0.0/8)",
    "lower": "true",
    "json.dumps": '{"Enabled": false}',
}


def sample(node: ast.expr, spec: str = "") -> str:
    """A value as the device, a library or the policy gives it (``x1``: any text of theirs)."""
    if "%Y" in spec:
        return "2026-11-20T02:00:00Z"
    if spec:
        return "120" if spec == "g" else "3"
    for key in keys_of(node):
        if key in SAMPLES:
            return SAMPLES[key]
    return "x1"


def keys_of(node: ast.expr) -> list[str]:
    """The names ``node`` is known by, the most telling first ("t.url", then "url")."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        owner = node.value
        whole = f"{owner.id}.{node.attr}" if isinstance(owner, ast.Name) else ""
        return [k for k in (whole, node.attr) if k]
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name) and node.func.id == "len":
            return ["len"]
        return keys_of(node.func)
    if isinstance(node, ast.Subscript | ast.Starred):
        return keys_of(node.value)
    return []
