"""Pod faults: delete a pod, freeze the processes in one.

Deleting a pod needs no undo of its own (its owner replaces it; the invariants prove the
pipeline whole afterwards). A frozen process is thawed by the rollback registered before
the SIGSTOP is sent.
"""

from __future__ import annotations

import contextlib

from kubernetes import client

from harness.chaos.scope import FaultScope
from harness.errors import HarnessError
from harness.kube import exec_in_pod

__all__ = ["delete_pod", "freeze_process", "kill_process"]


def delete_pod(scope: FaultScope, namespace: str, name: str, grace_seconds: int = 0) -> None:
    """Delete a pod (grace 0: the containers get SIGKILL, the API object goes at once)."""
    scope.timeline.add("fault", name, f"delete pod, grace {grace_seconds}")
    client.CoreV1Api(scope.api).delete_namespaced_pod(
        name, namespace, grace_period_seconds=grace_seconds
    )


def _signal(scope: FaultScope, namespace: str, pod: str, signal: str, pattern: str) -> None:
    code, output = exec_in_pod(
        client.CoreV1Api(scope.api), namespace, pod, ["pkill", f"-{signal}", "-f", pattern], 20
    )
    if code != 0:
        raise HarnessError(
            f"pkill -{signal} -f {pattern!r} in {namespace}/{pod} exited {code}"
            f" (1 = no process matched): {output.strip()[-500:]}"
        )


def freeze_process(scope: FaultScope, namespace: str, pod: str, pattern: str) -> None:
    """SIGSTOP the processes whose command line matches pattern; SIGCONT on rollback.

    A frozen JVM keeps its sockets open but answers nothing: heartbeats stop, which is
    the fault a network timeout (not a pod watch) has to detect.
    """

    def thaw() -> None:
        with contextlib.suppress(client.ApiException):  # the pod may be gone by then
            _signal(scope, namespace, pod, "CONT", pattern)

    scope.rollbacks.register(f"SIGCONT {pattern!r} in {namespace}/{pod}", thaw)
    scope.timeline.add("fault", pod, f"SIGSTOP processes matching {pattern!r}")
    _signal(scope, namespace, pod, "STOP", pattern)
    frozen = _stopped(scope, namespace, pod, pattern)
    if not frozen:
        raise HarnessError(
            f"nothing frozen in {namespace}/{pod}: only the container's PID 1 matched"
            f" {pattern!r}, and an init ignores SIGSTOP sent from inside its namespace"
            " (run the process under an init such as tini, or as a child)"
        )
    scope.timeline.add("fault", pod, f"frozen: pids {frozen}")


def _stopped(scope: FaultScope, namespace: str, pod: str, pattern: str) -> list[int]:
    """PIDs (other than 1) matching pattern that are now in the stopped state."""
    core = client.CoreV1Api(scope.api)
    _, out = exec_in_pod(core, namespace, pod, ["pgrep", "-f", pattern], 20)
    pids = [p for p in out.split() if p.isdigit() and p != "1"]
    if not pids:
        return []
    _, states = exec_in_pod(core, namespace, pod, ["ps", "-o", "pid=,stat=", "-p", ",".join(pids)])
    return [int(pid) for pid, stat in _pairs(states) if stat.startswith("T")]


def _pairs(text: str) -> list[tuple[str, str]]:
    rows = [line.split() for line in text.splitlines()]
    return [(r[0], r[1]) for r in rows if len(r) >= 2 and r[0].isdigit()]


def kill_process(scope: FaultScope, namespace: str, pod: str, pattern: str) -> None:
    """SIGKILL the matching processes (the container restarts or the pod fails)."""
    scope.timeline.add("fault", pod, f"SIGKILL processes matching {pattern!r}")
    with contextlib.suppress(Exception):  # the exec session may die with the process
        _signal(scope, namespace, pod, "KILL", pattern)
