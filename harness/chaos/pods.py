"""Pod faults: delete a pod, freeze the processes in one, kill them.

Deleting a pod needs no undo of its own (its owner replaces it; the invariants prove the
pipeline whole afterwards). A frozen process is thawed by the rollback registered before
the SIGSTOP is sent, and its leftover check looks for a process still stopped.

Every injector proves its fault landed and returns the proof (JSON-serialisable, for the
timeline and the report): the UID deleted, the pids frozen, the pids killed and how their
end was seen. When the proof cannot be had, FaultNotLanded says why; a verdict on a fault
that did not strike would be a pass for the wrong reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kubernetes import client

from harness.chaos.scope import FaultScope
from harness.errors import FaultNotLanded
from harness.kube import exec_in_pod, read_pod

__all__ = ["delete_pod", "freeze_process", "kill_process"]

GONE_TIMEOUT = 60.0
"""Grace 0 removes the API object at once; a grace period of seconds, with margin."""
KILLED_TIMEOUT = 30.0
"""SIGKILL ends a process at once; the kubelet reports a dead container within seconds."""


def delete_pod(
    scope: FaultScope,
    namespace: str,
    name: str,
    grace_seconds: int = 0,
    verify_gone: bool = False,
    timeout: float = GONE_TIMEOUT,
) -> dict[str, Any]:
    """Delete a pod (grace 0: SIGKILL, the API object goes at once); return its UID.

    The delete carries a UID precondition, so a same-named successor is never deleted in
    its place. ``verify_gone`` waits until no pod with that UID exists (a successor with
    the same name is fine) and raises FaultNotLanded if one still does after ``timeout``.
    """
    core = client.CoreV1Api(scope.api)
    pod = read_pod(core, namespace, name)
    if pod is None:
        raise FaultNotLanded(f"no pod {namespace}/{name} to delete")
    uid = pod.metadata.uid
    scope.timeline.add("fault", name, f"delete pod uid {uid}, grace {grace_seconds}")
    try:
        core.delete_namespaced_pod(
            name,
            namespace,
            body=client.V1DeleteOptions(
                grace_period_seconds=grace_seconds, preconditions=client.V1Preconditions(uid=uid)
            ),
        )
    except client.ApiException as exc:
        if exc.status in (404, 409):  # gone already, or another pod by now: not our strike
            raise FaultNotLanded(
                f"pod {namespace}/{name} uid {uid} was not deleted by us: {exc.status} {exc.reason}"
            ) from exc
        raise
    evidence: dict[str, Any] = {
        "pod": f"{namespace}/{name}",
        "uid": uid,
        "node": pod.spec.node_name,
        "grace_seconds": grace_seconds,
        "gone": None,
    }
    if verify_gone:
        evidence["gone"] = _wait(
            lambda: _uid_gone(core, namespace, name, uid),
            timeout,
            f"pod {namespace}/{name} uid {uid} still exists {timeout:.0f}s after its deletion",
        )
        scope.timeline.add("fault", name, f"uid {uid} gone ({evidence['gone']})")
    return evidence


def _uid_gone(core: client.CoreV1Api, namespace: str, name: str, uid: str) -> str:
    """How the pod with this UID is seen gone; empty while it still exists."""
    pod = read_pod(core, namespace, name)
    if pod is None:
        return "deleted"
    if pod.metadata.uid != uid:
        return f"replaced by uid {pod.metadata.uid}"
    return ""


def _wait(seen: Callable[[], str], timeout: float, failure: str, interval: float = 0.5) -> str:
    """Poll ``seen`` until it describes the end; FaultNotLanded(failure) after timeout.

    Read errors count as "not yet": the API server answers slowly while a node dies.
    """
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        try:
            if how := seen():
                return how
        except Exception as exc:  # an observation, not a verdict
            last = f" (last read: {type(exc).__name__}: {exc})"
        if time.monotonic() + interval > deadline:
            raise FaultNotLanded(failure + last)
        time.sleep(interval)


def _pkill(
    core: client.CoreV1Api, namespace: str, pod: str, signal: str, pattern: str
) -> tuple[int, str]:
    """pkill's exit status (0 signalled, 1 no process matched) and its output."""
    return exec_in_pod(core, namespace, pod, ["pkill", f"-{signal}", "-f", pattern], 20)


