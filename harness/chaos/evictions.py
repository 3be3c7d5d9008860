"""Evictions through the Eviction API, as ``kubectl drain`` sends them, one pod at a time.

A PodDisruptionBudget answers 429 when evicting the pod would break it; 201 means the
pod is being evicted. The answer is the fault's evidence, so it is returned, not hidden.

``evict_pod`` only asks (pdb_drain_block reads the answer); ``evict`` is the fault: one
pod evicted with its own grace period, so its preStop hook runs as in a drain, and proof
that it landed. An eviction needs no undo: the pod's owner replaces it.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client

from harness.chaos.scope import FaultScope
from harness.errors import FaultNotLanded, WaitTimeout
from harness.kube import read_pod
from harness.observe.wait import wait_until

__all__ = ["TERMINATING_TIMEOUT", "evict", "evict_pod", "terminating"]

TERMINATING_TIMEOUT = 10.0
"""The API server marks the pod terminating as it answers 201; a read later, + margin."""


def _eviction(namespace: str, name: str, uid: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": name, "namespace": namespace},
    }
    if uid is not None:  # never evict a same-named successor in its place
        body["deleteOptions"] = {"preconditions": {"uid": uid}}
    return body


def _answer(core: client.CoreV1Api, namespace: str, name: str, uid: str | None = None) -> int:
    try:
        core.create_namespaced_pod_eviction(name, namespace, _eviction(namespace, name, uid))
    except client.ApiException as exc:
        if exc.status in (None, 0) or exc.status >= 500:
            raise
        return int(exc.status)
    return 201


def evict_pod(scope: FaultScope, namespace: str, name: str) -> int:
    """Ask the API server to evict one pod; return its answer (201, 429, 404, ...)."""
    answer = _answer(client.CoreV1Api(scope.api), namespace, name)
    scope.timeline.add("eviction", f"{namespace}/{name}", f"answer {answer}")
    return answer


def terminating(pod: client.V1Pod | None, uid: str) -> str:
    """How the pod with this UID is seen on its way out; empty while it is not."""
    if pod is None:
        return "gone"
    if pod.metadata.uid != uid:
        return f"replaced by uid {pod.metadata.uid}"
    if pod.metadata.deletion_timestamp is not None:
        grace = pod.metadata.deletion_grace_period_seconds
        return f"terminating (deletionGracePeriodSeconds {grace})"
    return ""


def evict(
    scope: FaultScope, namespace: str, name: str, timeout: float = TERMINATING_TIMEOUT
) -> dict[str, Any]:
    """Evict one pod through the Eviction API, with its own grace period (its preStop
    hook runs); return the proof: answered 201, and the pod with that UID terminating
    or gone. FaultNotLanded when there is no such pod, the eviction is refused (a
    budget: 429), or the pod is not on its way out within ``timeout``.
    """
    core = client.CoreV1Api(scope.api)
    pod = read_pod(core, namespace, name)
    if pod is None:
        raise FaultNotLanded(f"no pod {namespace}/{name} to evict")
    uid = pod.metadata.uid
    grace = pod.spec.termination_grace_period_seconds
    scope.timeline.add("fault", name, f"evict pod uid {uid} (grace {grace}s)")
    answer = _answer(core, namespace, name, uid)
    scope.timeline.add("eviction", f"{namespace}/{name}", f"answer {answer}")
    if answer != 201:
        raise FaultNotLanded(
            f"the eviction of {namespace}/{name} uid {uid} was answered {answer}, not 201"
            " (429: a PodDisruptionBudget refuses it; 404/409: gone or replaced already)"
        )

    def probe() -> tuple[str | None, str]:
        how = terminating(read_pod(core, namespace, name), uid)
        return (how or None), f"pod {namespace}/{name} uid {uid} not terminating"

    try:
        how = wait_until(f"pod {namespace}/{name} evicted", probe, timeout, 0.5)
    except WaitTimeout as exc:
        raise FaultNotLanded(
            f"pod {namespace}/{name} uid {uid} not terminating {timeout:.0f}s after its"
            f" eviction was answered 201: {exc.last_seen}"
        ) from exc
    scope.timeline.add("fault", name, f"uid {uid} {how}")
    return {
        "pod": f"{namespace}/{name}",
        "uid": uid,
        "node": pod.spec.node_name,
        "answer": answer,
        "grace_seconds": grace,
        "evicted": how,
    }
