"""Mechanism 15, network_partition_recovery: executors ride out a partition shorter than
Spark's network timeout; the stream resumes when it lifts.

Trigger: harness.chaos.network.partition on the job's executors (every pod with
``spark-role=executor`` of the application): the policies that select them are set
aside, a deny-all selects them, and their live flows are cut (conntrack entries
deleted on every node: kube-router accepts packets of established flows before any
policy). It landed when the deny-all exists and the flows were deleted. The partition
is held for HOLD seconds, then lifted by the mechanism (the rollback stays registered).
Only the executors are cut: the policies that select them are replaced by stand-ins
that select the same pods minus the executors (harness.chaos.network.stand_ins), so the
driver, the broker, the producers and the scrapes keep their allowances. Setting 07's
policies aside whole (the first version) also cut DNS, the scrapes and every producer
for the hold, since NetworkPolicies only add allowances.
Verification: after the lift, every executor that was ready before the strike is ready
again under the same pod (no executor was declared lost: HOLD < spark.network.timeout,
which the bound reads live), the driver keeps its UID, and the query makes progress
after the lift (Prometheus). MTTR is lift → first progress: TCP retransmits back off
exponentially during the hold, so the first packet after the lift comes at most one
backoff (≤ HOLD) later.
Integrity: the window's events, exactly once.

Negative control: on the job's twin, ``spark.network.timeout`` shorter than the hold
(10 s, heartbeat 3 s) and no replacement executor allowed (executors.no_replacements:
otherwise Spark would heal the partition by replacing the executors it gave up on, the
other half of this mechanism). Declared failure: after the lift, the twin's executors
the driver gave up on are gone (fewer ready than before), no replacement was created,
the driver is unchanged, and it makes no progress: the driver's allocator refusing the
replacement (``Exceed the pod creation limit``) or the bound passing makes it certain.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from harness.chaos.network import Partition, partition
from harness.cluster.timing import parse_duration
from harness.errors import FaultNotLanded
from harness.mechanisms.executors import allocator_refusal, executors_ready, no_replacements
from harness.mechanisms.model import Bound, Term
from harness.mechanisms.template import MechanismTemplate, Seen, register

__all__ = ["CONTROL_TIMEOUT", "HOLD", "NetworkPartitionRecovery"]

HOLD = 20.0
"""Seconds the partition is held: twice the heartbeat interval, a third of the timeout."""
CONTROL_TIMEOUT = "10s"
"""The control's spark.network.timeout: shorter than HOLD, so the executors are lost."""