def _matching(core: client.CoreV1Api, namespace: str, pod: str, pattern: str) -> list[int]:
    """PIDs whose command line matches pattern (pgrep never lists itself)."""
    code, out = exec_in_pod(core, namespace, pod, ["pgrep", "-f", pattern], 20)
    if code not in (0, 1):
        raise FaultNotLanded(f"pgrep -f {pattern!r} in {namespace}/{pod} exited {code}: {out}")
    return [int(p) for p in out.split() if p.isdigit()]


def _states(core: client.CoreV1Api, namespace: str, pod: str, pids: list[int]) -> dict[int, str]:
    """ps STAT of each pid that still exists (R, S, T stopped, Z dead but not reaped)."""
    if not pids:
        return {}
    code, out = exec_in_pod(
        core, namespace, pod, ["ps", "-o", "pid=,stat=", "-p", ",".join(map(str, pids))], 20
    )
    if code not in (0, 1):  # 1: none of them exists; anything else proves nothing
        raise FaultNotLanded(f"ps in {namespace}/{pod} exited {code}: {out.strip()[-300:]}")
    return {int(pid): stat for pid, stat in _pairs(out)}


def _pairs(text: str) -> list[tuple[str, str]]:
    rows = [line.split() for line in text.splitlines()]
    return [(r[0], r[1]) for r in rows if len(r) >= 2 and r[0].isdigit()]


def freeze_process(scope: FaultScope, namespace: str, pod: str, pattern: str) -> list[int]:
    """SIGSTOP the processes whose command line matches pattern; SIGCONT on rollback.

    Returns the pids now stopped. A frozen JVM keeps its sockets open but answers
    nothing: heartbeats stop, which is the fault a network timeout (not a pod watch) has
    to detect.
    """
    core = client.CoreV1Api(scope.api)
    frozen: list[int] = []

    def thaw() -> None:
        try:
            _pkill(core, namespace, pod, "CONT", pattern)
        except client.ApiException as exc:
            if exc.status != 404:  # the pod may be gone by then: nothing left frozen
                raise
        # Exit 1 (no process matched: it was killed meanwhile) leaves nothing frozen
        # either; the leftover check below is what proves the thaw.

    def still_frozen() -> list[str]:
        if not frozen or read_pod(core, namespace, pod) is None:
            return []
        states = _states(core, namespace, pod, frozen)
        return [
            f"process {pid} in {namespace}/{pod} still frozen (stat {stat})"
            for pid, stat in sorted(states.items())
            if stat.startswith("T")
        ]

    scope.rollbacks.register(
        f"SIGCONT {pattern!r} in {namespace}/{pod}", thaw, leftover=still_frozen
    )
    scope.timeline.add("fault", pod, f"SIGSTOP processes matching {pattern!r}")
    code, output = _pkill(core, namespace, pod, "STOP", pattern)
    if code != 0:
        raise FaultNotLanded(
            f"pkill -STOP -f {pattern!r} in {namespace}/{pod} exited {code}"
            f" (1 = no process matched): {output.strip()[-500:]}"
        )
    pids = [p for p in _matching(core, namespace, pod, pattern) if p != 1]
    frozen += [pid for pid, stat in _states(core, namespace, pod, pids).items() if stat[0] == "T"]
    if not frozen:
        raise FaultNotLanded(
            f"nothing frozen in {namespace}/{pod}: only the container's PID 1 matched"
            f" {pattern!r}, and an init ignores SIGSTOP sent from inside its namespace"
            " (run the process under an init such as tini, or as a child)"
        )
    scope.timeline.add("fault", pod, f"frozen: pids {frozen}")
    return sorted(frozen)


