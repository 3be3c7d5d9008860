"""Volume faults: fill a PersistentVolumeClaim to 100%.

A filler pod (labelled ``harness.local/chaos``) mounts the claim and writes a fill file
until the filesystem answers ENOSPC, then holds. ``Fill.remove`` deletes the file and the
pod; it is registered as the rollback before the first byte is written, and a mechanism
may call it earlier (the fill lifted mid-test). It is idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubernetes import client
from kubernetes.utils import parse_quantity

from harness.chaos.scope import FaultScope
from harness.errors import HarnessError, WaitTimeout
from harness.invariants import CHAOS_LABEL, FILL_FILE
from harness.kube import exec_in_pod
from harness.observe.wait import wait_until

__all__ = ["FILL_FILE", "Fill", "fill_volume"]

MOUNT = "/fill"
MIB = 2**20


def _filler(
    name: str, claim: str, image: str, script: str, memory: int = 64 * MIB
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "labels": {"app.kubernetes.io/name": "volume-filler", CHAOS_LABEL: "fill"},
        },
        "spec": {
            "priorityClassName": "pipeline-low",
            "terminationGracePeriodSeconds": 1,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 185,
                "runAsGroup": 185,
                "fsGroup": 185,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": "fill",
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["sh", "-c", script],
                    "resources": {
                        "requests": {"cpu": "10m", "memory": "16Mi"},
                        # tmpfs pages count against the writer's memory limit.
                        "limits": {"memory": str(memory)},
                    },
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]},
                    },
                    "volumeMounts": [
                        {"name": "target", "mountPath": MOUNT},
                        {"name": "tmp", "mountPath": "/tmp"},
                    ],
                }
            ],
            "volumes": [
                {"name": "target", "persistentVolumeClaim": {"claimName": claim}},
                {"name": "tmp", "emptyDir": {}},
            ],
        },
    }


PATH = f"{MOUNT}/{FILL_FILE}"
FILL_SCRIPT = (
    f"dd if=/dev/zero of={PATH} bs=1M 2>/tmp/dd.log;"
    " grep -q 'No space left' /tmp/dd.log && touch /tmp/full;"
    # Hold at 100%: whatever the pipeline frees (old checkpoint files) is taken again.
    f" while [ ! -e /tmp/stop ]; do dd if=/dev/zero bs=4k count=256 >>{PATH} 2>/dev/null;"
    " sleep 0.2; done; sleep infinity"
)
STOP_AND_REMOVE = f"touch /tmp/stop; sleep 2; rm -f {PATH}"
"""The holding loop sees the flag within one round (0.2 s + a short dd) before the rm."""


@dataclass
class Fill:
    """A filled claim; ``remove`` lifts the fault."""

    core: client.CoreV1Api
    namespace: str
    claim: str
    pod: str
    image: str
    removed: bool = False

    def remove(self) -> None:
        """Stop the holding loop, delete the fill file, delete the pod; safe to repeat.

        When the filler cannot be reached (its node is gone, say), a one-shot pod on the
        same claim deletes the file instead.
        """
        if self.removed:
            return
        try:
            code, _ = exec_in_pod(
                self.core, self.namespace, self.pod, ["sh", "-c", STOP_AND_REMOVE]
            )
        except (client.ApiException, OSError, HarnessError):
            code = -1
        self._delete_pod(self.pod)
        if code != 0:
            self._remove_with_a_new_pod()
        self.removed = True

    def _delete_pod(self, name: str) -> None:
        try:
            self.core.delete_namespaced_pod(name, self.namespace, grace_period_seconds=0)
        except client.ApiException as exc:
            if exc.status != 404:
                raise

    def _remove_with_a_new_pod(self) -> None:
        name = f"{self.pod}-rm"[:63]
        pod = _filler(name, self.claim, self.image, f"rm -f {PATH}")
        pod["spec"]["restartPolicy"] = "Never"
        self.core.create_namespaced_pod(self.namespace, pod)

        def done() -> tuple[bool | None, str]:
            phase = self.core.read_namespaced_pod(name, self.namespace).status.phase
            return (True if phase == "Succeeded" else None), f"phase {phase}"

        try:
            wait_until(f"{FILL_FILE} removed from {self.claim}", done, 120.0, 1.0)
        finally:
            self._delete_pod(name)


def fill_volume(
    scope: FaultScope, namespace: str, claim: str, image: str, timeout: float = 120.0
) -> Fill:
    """Fill the claim's filesystem to 100% and return once it reports ENOSPC."""
    core = client.CoreV1Api(scope.api)
    name = f"fill-{claim}"[:63]
    fill = Fill(core, namespace, claim, name, image)
    scope.rollbacks.register(f"remove {FILL_FILE} from {namespace}/{claim}", fill.remove)
    scope.timeline.add("fault", claim, f"fill to 100% with {FILL_FILE}")
    capacity = core.read_namespaced_persistent_volume_claim(claim, namespace).status.capacity
    size = int(parse_quantity(capacity["storage"])) if capacity else 1024 * MIB
    pod = _filler(name, claim, image, FILL_SCRIPT, memory=size + 64 * MIB)
    core.create_namespaced_pod(namespace, pod)

    def full() -> tuple[bool | None, str]:
        pod = core.read_namespaced_pod(name, namespace)
        if pod.status.phase != "Running":
            return None, f"filler pod {pod.status.phase}"
        code, output = exec_in_pod(core, namespace, name, ["sh", "-c", f"df -k {MOUNT}; ls /tmp"])
        return (True if code == 0 and "full" in output.split() else None), output.strip()[-300:]

    try:
        wait_until(f"claim {namespace}/{claim} full (ENOSPC)", full, timeout, 2.0)
    except WaitTimeout as exc:
        raise HarnessError(f"could not fill {namespace}/{claim}: {exc}") from exc
    scope.timeline.add("fault", claim, "full: the filesystem answers ENOSPC")
    return fill
