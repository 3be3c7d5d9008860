"""Mechanism 5, executor_replacement: Spark replaces a lost executor; the driver stays.

Trigger: delete one executor pod (grace 0).
Verification: the executor count is back to the SparkApplication's ``executor.instances``
(new pods Running and ready), the driver pod keeps its UID and the application stays
RUNNING, and the query keeps making progress (a batch completed after the replacement,
read from Prometheus). MTTR is fault → executor count restored.
Integrity: reconciliation, exactly once (task retry re-runs the lost tasks).
Negative control: ``spark.executor.maxNumFailures=1`` and two executor JVMs killed
(SIGKILL through exec): Spark gives up on the application, so the driver is not the same
one afterwards. Found by running it: deleting pods is not the way to exceed the limit,
because Spark does not count an executor whose pod was deleted as a failure. With two
pod deletions the application healed, so that control could not fail.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from kubernetes import client

from harness.errors import WaitTimeout
from harness.integrity.collect import reconcile_pipeline
from harness.kube import exec_in_pod
from harness.mechanisms.context import MechanismContext
from harness.mechanisms.driver_restart import APP, GROUP, PLURAL, VERSION, recreate_application
from harness.mechanisms.model import Bound, Term
from harness.mechanisms.outcome import Outcome
from harness.observe.wait import wait_until

__all__ = ["bound", "run"]

KILL_JVM = ["pkill", "-9", "-f", "KubernetesExecutorBackend"]


def bound(app: dict[str, Any]) -> Bound:
    """Pod-missing detection + allocation delay + executor start and registration."""
    delay = str(
        app["spec"].get("sparkConf", {}).get("spark.kubernetes.allocation.batch.delay", "1s")
    )
    return Bound(
        (
            Term("executor loss seen by the driver's pod watch", 5, "watch event, + margin"),
            Term(
                "allocation batch delay",
                float(delay.rstrip("s")),
                "05 spark.kubernetes.allocation.batch.delay",
            ),
            Term(
                "executor pod start, JVM, registration", 45, "measured 20-30 s on 2 cores, + margin"
            ),
        )
    )


def _pods(ctx: MechanismContext, role: str) -> list[client.V1Pod]:
    pods = ctx.core.list_namespaced_pod(
        ctx.namespace, label_selector=f"spark-role={role},harness.local/spark-app={APP}"
    ).items
    return [
        p
        for p in pods
        if p.status.phase == "Running"
        and not p.metadata.deletion_timestamp
        and all(s.ready for s in p.status.container_statuses or [])
    ]


def run(ctx: MechanismContext, negative_control: bool = False) -> Outcome:
    """Kill an executor (two, for the negative control) and watch the replacement."""
    if negative_control:
        ctx.rollbacks.register(
            "recreate the SparkApplication from 05", lambda: recreate_application(ctx)
        )
        ctx.timeline.add(
            "control", APP, "recreate with spark.executor.maxNumFailures=1 (mechanism off)"
        )
        recreate_application(ctx, spark_conf={"spark.executor.maxNumFailures": "1"})
    app = ctx.custom.get_namespaced_custom_object(GROUP, VERSION, ctx.namespace, PLURAL, APP)
    outcome = Outcome("executor_replacement", negative_control, bound(app))
    want = int(app["spec"]["executor"].get("instances", 1))
    drivers, executors = _pods(ctx, "driver"), _pods(ctx, "executor")
    if len(drivers) != 1 or len(executors) != want:
        outcome.fail(
            f"steady state: expected 1 driver and {want} executors, "
            f"saw {len(drivers)} and {len(executors)}"
        )
        return outcome
    driver_uid = drivers[0].metadata.uid
    kills = 2 if negative_control else 1
    killed: set[str] = set()
    fault_epoch = time.time()
    for victim in executors[:kills]:
        name = victim.metadata.name
        killed.add(name)
        if negative_control:
            ctx.timeline.add("fault", name, "SIGKILL the executor JVM")
            with contextlib.suppress(Exception):  # the exec dies with the process
                exec_in_pod(ctx.core, ctx.namespace, name, KILL_JVM, 10)
        else:
            ctx.timeline.add("fault", name, "delete executor pod, grace 0")
            ctx.core.delete_namespaced_pod(name, ctx.namespace, grace_period_seconds=0)

    def restored() -> tuple[float | None, str]:
        now = _pods(ctx, "executor")
        fresh = [p for p in now if p.metadata.name not in killed]
        drivers_now = _pods(ctx, "driver")
        same_driver = len(drivers_now) == 1 and drivers_now[0].metadata.uid == driver_uid
        seen = f"{len(fresh)}/{want} executors ready; driver unchanged={same_driver}"
        return (time.time() if len(fresh) == want and same_driver else None), seen

    try:
        restored_at = wait_until(
            "the executor count restored under the same driver",
            restored,
            outcome.bound.seconds + 30,
            1.0,
        )
    except WaitTimeout as exc:
        outcome.fail(str(exc))
        return outcome
    outcome.mttr_seconds = restored_at - fault_epoch
    ctx.timeline.add("recovered", APP, f"{want} executors ready, driver unchanged")
    if not outcome.bound.holds(outcome.mttr_seconds):
        outcome.fail(
            f"restored in {outcome.mttr_seconds:.1f}s, over the bound {outcome.bound.arithmetic()}"
        )
    progress = ctx.prom_scalar_eventually(
        'max(spark_stream_last_progress_timestamp_seconds{query="events"})',
        lambda v: v > restored_at,
        60.0,
    )
    outcome.evidence["last_progress_after_restore"] = progress - restored_at
    if progress <= restored_at:
        outcome.fail("no streaming progress after the executors were replaced")
    state = app_state(ctx)
    outcome.evidence["application_state"] = state
    if state != "RUNNING":
        outcome.fail(f"application {state}, expected RUNNING throughout")
    outcome.reconciliation = reconcile_pipeline(ctx.core, ctx.tools_image, settle=90.0)
    if not outcome.reconciliation.exactly_once:
        outcome.fail(f"integrity: {outcome.reconciliation.summary()}")
    return outcome


def app_state(ctx: MechanismContext) -> str:
    """The SparkApplication's state now."""
    app = ctx.custom.get_namespaced_custom_object(GROUP, VERSION, ctx.namespace, PLURAL, APP)
    return str(app.get("status", {}).get("applicationState", {}).get("state", "NEW"))
