"""Mechanism 17, prometheus_alerting: a lost driver raises SparkDriverDown end to end.

Trigger: the driver taken away with its restart held back: the Spark operator scaled to
zero (harness.chaos.deployments), then the driver pod deleted (grace 0). A plain delete
races the new driver, which can be back before ``for`` has passed; with the operator
stopped the driver stays gone until the alert has been delivered. It landed when no
operator pod and no pod with the driver's UID remain.
Verification, in stages (one recovery probe):
  1. ``ALERTS{alertname="SparkDriverDown"}`` goes pending, then firing (Prometheus);
  2. the webhook receiver (08's alert-receiver) gets the firing notification from
     Alertmanager, for an alert that started after the fault;
  3. the operator is scaled back (the rollback, run early); it resubmits, a new driver
     is scraped, the alert resolves, and the receiver gets the resolved notification.
MTTR is fault → firing notification plus operator back → resolved notification; the
wait between the two is the harness's, not the pipeline's.
Integrity: the window's events, exactly once (the stream stops and resumes).

Negative control: SparkDriverDown removed from the PrometheusRule, same fault. Declared
failure: once the alert's bound has passed with the driver gone and Prometheus showing
the driver's target absent, no SparkDriverDown series exists in Prometheus and the
receiver got no notification for it. Before the strike Prometheus must have unloaded
the rule (a PrometheusRule change takes tens of seconds to load; see pvc_full_recovery).
"""

from __future__ import annotations

import base64
import time
from typing import Any

import yaml
from kubernetes import client

from harness.chaos.deployments import ScaledDown, scale_to_zero
from harness.chaos.pods import delete_pod
from harness.cluster.timing import parse_duration
from harness.deploy.operator_chart import NAME as OPERATOR
from harness.deploy.operator_chart import NAMESPACE as OPERATOR_NAMESPACE
from harness.errors import FaultNotLanded
from harness.mechanisms.bounds import restart_terms
from harness.mechanisms.model import Bound, Term
from harness.mechanisms.rules import alert_rules, put_rule, rule_for, rule_manifest, without_alert
from harness.mechanisms.template import MechanismTemplate, Seen, register
from harness.observe.alerts import notifications
from harness.observe.prometheus import rfc3339_epoch

__all__ = ["ALERT", "PrometheusAlerting"]

ALERT = "SparkDriverDown"
TARGET_ABSENT = (
    'absent(up{namespace="spark-pipeline", job="spark-pipeline/spark-driver",'
    ' endpoint="stream-metrics"} == 1)'
)
"""The rule's own expression: 1 when no driver answers a scrape."""
ALERTMANAGER = ("monitoring", "alertmanager-pipeline", "alertmanager.yaml")