def _containers(pod: client.V1Pod) -> dict[str, tuple[str, int, bool]]:
    """Container name → (container id, restart count, running) from the pod's status."""
    return {
        s.name: (s.container_id or "", s.restart_count or 0, bool(s.state and s.state.running))
        for s in pod.status.container_statuses or []
    }


def _ended(
    core: client.CoreV1Api,
    namespace: str,
    pod: str,
    uid: str,
    before: dict[str, tuple[str, int, bool]],
    pids: list[int],
) -> str:
    """How the killed pids' end is seen now; empty while any of them still lives."""
    now = read_pod(core, namespace, pod)
    if now is None:
        return "pod deleted"
    if now.metadata.uid != uid:
        return f"pod replaced by uid {now.metadata.uid}"
    for name, (cid, restarts, running) in _containers(now).items():
        old = before.get(name)
        if old is None:
            continue
        if cid != old[0] or restarts > old[1]:
            return f"container {name} restarted (restartCount {old[1]} -> {restarts})"
        if old[2] and not running:
            return f"container {name} no longer running (pod {now.status.phase})"
    # Same container: a new one would reuse pid numbers, so only now may pids be read.
    alive = {p: s for p, s in _states(core, namespace, pod, pids).items() if not s.startswith("Z")}
    return "" if alive else f"pids {pids} gone"


def kill_process(
    scope: FaultScope, namespace: str, pod: str, pattern: str, timeout: float = KILLED_TIMEOUT
) -> dict[str, Any]:
    """SIGKILL the matching processes and prove they ended; return the evidence.

    The container's PID 1 is never a target: an init ignores SIGKILL sent from inside its
    namespace, so killing only it would change nothing. The exec session may die with
    the process it killed (the container ends): that alone is tolerated, and then the
    proof comes from the pod (container restarted or ended, pod gone) or from the pids.
    FaultNotLanded when nothing matched, pkill failed, or a pid outlives ``timeout``.
    """
    core = client.CoreV1Api(scope.api)
    target = read_pod(core, namespace, pod)
    if target is None:
        raise FaultNotLanded(f"no pod {namespace}/{pod} to kill processes in")
    uid, before = target.metadata.uid, _containers(target)
    matched = _matching(core, namespace, pod, pattern)
    pids = [p for p in matched if p != 1]
    if not pids:
        why = ": only the container's PID 1, which ignores SIGKILL from inside" if matched else ""
        raise FaultNotLanded(f"no process to kill in {namespace}/{pod} matches {pattern!r}{why}")
    scope.timeline.add("fault", pod, f"SIGKILL pids {pids} matching {pattern!r}")
    begun = time.monotonic()
    exit_status: int | None
    try:
        exit_status, output = _pkill(core, namespace, pod, "KILL", pattern)
        session = "completed"
        if exit_status == -1:  # exec_in_pod's "no status came back": the session died
            exit_status, session = None, "ended without a status (no exit code)"
    except client.ApiException as exc:  # refused before pkill ran: nothing was sent
        raise FaultNotLanded(
            f"exec of pkill in {namespace}/{pod} refused: {exc.status} {exc.reason}"
        ) from exc
    except Exception as exc:  # the session died with the process it killed
        exit_status, output = None, ""
        session = f"ended without a status ({type(exc).__name__}: {exc})"
    if exit_status is not None and exit_status != 0:
        raise FaultNotLanded(
            f"pkill -KILL -f {pattern!r} in {namespace}/{pod} exited {exit_status}"
            f" (1 = no process matched): {output.strip()[-500:]}"
        )
    ended = _wait(
        lambda: _ended(core, namespace, pod, uid, before, pids),
        timeout,
        f"pids {pids} in {namespace}/{pod} still alive {timeout:.0f}s after SIGKILL"
        f" (exec session {session})",
    )
    scope.timeline.add("fault", pod, f"killed: {ended}")
    return {
        "pod": f"{namespace}/{pod}",
        "uid": uid,
        "pattern": pattern,
        "pids": pids,
        "init_matched": 1 in matched,
        "pkill_exit": exit_status,
        "exec_session": session,
        "ended": ended,
        "seconds": round(time.monotonic() - begun, 3),
    }
