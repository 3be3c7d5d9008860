"""Mechanism 6, executor_oom: the kernel OOM-kills an executor; Spark replaces it.

Trigger: one executor's JVM (``KubernetesExecutorBackend``) made to exceed its
container's memory limit (executors have limit = request) by harness.chaos.memory:
the JVM's oom_score_adj raised to 1000 and the cgroup filled by small children, so the
kernel kills the JVM, not the filler (a single hog would be the larger process and be
the one killed). It landed when the container's status says OOMKilled, exit 137.
Verification: the executor count is back to ``executor.instances`` with a new pod, the
driver keeps its UID, the application stays RUNNING, and the replacement itself ran
tasks (its ``completedTasks`` in Prometheus, not just the surviving executor's), and
the query makes progress after the replacement. MTTR is fault → executor count restored.
Integrity: the window's events, exactly once.

05 sets ``spark.executor.failuresValidityInterval``: every executor failure counts
toward ``spark.executor.maxNumFailures`` (default max(2 x executors, 3)) and without
a validity interval the count never resets, so over a suite (or a stream's life) the
application would be given up after a few OOMs.

Negative control: as executor_replacement's: on the job's twin,
``spark.kubernetes.allocation.maximum`` allows no executor beyond the first ones; same
fault. Declared failure: the executor OOMKilled, the count short and no replacement pod
created under the same driver, past the bound or once the driver's allocator refuses
the new pod (executors.ExecutorLoss).
"""

from __future__ import annotations

from typing import Any

from harness.chaos.memory import oom_kill
from harness.mechanisms.executors import ExecutorLoss
from harness.mechanisms.model import Term
from harness.mechanisms.template import register

__all__ = ["ExecutorOom"]

JVM_PATTERN = "KubernetesExecutorBackend"
CONTAINER = "spark-kubernetes-executor"


@register
class ExecutorOom(ExecutorLoss):
    """OOM-kill an executor JVM; Spark replaces the executor under the same driver."""

    id = "executor_oom"
    expected_failure = (
        "with spark.kubernetes.allocation.maximum allowing no executor beyond the first ones,"
        " the executor is OOMKilled and the count stays short with no replacement pod"
        " created under the same driver, past the bound or once the driver's allocator"
        " refuses the new pod"
    )
    loss_terms = (
        Term("OOM kill of the JVM", 0, "counted from the kill: the fault ends when it lands"),
    )

    def strike(self) -> dict[str, Any]:
        victim = self.victim()
        self.oom = oom_kill(self.ctx, self.ctx.namespace, victim, CONTAINER, JVM_PATTERN)
        return self.oom

    def check(self) -> None:
        super().check()
        fresh = self.replacements()
        if not fresh:
            self.fail("no replacement executor pod is ready")
            return
        ids = [str(p.metadata.labels.get("spark-exec-id", "")) for p in fresh]
        app_id = str(fresh[0].metadata.labels.get("spark-app-selector", ""))
        selector = f'application_id="{app_id}", executor_id=~"{"|".join(ids)}"'
        tasks = self.ctx.metric_eventually(
            f"sum(metrics_executor_completedTasks_total{{{selector}}})", lambda v: v > 0, 60.0
        )
        self.note("replacement_executors", {"ids": ids, "completed_tasks": tasks})
        if tasks <= 0:
            self.fail(f"the replacement executor(s) {ids} completed no task")
