"""Mechanism 16, pvc_full_recovery: a full checkpoint volume is seen, survived and healed.

Trigger: fill the checkpoint claim to 100% and hold it there (harness.chaos.volumes).
Verification:
  1. the ``CheckpointVolumeAlmostFull`` alert goes firing (kubelet volume stats →
     Prometheus → rule), within its bound;
  2. the job fails cleanly: its next checkpoint write gets ENOSPC and the driver ends
     (the application leaves RUNNING or is re-attempted), rather than hanging;
  3. once the fill is lifted (as soon as 1 and 2 are seen: the operator's response to
     the alert), the checkpoint still reads (``pipeline-tools checkpoint-info``) and a
     driver resumes at the checkpoint's next batch, not at 0.
MTTR is the alert's latency (fault → firing) plus the resume time (fill lifted → first
progress); the wait between the two is the operator's, not the pipeline's.
Integrity: reconciliation, exactly once.
Negative control: the alert rule removed from the PrometheusRule: no alert fires.
"""

from __future__ import annotations

import time
from typing import Any

from harness.chaos.volumes import fill_volume
from harness.cluster.timing import parse_duration
from harness.deploy.manifests import load_documents
from harness.errors import StepFailed, WaitTimeout
from harness.integrity.collect import ensure_reader, read_checkpoint, reconcile_pipeline
from harness.mechanisms import driver_restart
from harness.mechanisms.context import MechanismContext
from harness.mechanisms.model import Bound, Term
from harness.mechanisms.outcome import Outcome
from harness.observe.wait import wait_until

__all__ = ["ALERT", "alert_bound", "bound", "run"]

ALERT = "CheckpointVolumeAlmostFull"
CLAIM = "spark-checkpoint"
RULES = ("monitoring.coreos.com", "v1", "prometheusrules")
FAILS_WITHIN = 120.0
"""A batch every 5 s: the first checkpoint write after the fill fails within seconds; the
driver's shutdown and the operator's view of it take the rest."""


def alert_bound(rule_for: float) -> tuple[Term, ...]:
    """Fault → alert firing: stats refresh, scrape, evaluation, the rule's ``for``."""
    return (
        Term("kubelet volume stats refresh", 60, "kubelet volumeStatsAggPeriod default 1m"),
        Term("scrape interval", 10, "08 Prometheus scrapeInterval"),
        Term("rule evaluation", 10, "08 Prometheus evaluationInterval"),
        Term("rule for", rule_for, f"08 {ALERT} for"),
        Term("evaluation after for", 10, "08 Prometheus evaluationInterval"),
    )


def bound(app: dict[str, Any], rule_for: float) -> Bound:
    """Alert latency + the driver restart after the fill is lifted."""
    return Bound((*alert_bound(rule_for), *driver_restart.bound(app).terms))


def _rule_manifest(ctx: MechanismContext) -> dict[str, Any]:
    return next(
        d
        for d in load_documents("08-monitoring.yaml", ctx.image_values)
        if d["kind"] == "PrometheusRule"
        and any(r.get("alert") == ALERT for g in d["spec"]["groups"] for r in g["rules"])
    )


def _rule_for(rule_doc: dict[str, Any]) -> float:
    rule = next(
        r for g in rule_doc["spec"]["groups"] for r in g["rules"] if r.get("alert") == ALERT
    )
    return parse_duration(str(rule.get("for", "0s")))


def _put_rule(ctx: MechanismContext, doc: dict[str, Any]) -> None:
    meta = doc["metadata"]
    current = ctx.custom.get_namespaced_custom_object(
        *RULES[:2], meta["namespace"], RULES[2], meta["name"]
    )
    body = {**doc, "metadata": {**meta, "resourceVersion": current["metadata"]["resourceVersion"]}}
    ctx.custom.replace_namespaced_custom_object(
        *RULES[:2], meta["namespace"], RULES[2], meta["name"], body
    )


def _without_alert(doc: dict[str, Any]) -> dict[str, Any]:
    groups = [
        {**g, "rules": [r for r in g["rules"] if r.get("alert") != ALERT]}
        for g in doc["spec"]["groups"]
    ]
    return {**doc, "spec": {**doc["spec"], "groups": groups}}


def _settle_rules(ctx: MechanismContext, loaded: bool) -> None:
    """Wait until Prometheus has (or, for the control, has dropped) the rule, and no
    earlier fill's alert is still pending or firing.

    A PrometheusRule change reaches Prometheus through the operator, a ConfigMap and the
    config reloader: tens of seconds. Found by a CI run: the control struck before the
    removal was loaded and the alert fired.
    """

    def rule_state() -> tuple[bool | None, str]:
        groups = ctx.prom.api("rules")["groups"]
        names = {r["name"] for g in groups for r in g["rules"] if r.get("type") == "alerting"}
        present = ALERT in names
        return (True if present == loaded else None), f"{ALERT} loaded: {present}"

    wait_until(f"{ALERT} {'loaded' if loaded else 'unloaded'} in Prometheus", rule_state, 180, 5)

    def quiet() -> tuple[bool | None, str]:
        rows = ctx.prom.query(f'ALERTS{{alertname="{ALERT}"}}')
        states = sorted({labels.get("alertstate", "?") for labels, _ in rows})
        return (True if not rows else None), f"{ALERT} states: {states}"

    wait_until(f"no {ALERT} alert from an earlier fill", quiet, 180, 5)


