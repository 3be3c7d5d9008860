"""Evictions through the Eviction API, as ``kubectl drain`` sends them, one pod at a time.

A PodDisruptionBudget answers 429 when evicting the pod would break it; 201 means the
pod is being evicted. The answer is the fault's evidence, so it is returned, not hidden.
"""

from __future__ import annotations

from kubernetes import client

from harness.chaos.scope import FaultScope

__all__ = ["evict_pod"]


def evict_pod(scope: FaultScope, namespace: str, name: str) -> int:
    """Ask the API server to evict one pod; return its answer (201, 429, 404, ...)."""
    body = {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": name, "namespace": namespace},
    }
    try:
        client.CoreV1Api(scope.api).create_namespaced_pod_eviction(name, namespace, body)
        answer = 201
    except client.ApiException as exc:
        if exc.status in (None, 0) or exc.status >= 500:
            raise
        answer = int(exc.status)
    scope.timeline.add("eviction", f"{namespace}/{name}", f"answer {answer}")
    return answer
