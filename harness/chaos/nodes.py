"""Node faults: cordon, drain, stop a node's container.

Each registers its undo first: uncordon; for a stopped node, ``docker start`` and a wait
until the node is Ready again (its kubelet re-registers, the CNI comes back), so the next
test starts on a whole cluster. Each registers its leftover check with it: the node still
cordoned, its container not running, or the node not Ready.
"""

from __future__ import annotations

import subprocess
import time
from typing import Any

from kubernetes import client

from harness.chaos.scope import FaultScope
from harness.errors import FaultNotLanded, HarnessError
from harness.invariants import CORDON_MARK
from harness.observe.wait import wait_until

__all__ = [
    "NODE_RETURN_TIMEOUT",
    "container_state",
    "cordon",
    "drain",
    "fence_evicted_pods",
    "node_ready",
    "start_node",
    "stop_node",
    "wait_node_not_ready",
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


def wait_node_not_ready(core: client.CoreV1Api, name: str, timeout: float) -> str:
    """Wait until the node's Ready condition is no longer True; return what it became."""

    def probe() -> tuple[str | None, str]:
        status = node_ready(core, name)
        return (status if status != "True" else None), f"{name} Ready={status}"

    return wait_until(f"node {name} NotReady", probe, timeout, 1.0)


def _uncordon(core: client.CoreV1Api, name: str) -> None:
    body = {"metadata": {"annotations": {CORDON_MARK: None}}, "spec": {"unschedulable": False}}
    core.patch_node(name, body)


def _still_cordoned(core: client.CoreV1Api, name: str) -> list[str]:
    return [f"node {name} cordoned"] if core.read_node(name).spec.unschedulable else []


def cordon(scope: FaultScope, node: str) -> None:
    """Mark the node unschedulable; uncordon on rollback."""
    core = client.CoreV1Api(scope.api)
    scope.rollbacks.register(
        f"uncordon {node}",
        lambda: _uncordon(core, node),
        leftover=lambda: _still_cordoned(core, node),
    )
    scope.timeline.add("fault", node, "cordon")
    # The mark lets a later run find and undo a cordon whose rollback never ran.
    body = {"metadata": {"annotations": {CORDON_MARK: "true"}}, "spec": {"unschedulable": True}}
    core.patch_node(node, body)


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


def _docker(*args: str) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise HarnessError(f"docker {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return done.stdout.strip()


def node_exec(node: str, *command: str) -> tuple[int, str]:
    """Run a command in the kind node's container (as root, in the node's namespaces);
    return its exit code and stdout+stderr."""
    done = subprocess.run(
        ["docker", "exec", node, *command], capture_output=True, text=True, check=False
    )
    return done.returncode, done.stdout + done.stderr


def container_state(node: str) -> str:
    """The kind node container's Docker state: running, exited, paused, ..."""
    return _docker("inspect", "--format", "{{.State.Status}}", node)


def _not_back(core: client.CoreV1Api, node: str) -> list[str]:
    state = container_state(node)
    if state != "running":
        return [f"node container {node} {state}"]
    ready = node_ready(core, node)
    return [] if ready == "True" else [f"node {node} Ready={ready}"]


def start_node(core: client.CoreV1Api, node: str, timeout: float = NODE_RETURN_TIMEOUT) -> None:
    """Start the node's container and wait until it is Ready and schedulable."""
    _docker("start", node)
    wait_node_ready(core, node, timeout)
    _uncordon(core, node)


def stop_node(scope: FaultScope, node: str, grace_seconds: int = 2) -> dict[str, Any]:
    """Stop the kind node's container (the machine goes dark); start it on rollback.

    Returns the evidence: the container's state before and after ``docker stop``
    (FaultNotLanded unless it went from running to stopped) and how long the stop took.
    """
    core = client.CoreV1Api(scope.api)
    if node not in {n.metadata.name for n in core.list_node().items}:
        raise HarnessError(f"no node {node!r} in the cluster")
    before = container_state(node)
    if before != "running":  # a stop now would prove nothing, and the state is not ours
        raise FaultNotLanded(f"node container {node} is {before} before the stop")
    scope.rollbacks.register(
        f"docker start {node}, wait Ready",
        lambda: start_node(core, node),
        leftover=lambda: _not_back(core, node),
    )
    scope.timeline.add("fault", node, f"docker stop (grace {grace_seconds}s)")
    begun = time.monotonic()
    _docker("stop", "-t", str(grace_seconds), node)
    seconds = time.monotonic() - begun
    state = container_state(node)
    if state == "running":
        raise FaultNotLanded(f"node container {node} still running after docker stop")
    scope.timeline.add("fault", node, f"container {state} after {seconds:.1f}s")
    return {
        "node": node,
        "container_before": before,
        "container_after": state,
        "grace_seconds": grace_seconds,
        "stop_seconds": round(seconds, 3),
    }
