"""Memory faults: make one container exceed its memory limit so the kernel OOM-kills it.

The OOM killer picks the process with the highest badness in the container's memory
cgroup: its resident memory plus ``oom_score_adj`` x the limit / 1000. A single memory
hog beside the JVM would outgrow it and be the one killed (the kubelet gives every
container of a Burstable pod the same adj, about 964 here). So the fault raises the
target process's adj to 1000 (raising needs no capability) and fills the cgroup with
many small children, each far smaller than the target: the target is the one the
kernel kills, and the container ends with reason OOMKilled, exit 137.
"""

from __future__ import annotations

import time
from typing import Any

from kubernetes import client

from harness.chaos.scope import FaultScope
from harness.errors import FaultNotLanded
from harness.kube import exec_in_pod

__all__ = ["HOG_MARK", "OOM_TIMEOUT", "oom_kill"]

HOG_MARK = "harness-oom-hog"
"""In the hog's command line, so the rollback and the leftover check can find it."""
OOM_TIMEOUT = 60.0
"""Filling a container of about 1 GiB with 16 MiB children takes seconds."""

_HOG = f"""
import os, sys, time
# {HOG_MARK}
for _ in range(400):
    if os.fork() == 0:
        chunk = bytearray(b"\\x01") * (16 << 20)
        time.sleep(3600)
        os._exit(0)
    time.sleep(0.02)
time.sleep(3600)
"""

_STRIKE = """
set -e
pid=$(pgrep -f "$1" | grep -vx 1 | head -n 1)
[ -n "$pid" ] || { echo "no process matches $1"; exit 3; }
echo 1000 > /proc/$pid/oom_score_adj
echo "pid=$pid adj=$(cat /proc/$pid/oom_score_adj)"
nohup python3 -c "$2" >/dev/null 2>&1 &
echo started
"""


def _status(core: client.CoreV1Api, namespace: str, pod: str, container: str) -> Any:
    try:
        now = core.read_namespaced_pod(pod, namespace)
    except client.ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return next((s for s in now.status.container_statuses or [] if s.name == container), None)


def oom_kill(
    scope: FaultScope, namespace: str, pod: str, container: str, pattern: str
) -> dict[str, Any]:
    """OOM-kill the process matching pattern in pod's container; prove it (OOMKilled, 137).

    FaultNotLanded when nothing matches, the adj cannot be raised, or the container has
    not ended OOMKilled within OOM_TIMEOUT (the hog is then stopped by the rollback).
    """
    core = client.CoreV1Api(scope.api)

    def stop_hog() -> None:
        status = _status(core, namespace, pod, container)
        if status is not None and status.state and status.state.running:  # else it died too
            exec_in_pod(core, namespace, pod, ["pkill", "-KILL", "-f", HOG_MARK], 20)

    def hog_left() -> list[str]:
        status = _status(core, namespace, pod, container)
        if status is None or not (status.state and status.state.running):
            return []
        code, out = exec_in_pod(core, namespace, pod, ["pgrep", "-f", HOG_MARK], 20)
        return [f"memory hog pids {out.split()} left in {namespace}/{pod}"] if code == 0 else []

    scope.rollbacks.register(
        f"stop the memory hog in {namespace}/{pod}", stop_hog, leftover=hog_left
    )
    scope.timeline.add("fault", pod, f"oom_score_adj 1000 for {pattern!r}, memory hog started")
    begun = time.monotonic()
    code, out = exec_in_pod(core, namespace, pod, ["sh", "-c", _STRIKE, "sh", pattern, _HOG], 30)
    if code != 0 or "started" not in out:
        raise FaultNotLanded(f"the OOM fault in {namespace}/{pod} exited {code}: {out[-400:]}")
    deadline = begun + OOM_TIMEOUT
    while True:
        status = _status(core, namespace, pod, container)
        ended = status.state.terminated if status and status.state else None
        ended = ended or (status.last_state.terminated if status and status.last_state else None)
        if ended is not None:
            break
        if status is None or time.monotonic() > deadline:
            raise FaultNotLanded(
                f"{namespace}/{pod} container {container} did not end within"
                f" {OOM_TIMEOUT:.0f}s of the memory hog (pod gone: {status is None})"
            )
        time.sleep(0.5)
    if ended.reason != "OOMKilled" or ended.exit_code != 137:
        raise FaultNotLanded(
            f"{namespace}/{pod} container {container} ended {ended.reason} exit"
            f" {ended.exit_code}, not OOMKilled 137"
        )
    scope.timeline.add("fault", pod, f"container {container} OOMKilled, exit 137")
    return {
        "pod": f"{namespace}/{pod}",
        "container": container,
        "raised": out.strip().splitlines()[0],
        "reason": ended.reason,
        "exit_code": ended.exit_code,
        "seconds_to_kill": round(time.monotonic() - begun, 1),
    }
