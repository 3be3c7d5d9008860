"""Mechanism 6, executor_oom: the kernel OOM-kills an executor; Spark replaces it.

Trigger: harness.chaos.memory.oom_kill on one executor's JVM
(``KubernetesExecutorBackend``). Executors run with limit = request, and a plain memory
hog beside the JVM is what the OOM killer would pick, so the fault raises the JVM's
``oom_score_adj`` to 1000 and fills the cgroup with small children: the JVM is the one
killed. It landed when the container ended with reason OOMKilled, exit 137 (seen 2-4 s
after the strike).
Verification: the executor count is back to ``executor.instances`` under the same driver
UID, the application stays RUNNING, the stream makes progress after the replacement, and
the replacement itself runs tasks: the driver's REST API (``allexecutors``, read inside
the driver pod: SparkApplication.driver_executors) shows completed tasks on the new
executor id. A survivor alone could carry the stream; without that check a replacement that never
worked would pass. MTTR is OOM kill → executor count restored.
The replacement has work only when a micro-batch has a task for it: the Kafka source
prefers one executor per partition (the partition's hash modulo the executor count), and
while the ingest keyed its events by producer, both replicas' pod names could hash to one
partition; every batch then had a single task, always preferred by the survivor (the likely
cause of a CI failure, 2026-12-03: the replacement ran no task in 120 s). The ingest
spreads its events round-robin over the partitions, so each batch has a task per partition.
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

import time
from typing import Any, ClassVar

from harness.chaos.memory import oom_kill
from harness.mechanisms.executors import ExecutorLoss
from harness.mechanisms.model import Term
from harness.mechanisms.template import register

__all__ = ["EXECUTOR_JVM", "ExecutorOom"]

EXECUTOR_JVM = "org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend"
CONTAINER = "spark-kubernetes-executor"
TASKS_WITHIN = 120.0
"""How long the replacement has to complete a task once it is ready: a few 5 s batches."""


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
        self.known = (
            set() if self.negative_control else {e["id"] for e in self.app.driver_executors()}
        )
        return oom_kill(self.ctx, self.ctx.namespace, victim, CONTAINER, EXECUTOR_JVM)

    def check(self) -> None:
        super().check()
        fresh = [p.metadata.name for p in self.replacements()]
        self.note("replacement_pods", fresh)
        deadline = time.monotonic() + TASKS_WITHIN
        rows: list[dict[str, Any]] = []
        while True:
            rows = [
                e for e in self.app.driver_executors() if e["id"] not in self.known | {"driver"}
            ]
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
