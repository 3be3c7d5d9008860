"""Mechanism 5, executor_replacement: Spark replaces a lost executor; the driver stays.

Trigger: delete one executor pod (grace 0); it landed when no pod with its UID remains.
Verification: the executor count is back to the SparkApplication's ``executor.instances``
(new pods Running and ready), the driver pod keeps its UID and the application stays
RUNNING, and the query makes progress after the replacement (Prometheus). MTTR is
fault → executor count restored.
Integrity: the window's events, exactly once (task retry re-runs the lost tasks).

Negative control: ``spark.executor.maxNumFailures=1`` on the job's twin (an application
beside the job, harness.spark_application.control_twin) and its executor JVMs killed
(SIGKILL through exec, harness.chaos.pods.kill_process, which proves the processes are
gone). Not the same fault as the mechanism's, and why: Spark does not count an executor
whose pod was deleted as a failure (found by running it: with two pod deletions the
application healed, so that control could not fail). Declared failure: the driver the
executors belonged to is gone (its pod no longer running under that UID) with the
executor count never restored under it: Spark gave up on the application.
"""

from __future__ import annotations

import time
from typing import Any

from harness.chaos.pods import delete_pod, kill_process
from harness.errors import FaultNotLanded
from harness.mechanisms.model import Bound, Term
from harness.mechanisms.template import MechanismTemplate, Seen, register

__all__ = ["ExecutorReplacement"]

EXECUTOR_JVM = "KubernetesExecutorBackend"
"""The executor JVM's main class, as its command line shows it."""
CONTROL_KILLS = 2
"""Two executor failures exceed maxNumFailures=1."""


@register
class ExecutorReplacement(MechanismTemplate):
    """Delete an executor; Spark requests a replacement under the same driver."""

    id = "executor_replacement"
    expected_failure = (
        "with spark.executor.maxNumFailures=1 and two executor JVMs killed, the driver"
        " gives up: its pod stops running under the same UID"
    )
    poll = 1.0

    control_on_twin = True

    def switch_off(self) -> None:
        self.start_twin(_max_failures_one)

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
        kills = CONTROL_KILLS if self.negative_control else 1
        victims = executors[:kills]
        if len(victims) < kills:
            raise FaultNotLanded(f"{kills} executors needed, {len(victims)} running")
        self.killed = {p.metadata.name for p in victims}
        ns = self.ctx.namespace
        if self.negative_control:
            return {
                p.metadata.name: kill_process(self.ctx, ns, p.metadata.name, EXECUTOR_JVM)
                for p in victims
            }
        return delete_pod(self.ctx, ns, victims[0].metadata.name, verify_gone=True)

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
            'max(spark_stream_last_progress_timestamp_seconds{query="events"})',
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
        drivers = self.app.pods("driver")
        same = [p for p in drivers if p.metadata.uid == self.driver_uid]
        state = self.app.state()
        seen = f"application {state}; original driver running={bool(same)}"
        if not same:
            return {"original_driver": "gone", "application": str(state)}, seen
        return None, seen


def _max_failures_one(manifest: dict[str, Any]) -> None:
    manifest["spec"]["sparkConf"]["spark.executor.maxNumFailures"] = "1"
