"""Deployment faults: take every replica of a controller away, and bring them back.

Used to hold a controller's reaction back on purpose (prometheus_alerting stops the
Spark operator so that a lost driver stays lost until its alert has fired). The
rollback, registered before the scale-down, puts the replicas back and waits until
they are all available; the leftover check names a Deployment left short. A mechanism
may lift the fault earlier with ``ScaledDown.restore`` (the rollback then does nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubernetes import client

from harness.chaos.scope import FaultScope
from harness.errors import FaultNotLanded, WaitTimeout
from harness.invariants import REPLICAS_MARK
from harness.observe.wait import wait_until

__all__ = ["RETURN_TIMEOUT", "ScaledDown", "scale_to_zero"]

RETURN_TIMEOUT = 120.0
"""Pod scheduling, image already on the node, the controller's start and readiness."""


@dataclass
class ScaledDown:
    """A Deployment scaled to zero; ``restore`` lifts the fault, ``evidence`` proves it."""

    apps: client.AppsV1Api
    namespace: str
    name: str
    replicas: int
    evidence: dict[str, Any] = field(default_factory=dict)
    restored: bool = False

    def restore(self) -> None:
        """Scale back to the replicas it had and wait until they are available; idempotent."""
        if self.restored:
            return
        self.apps.patch_namespaced_deployment_scale(
            self.name, self.namespace, {"spec": {"replicas": self.replicas}}
        )
        self.apps.patch_namespaced_deployment(
            self.name, self.namespace, {"metadata": {"annotations": {REPLICAS_MARK: None}}}
        )

        def back() -> tuple[bool | None, str]:
            now = self.apps.read_namespaced_deployment(self.name, self.namespace).status
            available = now.available_replicas or 0
            seen = f"{available}/{self.replicas} available"
            return (True if available >= self.replicas else None), seen

        wait_until(f"Deployment {self.namespace}/{self.name} back", back, RETURN_TIMEOUT, 1.0)
        self.restored = True

    def leftovers(self) -> list[str]:
        """The Deployment, if it is still short of its replicas."""
        spec = self.apps.read_namespaced_deployment(self.name, self.namespace).spec
        have = int(spec.replicas or 0)
        if have == self.replicas:
            return []
        return [f"Deployment {self.namespace}/{self.name} at {have}/{self.replicas} replicas"]


def scale_to_zero(
    scope: FaultScope, namespace: str, name: str, timeout: float = 90.0
) -> ScaledDown:
    """Scale Deployment namespace/name to 0 and wait until its pods are gone; the evidence
    names the replicas it had and the pods (name → UID) that went away."""
    apps, core = client.AppsV1Api(scope.api), client.CoreV1Api(scope.api)
    deployment = apps.read_namespaced_deployment(name, namespace)
    labels = deployment.spec.selector.match_labels or {}
    selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    fault = ScaledDown(apps, namespace, name, int(deployment.spec.replicas or 1))

    def pods() -> dict[str, str]:
        items = core.list_namespaced_pod(namespace, label_selector=selector).items
        return {p.metadata.name: p.metadata.uid for p in items}

    before = pods()
    scope.rollbacks.register(
        f"Deployment {namespace}/{name} back to {fault.replicas}",
        fault.restore,
        leftover=fault.leftovers,
    )
    scope.timeline.add("fault", f"deployment/{name}", "scaled to 0 replicas")
    # The mark (the replicas it had) lets a later run undo a scale-down whose rollback
    # never ran (harness.chaos.leftovers).
    mark = {"metadata": {"annotations": {REPLICAS_MARK: str(fault.replicas)}}}
    apps.patch_namespaced_deployment(name, namespace, mark)
    apps.patch_namespaced_deployment_scale(name, namespace, {"spec": {"replicas": 0}})

    def gone() -> tuple[bool | None, str]:
        left = sorted(pods())
        return (True if not left else None), f"pods left: {left}"

    try:
        wait_until(f"Deployment {namespace}/{name} pods gone", gone, timeout, 1.0)
    except WaitTimeout as exc:
        raise FaultNotLanded(f"Deployment {namespace}/{name} did not scale down: {exc}") from exc
    scope.timeline.add("fault", f"deployment/{name}", "no pod left")
    fault.evidence = {
        "deployment": f"{namespace}/{name}",
        "replicas_before": fault.replicas,
        "pods_gone": before,
    }
    return fault