@register
class PrometheusAlerting(MechanismTemplate):
    """Stop the operator, delete the driver; see SparkDriverDown fire, notify, resolve."""

    id = "prometheus_alerting"
    expected_failure = (
        f"with the rule removed, the driver is gone past the alert's bound, yet Prometheus has"
        f" no {ALERT} series and the receiver got no {ALERT} notification"
    )
    poll = 1.0
    steady_timeout = 240.0
    """Rule propagation (tens of seconds) plus an earlier fault's alert resolving."""
    margin = 60.0
    """The wait also covers the harness's own part: scaling the operator back."""

    def switch_off(self) -> None:
        rule_doc = rule_manifest(self.ctx, ALERT)
        self.ctx.rollbacks.register(
            "re-apply 08's PrometheusRule", lambda: put_rule(self.ctx, rule_doc)
        )
        put_rule(self.ctx, without_alert(rule_doc, ALERT))

    def steady_state(self) -> Seen[bool]:
        rules = alert_rules(self.ctx)
        loaded = ALERT in rules
        if loaded:
            self.rule_for = float(rules[ALERT].get("duration", 0))
        alerts = self.ctx.prom.query(f'ALERTS{{alertname="{ALERT}"}}')
        operator = client.AppsV1Api(self.ctx.api).read_namespaced_deployment(
            OPERATOR, OPERATOR_NAMESPACE
        )
        available = operator.status.available_replicas or 0
        wanted = operator.spec.replicas or 0
        state, driver = self.app.state(), self.app.driver()
        up = not self.ctx.prom.scalar(TARGET_ABSENT)
        held = (
            loaded != self.negative_control
            and not alerts
            and available == wanted > 0
            and state.state == "RUNNING"
            and driver is not None
            and up
        )
        seen = (
            f"{ALERT} loaded in Prometheus: {loaded}; its alerts now: {len(alerts)};"
            f" operator {available}/{wanted} available; application {state}, driver"
            f" {'running' if driver else 'none'}, scraped: {up}"
        )
        return (True if held else None), seen

    def bound(self) -> Bound:
        if self.negative_control:  # gone from Prometheus: 08 declares its for
            self.rule_for = rule_for(rule_manifest(self.ctx, ALERT), ALERT)
        prom = self.ctx.prom_settings()
        group_wait, group_interval = self._alertmanager_timers()
        self.alert_terms = (
            Term("scrape interval", prom.scrape, "08 Prometheus scrapeInterval (live)"),
            Term("rule evaluation", prom.evaluation, "08 Prometheus evaluationInterval (live)"),
            Term("rule for", self.rule_for, f"08 {ALERT} for (as Prometheus loaded it)"),
            Term("evaluation after for", prom.evaluation, "08 Prometheus evaluationInterval"),
            Term("Alertmanager group_wait", group_wait, "08 alertmanager.yaml route (live)"),
            Term("webhook delivery", 2, "receiver in the cluster, + margin"),
        )
        retry = self._lease_retry()
        resolve_terms = (
            Term("operator pods start and ready", 30, "measured 10-20 s on 2 cores, + margin"),
            Term("leader election retry", retry, "operator --leader-election-retry-period"),
            *restart_terms(self.ctx),
            Term("rule evaluation", prom.evaluation, "08 Prometheus evaluationInterval"),
            Term("Alertmanager group_interval", group_interval, "08 alertmanager.yaml route"),
            Term("webhook delivery", 2, "receiver in the cluster, + margin"),
        )
        return Bound((*self.alert_terms, *resolve_terms))

    def strike(self) -> dict[str, Any]:
        driver = self.app.driver()
        if driver is None:
            raise FaultNotLanded("no running driver to take away")
        self.pending_at: float | None = None
        self.firing_at: float | None = None
        self.notified_at: float | None = None
        self.resolved_at: float | None = None
        self.restore_at: float | None = None
        self.absent_seen: float | None = None
        self.starts_at = ""
        self.operator: ScaledDown = scale_to_zero(self.ctx, OPERATOR_NAMESPACE, OPERATOR)
        deleted = delete_pod(self.ctx, self.ctx.namespace, driver.metadata.name, verify_gone=True)
        return {"operator": self.operator.evidence, "driver": deleted}

    def _observe(self) -> str:
        """Advance the stages from Prometheus and the receiver; say what is seen."""
        if self.absent_seen is None and self.ctx.prom.scalar(TARGET_ABSENT):
            self.absent_seen = time.time()
        rows = self.ctx.prom.query(f'ALERTS{{alertname="{ALERT}"}}')
        states = {labels.get("alertstate") for labels, _ in rows}
        now = time.time()
        if "pending" in states and self.pending_at is None:
            self.pending_at = now
            self.ctx.timeline.add("symptom", ALERT, "alert pending")
        if "firing" in states and self.firing_at is None:
            self.firing_at = now
            self.ctx.timeline.add("symptom", ALERT, "alert firing")
        for note in notifications(self.ctx.api, ALERT):
            started = rfc3339_epoch(note.starts_at) if note.starts_at else 0.0
            if note.status == "firing" and started > self.fault_epoch and not self.notified_at:
                self.notified_at, self.starts_at = note.received_at, note.starts_at
                self.ctx.timeline.add("symptom", "alert-receiver", "firing notification")
            ours = note.starts_at == self.starts_at and self.starts_at
            if note.status == "resolved" and ours and self.resolved_at is None:
                self.resolved_at = note.received_at
                self.ctx.timeline.add("recovered", "alert-receiver", "resolved notification")
        return (
            f"target absent: {bool(self.absent_seen)}; alert states {sorted(map(str, states))};"
            f" firing notification: {bool(self.notified_at)}; resolved notification:"
            f" {bool(self.resolved_at)}"
        )

    def recovered(self) -> Seen[float]:
        seen = self._observe()
        if self.notified_at is None:
            return None, seen
        if self.restore_at is None:
            self.restore_at = time.time()
            self.ctx.timeline.add("restore", OPERATOR, "operator scaled back")
            self.operator.restore()
        return self.resolved_at, seen

    def mttr(self, recovered_at: float) -> float:
        assert self.notified_at is not None
        assert self.restore_at is not None
        self.note("firing_notification_after_s", round(self.notified_at - self.fault_epoch, 1))
        self.note("resolved_after_restore_s", round(recovered_at - self.restore_at, 1))
        return (self.notified_at - self.fault_epoch) + (recovered_at - self.restore_at)

    def check(self) -> None:
        self.note(
            "stages_after_fault_s",
            {
                name: round(at - self.fault_epoch, 1) if at else None
                for name, at in (
                    ("target_absent", self.absent_seen),
                    ("pending", self.pending_at),
                    ("firing", self.firing_at),
                    ("firing_notification", self.notified_at),
                    ("resolved_notification", self.resolved_at),
                )
            },
        )
        if self.pending_at is None:
            self.fail(f"{ALERT} was never seen pending before it fired")
        elif self.firing_at is not None and self.firing_at - self.pending_at < self.rule_for - 5:
            self.fail(
                f"{ALERT} fired {self.firing_at - self.pending_at:.0f}s after pending,"
                f" before its for of {self.rule_for:.0f}s"
            )
        if self.firing_at is None:
            self.fail(f"{ALERT} was never seen firing in Prometheus")
        assert self.restore_at is not None
        restore_at = self.restore_at
        first = self.ctx.metric_eventually(
            f"max({self.app.metric('spark_stream_first_progress_timestamp_seconds')}"
            f" and {self.app.metric('spark_stream_driver_start_timestamp_seconds')}"
            f" > {restore_at:.3f})",
            lambda v: v > restore_at,
            90.0,
        )
        self.note(
            "first_progress_after_restore_s", round(first - self.restore_at, 1) if first else None
        )
        if not first:
            self.fail("no streaming progress from a driver started after the operator returned")

    def control_failed(self) -> Seen[dict[str, Any]]:
        seen = self._observe()
        deadline = sum(t.seconds for t in self.alert_terms)
        past = time.time() - self.fault_epoch
        gone = self.app.driver() is None
        if (
            past >= deadline
            and gone
            and self.absent_seen is not None
            and self.pending_at is None
            and self.firing_at is None
            and self.notified_at is None
        ):
            return {
                "target_absent_after_s": round(self.absent_seen - self.fault_epoch, 1),
                "alert_bound_s": deadline,
                "alert_series": None,
                "notifications": [],
                "driver": None,
            }, seen
        return None, f"{seen}; driver gone: {gone}; {past:.0f}s of the alert's {deadline:.0f}s"

    def control_healed(self) -> Seen[float]:
        self._observe()
        return (self.pending_at or self.firing_at or self.notified_at), (
            f"alert seen: pending {bool(self.pending_at)}, firing {bool(self.firing_at)},"
            f" notified {bool(self.notified_at)}"
        )

    def _alertmanager_timers(self) -> tuple[float, float]:
        """group_wait and group_interval of the live Alertmanager configuration."""
        namespace, name, key = ALERTMANAGER
        secret = self.ctx.core.read_namespaced_secret(name, namespace)
        config = yaml.safe_load(base64.b64decode((secret.data or {})[key]))
        route = config.get("route", {})
        # Alertmanager's defaults where the route leaves them out.
        return (
            parse_duration(str(route.get("group_wait", "30s"))),
            parse_duration(str(route.get("group_interval", "5m"))),
        )

    def _lease_retry(self) -> float:
        """The operator's leader-election retry period, from its live container args."""
        deployment = client.AppsV1Api(self.ctx.api).read_namespaced_deployment(
            OPERATOR, OPERATOR_NAMESPACE
        )
        for container in deployment.spec.template.spec.containers:
            for arg in container.args or []:
                if arg.startswith("--leader-election-retry-period="):
                    return parse_duration(arg.split("=", 1)[1])
        return 2.0  # controller-runtime's default
