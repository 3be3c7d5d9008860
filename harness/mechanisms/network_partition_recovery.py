"""Mechanism 15, network_partition_recovery: the job rides out a short network partition.

Trigger: the executors cut off (harness.chaos.network.partition): their NetworkPolicies
set aside, a deny-all policy on them, and the conntrack entries of their flows deleted on
every node. The last step is what makes it a partition: kube-router accepts packets of
established flows before it checks any policy, so policies alone leave the live
driver-executor and executor-broker connections untouched. The partition is held for
``HOLD`` seconds (well inside 05's ``spark.network.timeout`` of 60 s), then lifted. It
landed when no micro-batch completed while it was held (Prometheus): a batch needs its
executors, so progress during the hold would mean traffic still flowed.
Verification: after the lift the same executor pods (by name, none created) serve the
same driver, the application stays RUNNING, and the query makes progress again. MTTR
is lift → first progress after it; the hold itself is the fault, not the recovery.
Integrity: the window's events, exactly once.

Only the short partition is the positive run: the long one (past the timeout, where
the driver removes the executors and Spark replaces them) is executor_replacement's
path, already verified there, and would cost two more minutes per run.

Negative control: on the job's twin, ``spark.network.timeout`` shorter than the same
20 s partition (10 s, heartbeats every 2 s, expiry checked every 5 s) and no replacement
executor allowed (``spark.kubernetes.allocation.maximum``, as executor_replacement's
control). Declared failure: the driver gave its executors up during the partition
(their pods gone, none created), and after the lift no executor serves the twin and no
batch completes: the executors did not survive the partition.
"""

from __future__ import annotations

import time
from typing import Any

from harness.chaos.network import Partition, partition
from harness.errors import FaultNotLanded
from harness.mechanisms.executors import no_replacements
from harness.mechanisms.model import Bound, Term
from harness.mechanisms.template import MechanismTemplate, Seen, register

__all__ = ["HOLD", "NetworkPartitionRecovery"]

HOLD = 20.0
"""Seconds the partition is held: several triggers and heartbeats, a third of the timeout."""


