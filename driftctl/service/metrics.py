"""Prometheus metrics of the service, on its own registry (no I/O; ``/metrics`` renders them).

Counters carry only bounded labels (trigger, outcome, severity); per-workspace series are gauges,
bounded by the workspaces in driftctl.yaml.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from driftctl.core import Outcome, WorkspaceResult

DURATION_BUCKETS = (1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
HEAL_BUCKETS = (5, 10, 30, 60, 120, 300, 900, 1800, 3600, 4 * 3600, 24 * 3600)


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.runs = Counter(
            "driftctl_reconcile_runs",
            "Workspace reconciles, by what started them and how they ended",
            ["trigger", "outcome"],
            registry=r,
        )
        self.duration = Histogram(
            "driftctl_reconcile_duration_seconds",
            "Seconds one workspace reconcile took",
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.findings = Gauge(
            "driftctl_findings",
            "Open drift findings after the last run of each workspace",
            ["severity"],
            registry=r,
        )
        self.heals = Counter("driftctl_heals", "Automatic heals, by outcome", ["outcome"], registry=r)
        self.pending = Gauge("driftctl_proposals_pending", "Proposals waiting for a human", registry=r)
        self.breaker = Gauge(
            "driftctl_breaker_open", "1 while a workspace's breaker is open", ["workspace"], registry=r
        )
        self.last_success = Gauge(
            "driftctl_last_success_timestamp_seconds",
            "When a workspace last reconciled without error",
            ["workspace"],
            registry=r,
        )
        self.time_to_heal = Histogram(
            "driftctl_time_to_heal_seconds",
            "Seconds from a drift first seen to its confirmed heal",
            buckets=HEAL_BUCKETS,
            registry=r,
        )
        self.active = Gauge(
            "driftctl_scheduler_active", "1 while this process holds the scheduler lease", registry=r
        )
        self.notifications = Counter(
            "driftctl_notifications", "Notification delivery attempts", ["event", "outcome"], registry=r
        )
        self._open: dict[str, dict[str, int]] = {}  # workspace → severity → open findings
        self._severities: set[str] = set()

    def record(self, result: WorkspaceResult, trigger: str, *, finished_at: float) -> None:
        """One workspace's result (the breaker, pending and time-to-heal figures are set apart)."""
        self.runs.labels(trigger, result.status.value).inc()
        self.duration.observe(result.duration_s)
        for item in result.items:
            if item.outcome in (Outcome.HEALED, Outcome.HEAL_FAILED):
                self.heals.labels(item.outcome.value).inc()
        if result.status.value in ("clean", "healed", "drift"):
            self.last_success.labels(result.workspace).set(finished_at)
            counts: dict[str, int] = {}
            for item in result.items:
                if item.outcome is not Outcome.HEALED:
                    counts[item.severity] = counts.get(item.severity, 0) + 1
            self._open[result.workspace] = counts
            totals: dict[str, int] = {}
            for per in self._open.values():
                for severity, n in per.items():
                    totals[severity] = totals.get(severity, 0) + n
            self._severities |= set(totals)
            for severity in self._severities:  # a severity with nothing open left reads 0
                self.findings.labels(severity).set(totals.get(severity, 0))

    def render(self) -> bytes:
        return generate_latest(self.registry)
