"""``/metrics``: each client's posture figures and the service's checks, in Prometheus text.

A fresh registry per scrape, filled by one collector from the posture cache (the overview's
read model), so a scrape costs a few queries, never a fold over runs. Label values are client
names; prometheus_client escapes them (``\\``, ``"``, newline) whatever they hold.

Series (gauges; ``client`` label unless said):

- ``baluarte_compliance_percent``: pass / (pass + fail + error) at the client's posture; absent
  for a client with nothing judged (an absent series, not 0 or NaN, so no alert reads it as
  compliance)
- ``baluarte_devices_in_scope``, ``baluarte_devices_verified``, ``baluarte_devices_not_verified``
- ``baluarte_posture_findings{client,status}``: the posture's findings per status
- ``baluarte_new_drift``: controls that passed at the previous posture and fail now
- ``baluarte_expiring_waivers``: the client's waivers expiring soon
- ``baluarte_last_run_timestamp_seconds``: start of the newest run in the posture (absent: none)
- ``baluarte_last_run_duration_seconds``: that run's duration (absent while it has no end)
- ``baluarte_posture_computed_timestamp_seconds``: when the figures were last computed
- ``baluarte_service_checks{state}``: the service's checks per state (queued, running, done,
  failed, interrupted)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, get_args

import sqlalchemy as sa
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from baluarte.findings import Status
from baluarte.service.checks import CheckState
from baluarte.service.snapshots import ClientSummary
from baluarte.service.tables import service_checks
from baluarte.store.tables import runs as runs_table

if TYPE_CHECKING:
    from baluarte.service.context import Service

__all__ = ["CONTENT_TYPE", "Figures", "figures", "render", "render_metrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST


@dataclass(frozen=True)
class Figures:
    """What one scrape shows."""

    clients: Sequence[ClientSummary]
    run_seconds: Mapping[int, float]  # a run's duration, by run id (finished runs only)
    checks: Mapping[str, int]  # the service's checks per state


def _gauge(name: str, doc: str, labels: Sequence[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=list(labels))


def _timestamp(moment: datetime) -> float:
    return moment.timestamp()


class _Collector:
    def __init__(self, figures: Figures) -> None:
        self._figures = figures

    def collect(self) -> Iterable[Metric]:
        f = self._figures
        per_client = {
            "compliance_percent": _gauge(
                "baluarte_compliance_percent",
                "Compliance at the client's posture: pass / (pass + fail + error), percent",
                ["client"],
            ),
            "devices_in_scope": _gauge(
                "baluarte_devices_in_scope", "Devices of the client in scope", ["client"]
            ),
            "devices_verified": _gauge(
                "baluarte_devices_verified", "Devices read at their last attempt", ["client"]
            ),
            "devices_not_verified": _gauge(
                "baluarte_devices_not_verified",
                "Devices never read, or unreadable at their last attempt",
                ["client"],
            ),
            "new_drift": _gauge(
                "baluarte_new_drift",
                "Controls that passed at the previous posture and fail now",
                ["client"],
            ),
            "expiring_waivers": _gauge(
                "baluarte_expiring_waivers", "The client's waivers expiring soon", ["client"]
            ),
            "open_drift": _gauge(
                "baluarte_open_drift", "Controls failing now at the client's posture", ["client"]
            ),
            "overdue": _gauge(
                "baluarte_overdue_drift",
                "Failing controls past their response target (business hours)",
                ["client"],
            ),
            "recurring": _gauge(
                "baluarte_recurring_drift",
                "Failing controls that failed on the same device not long before",
                ["client"],
            ),
        }
        findings = _gauge(
            "baluarte_posture_findings",
            "Findings of the client's posture per status",
            ["client", "status"],
        )
        last_run = _gauge(
            "baluarte_last_run_timestamp_seconds",
            "Start of the newest run in the client's posture (Unix time)",
            ["client"],
        )
        duration = _gauge(
            "baluarte_last_run_duration_seconds",
            "Duration of the newest run in the client's posture",
            ["client"],
        )
        computed = _gauge(
            "baluarte_posture_computed_timestamp_seconds",
            "When the client's posture figures were computed (Unix time)",
            ["client"],
        )
        for s in f.clients:
            labels = [s.client]
            for attr, family in per_client.items():
                value = getattr(s, attr)
                if value is not None:
                    family.add_metric(labels, float(value))
            for status in Status:
                findings.add_metric([s.client, str(status)], float(s.counts.get(str(status), 0)))
            if s.last_run_at is not None:
                last_run.add_metric(labels, _timestamp(s.last_run_at))
            if s.last_run_id is not None and s.last_run_id in f.run_seconds:
                duration.add_metric(labels, f.run_seconds[s.last_run_id])
            computed.add_metric(labels, _timestamp(s.computed_at))
        yield from per_client.values()
        yield from (findings, last_run, duration, computed)
        checks = _gauge("baluarte_service_checks", "The service's checks per state", ["state"])
        for state in get_args(CheckState):
            checks.add_metric([state], float(f.checks.get(state, 0)))
        yield checks


def render(figures: Figures) -> bytes:
    """The figures in Prometheus text exposition format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(figures))
    return generate_latest(registry)


def figures(service: Service) -> Figures:
    """The figures now: the posture cache (missing rows built), run durations, check states."""
    from baluarte.service.snapshots import client_summaries

    clients = client_summaries(service)
    ids = sorted({s.last_run_id for s in clients if s.last_run_id is not None})
    with service.db.read() as conn:
        times = (
            conn.execute(
                sa.select(runs_table.c.id, runs_table.c.started_at, runs_table.c.ended_at).where(
                    runs_table.c.id.in_(ids), runs_table.c.ended_at.is_not(None)
                )
            ).all()
            if ids
            else []
        )
        states = conn.execute(
            sa.select(service_checks.c.state, sa.func.count()).group_by(service_checks.c.state)
        ).all()
    return Figures(
        clients=clients,
        run_seconds={
            int(r.id): max(0.0, (r.ended_at - r.started_at).total_seconds()) for r in times
        },
        checks={str(state): int(n) for state, n in states},
    )


def render_metrics(service: Service) -> bytes:
    return render(figures(service))
