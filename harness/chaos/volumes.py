"""Volume faults: fill a PersistentVolumeClaim to 100%.

A filler pod (labelled ``harness.local/chaos``) mounts the claim and writes a fill file
until the filesystem answers ENOSPC, then holds. dd's "No space left on device" (ENOSPC's
message) is the proof, kept in ``Fill.evidence`` with df at that moment; a fill that ends
any other way is FaultNotLanded. ``Fill.remove`` deletes the file and the pod; it is
registered as the rollback before the first byte is written, with ``Fill.leftovers`` as
its leftover check, and a mechanism may call it earlier (the fill lifted mid-test). It
is idempotent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client
from kubernetes.utils import parse_quantity

from harness.chaos.scope import FaultScope
from harness.errors import FaultNotLanded, HarnessError, WaitTimeout
from harness.invariants import CHAOS_LABEL, FILL_FILE
from harness.kube import exec_in_pod
from harness.observe.wait import wait_until

__all__ = ["FILL_FILE", "Fill", "fill_volume", "parse_fill_report"]

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
    # A restarted container (same pod, same /tmp) must not find an earlier run's verdict.
    "rm -f /tmp/full /tmp/failed /tmp/df.full;"
    f" dd if=/dev/zero of={PATH} bs=1M 2>/tmp/dd.log;"
    # ENOSPC's message, and only it, proves the filesystem is full; any other dd error
    # (a quota, a read-only mount, an OOM kill) is a fill that did not land.
    " if grep -q 'No space left on device' /tmp/dd.log;"
    f" then df -k {MOUNT} >/tmp/df.full; touch /tmp/full; else touch /tmp/failed; fi;"
    # Hold at 100%: whatever the pipeline frees (old checkpoint files) is taken again.
    f" while [ -e /tmp/full ] && [ ! -e /tmp/stop ]; do dd if=/dev/zero bs=4k count=256"
    f" >>{PATH} 2>/dev/null; sleep 0.2; done; sleep infinity"
)
PROBE_SCRIPT = (
    "if [ -e /tmp/failed ]; then echo FAILED; cat /tmp/dd.log;"
    " elif [ -e /tmp/full ]; then echo FULL; cat /tmp/dd.log; echo DF; cat /tmp/df.full;"
    f" else echo FILLING; df -k {MOUNT}; fi"
)
STOP_AND_REMOVE = f"touch /tmp/stop; sleep 2; rm -f {PATH}; sleep 0.5; test ! -e {PATH}"
"""The holding loop sees the flag within one round (0.2 s + a short dd) before the rm;
the last test proves the file stayed gone once the loop stopped."""
REMOVE_SCRIPT = f"rm -f {PATH} && test ! -e {PATH}"

_BYTES = re.compile(r"^(\d+) bytes", re.MULTILINE)


def parse_fill_report(text: str) -> dict[str, Any]:
    """The filler's FULL report (dd's log, then df -k at the moment of ENOSPC) as evidence.

    Pure, so the proof's parsing is tested without a cluster.
    """
    dd_log, _, df = text.partition("\nDF\n")
    enospc = next((line for line in dd_log.splitlines() if "No space left" in line), "")
    written = _BYTES.search(dd_log)
    evidence: dict[str, Any] = {
        "enospc": enospc.strip(),
        "bytes_written": int(written[1]) if written else None,
    }
    rows = [line.split() for line in df.strip().splitlines()[1:] if line.strip()]
    if rows and len(rows[-1]) >= 5:
        size, used, available = rows[-1][-5:-2]
        evidence["df_at_full_kib"] = {
            "size": int(size),
            "used": int(used),
            "available": int(available),
        }
    return evidence


@dataclass
class Fill:
    """A filled claim; ``remove`` lifts the fault, ``evidence`` proves it struck."""

    core: client.CoreV1Api
    namespace: str
    claim: str
    pod: str
    image: str
    removed: bool = False
    """True once the fill file is proven gone (rm, then ``test ! -e``) and the pod deleted."""
    evidence: dict[str, Any] = field(default_factory=dict)
    """ENOSPC as dd reported it, bytes written, df at that moment (JSON-serialisable)."""

    @property
    def remover(self) -> str:
        """The one-shot pod that deletes the file when the filler cannot be reached."""
        return f"{self.pod}-rm"[:63]

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

    def leftovers(self) -> list[str]:
        """What of the fill is still there: the file (not proven removed), the pods."""
        problems = []
        if not self.removed:
            problems.append(
                f"fill file {FILL_FILE} on claim {self.namespace}/{self.claim} left"
                " (its removal was not proven)"
            )
        for name in (self.pod, self.remover):
            try:
                self.core.read_namespaced_pod(name, self.namespace)
            except client.ApiException as exc:
                if exc.status == 404:
                    continue
                raise
            problems.append(f"filler pod {self.namespace}/{name} left")
        return problems

    def _delete_pod(self, name: str) -> None:
        try:
            self.core.delete_namespaced_pod(name, self.namespace, grace_period_seconds=0)
        except client.ApiException as exc:
            if exc.status != 404:
                raise

    def _remove_with_a_new_pod(self) -> None:
        name = self.remover
        pod = _filler(name, self.claim, self.image, REMOVE_SCRIPT)
        pod["spec"]["restartPolicy"] = "Never"
        self.core.create_namespaced_pod(self.namespace, pod)

        def done() -> tuple[bool | None, str]:
            phase = self.core.read_namespaced_pod(name, self.namespace).status.phase
            if phase == "Failed":
                raise HarnessError(f"{REMOVE_SCRIPT!r} failed in {self.namespace}/{name}")
            return (True if phase == "Succeeded" else None), f"phase {phase}"

        try:
            wait_until(f"{FILL_FILE} removed from {self.claim}", done, 120.0, 1.0)
        finally:
            self._delete_pod(name)


def fill_volume(
    scope: FaultScope, namespace: str, claim: str, image: str, timeout: float = 120.0
) -> Fill:
    """Fill the claim's filesystem to 100% and return once it reports ENOSPC.

    FaultNotLanded when dd ends with another error, or ENOSPC is not reached in time;
    ``Fill.evidence`` holds the proof when it is.
    """
    core = client.CoreV1Api(scope.api)
    name = f"fill-{claim}"[:63]
    fill = Fill(core, namespace, claim, name, image)
    scope.rollbacks.register(
        f"remove {FILL_FILE} from {namespace}/{claim}", fill.remove, leftover=fill.leftovers
    )
    scope.timeline.add("fault", claim, f"fill to 100% with {FILL_FILE}")
    capacity = core.read_namespaced_persistent_volume_claim(claim, namespace).status.capacity
    size = int(parse_quantity(capacity["storage"])) if capacity else 1024 * MIB
    pod = _filler(name, claim, image, FILL_SCRIPT, memory=size + 64 * MIB)
    core.create_namespaced_pod(namespace, pod)

    def ended() -> tuple[tuple[str, str] | None, str]:
        pod = core.read_namespaced_pod(name, namespace)
        if pod.status.phase != "Running":
            return None, f"filler pod {pod.status.phase}"
        code, output = exec_in_pod(core, namespace, name, ["sh", "-c", PROBE_SCRIPT])
        verdict, _, report = output.partition("\n")
        if code != 0 or verdict.strip() not in ("FULL", "FAILED"):
            return None, output.strip()[-300:]
        return (verdict.strip(), report), verdict

    try:
        verdict, report = wait_until(f"{namespace}/{claim} full (ENOSPC)", ended, timeout, 2.0)
    except WaitTimeout as exc:
        raise FaultNotLanded(f"{namespace}/{claim} never reached ENOSPC: {exc}") from exc
    if verdict == "FAILED":
        raise FaultNotLanded(
            f"filling {namespace}/{claim} ended without ENOSPC: {report.strip()[-500:]}"
        )
    fill.evidence = {
        "claim": f"{namespace}/{claim}",
        "pod": name,
        "capacity_bytes": size,
        **parse_fill_report(report),
    }
    if not fill.evidence["enospc"]:
        raise FaultNotLanded(f"the filler of {namespace}/{claim} reported full without ENOSPC")
    scope.timeline.add("fault", claim, f"full: {fill.evidence['enospc']}")
    return fill
