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
pods the application may ever create; see _no_replacements), same fault. Declared
failure: the bound has passed since the fault, the twin's executor count is still short,
and no replacement executor pod was ever created, under the same driver.
Found by running the earlier controls: Spark counts an executor failure
toward ``spark.executor.maxNumFailures`` only if the executor is still registered when
its pod's failure is processed (ExecutorPodsLifecycleManager), and a lost executor's RPC
disconnect usually removes it first. So neither deleting executor pods nor SIGKILLing two
executor JVMs under maxNumFailures=1 made the application give up: it healed (the second
was seen on the real cluster with this harness, 2026-12-01), and that control could not fail.
"""

from __future__ import annotations

import time
from typing import Any

from harness.chaos.pods import delete_pod
from harness.errors import FaultNotLanded
from harness.mechanisms.model import Bound, Term
from harness.mechanisms.template import MechanismTemplate, Seen, register

__all__ = ["ExecutorReplacement"]


@register
class ExecutorReplacement(MechanismTemplate):
    """Delete an executor; Spark requests a replacement under the same driver."""

    id = "executor_replacement"
    expected_failure = (
        "with spark.kubernetes.allocation.maximum allowing no executor beyond the first ones,"
        " the bound passes with the executor count short and no replacement pod created,"
        " under the same driver"
    )
    poll = 1.0

    control_on_twin = True

    def switch_off(self) -> None:
        self.start_twin(_no_replacements)

    def steady_state(self) -> Seen[bool]:
        self.want = int(self.app.get()["spec"]["executor"].get("instances", 1))
        drivers, executors = self.app.pods("driver"), self.app.pods("executor", ready=True)
        held = len(drivers) == 1 and len(executors) == self.want
        seen = f"{len(drivers)} driver(s), {len(executors)}/{self.want} executors ready"
        return (True if held else None), seen

    def bound(self) -> Bound:
        delay = self.app.spark_conf("spark.kubernetes.allocation.batch.delay", "1s")
        return Bound(
            (
                Term("executor loss seen by the driver's pod watch", 5, "watch event, + margin"),
                Term(
                    "allocation batch delay",
                    float(delay.rstrip("s")),
                    "05 spark.kubernetes.allocation.batch.delay",
                ),
                Term(
                    "executor pod start, JVM, registration",
                    45,
                    "measured 20-30 s on 2 cores, + margin",
                ),
            )
        )

    def strike(self) -> dict[str, Any]:
        drivers = self.app.pods("driver")
        executors = self.app.pods("executor", ready=True)
        if len(drivers) != 1 or not executors:
            raise FaultNotLanded("no driver with executors to strike")
        self.driver_uid = drivers[0].metadata.uid
        self.before = self.app.pod_names("executor")
        victim = executors[0].metadata.name
        self.killed = {victim}
        return delete_pod(self.ctx, self.ctx.namespace, victim, verify_gone=True)

    def recovered(self) -> Seen[float]:
        fresh = [
            p for p in self.app.pods("executor", ready=True) if p.metadata.name not in self.killed
        ]
        drivers = self.app.pods("driver")
        same = len(drivers) == 1 and drivers[0].metadata.uid == self.driver_uid
        seen = f"{len(fresh)}/{self.want} executors ready; driver unchanged={same}"
        return (time.time() if len(fresh) == self.want and same else None), seen

    def check(self) -> None:
        restored = self.fault_epoch + (self.outcome.mttr_seconds or 0.0)
        progress = self.ctx.metric_eventually(
            f"max({self.app.metric('spark_stream_last_progress_timestamp_seconds')})",
            lambda v: v > restored,
            60.0,
        )
        self.note("last_progress_after_restore_s", round(progress - restored, 1))
        if progress <= restored:
            self.fail("no streaming progress after the executors were replaced")
        state = self.app.state()
        self.note("application_state", str(state))
        if state.state != "RUNNING":
            self.fail(f"application {state}, expected RUNNING throughout")

    def control_failed(self) -> Seen[dict[str, Any]]:
        past = time.time() - self.fault_epoch
        created = sorted(self.app.pod_names("executor") - self.before)
        drivers = self.app.pods("driver")
        same = len(drivers) == 1 and drivers[0].metadata.uid == self.driver_uid
        ready = len(self.app.pods("executor", ready=True))
        seen = (
            f"{past:.0f}s of the {self.outcome.bound.seconds:.0f}s bound: {ready}/{self.want}"
            f" executors ready, replacements created {created}, driver unchanged={same}"
        )
        if past >= self.outcome.bound.seconds and same and not created and ready < self.want:
            return {
                "seconds_after_fault": round(past, 1),
                "executors_ready": ready,
                "executor_instances": self.want,
                "replacements_created": created,
                "driver_uid": self.driver_uid,
            }, seen
        return None, seen


def _no_replacements(manifest: dict[str, Any]) -> None:
    # Seen on the cluster (Spark 4.2.0): with maximum = instances the twin got one executor
    # fewer than instances; instances + 1 is the smallest value that starts them all.
    instances = int(manifest["spec"]["executor"]["instances"])
    manifest["spec"]["sparkConf"]["spark.kubernetes.allocation.maximum"] = str(instances + 1)
