"""CPU burns inside running containers: a busy loop in the container's own cgroup.

A burner pod beside a workload (harness.chaos.pressure) loads the node, but the
workload's own CPU usage, which is what metrics-server reports and a
HorizontalPodAutoscaler scales on, does not move. A process exec'd into a container runs
in that container's cgroups: its CPU counts as the container's, and the container's CPU
limit caps it, so a burn can never take more than the limit from the rest of the node.

The burner is one bash process per container, ``nice 19`` so that, inside the cgroup,
the container's own process gets the CPU it asks for first and the loop takes only what
is left of the limit. It bounds itself (bash's ``SECONDS``): if the harness is killed and
no rollback runs, the burn still ends by itself. It is detached (stdin, stdout and stderr
closed), so the exec session returns at once. Its command line carries ``BURN_MARK``,
which is how the rollback (SIGKILL) and the leftover check (a live process matching it)
find it. The container's PID 1 does not reap orphans in most images, so a killed burner
may stay behind as a zombie until the container ends: it holds a PID, no CPU, and the
leftover check does not count it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client

from harness.chaos.scope import FaultScope
from harness.errors import FaultNotLanded
from harness.kube import exec_in_pod, read_pod

__all__ = ["BURN_MARK", "CpuBurn", "burn_cpu", "burner_script", "live_pids"]

BURN_MARK = "harness-cpu-burn"
"""The burner's $0: on its command line, matched by pkill/pgrep -f."""
EXEC_TIMEOUT = 20.0
"""One short command through the API server's exec, on two busy cores."""


def burner_script(seconds: int, nice: int = 19) -> str:
    """The shell line that starts one detached, self-bounded busy loop and prints its pid.

    nohup, nice and bash exec one another, so ``$!`` is the loop's own pid.
    """
    loop = f"while (( SECONDS < {int(seconds)} )); do :; done"
    return (
        f"nohup nice -n {int(nice)} bash -c '{loop}' {BURN_MARK}"
        " </dev/null >/dev/null 2>&1 & echo $!"
    )


def live_pids(ps_output: str) -> dict[int, str]:
    """pid → stat of the processes ``ps -o pid=,stat=`` listed that still run (zombies,
    stat Z, are dead: a PID 1 that does not reap leaves them)."""
    rows = [line.split() for line in ps_output.splitlines()]
    return {
        int(r[0]): r[1] for r in rows if len(r) >= 2 and r[0].isdigit() and not r[1].startswith("Z")
    }


@dataclass
class CpuBurn:
    """Burners running in pods; ``stop`` kills them (idempotent), ``leftovers`` proves it."""

    core: client.CoreV1Api
    namespace: str
    pods: dict[str, str]
    """Pod name → UID of the pods burned."""
    seconds: int
    started_at: float = 0.0
    """Epoch just before the first burner was started."""
    stopped_at: float | None = None
    pids: dict[str, int] = field(default_factory=dict)
    """Pod name → the burner's pid."""
    evidence: dict[str, Any] = field(default_factory=dict)

    def _same_pod(self, name: str) -> bool:
        pod = read_pod(self.core, self.namespace, name)
        return pod is not None and pod.metadata.uid == self.pods[name]

    def _burners(self, name: str) -> dict[int, str]:
        """The live burners in one pod (pgrep never lists itself)."""
        code, out = exec_in_pod(
            self.core, self.namespace, name, ["pgrep", "-f", BURN_MARK], EXEC_TIMEOUT
        )
        if code not in (0, 1):  # 1: none matched
            raise FaultNotLanded(f"pgrep -f {BURN_MARK} in {self.namespace}/{name} exited {code}")
        pids = [p for p in out.split() if p.isdigit()]
        if not pids:
            return {}
        code, out = exec_in_pod(
            self.core,
            self.namespace,
            name,
            ["ps", "-o", "pid=,stat=", "-p", ",".join(pids)],
            EXEC_TIMEOUT,
        )
        if code not in (0, 1):
            raise FaultNotLanded(f"ps in {self.namespace}/{name} exited {code}: {out[-200:]}")
        return live_pids(out)

    def stop(self) -> None:
        """SIGKILL every burner in the pods still there (a replaced pod has none)."""
        for name in self.pods:
            if not self._same_pod(name):
                continue
            code, out = exec_in_pod(
                self.core,
                self.namespace,
                name,
                ["pkill", "-KILL", "-f", BURN_MARK],
                EXEC_TIMEOUT,
            )
            if code not in (0, 1):  # 1: nothing left to kill (it ended by itself)
                raise FaultNotLanded(f"pkill in {self.namespace}/{name} exited {code}: {out}")
        if self.stopped_at is None:
            self.stopped_at = time.time()

    def leftovers(self) -> list[str]:
        """A burner still alive in a pod burned (not a zombie)."""
        left = []
        for name in self.pods:
            if not self._same_pod(name):
                continue
            left += [
                f"CPU burner pid {pid} ({stat}) left in {self.namespace}/{name}"
                for pid, stat in sorted(self._burners(name).items())
            ]
        return left


def burn_cpu(
    scope: FaultScope, namespace: str, pods: list[str], seconds: int, nice: int = 19
) -> CpuBurn:
    """Start one busy loop in the first container of each pod, for at most ``seconds``.

    The kill and its leftover check are registered first. The evidence names, per pod,
    the burner's pid and its state as ps shows it (running, nice 19); FaultNotLanded when
    a burner cannot be seen alive right after it was started.
    """
    core = client.CoreV1Api(scope.api)
    uids: dict[str, str] = {}
    for name in pods:
        pod = read_pod(core, namespace, name)
        if pod is None:
            raise FaultNotLanded(f"no pod {namespace}/{name} to burn CPU in")
        uids[name] = str(pod.metadata.uid)
    burn = CpuBurn(core, namespace, uids, int(seconds))
    scope.rollbacks.register(
        f"kill the CPU burners ({BURN_MARK}) in {sorted(uids)}", burn.stop, leftover=burn.leftovers
    )
    script = burner_script(seconds, nice)
    scope.timeline.add("fault", ", ".join(sorted(uids)), f"CPU burn for at most {seconds}s")
    burn.started_at = time.time()
    for name in sorted(uids):
        code, out = exec_in_pod(core, namespace, name, ["sh", "-c", script], EXEC_TIMEOUT)
        printed = out.strip().splitlines()[-1] if out.strip() else ""
        if code != 0 or not printed.isdigit():
            raise FaultNotLanded(f"the burner did not start in {namespace}/{name}: {code} {out!r}")
        burn.pids[name] = int(printed)
    shown: dict[str, str] = {}
    for name, pid in sorted(burn.pids.items()):
        code, out = exec_in_pod(
            core, namespace, name, ["ps", "-o", "pid=,stat=,ni=,args=", "-p", str(pid)], 20
        )
        if code != 0 or pid not in live_pids(out):
            raise FaultNotLanded(f"burner pid {pid} in {namespace}/{name} not running: {out!r}")
        shown[name] = " ".join(out.split())
    burn.evidence = {
        "pods": uids,
        "pids": dict(burn.pids),
        "ps": shown,
        "seconds_at_most": int(seconds),
        "nice": nice,
        "started_at": round(burn.started_at, 3),
    }
    scope.timeline.add("fault", ", ".join(sorted(uids)), f"burning: pids {burn.pids}")
    return burn
