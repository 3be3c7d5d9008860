"""Mechanism 5, executor_replacement: Spark replaces a lost executor; the driver stays.

Trigger: delete one executor pod (grace 0); it landed when no pod with its UID remains.
Verification: the executor count is back to the SparkApplication's ``executor.instances``
(new pods Running and ready), the driver pod keeps its UID and the application stays
RUNNING, and the query makes progress after the replacement (Prometheus). MTTR is
fault → executor count restored.
Integrity: the window's events, exactly once (task retry re-runs the lost tasks).

Negative control: on the job's twin (an application beside the job,
harness.spark_application.control_twin), ``spark.kubernetes.allocation.maximum`` set so
that no executor pod can be created beyond the first ones (Spark 4.1+: the most executor
pods the application may ever create; see executors.no_replacements), same fault. Declared
failure: the twin's executor count is still short and no replacement executor pod was
ever created, under the same driver, once the bound has passed, or as soon as the
driver's log says its allocator refused the replacement (``Exceed the pod creation
limit``: the executor id counter only grows, so no replacement can ever come; seen
25 s after the fault on 2026-12-02, ending the control there instead of at 51 s).
Found by running the earlier controls: Spark counts an executor failure
toward ``spark.executor.maxNumFailures`` only if the executor is still registered when
its pod's failure is processed (ExecutorPodsLifecycleManager), and a lost executor's RPC
disconnect usually removes it first. So neither deleting executor pods nor SIGKILLing two
executor JVMs under maxNumFailures=1 made the application give up: it healed (the second
was seen on the real cluster with this harness, 2026-12-01), and that control could not fail.
"""

from __future__ import annotations

from typing import Any

from harness.chaos.pods import delete_pod
from harness.mechanisms.executors import ExecutorLoss
from harness.mechanisms.template import register

__all__ = ["ExecutorReplacement"]


@register
class ExecutorReplacement(ExecutorLoss):
    """Delete an executor; Spark requests a replacement under the same driver."""

    id = "executor_replacement"
    expected_failure = (
        "with spark.kubernetes.allocation.maximum allowing no executor beyond the first ones,"
        " the executor count stays short with no replacement pod created under the same"
        " driver, past the bound or once the driver's allocator refuses the new pod"
    )

    def strike(self) -> dict[str, Any]:
        return delete_pod(self.ctx, self.ctx.namespace, self.victim(), verify_gone=True)
