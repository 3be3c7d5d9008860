"""Mechanism 6, executor_oom: the kernel OOM-kills an executor; Spark replaces it.

Trigger: harness.chaos.memory.oom_kill on one executor's JVM
(``KubernetesExecutorBackend``). Executors run with limit = request, and a plain memory
hog beside the JVM is what the OOM killer would pick, so the fault raises the JVM's
``oom_score_adj`` to 1000 and fills the cgroup with small children: the JVM is the one
killed. It landed when the container ended with reason OOMKilled, exit 137 (seen 2-4 s
after the strike).
Verification: the executor count is back to ``executor.instances`` under the same driver
UID, the application stays RUNNING, the stream makes progress after the replacement, and
the replacement itself runs tasks: the driver's REST API (``/api/v1/applications/<id>/
executors``, read inside the driver pod) shows completed tasks on the new executor id.
A survivor alone could carry the stream; without that check a replacement that never
worked would pass. MTTR is OOM kill → executor count restored.
Integrity: the window's events, exactly once (task retry re-runs the lost tasks).

05 sets ``spark.executor.failuresValidityInterval`` (10m): every executor failure counts
toward ``spark.executor.maxNumFailures`` (default max(2 x executors, 3)) and without a
validity interval the count never resets, so a suite (or a long-lived stream) would be
given up after its fourth lost executor.

Negative control: as executor_replacement (the twin with
``spark.kubernetes.allocation.maximum`` allowing no executor beyond the first ones), with
this fault. Declared failure: the twin's executor count stays short with no replacement
pod created under the same driver, past the bound or once the driver's allocator refuses
the new pod (seen 3.6 s after the OOM kill, 2026-12-02).
"""

from __future__ import annotations

import json
import time
from typing import Any, ClassVar

from harness.chaos.memory import oom_kill
from harness.kube import exec_in_pod
from harness.mechanisms.executors import ExecutorLoss
from harness.mechanisms.model import Term
from harness.mechanisms.template import register

__all__ = ["EXECUTOR_JVM", "ExecutorOom"]

EXECUTOR_JVM = "org.apache.spark.executor.KubernetesExecutorBackend"
CONTAINER = "spark-kubernetes-executor"
TASKS_WITHIN = 120.0
"""How long the replacement has to complete a task once it is ready: a few 5 s batches."""
_EXECUTORS = """
import json, urllib.request
base = "http://localhost:4040/api/v1/applications"
app = json.load(urllib.request.urlopen(base, timeout=5))[0]["id"]
rows = json.load(urllib.request.urlopen(f"{base}/{app}/executors", timeout=5))
print(json.dumps([{k: r.get(k) for k in ("id", "isActive", "completedTasks", "failedTasks")}
                  for r in rows]))
"""


@register
class ExecutorOom(ExecutorLoss):
    """OOM-kill an executor JVM; Spark replaces the executor and the new one runs tasks."""

    id = "executor_oom"
    expected_failure = (
        "with spark.kubernetes.allocation.maximum allowing no executor beyond the first ones,"
        " the OOM-killed executor is not replaced: the count stays short with no new pod"
        " under the same driver, past the bound or once the driver's allocator refuses it"
    )
    loss_terms: ClassVar[tuple[Term, ...]] = (
        Term("OOM kill", 10, "memory hog fills the cgroup: seen 2-4 s, + margin"),
    )

    def strike(self) -> dict[str, Any]:
        victim = self.victim()
        self.known = {e["id"] for e in self._executors()} if not self.negative_control else set()
        return oom_kill(self.ctx, self.ctx.namespace, victim, CONTAINER, EXECUTOR_JVM)

    def check(self) -> None:
        super().check()
        fresh = [p.metadata.name for p in self.replacements()]
        self.note("replacement_pods", fresh)
        deadline = time.monotonic() + TASKS_WITHIN
        rows: list[dict[str, Any]] = []
        while True:
            rows = [e for e in self._executors() if e["id"] not in self.known | {"driver"}]
            if any((e.get("completedTasks") or 0) > 0 for e in rows):
                break
            if time.monotonic() > deadline:
                break
            time.sleep(5.0)  # a poll with a deadline: tasks complete batch by batch
        self.note("replacement_executors", rows)
        if not any((e.get("completedTasks") or 0) > 0 for e in rows):
            self.fail(
                f"no replacement executor completed a task within {TASKS_WITHIN:.0f}s"
                f" of being ready (driver REST API: {rows})"
            )

    def _executors(self) -> list[dict[str, Any]]:
        """The driver's executors as its REST API lists them (id, active, task counts)."""
        driver = self.app.driver()
        if driver is None:
            return []
        code, out = exec_in_pod(
            self.ctx.core,
            self.ctx.namespace,
            driver.metadata.name,
            ["python3", "-c", _EXECUTORS],
            20,
        )
        if code != 0:
            return []
        rows: list[dict[str, Any]] = json.loads(out.strip().splitlines()[-1])
        return rows
