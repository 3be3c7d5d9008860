"""What executor_replacement and executor_oom share: an executor lost under a running
driver, the count restored, progress after it, and the control that forbids a new pod.

Not a mechanism (no catalog id): each of the two modules subclasses ``ExecutorLoss``
with its own strike, and may add checks.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from harness.errors import FaultNotLanded
from harness.mechanisms.context import MechanismContext
from harness.mechanisms.model import Bound, Term
from harness.mechanisms.template import MechanismTemplate, Seen
from harness.spark_application import SparkApplication

__all__ = [
    "REFUSAL",
    "ExecutorLoss",
    "allocator_refusal",
    "executors_ready",
    "no_replacements",
]

REFUSAL = "pod creation limit"
"""In the driver's log when its allocator refuses an executor pod past the maximum."""


class ExecutorLoss(MechanismTemplate):
    """One executor lost; Spark requests a replacement under the same driver."""

    poll: ClassVar[float] = 1.0
    control_on_twin: ClassVar[bool] = True
    loss_terms: ClassVar[tuple[Term, ...]] = ()
    """What comes before the driver sees the loss (the fault's own time), if anything."""

    def switch_off(self) -> None:
        self.start_twin(no_replacements)

    def steady_state(self) -> Seen[bool]:
        self.want, seen = executors_ready(self.app)
        return seen

    def bound(self) -> Bound:
        delay = self.app.spark_conf("spark.kubernetes.allocation.batch.delay", "1s")
        return Bound(
            (
                *self.loss_terms,
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

    def victim(self) -> str:
        """Record the driver and the executors before the strike; the executor to strike."""
        drivers = self.app.pods("driver")
        executors = self.app.pods("executor", ready=True)
        if len(drivers) != 1 or not executors:
            raise FaultNotLanded("no driver with executors to strike")
        self.driver_uid = drivers[0].metadata.uid
        self.before = self.app.pod_names("executor")
        name: str = executors[0].metadata.name
        self.killed = {name}
        return name

    def replacements(self) -> list[Any]:
        """The ready executor pods that were not there before the strike."""
        return [
            p for p in self.app.pods("executor", ready=True) if p.metadata.name not in self.before
        ]

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
        refused = allocator_refusal(self.ctx, drivers[0].metadata.name, past) if same else ""
        waited = past >= self.outcome.bound.seconds or bool(refused)
        if waited and same and not created and ready < self.want:
            return {
                "seconds_after_fault": round(past, 1),
                "executors_ready": ready,
                "executor_instances": self.want,
                "replacements_created": created,
                "driver_uid": self.driver_uid,
                "allocator_refused": refused or None,
            }, seen
        return None, seen


def executors_ready(app: SparkApplication) -> tuple[int, Seen[bool]]:
    """The application's executor.instances, and whether one driver and that many ready
    executors run: the steady state of a fault on executors."""
    want = int(app.get()["spec"]["executor"].get("instances", 1))
    drivers, executors = app.pods("driver"), app.pods("executor", ready=True)
    held = len(drivers) == 1 and len(executors) == want
    seen = f"{len(drivers)} driver(s), {len(executors)}/{want} executors ready"
    return want, ((True if held else None), seen)


def allocator_refusal(ctx: MechanismContext, driver: str, past: float) -> str:
    """The driver's log line, within the last ``past`` seconds, that says its allocator
    refused a new executor pod (Spark 4.1+ ``Exceed the pod creation limit``): the
    executor id counter only grows, so once refused, no replacement can ever come and a
    control's evidence is certain before the bound has passed."""
    text = ctx.core.read_namespaced_pod_log(
        driver, ctx.namespace, since_seconds=int(past) + 2, tail_lines=2000
    )
    return next((line[-300:] for line in text.splitlines() if REFUSAL in line), "")


def no_replacements(manifest: dict[str, Any]) -> None:
    """The control's switch: ``spark.kubernetes.allocation.maximum`` allows no executor pod
    beyond the first ones (Spark 4.1+: the most executor pods an application may ever
    create, counted by executor id)."""
    # Seen on the cluster (Spark 4.2.0): with maximum = instances the twin got one executor
    # fewer than instances; instances + 1 is the smallest value that starts them all.
    instances = int(manifest["spec"]["executor"]["instances"])
    manifest["spec"]["sparkConf"]["spark.kubernetes.allocation.maximum"] = str(instances + 1)
