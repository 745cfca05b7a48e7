"""Sample values for what the evaluators format into a text, chosen by the name of what is
formatted: the form the device or the policy gives it, so that templates' slot kinds see
realistic values. Helpers of ``_evaluator_texts``."""

from __future__ import annotations

import ast

# A sample value by the name of what is formatted (the attribute, variable or function): the
# form the device or the policy gives it, so templates' slot kinds see realistic values.
NUMBERS = {
    "max", "max_days", "max_hours", "grace_days", "min_length", "complexity_classes",
    "lockout_threshold", "lockout_minutes", "max_age_days", "threshold", "seconds", "minutes",
    "max_minutes", "size", "port", "licence_min_days", "exit_status", "max_offset_seconds",
    "max_sync_age_hours", "limit", "len", "count", "n", "more", "days", "age", "hours",
    "since", "offset", "days_left", "lockout_seconds", "sync_limit", "max_lists_age_days",
    "outbound",
}  # fmt: skip
SAMPLES = {
    "_when": "2026-11-20 02:00 UTC",
    "_day": "2026-11-20",
    "label": "ClamAV",
    "product": "FortiOS",
    "tool": "restic",
    "location": "/srv/backup",
    "service": "backup.service",
    "timer": "backup.timer",
    "job": "nightly",
    "name": "nightly",
    "protocol": "telnet",
    "proto": "tcp",
    "rng": "20-25",
    "family": "ipv4",
    "action": "drop",
    "version": "1.2.3",
    "min_tls_version": "1.2",
    "os_build": "10.0.26100.4349",
    "firmware": "7.4.5",
    "allowed": "prohibit-password",
    "permit_root_login": "yes",
    "connection": "user=root,addr=203.0.113.10",
    "logtraffic": "disable",
    "wanted": "all",
    "kinds": "antivirus, IPS",
    "status": "licensed",
    "state": "Success",
    "result": "fail",
    "encryption": "repokey",
    "scope": "global",
    "path": "artifacts/fw.conf",
    "until": "2028-06-30",
    "file": "/srv/data/a.txt",
    "sha256": "0123abcd",
    "container": "PID 1 environment: container=lxc",
    "extended_support": "lts",
    "source": "apt history",
}


def sample_of(node: ast.expr, spec: str = "") -> str:
    if "%Z" in spec:
        return "2026-11-20 02:00 UTC"
    if "%H" in spec:
        return "2026-11-20 02:00"
    if "%Y" in spec:
        return "2026-11-20"
    if spec:
        return "3.5"
    key = key_of(node)
    if key == "label" and isinstance(node, ast.Call):  # FirewallPolicy.label()
        return 'policy 7 "web" (lan → wan1)'
    if key in NUMBERS:
        return "7"
    return SAMPLES.get(key, "x1")


def key_of(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return key_of(node.func)
    if isinstance(node, ast.Subscript | ast.Starred):
        return key_of(node.value)
    if isinstance(node, ast.BinOp):
        return key_of(node.left)
    return ""


def spec_of(node: ast.FormattedValue) -> str:
    if isinstance(node.format_spec, ast.JoinedStr):
        return "".join(str(v.value) for v in node.format_spec.values if isinstance(v, ast.Constant))
    return ""