@register
class NetworkPartitionRecovery(MechanismTemplate):
    """Partition the executors from everything for HOLD seconds, then lift it."""

    id = "network_partition_recovery"
    expected_failure = (
        "with spark.network.timeout shorter than the partition and no replacement allowed,"
        " the driver gives up on the partitioned executors: after the lift fewer are ready,"
        " none was created, and the stream makes no progress under the same driver"
    )
    control_on_twin: ClassVar[bool] = True
    poll: ClassVar[float] = 1.0

    def switch_off(self) -> None:
        self.start_twin(_short_timeout)

    def steady_state(self) -> Seen[bool]:
        self.want, seen = executors_ready(self.app)
        return seen

    def bound(self) -> Bound:
        self.timeout = parse_duration(self.app.spark_conf("spark.network.timeout", "120s"))
        self.note("spark_network_timeout_s", self.timeout)
        if not self.negative_control and self.timeout <= HOLD:
            raise FaultNotLanded(
                f"spark.network.timeout {self.timeout:g}s is not longer than the {HOLD:g}s"
                " partition: the mechanism under test is not configured"
            )
        trigger = self.app.trigger_seconds()
        return Bound(
            (
                Term("TCP retransmission after the lift", HOLD, f"≤ the hold ({HOLD:g} s)"),
                Term("trigger interval", trigger, "pipeline-config TRIGGER_INTERVAL (live)"),
                Term("batch and scrape", 15, "batch on 2 cores + scrape 5 s, + margin"),
            )
        )

    def strike(self) -> dict[str, Any]:
        drivers = self.app.pods("driver")
        if len(drivers) != 1:
            raise FaultNotLanded("no single driver before the partition")
        self.driver_uid = drivers[0].metadata.uid
        self.ready_before = {p.metadata.name for p in self.app.pods("executor", ready=True)}
        self.before = self.app.pod_names("executor")
        labels = {"spark-role": "executor", "harness.local/spark-app": self.app.name}
        cut: Partition = partition(self.ctx, self.ctx.namespace, labels)
        if not cut.evidence["pods"]:
            raise FaultNotLanded("the partition selected no executor pod")
        time.sleep(HOLD)  # the fault's duration, not a wait for a condition
        cut.lift()
        self.lifted = time.time()
        self.ctx.timeline.add("restore", "executors", f"partition lifted after {HOLD:g}s")
        return {**cut.evidence, "hold_s": HOLD, "ready_before": sorted(self.ready_before)}

    def mttr(self, recovered_at: float) -> float:
        return recovered_at - self.lifted

    def _progress_after_lift(self) -> float:
        """Epoch of the latest batch Prometheus has seen, once it is after the lift; else 0.
        (The same driver goes on: its first-progress metric is from before the fault.)"""
        last = self.app.last_progress()
        return last if last > self.lifted else 0.0

    def recovered(self) -> Seen[float]:
        first = self._progress_after_lift()
        ready = {p.metadata.name for p in self.app.pods("executor", ready=True)}
        seen = f"executors ready {sorted(ready)}; first progress after the lift {first}"
        if first and self.ready_before <= ready:
            return first, seen
        return None, seen

    def check(self) -> None:
        ready = {p.metadata.name for p in self.app.pods("executor", ready=True)}
        self.note("executors_ready_after", sorted(ready))
        lost = sorted(self.ready_before - ready)
        if lost:
            self.fail(f"executors lost to a partition shorter than the timeout: {lost}")
        drivers = self.app.pods("driver")
        if len(drivers) != 1 or drivers[0].metadata.uid != self.driver_uid:
            self.fail("the driver changed: the partition was not ridden out")

    def control_failed(self) -> Seen[dict[str, Any]]:
        past = time.time() - self.lifted
        ready = {p.metadata.name for p in self.app.pods("executor", ready=True)}
        created = sorted(self.app.pod_names("executor") - self.before)
        drivers = self.app.pods("driver")
        same = len(drivers) == 1 and drivers[0].metadata.uid == self.driver_uid
        progress = self._progress_after_lift()
        refused = (
            allocator_refusal(self.ctx, drivers[0].metadata.name, HOLD + past + 3) if same else ""
        )
        seen = (
            f"{past:.0f}s after the lift: executors ready {sorted(ready)} of"
            f" {sorted(self.ready_before)}, created {created}, driver unchanged={same},"
            f" progress after the lift {progress}"
        )
        certain = bool(refused) or past >= self.outcome.bound.seconds
        if certain and same and not created and not progress and ready < self.ready_before:
            return {
                "seconds_after_lift": round(past, 1),
                "spark_network_timeout_s": self.timeout,
                "hold_s": HOLD,
                "executors_lost": sorted(self.ready_before - ready),
                "replacements_created": created,
                "allocator_refused": refused or None,
                "driver_uid": self.driver_uid,
            }, seen
        return None, seen

    def control_healed(self) -> Seen[float]:
        first = self._progress_after_lift()
        return (first or None), f"first progress after the lift {first}"


def _short_timeout(manifest: dict[str, Any]) -> None:
    """The control's switch: a network timeout shorter than the partition, no replacement."""
    conf = manifest["spec"]["sparkConf"]
    conf["spark.network.timeout"] = CONTROL_TIMEOUT
    conf["spark.executor.heartbeatInterval"] = "3s"
    # The driver checks for expired executors every spark.network.timeoutInterval (60 s by
    # default), and Spark refuses a timeout shorter than that interval at start.
    conf["spark.network.timeoutInterval"] = "2s"
    no_replacements(manifest)