@register
class NetworkPartitionRecovery(MechanismTemplate):
    """Partition the executors for 20 s; the same executors resume the stream."""

    id = "network_partition_recovery"
    expected_failure = (
        "with spark.network.timeout shorter than the partition and no replacement allowed, the"
        " driver gives the executors up during it, and after the lift no executor serves the"
        " job and no batch completes"
    )
    poll = 1.0
    margin = 30.0 + HOLD
    """The recovery wait starts at the strike and the partition is held HOLD of it."""
    control_on_twin = True

    def switch_off(self) -> None:
        def short_timeout(manifest: dict[str, Any]) -> None:
            no_replacements(manifest)
            conf = manifest["spec"]["sparkConf"]
            conf["spark.network.timeout"] = "10s"
            conf["spark.executor.heartbeatInterval"] = "2s"
            conf["spark.network.timeoutInterval"] = "5s"

        self.start_twin(short_timeout)

    def steady_state(self) -> Seen[bool]:
        self.want = int(self.app.get()["spec"]["executor"].get("instances", 1))
        drivers, executors = self.app.pods("driver"), self.app.pods("executor", ready=True)
        last = self.app.last_progress()
        recent = time.time() - last < 3 * self.app.trigger_seconds() + 10
        held = len(drivers) == 1 and len(executors) == self.want and recent
        seen = (
            f"{len(drivers)} driver(s), {len(executors)}/{self.want} executors ready,"
            f" last progress {time.time() - last:.0f}s ago"
        )
        return (True if held else None), seen

    def bound(self) -> Bound:
        return Bound(
            (
                Term("policy removal reaches the nodes", 5, "kube-router watch + sync, + margin"),
                Term(
                    "TCP retransmission backoff",
                    HOLD,
                    "the next retransmission after a loss of HOLD s comes at most HOLD s"
                    " later (Linux doubles the RTO from 200 ms)",
                ),
                Term("next trigger", self.app.trigger_seconds(), "pipeline-config (live)"),
                Term("the micro-batch", 10, "measured 1-5 s on 2 cores, + margin"),
                Term("scrape interval", self.ctx.prom_settings().scrape, "08 (live)"),
            )
        )

    def strike(self) -> dict[str, Any]:
        drivers = self.app.pods("driver")
        if len(drivers) != 1:
            raise FaultNotLanded("no single driver to partition the executors from")
        self.driver_uid = drivers[0].metadata.uid
        self.before = self.app.pod_names("executor")
        self.ready_before = {p.metadata.name for p in self.app.pods("executor", ready=True)}
        self.lifted: float | None = None
        self.cut: Partition = partition(
            self.ctx,
            self.ctx.namespace,
            {"spark-role": "executor", "harness.local/spark-app": self.app.name},
        )
        return self.cut.evidence

    def _hold(self) -> str | None:
        """Hold, then lift the partition; what is seen while it is held, None once lifted."""
        if self.lifted is not None:
            return None
        held = time.time() - self.fault_epoch
        if held < HOLD:
            return f"partition held {held:.0f}s of {HOLD:.0f}s"
        last = self.app.last_progress()
        self.note("last_progress_before_strike_s", round(last - self.fault_epoch, 1))
        if last > self.fault_epoch + 2:
            self.cut.lift()
            raise FaultNotLanded(
                f"a micro-batch completed {last - self.fault_epoch:.0f}s into the partition:"
                " traffic still flowed"
            )
        self.cut.lift()
        self.lifted = time.time()
        self.ctx.timeline.add("restore", "executors", "partition lifted")
        return None

    def recovered(self) -> Seen[float]:
        holding = self._hold()
        if holding is not None:
            return None, holding
        assert self.lifted is not None
        last = self.app.last_progress()
        ok = last > self.lifted
        return (last if ok else None), f"partition lifted; last progress {last:.0f}"

    def mttr(self, recovered_at: float) -> float:
        assert self.lifted is not None
        return recovered_at - self.lifted

    def check(self) -> None:
        now = self.app.pod_names("executor")
        created = sorted(now - self.before)
        ready = {p.metadata.name for p in self.app.pods("executor", ready=True)}
        self.note("executors", {"before": sorted(self.before), "ready_after": sorted(ready)})
        if created:
            self.fail(f"executors were replaced by the partition: new pods {created}")
        if ready != self.ready_before:
            self.fail(f"executors before {sorted(self.ready_before)}, ready after {sorted(ready)}")
        drivers = self.app.pods("driver")
        if len(drivers) != 1 or drivers[0].metadata.uid != self.driver_uid:
            self.fail("the driver changed during the partition")
        state = self.app.state()
        if state.state != "RUNNING":
            self.fail(f"application {state}, expected RUNNING throughout")

    def control_failed(self) -> Seen[dict[str, Any]]:
        holding = self._hold()
        if holding is not None:
            return None, holding
        assert self.lifted is not None
        since = time.time() - self.lifted
        settle = self.app.trigger_seconds() + self.ctx.prom_settings().scrape + 5
        executors = self.app.pod_names("executor")
        created = sorted(executors - self.before)
        last = self.app.last_progress()
        seen = (
            f"{since:.0f}s after the lift: executor pods {sorted(executors)},"
            f" created {created}, last progress {last - self.lifted:+.0f}s from the lift"
        )
        if since >= settle and not executors and not created and last <= self.lifted:
            return {
                "executors_before": sorted(self.before),
                "executors_after": [],
                "replacements_created": [],
                "progress_after_lift": None,
                "seconds_after_lift": round(since, 1),
            }, seen
        return None, seen

    def control_healed(self) -> Seen[float]:
        if self.lifted is None:
            return None, "partition held"
        last = self.app.last_progress()
        return (last if last > self.lifted else None), f"last progress {last:.0f}"
