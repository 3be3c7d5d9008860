"""Mechanism 17, prometheus_alerting: a lost driver is alerted on, notified, and resolved.

Trigger: the Spark operator's controller scaled to zero (harness.chaos.deployments: so
that the lost driver stays lost until its alert has fired; otherwise the operator
resubmits it within the alert's ``for``), then the driver pod deleted. It landed when the
controller has no pod left and the driver's UID is gone.
Verification, in stages, each on the timeline: ``SparkDriverDown`` goes pending, then
firing (Prometheus ``ALERTS``), the webhook receiver behind Alertmanager gets the firing
notification; the operator is then brought back (the responder's action), it resubmits
the driver, the alert resolves and the receiver gets the resolved notification. Then the
new driver reports streaming progress. MTTR is fault → resolved notification, split into
those stages.
Integrity: not applicable (the catalog: the operator's downtime delays data, it does not
change it; the other mechanisms reconcile the same restart).

The driver's own :9091 target is what the rule reads (``absent(up{...} == 1)``): a
deleted pod leaves service discovery, its series go stale, and ``absent`` turns true at
the next evaluation.

Negative control: the rule removed from 08's PrometheusRule (Prometheus must have dropped
it before the strike), same fault on the job. Declared failure: Prometheus shows no
driver target up (the fault is visible to it) for the whole alert bound, yet there is
no ``SparkDriverDown`` in ``ALERTS`` and the receiver got no notification of it. The
rollback brings the operator back and the job is resubmitted.
"""

from __future__ import annotations

import time
from typing import Any

import yaml

from harness.chaos.deployments import ScaledDown, scale_to_zero
from harness.chaos.pods import delete_pod
from harness.cluster.timing import parse_duration
from harness.deploy.manifests import load_documents
from harness.errors import FaultNotLanded
from harness.mechanisms.bounds import restart_terms
from harness.mechanisms.model import Bound, Term
from harness.mechanisms.rules import alert_rules, remove_alert, rule_for, rule_manifest
from harness.mechanisms.template import MechanismTemplate, Seen, register
from harness.observe.alerts import notifications

__all__ = ["ALERT", "PrometheusAlerting"]

ALERT = "SparkDriverDown"
OPERATOR = ("spark-operator", "spark-operator-controller")
TARGET = (
    'up{namespace="spark-pipeline", job="spark-pipeline/spark-driver", endpoint="stream-metrics"}'
)
"""The driver's scrape target, as the rule reads it."""
PROGRESS_WITHIN = 90.0
"""After the resolved notification: the new driver's first batches and their scrape."""


