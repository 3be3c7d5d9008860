"""Observer faults: take Prometheus away, to prove that a verdict read from it cannot pass.

Not a fault of the pipeline: a fault of the harness's own observer. A run whose verdict
window loses Prometheus must end inconclusive, never passed (tests/chaos). Prometheus
Operator owns the StatefulSet, so the fault scales the Prometheus object to zero
replicas; the rollback, registered first, puts the replicas back and waits until the
new Prometheus pod is Ready.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client

from harness.chaos.scope import FaultScope
from harness.errors import FaultNotLanded, WaitTimeout
from harness.observe.wait import wait_until

__all__ = ["PROMETHEUS_RETURN_TIMEOUT", "stop_prometheus"]

PROMETHEUS_RETURN_TIMEOUT = 180.0
"""The operator's reconcile, the pod's start, the config reloader and the first load."""
GROUP, VERSION, PLURAL = "monitoring.coreos.com", "v1", "prometheuses"


def _pods(api: client.ApiClient, namespace: str, name: str) -> list[Any]:
    return list(
        client.CoreV1Api(api)
        .list_namespaced_pod(namespace, label_selector=f"prometheus={name}")
        .items
    )


def _scale(api: client.ApiClient, namespace: str, name: str, replicas: int) -> None:
    client.CustomObjectsApi(api).patch_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, name, {"spec": {"replicas": replicas}}
    )


def _ready(pod: Any) -> bool:
    statuses = pod.status.container_statuses or []
    return (
        pod.status.phase == "Running"
        and not pod.metadata.deletion_timestamp
        and bool(statuses)
        and all(s.ready for s in statuses)
    )


def stop_prometheus(
    scope: FaultScope, namespace: str = "monitoring", name: str = "pipeline", timeout: float = 120.0
) -> dict[str, Any]:
    """Scale the Prometheus object to zero and wait until its pods are gone; return proof."""
    custom = client.CustomObjectsApi(scope.api)
    obj = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
    replicas = int(obj.get("spec", {}).get("replicas", 1))
    before = [p.metadata.uid for p in _pods(scope.api, namespace, name)]

    def restore() -> None:
        _scale(scope.api, namespace, name, replicas)

        def back() -> tuple[bool | None, str]:
            pods = _pods(scope.api, namespace, name)
            ready = [p for p in pods if _ready(p)]
            return (True if len(ready) >= replicas else None), f"{len(ready)}/{replicas} ready"

        wait_until(f"Prometheus {namespace}/{name} back", back, PROMETHEUS_RETURN_TIMEOUT, 2.0)

    scope.rollbacks.register(f"Prometheus {namespace}/{name} back to {replicas}", restore)
    scope.timeline.add("fault", f"prometheus/{name}", "scaled to 0 replicas")
    _scale(scope.api, namespace, name, 0)

    def gone() -> tuple[bool | None, str]:
        left = _pods(scope.api, namespace, name)
        return (True if not left else None), f"{len(left)} Prometheus pod(s) left"

    try:
        wait_until(f"Prometheus {namespace}/{name} pods gone", gone, timeout, 1.0)
    except WaitTimeout as exc:
        raise FaultNotLanded(f"Prometheus did not go away: {exc}") from exc
    scope.timeline.add("fault", f"prometheus/{name}", "no Prometheus pod left")
    return {"prometheus": f"{namespace}/{name}", "replicas_before": replicas, "pods_gone": before}
