"""Mechanism 16, pvc_full_recovery: a full checkpoint volume is seen, survived and healed.

Trigger: fill the checkpoint claim to 100% and hold it there (harness.chaos.volumes); it
landed when the filler's write got ENOSPC.
Verification, in stages (one recovery probe):
  1. the ``CheckpointVolumeAlmostFull`` alert goes firing (kubelet volume stats →
     Prometheus → rule), within its bound;
  2. the job fails cleanly: its next checkpoint write gets ENOSPC and the driver ends
     (the application leaves RUNNING or is re-attempted), rather than hanging;
  3. once 1 and 2 are seen the fill is lifted (the operator's response to the alert);
     the checkpoint still reads (``pipeline-tools checkpoint-info``) and a driver
     resumes at the checkpoint's next batch, not at 0.
MTTR is the alert's latency (fault → firing) plus the resume time (fill lifted → first
progress); the wait between the two is the operator's, not the pipeline's.
Integrity: the window's events, exactly once.

Negative control: the alert rule removed from the PrometheusRule, same fault. Declared
failure: Prometheus (read throughout) sees the volume full and the job fails on ENOSPC,
yet no CheckpointVolumeAlmostFull alert exists by the end of the alert's bound.

Before the fill, Prometheus must have loaded (or, for the control, dropped) the rule and
no earlier fill's alert may remain: a PrometheusRule change reaches Prometheus through
the operator, a ConfigMap and the config reloader, which takes tens of seconds (found by
a CI run: the control struck before the removal was loaded and the alert fired).
"""

from __future__ import annotations

import time
from typing import Any

from harness.chaos.volumes import fill_volume
from harness.cluster.timing import kubelet_volume_stats_period
from harness.integrity.collect import ensure_reader, read_checkpoint
from harness.mechanisms.bounds import restart_terms
from harness.mechanisms.checkpoint_recovery import resumes_after_checkpoint
from harness.mechanisms.model import Bound, Term
from harness.mechanisms.rules import alert_rules, remove_alert, rule_for, rule_manifest
from harness.mechanisms.template import MechanismTemplate, Seen, register

__all__ = ["ALERT", "PvcFullRecovery"]

ALERT = "CheckpointVolumeAlmostFull"
CLAIM = "spark-checkpoint"
FULL = (
    f'kubelet_volume_stats_available_bytes{{persistentvolumeclaim="{CLAIM}"}}'
    f' / kubelet_volume_stats_capacity_bytes{{persistentvolumeclaim="{CLAIM}"}}'
)
"""The claim's free fraction as Prometheus sees it (the rule's own expression)."""


