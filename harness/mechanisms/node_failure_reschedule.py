"""Mechanism 12, node_failure_reschedule: a dead worker's pods come back on the other one.

Trigger: stop the container of the worker that runs the driver (the machine goes dark:
no kubelet, no graceful shutdown; harness.chaos.nodes.stop_node). It landed when the
node is NotReady (its lease expired: node-monitor grace).
Verification: the taint manager evicts the driver once its ``unreachable`` toleration
(20 s, the API server's default-unreachable-toleration-seconds) runs out; the evicted
pods are fenced (see below); the operator resubmits; a new driver runs on the surviving
worker and its query makes progress, read from Prometheus. MTTR is fault → that first
progress.

Fencing, found by running it: an evicted pod on a dead node stays Terminating for ever
(its kubelet never confirms), and the Spark operator resubmits only once the old driver
pod is gone (controller.go, validateSparkResourceDeletion), so without a fence the
stream stalls until the node returns. Production clusters fence (the cloud deletes the
Node of a terminated machine; or the ``out-of-service`` taint and the pod GC). The
harness stands in for that fence: it force-deletes the pods the taint manager has
evicted from the stopped node, nothing else (harness.chaos.nodes.fence_evicted_pods).
Integrity: the window's events, exactly once, after the node is back (so every pod that
was evicted with it, the reader included, can run again).

Negative control: on the job's twin (an application beside the job, its driver on the
other worker than the job's: harness.spark_application.control_twin), the driver's pod
template tolerates ``unreachable`` and ``not-ready`` for ever (no tolerationSeconds),
same fault: the twin driver's node is stopped. Declared failure: once the toleration the
mechanism relies on has run out (NotReady + toleration + EVICTION_MARGIN), the driver
pod is still bound to the dead node under its UID, never evicted, and no new driver has
made progress. The control ends right then instead of waiting out the whole bound.

Two ways to fail the node (``$HARNESS_NODE_FAULT``, harness.chaos.node_agent): ``docker``
stops the kind node's container; ``kubelet`` has a privileged pod on the node stop its
kubelet and runtime and kill every container, with a timer of the node's own that brings
them back. ``auto`` (the default) takes docker where the node is a local container (kind),
kubelet elsewhere. Same verdict rules either way: the fault landed when the node is
NotReady; the check brings the node back (kind: at once; elsewhere: the node's timer).

Prometheus and Alertmanager run on the control plane (08), outside the failure domain.
"""

from __future__ import annotations

import time
from typing import Any

from harness.chaos.node_agent import KubeletDown, node_fault_way, stop_kubelet
from harness.chaos.nodes import (
    NODE_RETURN_TIMEOUT,
    fence_evicted_pods,
    node_ready,
    start_node,
    stop_node,
)
from harness.cluster.timing import node_failure_timing
from harness.errors import FaultNotLanded, WaitTimeout
from harness.mechanisms.bounds import restart_terms
from harness.mechanisms.model import Bound, Term
from harness.mechanisms.template import MechanismTemplate, Seen, register
from harness.observe.wait import wait_until

__all__ = ["FOREVER_TOLERATIONS", "NodeFailureReschedule"]

FOREVER_TOLERATIONS = [
    {"key": f"node.kubernetes.io/{taint}", "operator": "Exists", "effect": "NoExecute"}
    for taint in ("unreachable", "not-ready")
]
"""The negative control: tolerations without tolerationSeconds never expire."""
EVICTION_MARGIN = 10.0
"""The taint manager acts within a second of the toleration's end; 10 s leaves no doubt."""
KUBELET_HOLD_SLACK = 120.0
"""The in-cluster node fault's own timer outlasts the verdict by this much."""


