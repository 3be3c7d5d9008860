"""Mechanism 1, driver_restart: the operator resubmits the application when its driver dies.

Trigger: delete the driver pod with grace period 0.
Verification: the SparkApplication leaves RUNNING and comes back with executionAttempts
+1, a new driver pod (new UID) runs, the operator's submit count rises
(``spark_application_submit_count``), and the new driver's query makes progress, read
from Prometheus (``spark_stream_first_progress_timestamp_seconds`` of a driver started
after the fault). MTTR is fault → that first progress.
Integrity: reconciliation after recovery, exactly once.
Negative control: ``restartPolicy.type: Never``: the application must not come back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kubernetes import client

from harness.deploy.manifests import load_documents
from harness.errors import WaitTimeout
from harness.integrity.collect import reconcile_pipeline
from harness.mechanisms.context import MechanismContext
from harness.mechanisms.model import Bound, Term
from harness.mechanisms.outcome import Outcome
from harness.observe.wait import wait_until

__all__ = ["app_state", "application", "bound", "recreate_application", "run", "running_driver"]

APP = "events-stream"
GROUP, VERSION, PLURAL = "sparkoperator.k8s.io", "v1beta2", "sparkapplications"


def bound(app: dict[str, Any]) -> Bound:
    """The recovery bound, from the SparkApplication's own settings plus measured starts."""
    spec = app["spec"]
    retry = float(spec["restartPolicy"].get("onFailureRetryInterval", 5))
    trigger = float(
        str(spec.get("sparkConf", {}).get("spark.sql.streaming.trigger", "5")).split()[0]
    )
    return Bound(
        (
            Term("operator retry interval", retry, "05 restartPolicy.onFailureRetryInterval"),
            Term("spark-submit in the operator", 30, "measured 15-25 s on 2 cores, + margin"),
            Term(
                "driver JVM, SparkSession, executors", 60, "measured 35-50 s on 2 cores, + margin"
            ),
            Term("first trigger", trigger, "pipeline-config TRIGGER_INTERVAL (5 seconds)"),
            Term("scrape interval", 10, "08 Prometheus scrapeInterval"),
        )
    )


def application(ctx: MechanismContext) -> dict[str, Any]:
    obj: dict[str, Any] = ctx.custom.get_namespaced_custom_object(
        GROUP, VERSION, ctx.namespace, PLURAL, APP
    )
    return obj


def app_state(app: dict[str, Any]) -> tuple[str, int]:
    status = app.get("status", {})
    return status.get("applicationState", {}).get("state", "NEW"), int(
        status.get("executionAttempts", 0)
    )


def running_driver(ctx: MechanismContext) -> client.V1Pod | None:
    pods = ctx.core.list_namespaced_pod(
        ctx.namespace, label_selector=f"spark-role=driver,harness.local/spark-app={APP}"
    ).items
    live = [p for p in pods if p.status.phase == "Running" and not p.metadata.deletion_timestamp]
    return live[0] if live else None


def recreate_application(
    ctx: MechanismContext,
    restart_type: str | None = None,
    spark_conf: dict[str, str] | None = None,
    patch: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Submit the application anew as 05 declares it (or with another restart policy).

    A spec change to a running application makes the operator invalidate and re-run
    it, so switching the mechanism off or on means a fresh application either way.
    """
    manifest = next(
        d
        for d in load_documents("05-spark-application.yaml", ctx.image_values)
        if d["kind"] == "SparkApplication"
    )
    if restart_type is not None:
        manifest["spec"]["restartPolicy"] = {"type": restart_type}
    manifest["spec"]["sparkConf"].update(spark_conf or {})
    if patch is not None:
        patch(manifest)
    try:
        ctx.custom.delete_namespaced_custom_object(GROUP, VERSION, ctx.namespace, PLURAL, APP)
    except client.ApiException as exc:
        if exc.status != 404:
            raise

    def gone() -> tuple[bool | None, str]:
        try:
            application(ctx)
        except client.ApiException as exc:
            if exc.status == 404:
                return True, "deleted"
            raise
        return None, "still there"

    wait_until(f"SparkApplication {APP} deleted", gone, 120.0, 1.0)
    created = time.time()
    ctx.custom.create_namespaced_custom_object(GROUP, VERSION, ctx.namespace, PLURAL, manifest)
    ctx.wait_for_progress(after=created, timeout=300.0)


def run(ctx: MechanismContext, negative_control: bool = False) -> Outcome:
    """Inject the fault, watch the recovery, reconcile; the outcome says what held."""
    if negative_control:
        ctx.rollbacks.register(
            "recreate the SparkApplication from 05", lambda: recreate_application(ctx)
        )
        ctx.timeline.add("control", APP, "recreate with restartPolicy Never (mechanism off)")
        recreate_application(ctx, "Never")
    app = application(ctx)
    outcome = Outcome("driver_restart", negative_control, bound(app))
    state, attempts = app_state(app)
    driver = running_driver(ctx)
    if state != "RUNNING" or driver is None:
        outcome.fail(f"steady state: expected RUNNING with a driver, saw {state}, driver={driver}")
        return outcome
    submits_before = ctx.prom_scalar("sum(spark_application_submit_count)")
    fault_epoch = time.time()
    ctx.timeline.add("fault", driver.metadata.name, "delete driver pod, grace 0")
    ctx.core.delete_namespaced_pod(driver.metadata.name, ctx.namespace, grace_period_seconds=0)

    def recovered() -> tuple[float | None, str]:
        first = ctx.prom_scalar(
            "max(spark_stream_first_progress_timestamp_seconds"
            f" and spark_stream_driver_start_timestamp_seconds > {fault_epoch:.3f})"
        )
        now_state, now_attempts = app_state(application(ctx))
        seen = f"app {now_state} attempts={now_attempts}; first progress of a new driver: {first}"
        return (first if first and first > fault_epoch else None), seen

    try:
        first_progress = wait_until(
            "a new driver's first streaming progress", recovered, outcome.bound.seconds + 30, 2.0
        )
    except WaitTimeout as exc:
        outcome.fail(str(exc))
        return outcome
    outcome.mttr_seconds = first_progress - fault_epoch
    ctx.timeline.add("recovered", APP, "first progress of the new driver", at=ctx.timeline.now())
    if not outcome.bound.holds(outcome.mttr_seconds):
        outcome.fail(
            f"recovered in {outcome.mttr_seconds:.1f}s, over the bound {outcome.bound.arithmetic()}"
        )
    state, attempts_after = app_state(application(ctx))
    outcome.evidence["execution_attempts"] = [attempts, attempts_after]
    if attempts_after != attempts + 1:
        outcome.fail(f"executionAttempts went {attempts} → {attempts_after}, expected +1")
    new_driver = running_driver(ctx)
    if new_driver is None or new_driver.metadata.uid == driver.metadata.uid:
        outcome.fail("no new driver pod (same UID or none running)")
    submits_after = ctx.prom_scalar_eventually(
        "sum(spark_application_submit_count)", lambda v: v > submits_before, 60.0
    )
    outcome.evidence["spark_application_submit_count"] = [submits_before, submits_after]
    if submits_after <= submits_before:
        outcome.fail(f"submit count did not rise: {submits_before} → {submits_after}")
    outcome.reconciliation = reconcile_pipeline(ctx.core, ctx.tools_image, settle=90.0)
    if not outcome.reconciliation.exactly_once:
        outcome.fail(f"integrity: {outcome.reconciliation.summary()}")
    return outcome
