"""Mechanism 12, node_failure_reschedule: a dead worker's pods come back on the other one.

Trigger: stop the container of the worker that runs the driver (the machine goes dark:
no kubelet, no graceful shutdown).
Verification: the node goes NotReady (its lease expires: node-monitor grace); the
taint manager evicts the driver once its ``unreachable`` toleration (20 s, the API
server's default-unreachable-toleration-seconds) runs out; the evicted pods are fenced
(see below); the operator resubmits; a new driver runs on the surviving worker and its
query makes progress, read from Prometheus. MTTR is fault → that first progress.

Fencing, found by running it: an evicted pod on a dead node stays Terminating for ever
(its kubelet never confirms), and the Spark operator resubmits only once the old driver
pod is gone (controller.go, validateSparkResourceDeletion), so without a fence the
stream stalls until the node returns. Production clusters fence (the cloud deletes the
Node of a terminated machine; or the ``out-of-service`` taint and the pod GC). The
harness stands in for that fence: it force-deletes the pods the taint manager has
evicted from the stopped node, nothing else (harness.chaos.nodes.fence_evicted_pods).
Integrity: reconciliation, exactly once, after the node is back (so every pod that was
evicted with it, the reader included, can run again).
Negative control: the driver's pod template tolerates ``unreachable`` and ``not-ready``
for ever (no tolerationSeconds): it is never evicted, so no driver comes back while the
node is down.

Prometheus and Alertmanager run on the control plane (08), outside the failure domain.
"""

from __future__ import annotations

import time
from typing import Any

from harness.chaos.nodes import (
    NODE_RETURN_TIMEOUT,
    fence_evicted_pods,
    node_ready,
    start_node,
    stop_node,
)
from harness.cluster.timing import NodeFailureTiming
from harness.errors import WaitTimeout
from harness.integrity.collect import reconcile_pipeline
from harness.mechanisms import driver_restart
from harness.mechanisms.context import MechanismContext
from harness.mechanisms.model import Bound, Term
from harness.mechanisms.outcome import Outcome
from harness.observe.wait import wait_until

__all__ = ["FOREVER_TOLERATIONS", "bound", "run"]

FOREVER_TOLERATIONS = [
    {"key": f"node.kubernetes.io/{taint}", "operator": "Exists", "effect": "NoExecute"}
    for taint in ("unreachable", "not-ready")
]
"""The negative control: tolerations without tolerationSeconds never expire."""


def bound(timing: NodeFailureTiming, app: dict[str, Any]) -> Bound:
    """NotReady + toleration, then the driver restart's own terms."""
    return Bound(
        (
            Term("node-monitor grace", timing.grace, "kind config node-monitor-grace-period"),
            Term("node-monitor period", timing.monitor_period, "kind config node-monitor-period"),
            Term(
                "unreachable toleration",
                timing.toleration,
                "kind config default-unreachable-toleration-seconds",
            ),
            Term("fence of the evicted pods", 2, "the harness's poll interval"),
            *driver_restart.bound(app).terms,
        )
    )


def _forever(manifest: dict[str, Any]) -> None:
    pod = manifest["spec"]["driver"].setdefault("template", {}).setdefault("spec", {})
    pod["tolerations"] = [*pod.get("tolerations", []), *FOREVER_TOLERATIONS]


def run(ctx: MechanismContext, negative_control: bool = False) -> Outcome:
    """Stop the driver's worker; watch eviction, resubmission and progress elsewhere."""
    if negative_control:
        ctx.rollbacks.register(
            "recreate the SparkApplication from 05",
            lambda: driver_restart.recreate_application(ctx),
        )
        ctx.timeline.add("control", driver_restart.APP, "driver tolerates unreachable for ever")
        driver_restart.recreate_application(ctx, patch=_forever)
    timing = NodeFailureTiming.from_kind_config(ctx.kind_config)
    app = driver_restart.application(ctx)
    outcome = Outcome("node_failure_reschedule", negative_control, bound(timing, app))
    driver = driver_restart.running_driver(ctx)
    if driver is None:
        outcome.fail("steady state: no running driver")
        return outcome
    victim = driver.spec.node_name
    outcome.evidence["stopped_node"] = victim
    fault_epoch = time.time()
    stop_node(ctx, victim)

    def not_ready() -> tuple[float | None, str]:
        status = node_ready(ctx.core, victim)
        return (time.time() if status != "True" else None), f"{victim} Ready={status}"

    try:
        went = wait_until(f"{victim} NotReady", not_ready, timing.not_ready_bound + 30, 1.0)
        outcome.evidence["not_ready_after_s"] = round(went - fault_epoch, 1)
        ctx.timeline.add("symptom", victim, "node NotReady")
    except WaitTimeout as exc:
        outcome.fail(str(exc))
        return outcome

    fenced: list[str] = []

    def recovered() -> tuple[float | None, str]:
        if node_ready(ctx.core, victim) != "True":
            now_fenced = fence_evicted_pods(ctx.core, victim)
            if now_fenced:
                ctx.timeline.add("fence", victim, f"force-deleted evicted {now_fenced}")
                fenced.extend(now_fenced)
        first = ctx.prom_scalar(
            "max(spark_stream_first_progress_timestamp_seconds"
            f" and spark_stream_driver_start_timestamp_seconds > {fault_epoch:.3f})"
        )
        old = ctx.core.list_namespaced_pod(
            ctx.namespace, field_selector=f"metadata.name={driver.metadata.name}"
        ).items
        old_state = (
            "gone"
            if not old or old[0].metadata.uid != driver.metadata.uid
            else ("evicted (terminating)" if old[0].metadata.deletion_timestamp else "bound")
        )
        seen = f"old driver {old_state}; first progress of a new driver: {first}"
        return (first if first > fault_epoch else None), seen

    try:
        first_progress = wait_until(
            "a new driver's first progress, on the surviving worker",
            recovered,
            outcome.bound.seconds + 30,
            2.0,
        )
    except WaitTimeout as exc:
        outcome.evidence["fenced"] = fenced
        outcome.fail(str(exc))
        return outcome
    outcome.mttr_seconds = first_progress - fault_epoch
    outcome.evidence["fenced"] = fenced
    ctx.timeline.add("recovered", driver_restart.APP, "first progress of the new driver")
    if not outcome.bound.holds(outcome.mttr_seconds):
        outcome.fail(
            f"recovered in {outcome.mttr_seconds:.1f}s, over the bound {outcome.bound.arithmetic()}"
        )
    new_driver = driver_restart.running_driver(ctx)
    outcome.evidence["new_driver_node"] = None if new_driver is None else new_driver.spec.node_name
    if new_driver is None or new_driver.spec.node_name == victim:
        outcome.fail(f"the new driver is not on the surviving worker: {outcome.evidence}")
    began = time.monotonic()
    start_node(ctx.core, victim, NODE_RETURN_TIMEOUT)
    outcome.evidence["node_back_after_s"] = round(time.monotonic() - began, 1)
    ctx.timeline.add("restore", victim, "node Ready again")
    outcome.reconciliation = reconcile_pipeline(ctx.core, ctx.tools_image, settle=120.0)
    if not outcome.reconciliation.exactly_once:
        outcome.fail(f"integrity: {outcome.reconciliation.summary()}")
    return outcome