@register
class PvcFullRecovery(MechanismTemplate):
    """Fill the checkpoint volume; see the alert and the clean failure; lift it; resume."""

    id = "pvc_full_recovery"
    expected_failure = (
        f"Prometheus sees the checkpoint volume full and the job fails on ENOSPC, yet no {ALERT}"
        " alert exists by the end of the alert's bound"
    )
    steady_timeout = 240.0
    """Rule propagation (tens of seconds) plus an earlier fill's alert resolving."""
    margin = 90.0
    """The wait covers what MTTR leaves out: the time between the alert and the job's
    failure on ENOSPC (the operator lifts the fill only once both are seen)."""

    def switch_off(self) -> None:
        remove_alert(self.ctx, ALERT)

    def steady_state(self) -> Seen[bool]:
        rules = alert_rules(self.ctx)
        loaded = ALERT in rules
        if not self.negative_control and loaded:
            self.rule_for = float(rules[ALERT].get("duration", 0))
        alerts = self.ctx.prom.query(f'ALERTS{{alertname="{ALERT}"}}')
        state, driver = self.app.state(), self.app.driver()
        held = (
            loaded != self.negative_control
            and not alerts
            and state.state == "RUNNING"
            and driver is not None
        )
        seen = (
            f"{ALERT} loaded in Prometheus: {loaded}; earlier alerts: {len(alerts)};"
            f" application {state}, driver {'running' if driver else 'none'}"
        )
        return (True if held else None), seen

    def bound(self) -> Bound:
        if self.negative_control:  # the rule is gone from Prometheus: 08 declares its for
            self.rule_for = rule_for(rule_manifest(self.ctx, ALERT), ALERT)
        self.alert_terms = self._alert_terms()
        return Bound((*self.alert_terms, *restart_terms(self.ctx)))

    def _alert_terms(self) -> tuple[Term, ...]:
        prom = self.ctx.prom_settings()
        return (
            Term(
                "kubelet volume stats refresh",
                kubelet_volume_stats_period(self.ctx.kind_config),
                "kind config KubeletConfiguration volumeStatsAggPeriod",
            ),
            Term("scrape interval", prom.scrape, "08 Prometheus scrapeInterval (live)"),
            Term("rule evaluation", prom.evaluation, "08 Prometheus evaluationInterval (live)"),
            Term("rule for", self.rule_for, f"08 {ALERT} for (as Prometheus loaded it)"),
            Term("evaluation after for", prom.evaluation, "08 Prometheus evaluationInterval"),
        )

    def strike(self) -> dict[str, Any]:
        ensure_reader(self.ctx.core, self.ctx.tools_image)
        self.attempts = self.app.state().attempts
        self.alert_at: float | None = None
        self.failed_at: float | None = None
        self.full_seen: float | None = None
        self.lifted: float | None = None
        self.checkpoint: dict[str, Any] | None = None
        self.fill = fill_volume(self.ctx, self.ctx.namespace, CLAIM, self.ctx.tools_image)
        return {"claim": CLAIM, "filler": self.fill.pod, "enospc": True}

    def _observe(self) -> str:
        """Advance the stages: alert firing, job failed, volume full in Prometheus."""
        if self.alert_at is None:
            rows = self.ctx.prom.query(f'ALERTS{{alertname="{ALERT}"}}')
            if "firing" in {labels.get("alertstate") for labels, _ in rows}:
                self.alert_at = time.time()
                self.ctx.timeline.add("symptom", ALERT, "alert firing")
        if self.failed_at is None:
            state = self.app.state()
            if state.state != "RUNNING" or state.attempts > self.attempts:
                self.failed_at = time.time()
                self.ctx.timeline.add("symptom", self.app.name, f"job ended on ENOSPC: {state}")
        if self.full_seen is None:
            rows = self.ctx.prom.query(FULL)
            if rows and min(v for _, v in rows) < 0.10:
                self.full_seen = time.time()
        return (
            f"alert {'firing' if self.alert_at else 'not firing'}, job"
            f" {'failed' if self.failed_at else 'running'}, volume full in Prometheus:"
            f" {bool(self.full_seen)}"
        )

    def recovered(self) -> Seen[float]:
        seen = self._observe()
        if self.alert_at is None or self.failed_at is None:
            return None, seen
        if self.lifted is None:
            self.fill.remove()
            self.lifted = time.time()
            self.ctx.timeline.add("restore", CLAIM, "fill lifted")
            try:
                self.checkpoint = read_checkpoint(self.ctx.core)
            except Exception as exc:  # any failure to read it is the finding
                self.fail(f"the checkpoint does not read after the fill: {exc}")
        last = self.app.last_progress()
        return (last if last > self.lifted else None), f"{seen}; last progress {last:.0f}"

    def mttr(self, recovered_at: float) -> float:
        assert self.alert_at is not None
        assert self.lifted is not None
        self.note("alert_after_s", round(self.alert_at - self.fault_epoch, 1))
        self.note("resume_after_lift_s", round(recovered_at - self.lifted, 1))
        return (self.alert_at - self.fault_epoch) + (recovered_at - self.lifted)

    def check(self) -> None:
        if self.checkpoint is None:
            self.fail("no checkpoint state was read after the fill: the resume is unchecked")
            return
        self.note("checkpoint_after_fill", self.checkpoint)
        resumes_after_checkpoint(
            self, self.checkpoint, self.app.first_batch_after(self.fault_epoch)
        )

    def control_failed(self) -> Seen[dict[str, Any]]:
        seen = self._observe()
        alert_deadline = sum(t.seconds for t in self.alert_terms)
        past = time.time() - self.fault_epoch
        if (
            past >= alert_deadline
            and self.alert_at is None
            and self.full_seen is not None
            and self.failed_at is not None
            and not self.ctx.prom.query(f'ALERTS{{alertname="{ALERT}"}}')
        ):
            return {
                "volume_full_seen_after_s": round(self.full_seen - self.fault_epoch, 1),
                "job_failed_after_s": round(self.failed_at - self.fault_epoch, 1),
                "alert": None,
                "alert_bound_s": alert_deadline,
            }, seen
        return None, f"{seen}; {past:.0f}s of the alert's {alert_deadline:.0f}s bound"

    def control_healed(self) -> Seen[float]:
        return self.alert_at, f"alert firing: {self.alert_at is not None}"
