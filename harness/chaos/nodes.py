"""Node faults: cordon, drain, stop a node's container.

Each registers its undo first: uncordon; for a stopped node, ``docker start`` and a wait
until the node is Ready again (its kubelet re-registers, the CNI comes back), so the next
test starts on a whole cluster.
"""

from __future__ import annotations

import subprocess
import time
from typing import Any

from kubernetes import client

from harness.chaos.scope import FaultScope
from harness.errors import HarnessError
from harness.observe.wait import wait_until

__all__ = [
    "NODE_RETURN_TIMEOUT",
    "cordon",
    "drain",
    "fence_evicted_pods",
    "node_ready",
    "start_node",
    "stop_node",
    "wait_node_ready",
]

NODE_RETURN_TIMEOUT = 180.0
"""docker start → systemd → containerd → kubelet → Ready, plus the CNI, on two cores."""


def node_ready(core: client.CoreV1Api, name: str) -> str:
    """The node's Ready condition: 'True', 'False' or 'Unknown'."""
    node = core.read_node(name)
    ready = [c.status for c in node.status.conditions or [] if c.type == "Ready"]
    return ready[0] if ready else "Unknown"


def wait_node_ready(
    core: client.CoreV1Api, name: str, timeout: float = NODE_RETURN_TIMEOUT
) -> None:
    """Wait until the node reports Ready=True."""

    def probe() -> tuple[bool | None, str]:
        status = node_ready(core, name)
        return (True if status == "True" else None), f"{name} Ready={status}"

    wait_until(f"node {name} Ready", probe, timeout, 1.0)


def _uncordon(core: client.CoreV1Api, name: str) -> None:
    core.patch_node(name, {"spec": {"unschedulable": False}})


def cordon(scope: FaultScope, node: str) -> None:
    """Mark the node unschedulable; uncordon on rollback."""
    core = client.CoreV1Api(scope.api)
    scope.rollbacks.register(f"uncordon {node}", lambda: _uncordon(core, node))
    scope.timeline.add("fault", node, "cordon")
    core.patch_node(node, {"spec": {"unschedulable": True}})


def _evictable(pod: Any) -> bool:
    owners = pod.metadata.owner_references or []
    daemon = any(o.kind == "DaemonSet" for o in owners)
    return (
        not daemon
        and not pod.metadata.deletion_timestamp
        and pod.status.phase
        in (
            "Pending",
            "Running",
        )
    )


def drain(scope: FaultScope, node: str, timeout: float = 60.0, retry: float = 5.0) -> list[str]:
    """Cordon, then evict every non-DaemonSet pod through the Eviction API, as kubectl does.

    Evictions a PodDisruptionBudget refuses (429) are retried every ``retry`` seconds
    until ``timeout``; returns the pods still not evicted then (empty: drained).
    """
    core = client.CoreV1Api(scope.api)
    cordon(scope, node)
    deadline = time.monotonic() + timeout
    pending: list[str] = []
    while True:
        pods = core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={node}").items
        pending = []
        for pod in filter(_evictable, pods):
            ref = f"{pod.metadata.namespace}/{pod.metadata.name}"
            body = {
                "apiVersion": "policy/v1",
                "kind": "Eviction",
                "metadata": {"name": pod.metadata.name, "namespace": pod.metadata.namespace},
            }
            try:
                core.create_namespaced_pod_eviction(pod.metadata.name, pod.metadata.namespace, body)
                scope.timeline.add("eviction", ref, "evicted (201)")
            except client.ApiException as exc:
                if exc.status == 404:
                    continue
                if exc.status != 429:
                    raise
                pending.append(ref)
                scope.timeline.add("eviction", ref, "refused (429)")
        if not pending or time.monotonic() + retry > deadline:
            return pending
        time.sleep(retry)  # kubectl drain's retry interval: the drain itself, not a wait


def fence_evicted_pods(core: client.CoreV1Api, node: str) -> list[str]:
    """Force-delete the pods already evicted from a dead node; return their names.

    A pod on an unreachable node stays Terminating until its kubelet confirms, which a
    dead kubelet never does; controllers that wait for the old pod to be gone (the Spark
    operator waits for the driver pod before it resubmits; StatefulSets for their
    ordinal) wait for ever. Production clusters fence: the cloud deletes the Node of a
    terminated machine, or an admin sets the ``out-of-service`` taint and the pod GC
    force-deletes. This stands in for that fence, and only for pods the taint manager
    has already evicted: a pod that tolerates the node's death is left alone.
    """
    fenced: list[str] = []
    for pod in core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={node}").items:
        if pod.metadata.deletion_timestamp is None:
            continue
        try:
            core.delete_namespaced_pod(
                pod.metadata.name, pod.metadata.namespace, grace_period_seconds=0
            )
            fenced.append(f"{pod.metadata.namespace}/{pod.metadata.name}")
        except client.ApiException as exc:
            if exc.status != 404:
                raise
    return fenced


def _docker(*args: str) -> None:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise HarnessError(f"docker {' '.join(args)} exited {done.returncode}: {done.stderr}")


def start_node(core: client.CoreV1Api, node: str, timeout: float = NODE_RETURN_TIMEOUT) -> None:
    """Start the node's container and wait until it is Ready and schedulable."""
    _docker("start", node)
    wait_node_ready(core, node, timeout)
    _uncordon(core, node)


def stop_node(scope: FaultScope, node: str, grace_seconds: int = 2) -> None:
    """Stop the kind node's container (the machine goes dark); start it on rollback."""
    core = client.CoreV1Api(scope.api)
    if node not in {n.metadata.name for n in core.list_node().items}:
        raise HarnessError(f"no node {node!r} in the cluster")
    scope.rollbacks.register(f"docker start {node}, wait Ready", lambda: start_node(core, node))
    scope.timeline.add("fault", node, f"docker stop (grace {grace_seconds}s)")
    _docker("stop", "-t", str(grace_seconds), node)
