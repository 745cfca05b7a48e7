"""FortiGate remedies for ``baluarte apply``: control id → remedy, and manual steps for the rest.

Remedies are pure: (domain facts, policy parameters, RemedyContext) → Remedy (cmdb PUTs as
RestWrite, each with the values it replaces), Manual or None (the control passes). The executor
(``executor.py``) reads the management path before anything else, refuses writes that would cut
it, and applies the rest in one batch transaction after a backup and a named revision.
"""

from __future__ import annotations

from baluarte.remediation import RemedyFunction
from deploys._lazy import lazy_executor
from deploys.fortigate import access, firewall, patching
from deploys.fortigate import logging as logs

__all__ = ["EXECUTOR", "MANUAL", "REMEDIES"]

REMEDIES: dict[str, RemedyFunction] = {
    "access.insecure_admin_protocols": access.insecure_admin_protocols,
    "access.admin_session_timeout": access.admin_session_timeout,
    "access.strong_crypto": access.strong_crypto,
    "access.password_policy": access.password_policy,
    "firewall.security_profiles": firewall.security_profiles,
    "firewall.policy_logging": firewall.policy_logging,
    "logging.remote_forwarding": logs.remote_forwarding,
    "logging.time_sync": logs.time_sync,
    "patching.automatic_updates": patching.automatic_updates,
}

MANUAL: dict[str, str] = {
    "patching.minimum_versions": "upgrade the firmware in a maintenance window along Fortinet's "
    "upgrade path (docs.fortinet.com/upgrade-tool), after a configuration backup; in an HA "
    "cluster upgrade the secondary first.",
    "firewall.allowed_inbound": "remove or narrow the policies publishing services the policy "
    "does not list (Policy & Objects > Firewall Policy), or list the service in "
    "firewall.allowed_inbound.services if it is meant to be published.",
    "firewall.no_any_any_accept": "replace the any-to-any accept policies with policies naming "
    "the source and destination addresses and the services actually needed.",
    "firewall.security_services_current": "renew the FortiGuard licences that expire or have "
    "expired, and check that the unit reaches FortiGuard (`diagnose autoupdate status`, "
    "`execute update-now`).",
    "backup.config_saved": "let Baluarte's API user take backups (accprofile: sysgrp "
    "maintenance read) or schedule backups from FortiManager / an automation stitch.",
    "access.admin_accounts": "remove or disable the administrators the policy does not allow "
    "(System > Administrators), or add them to access.admin_accounts.allowed.",
    "access.admin_mfa": "assign FortiToken (or email/SMS) two-factor authentication to each "
    "administrator, or authenticate them against RADIUS/LDAP with MFA.",
    "access.admin_trusted_hosts": "set trusted hosts on every administrator and API user to the "
    "admin networks (keeping the one Baluarte connects from).",
}

__getattr__ = lazy_executor(__name__)  # EXECUTOR: loaded only by apply
