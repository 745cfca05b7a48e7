"""FortiGuard subscriptions from ``monitor license/status``: licence state, expiry, definitions.

Ages and remaining days are measured against the collection time (``snapshot.taken_at``);
``expires`` and ``last_update`` are epoch seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime

from checks.facts.firewall import FortiGuardService
from checks.fortigate.read import Fields, Unreadable, single
from checks.fortigate.snapshot import FortiSnapshot

__all__ = ["SERVICES", "services"]

# policy name -> (key in license/status, whether it is a downloaded definitions database)
SERVICES: dict[str, tuple[str, bool]] = {
    "antivirus": ("antivirus", True),
    "ips": ("ips", True),
    "webfilter": ("web_filtering", False),
    "appctrl": ("appctrl", True),
}


# how far the unit's clock may run ahead of Baluarte's (skew) before a stamp proves nothing
_CLOCK_SLACK_DAYS = 2 / 24


def _epoch(obj: Fields, field: str) -> datetime:
    return datetime.fromtimestamp(obj.number(field), UTC)


def _service(status: Fields, name: str, now: datetime) -> FortiGuardService:
    key, downloaded = SERVICES[name]
    read: dict[str, object] = {"name": name, "status": None, "has_definitions": downloaded}
    try:
        obj = status.object(key)
        read["status"] = obj.text("status")
        if read["status"] == "licensed":
            expires = _epoch(obj, "expires")
            read |= {"expires": expires, "days_left": (expires - now).total_seconds() / 86400}
        if downloaded:
            updated = _epoch(obj, "last_update")
            age = (now - updated).total_seconds() / 86400
            if age < -_CLOCK_SLACK_DAYS:
                # stamped by a clock running ahead: a negative age would pass any limit
                raise Unreadable(
                    f"{obj.where}: last_update {updated:%Y-%m-%d %H:%M} UTC is {-age:.1f} days "
                    "ahead of the collection time: the unit's clock is wrong, so how old the "
                    "definitions are cannot be told"
                )
            read |= {"version": obj.text("version"), "last_update": updated}
            read["definitions_age_days"] = age
    except Unreadable as exc:
        read["problem"] = str(exc)
    return FortiGuardService.model_validate(read)


def services(snapshot: FortiSnapshot) -> tuple[FortiGuardService, ...]:
    status = single(snapshot, "license/status", scope="monitor")
    return tuple(_service(status, name, snapshot.taken_at) for name in SERVICES)
