"""Resource pressure on a node: CPU burners and a memory hog, pinned there.

The pressure pods live in their own namespace (``harness-chaos``), carry
``harness.local/chaos`` and have no requests (BestEffort: they take what is idle and are
the first to be OOM-killed or evicted, as a noisy neighbour would be). The rollback,
registered before they are created, deletes them with grace 0; its leftover check holds
until the pod is gone from the API.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client

from harness.chaos.scope import FaultScope
from harness.invariants import CHAOS_LABEL
from harness.observe.wait import wait_until

__all__ = ["CHAOS_NAMESPACE", "cpu_pressure", "memory_pressure"]

CHAOS_NAMESPACE = "harness-chaos"


def _ensure_namespace(core: client.CoreV1Api) -> None:
    try:
        core.create_namespace(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": CHAOS_NAMESPACE,
                    "labels": {"pod-security.kubernetes.io/enforce": "restricted"},
                },
            }
        )
    except client.ApiException as exc:
        if exc.status != 409:
            raise


def _pod(name: str, node: str, image: str, script: str, kind: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {CHAOS_LABEL: kind}},
        "spec": {
            "nodeName": node,
            "terminationGracePeriodSeconds": 0,
            "restartPolicy": "Never",
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 65534,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": kind,
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["sh", "-c", script],
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
        },
    }


def _strike(scope: FaultScope, node: str, image: str, kind: str, script: str) -> str:
    core = client.CoreV1Api(scope.api)
    _ensure_namespace(core)
    name = f"chaos-{kind}-{node}"[:63]

    def remove() -> None:
        try:
            core.delete_namespaced_pod(name, CHAOS_NAMESPACE, grace_period_seconds=0)
        except client.ApiException as exc:
            if exc.status != 404:
                raise

    def left() -> list[str]:
        try:
            pod = core.read_namespaced_pod(name, CHAOS_NAMESPACE)
        except client.ApiException as exc:
            if exc.status == 404:
                return []
            raise
        phase = "terminating" if pod.metadata.deletion_timestamp else pod.status.phase
        return [f"pressure pod {CHAOS_NAMESPACE}/{name} left ({phase})"]

    scope.rollbacks.register(f"delete {CHAOS_NAMESPACE}/{name}", remove, leftover=left)
    scope.timeline.add("fault", node, f"{kind}: {script}")
    core.create_namespaced_pod(CHAOS_NAMESPACE, _pod(name, node, image, script, kind))

    def running() -> tuple[bool | None, str]:
        phase = core.read_namespaced_pod(name, CHAOS_NAMESPACE).status.phase
        return (True if phase == "Running" else None), f"phase {phase}"

    wait_until(f"{CHAOS_NAMESPACE}/{name} running", running, 60.0, 1.0)
    return name


def cpu_pressure(scope: FaultScope, node: str, image: str, workers: int = 2) -> str:
    """Busy-loop ``workers`` shells on the node; returns the pod's name."""
    loops = " ".join(["while :; do :; done &"] * workers)
    return _strike(scope, node, image, "cpu", f"{loops} wait")


def memory_pressure(scope: FaultScope, node: str, image: str, mebibytes: int = 1024) -> str:
    """Hold ``mebibytes`` of anonymous memory on the node.

    tail buffers the newline-free input whole, then blocks forever writing it to a reader
    that never reads: the memory stays held until the pod is deleted.
    """
    return _strike(
        scope, node, image, "memory", f"head -c {mebibytes}M /dev/zero | tail | sleep infinity"
    )