def run(ctx: MechanismContext, negative_control: bool = False) -> Outcome:
    """Fill the checkpoint volume; see the alert and the clean failure; lift it; resume."""
    rule_doc = _rule_manifest(ctx)
    if negative_control:
        ctx.rollbacks.register("re-apply 08's PrometheusRule", lambda: _put_rule(ctx, rule_doc))
        ctx.timeline.add("control", ALERT, "rule removed (mechanism off)")
        _put_rule(ctx, _without_alert(rule_doc))
    try:
        _settle_rules(ctx, loaded=not negative_control)
    except WaitTimeout as exc:
        outcome = Outcome("pvc_full_recovery", negative_control, Bound(()))
        outcome.fail(f"steady state: {exc}")
        return outcome
    app = driver_restart.application(ctx)
    rule_for = _rule_for(rule_doc)
    outcome = Outcome("pvc_full_recovery", negative_control, bound(app, rule_for))
    ensure_reader(ctx.core, ctx.tools_image)
    state, attempts = driver_restart.app_state(app)
    if state != "RUNNING" or driver_restart.running_driver(ctx) is None:
        outcome.fail(f"steady state: expected RUNNING with a driver, saw {state}")
        return outcome
    fault_epoch = time.time()
    fill = fill_volume(ctx, ctx.namespace, CLAIM, ctx.tools_image)
    alert_deadline = sum(t.seconds for t in alert_bound(rule_for))

    def firing() -> tuple[float | None, str]:
        rows = ctx.prom.query(f'ALERTS{{alertname="{ALERT}"}}')
        states = sorted({labels.get("alertstate", "?") for labels, _ in rows})
        return (time.time() if "firing" in states else None), f"{ALERT} states: {states}"

    def failed() -> tuple[str | None, str]:
        now_state, now_attempts = driver_restart.app_state(driver_restart.application(ctx))
        ended = now_state != "RUNNING" or now_attempts > attempts
        seen = f"app {now_state}, attempts {attempts} → {now_attempts}"
        return (seen if ended else None), seen

    alert_at: float | None = None
    try:
        alert_at = wait_until(f"{ALERT} firing", firing, alert_deadline + 30, 5.0)
        ctx.timeline.add("symptom", ALERT, "alert firing")
        outcome.evidence["alert_after_s"] = round(alert_at - fault_epoch, 1)
    except WaitTimeout as exc:
        outcome.fail(str(exc))
    try:
        outcome.evidence["job_failure"] = wait_until(
            "the job to fail on the full volume", failed, FAILS_WITHIN, 2.0
        )
        ctx.timeline.add("symptom", driver_restart.APP, "job failed on ENOSPC")
    except WaitTimeout as exc:
        outcome.fail(f"the job did not fail cleanly: {exc}")
    fill.remove()
    lifted = time.time()
    ctx.timeline.add("restore", CLAIM, "fill lifted")
    if alert_at is None:
        return outcome  # nothing to measure: the mechanism did not see the fault
    try:
        info = read_checkpoint(ctx.core)
        outcome.evidence["checkpoint_after_fill"] = info
    except StepFailed as exc:
        outcome.fail(f"the checkpoint does not read after the fill: {exc}")
        return outcome
    committed = int(info["last_commit_batch"])
    planned = max(int(info["last_offset_batch"]), committed)

    def resumed() -> tuple[float | None, str]:
        last = ctx.prom_scalar('max(spark_stream_last_progress_timestamp_seconds{query="events"})')
        return (last if last > lifted else None), f"last progress {last:.0f}, lifted {lifted:.0f}"

    try:
        progress = wait_until(
            "progress after the fill is lifted",
            resumed,
            driver_restart.bound(app).seconds + 30,
            2.0,
        )
    except WaitTimeout as exc:
        outcome.fail(str(exc))
        return outcome
    ctx.timeline.add("recovered", driver_restart.APP, "progress after the fill")
    outcome.mttr_seconds = (alert_at - fault_epoch) + (progress - lifted)
    if not outcome.bound.holds(outcome.mttr_seconds):
        outcome.fail(
            f"alert + resume took {outcome.mttr_seconds:.1f}s, "
            f"over the bound {outcome.bound.arithmetic()}"
        )
    first_batch = ctx.prom_scalar(
        "max(spark_stream_first_batch_id"
        f" and spark_stream_driver_start_timestamp_seconds > {fault_epoch:.3f})"
    )
    outcome.evidence["first_batch_after"] = first_batch
    outcome.evidence["expected_first_batch"] = [committed + 1, planned + 1]
    if not committed + 1 <= first_batch <= planned + 1:
        outcome.fail(
            f"the driver resumed at batch {first_batch:.0f}, expected {committed + 1}.."
            f"{planned + 1} (the checkpoint's next batch)"
        )
    outcome.reconciliation = reconcile_pipeline(ctx.core, ctx.tools_image, settle=90.0)
    if not outcome.reconciliation.exactly_once:
        outcome.fail(f"integrity: {outcome.reconciliation.summary()}")
    return outcome