@register
class PrometheusAlerting(MechanismTemplate):
    """Take the driver away with the operator stopped; follow the alert's whole life."""

    id = "prometheus_alerting"
    expected_failure = (
        f"with {ALERT} removed from the PrometheusRule, Prometheus sees no driver target up"
        " for the whole alert bound, yet no such alert exists and no notification arrives"
    )
    steady_timeout = 240.0
    """Rule propagation (tens of seconds) plus an earlier alert resolving."""
    margin = 60.0

    def switch_off(self) -> None:
        remove_alert(self.ctx, ALERT)

    def steady_state(self) -> Seen[bool]:
        rules = alert_rules(self.ctx)
        loaded = ALERT in rules
        if loaded:
            self.rule_for = float(rules[ALERT].get("duration", 0))
        alerts = self.ctx.prom.query(f'ALERTS{{alertname="{ALERT}"}}')
        up = self.ctx.prom.query(f"{TARGET} == 1")
        state, driver = self.app.state(), self.app.driver()
        held = (
            loaded != self.negative_control
            and not alerts
            and bool(up)
            and state.state == "RUNNING"
            and driver is not None
        )
        seen = (
            f"{ALERT} loaded: {loaded}; its alerts now: {len(alerts)}; driver target up:"
            f" {bool(up)}; application {state}"
        )
        return (True if held else None), seen

    def bound(self) -> Bound:
        if self.negative_control:
            self.rule_for = rule_for(rule_manifest(self.ctx, ALERT), ALERT)
        prom = self.ctx.prom_settings()
        wait, interval = _alertmanager_timing(self.ctx.image_values)
        self.alert_terms = (
            Term("target leaves discovery, series stale", prom.scrape, "08 scrapeInterval"),
            Term("rule evaluation", prom.evaluation, "08 Prometheus evaluationInterval (live)"),
            Term("rule for", self.rule_for, f"08 {ALERT} for (as Prometheus loaded it)"),
            Term("evaluation after for", prom.evaluation, "08 evaluationInterval"),
            Term("Alertmanager group_wait", wait, "08 alertmanager.yaml route.group_wait"),
        )
        return Bound(
            (
                *self.alert_terms,
                Term("operator back", 30, "controller pod start, leader lease (15 s)"),
                *restart_terms(self.ctx),
                Term("rule evaluation", prom.evaluation, "08 evaluationInterval"),
                Term("Alertmanager group_interval", interval, "08 route.group_interval"),
            )
        )

    def strike(self) -> dict[str, Any]:
        driver = self.app.driver()
        if driver is None:
            raise FaultNotLanded("no running driver to take away")
        self.stages: dict[str, float] = {}
        self.target_back = False
        self.absent_since: float | None = None
        self.operator: ScaledDown = scale_to_zero(self.ctx, *OPERATOR)
        gone = delete_pod(self.ctx, self.ctx.namespace, driver.metadata.name, verify_gone=True)
        return {"operator": self.operator.evidence, "driver": gone}

    def _stage(self, name: str, at: float | None = None) -> None:
        if name not in self.stages:
            self.stages[name] = at if at is not None else time.time()
            self.ctx.timeline.add("symptom" if name != "resolved" else "recovered", ALERT, name)

    def _observe(self) -> str:
        """Advance the stages that Prometheus and the receiver show."""
        states = {
            labels.get("alertstate")
            for labels, _ in self.ctx.prom.query(f'ALERTS{{alertname="{ALERT}"}}')
        }
        for state in ("pending", "firing"):
            if state in states:
                self._stage(state)
        if "firing" in states:
            self._stage("pending", self.stages["firing"])  # pending can pass between reads
        restored = self.stages.get("restored", float("inf"))
        for n in notifications(self.ctx.api, ALERT):
            if n.received_at <= self.fault_epoch:
                continue
            if n.status == "firing":
                self._stage("notified", n.received_at)
            elif n.status == "resolved" and n.received_at > restored:
                self._stage("resolved", n.received_at)
        return f"alert {sorted(s for s in states if s) or 'inactive'}; stages {sorted(self.stages)}"

    def recovered(self) -> Seen[float]:
        seen = self._observe()
        if "notified" in self.stages and "restored" not in self.stages:
            self.operator.restore()  # the responder acts on the notification
            self._stage("restored")
        return self.stages.get("resolved"), seen

    def mttr(self, recovered_at: float) -> float:
        phases = {k: round(v - self.fault_epoch, 1) for k, v in sorted(self.stages.items())}
        self.note("stages_after_fault_s", phases)
        return recovered_at - self.fault_epoch

    def check(self) -> None:
        order = ["pending", "firing", "notified", "restored", "resolved"]
        missing = [s for s in order if s not in self.stages]
        if missing:
            self.fail(f"stages missing: {missing}")
        restored = self.stages.get("restored", self.fault_epoch)
        first = self.ctx.metric_eventually(
            f"max({self.app.metric('spark_stream_last_progress_timestamp_seconds')})",
            lambda v: v > restored,
            PROGRESS_WITHIN,
        )
        self.note("first_progress_after_restore_s", round(first - restored, 1))
        if first <= restored:
            self.fail(f"the resubmitted driver made no progress within {PROGRESS_WITHIN:.0f}s")

    def control_failed(self) -> Seen[dict[str, Any]]:
        seen = self._observe()
        deadline = sum(t.seconds for t in self.alert_terms)
        past = time.time() - self.fault_epoch
        up = bool(self.ctx.prom.query(f"{TARGET} == 1"))
        # The deleted driver's last sample answers `up == 1` until its series goes stale
        # (a scrape or two): the target counts as gone from the first read without it,
        # and as back if it answers again after that.
        if not up and self.absent_since is None:
            self.absent_since = time.time()
        elif up and self.absent_since is not None:
            self.target_back = True
        seen = f"{seen}; driver target up: {up}; {past:.0f}s of the {deadline:.0f}s bound"
        if (
            past >= deadline
            and self.absent_since is not None
            and not self.target_back
            and not self.stages
        ):
            return {
                "seconds_after_fault": round(past, 1),
                "alert_bound_s": deadline,
                "target_absent_after_s": round(self.absent_since - self.fault_epoch, 1),
                "alerts": [],
                "notifications": [],
            }, seen
        return None, seen

    def control_healed(self) -> Seen[float]:
        self._observe()
        at = self.stages.get("pending") or self.stages.get("notified")
        return at, f"alert seen: {sorted(self.stages)}"


def _alertmanager_timing(values: dict[str, str]) -> tuple[float, float]:
    """group_wait and group_interval of 08's Alertmanager route."""
    secret = next(
        d
        for d in load_documents("08-monitoring.yaml", values)
        if d["kind"] == "Secret" and "alertmanager.yaml" in d.get("stringData", {})
    )
    route = yaml.safe_load(secret["stringData"]["alertmanager.yaml"])["route"]
    return parse_duration(str(route["group_wait"])), parse_duration(str(route["group_interval"]))