@register
class NodeFailureReschedule(MechanismTemplate):
    """Stop the driver's worker; watch eviction, fencing, resubmission and progress."""

    id = "node_failure_reschedule"
    expected_failure = (
        "past NotReady + the toleration, the tolerating driver is still bound to the dead"
        " node under its UID (never evicted) and no new driver made progress"
    )

    control_on_twin = True

    def switch_off(self) -> None:
        self.start_twin(_forever)

    def bound(self) -> Bound:
        self.timing = node_failure_timing(self.ctx.api)
        t = self.timing
        return Bound(
            (
                Term("node-monitor grace", t.grace, f"node-monitor-grace-period: {t.source}"),
                Term("node-monitor period", t.monitor_period, f"node-monitor-period: {t.source}"),
                Term(
                    "unreachable toleration",
                    t.toleration,
                    f"default-unreachable-toleration-seconds: {t.source}",
                ),
                Term("fence of the evicted pods", self.poll, "the harness's poll interval"),
                *restart_terms(self.ctx),
            )
        )

    def strike(self) -> dict[str, Any]:
        driver = self.app.driver()
        if driver is None:
            raise FaultNotLanded("no running driver whose node to stop")
        self.driver = driver
        self.victim = driver.spec.node_name
        self.fenced: list[str] = []
        self.way = node_fault_way(self.victim)
        self.down: KubeletDown | None = None
        if self.way == "docker":
            stop_node(self.ctx, self.victim)
        else:  # held past the whole verdict; the check (or the rollback) ends it earlier
            hold = int(self.outcome.bound.seconds + self.margin + KUBELET_HOLD_SLACK)
            self.down = stop_kubelet(self.ctx, self.victim, self.ctx.tools_image, hold)

        def not_ready() -> Seen[float]:
            status = node_ready(self.ctx.core, self.victim)
            return (time.time() if status != "True" else None), f"{self.victim} Ready={status}"

        try:
            went = wait_until(
                f"{self.victim} NotReady", not_ready, self.timing.not_ready_bound + 30, 1.0
            )
        except WaitTimeout as exc:
            raise FaultNotLanded(f"the stopped node never went NotReady: {exc}") from exc
        self.not_ready_at = went
        self.ctx.timeline.add("symptom", self.victim, "node NotReady")
        return {
            "node": self.victim,
            "node_fault": self.way if self.down is None else self.down.evidence,
            "driver": driver.metadata.name,
            "driver_uid": driver.metadata.uid,
            "not_ready_after_s": round(went - self.fault_epoch, 1),
        }

    def recovered(self) -> Seen[float]:
        if node_ready(self.ctx.core, self.victim) != "True":
            now_fenced = fence_evicted_pods(self.ctx.core, self.victim)
            if now_fenced:
                self.ctx.timeline.add("fence", self.victim, f"force-deleted evicted {now_fenced}")
                self.fenced.extend(now_fenced)
        first = self.app.first_progress_after(self.fault_epoch)
        seen = f"old driver {self._old_driver()}; first progress of a new driver: {first}"
        return (first or None), seen

    def check(self) -> None:
        self.note("fenced", self.fenced)
        new_driver = self.app.driver()
        self.note("new_driver_node", None if new_driver is None else new_driver.spec.node_name)
        if new_driver is None or new_driver.spec.node_name == self.victim:
            self.fail(f"the new driver is not on the surviving worker: {self.outcome.evidence}")
        began = time.monotonic()
        if self.down is None:
            start_node(self.ctx.core, self.victim, NODE_RETURN_TIMEOUT)
        else:
            self.down.restore()
        self.note("node_back_after_s", round(time.monotonic() - began, 1))
        self.ctx.timeline.add("restore", self.victim, "node Ready again")

    def control_failed(self) -> Seen[dict[str, Any]]:
        old = self._old_driver()
        past = time.time() - self.not_ready_at
        due = self.timing.toleration + EVICTION_MARGIN
        first = self.app.first_progress_after(self.fault_epoch)
        seen = f"old driver {old}, {past:.0f}s after NotReady (evicted by {due:.0f}s otherwise)"
        if past >= due and old == "bound" and not first:
            evidence = {
                "driver": self.driver.metadata.name,
                "driver_uid": self.driver.metadata.uid,
                "node": self.victim,
                "seconds_after_not_ready": round(past, 1),
                "evicted": False,
                "new_progress": None,
            }
            return evidence, seen
        return None, seen

    def _old_driver(self) -> str:
        old = self.ctx.core.list_namespaced_pod(
            self.ctx.namespace, field_selector=f"metadata.name={self.driver.metadata.name}"
        ).items
        if not old or old[0].metadata.uid != self.driver.metadata.uid:
            return "gone"
        return "evicted (terminating)" if old[0].metadata.deletion_timestamp else "bound"


def _forever(manifest: dict[str, Any]) -> None:
    pod = manifest["spec"]["driver"].setdefault("template", {}).setdefault("spec", {})
    pod["tolerations"] = [*pod.get("tolerations", []), *FOREVER_TOLERATIONS]
