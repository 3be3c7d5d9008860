"""Mechanism 7, dynamic_allocation: Spark adds executors under a backlog, removes idle ones.

It runs on an application of its own, beside the job (harness.mechanisms.allocation): 05's
job made a second application that reads its own 12-partition topic at most 6000 events
per batch, with dynamic allocation min/initial/max 1/1/3. The job itself cannot show the
mechanism: 05 fixes its executors, and while data flows its Kafka source gives every
executor tasks in every batch. Submitting the application is the steady state's first
step (its deletion registered first); the rollback deletes it.

Trigger: a burst of 120000 events into that topic, round-robin over its partitions
(harness.chaos.bursts), then silence: a backlog of 20 batches at the cap, each of 12 tasks
for one single-core executor. It landed when the broker acknowledged every event.
Verification:
  1. scale-up: the driver (its REST API, read inside its pod) registers more than one
     executor while events of the burst are still unread. MTTR: burst landed → then.
  2. the added executors complete tasks of the backlog (``allexecutors``);
  3. drain: the listener's rows per batch (the driver's log) add up to the burst, exactly;
  4. scale-down: after the batch that read the last event, the driver is back to one
     executor and one executor pod runs, within the scale-down bound;
  5. PromQL: the ExecutorAllocationManager's gauges (08's PodMonitor spark-autoscale,
     metrics namespace events_autoscale) show its executor count above one (its target,
     recorded too, falls back between batches, when no task is pending).
Bounds: scale-up (the run's bound, 58 s with the lab's settings): next trigger 5 + batch
planning 2 + schedulerBacklogTimeout 1 + allocation batch delay 1 + executor pod start and
registration 45 + observation 4. Scale-down (checked in check(), in the evidence, 29 s):
idle timeout 15 + removal (the pod deletion grace 5; with 05's decommission enabled, a
migration pass and the executor's exit instead) + pod end 5 + observation 4. The drain
between the two is the burst's own length, not the mechanism's, and is bounded only by a
generous allowance (three triggers a batch).
Integrity: the catalog marks it touches_data=False. The job is not the system under test
here (its data never meets the burst), and this application's sink is on emptyDirs, the
executors' own: the executors that dynamic allocation removes take their files with them,
so the sink cannot be reconciled by design. What the burst must do is checked by count
(3.): every event read once, none lost, none read twice.

Negative control: the same application with dynamic allocation off and one fixed executor,
the same burst. Declared failure: once the scale-up bound has passed since the burst, the
executor count has never exceeded one and no executor pod was added, although the burst
is still a backlog: events remain unread, batches read at the cap, and tasks waited for
the executor longer than schedulerBacklogTimeout (task launch - stage submission, from the
driver's REST API): the condition on which dynamic allocation requests an executor.
"""

from __future__ import annotations

import time
from typing import Any

from harness.chaos.bursts import burst_events, create_topic
from harness.errors import FaultNotLanded, ObserverUnavailable, WaitTimeout
from harness.mechanisms.allocation import (
    APP,
    BURST,
    MAX_OFFSETS,
    MIN,
    PARTITIONS,
    QUERY,
    TOPIC,
    TOPIC_RETENTION,
    Batch,
    active_executors,
    allocation_gauge,
    autoscale_app,
    drain_allowance,
    drained_at,
    read_batches,
    read_driver,
    scale_down_terms,
    scale_up_terms,
    spark_seconds,
    task_waits,
)
from harness.mechanisms.context import MechanismContext
from harness.mechanisms.model import Bound
from harness.mechanisms.template import MechanismTemplate, Seen, register
from harness.observe.wait import wait_until
from harness.spark_application import SparkApplication

__all__ = ["DynamicAllocation"]

BACKLOG = "spark.dynamicAllocation.schedulerBacklogTimeout"


@register
class DynamicAllocation(MechanismTemplate):
    """A burst, then silence: executors rise under the backlog and fall once idle."""

    id = "dynamic_allocation"
    expected_failure = (
        "with dynamic allocation off, past the scale-up bound the executor count has never"
        " exceeded one and no executor pod was added, while the burst is still a backlog:"
        " events unread, batches at the input cap, tasks that waited for the executor longer"
        " than the scheduler backlog timeout"
    )
    steady_timeout = 300.0
    """Its topic, then spark-submit, the driver, the first executor and batch 0 (2 cores)."""

    def __init__(self, ctx: MechanismContext, negative_control: bool) -> None:
        super().__init__(ctx, negative_control)
        self.autoscale = SparkApplication(
            ctx.api, ctx.prom, ctx.image_values, name=APP, namespace=ctx.namespace, query=QUERY
        )
        self.registered = self.submitted = False
        self.peak = 0
        self.landed_at = 0.0
        self.scale_up: dict[str, Any] = {}

    @property
    def app(self) -> SparkApplication:
        """The autoscale application, in both modes."""
        return self.autoscale

    def _submit(self, dynamic: bool) -> None:
        """Its topic, then the application (deleted by the rollback registered first)."""
        if not self.registered:
            self.ctx.rollbacks.register(
                f"delete the application {APP}", self.app.delete, leftover=self.app.leftovers
            )
            self.registered = True
        core = self.ctx.core
        self.note(
            "topic", create_topic(core, self.ctx.tools_image, TOPIC, PARTITIONS, TOPIC_RETENTION)
        )
        self.app.recreate(lambda m: autoscale_app(m, dynamic), wait_for_data=False)
        mode = "dynamic allocation 1..3" if dynamic else "dynamic allocation off, 1 executor"
        self.ctx.timeline.add("submit", APP, mode)
        self.submitted = True

    def switch_off(self) -> None:
        self._submit(dynamic=False)

    def steady_state(self) -> Seen[bool]:
        if not self.submitted:  # the mechanism's application; the control's is switch_off's
            self._submit(dynamic=True)
            return None, f"{APP} submitted"
        state, driver = self.app.state(), self.app.driver()
        if state.state != "RUNNING" or driver is None:
            return None, f"{APP} {state}, driver {'running' if driver else 'none'}"
        name = driver.metadata.name
        active = active_executors(read_driver(self.ctx.core, self.ctx.namespace, name))
        pods = self.app.pods("executor", ready=True)
        started = bool(read_batches(self.ctx.core, self.ctx.namespace, name, 0.0))
        seen = (
            f"{APP} {state}: {len(active)} executor(s) registered, {len(pods)} executor"
            f" pod(s) ready, query started (batch 0 logged): {started}"
        )
        return (True if len(active) == len(pods) == MIN and started else None), seen

    def bound(self) -> Bound:
        conf = self._conf()
        trigger = self.app.trigger_seconds()
        self.backlog_timeout = spark_seconds(conf.get(BACKLOG, "1s"))
        self.down = Bound(scale_down_terms(conf, self.poll))
        self.drain_within = drain_allowance(trigger)
        self.note("scale_down_bound", self.down.arithmetic())
        return Bound(scale_up_terms(conf, trigger, self.poll))

    def _conf(self) -> dict[str, str]:
        """The sparkConf dynamic allocation runs with: the live application's, or for the
        control (which runs without it) the one the mechanism would run."""
        if not self.negative_control:
            return dict(self.app.get()["spec"]["sparkConf"])
        manifest = self.app.manifest()
        autoscale_app(manifest, dynamic=True)
        return dict(manifest["spec"]["sparkConf"])

    def strike(self) -> dict[str, Any]:
        driver = self.app.driver()
        if driver is None:
            raise FaultNotLanded(f"no running driver of {APP} to read the burst")
        self.driver, self.driver_uid = driver.metadata.name, driver.metadata.uid
        report = read_driver(self.ctx.core, self.ctx.namespace, self.driver)
        self.before = {str(e["id"]) for e in report["executors"]}
        self.before_pods = self.app.pod_names("executor")
        producer = f"burst-{int(self.fault_epoch)}"
        summary = burst_events(self.ctx, self.ctx.tools_image, TOPIC, BURST, producer)
        self.landed_at = time.time()
        if len(summary["partitions"]) < PARTITIONS:
            raise FaultNotLanded(
                f"the burst reached partitions {sorted(summary['partitions'])} of {PARTITIONS}"
            )
        return {**summary, "driver": self.driver, "executors_before": active_executors(report)}

    def _driver_ended(self) -> str:
        """Why the driver that read the burst is no more (restartPolicy Never), or ""."""
        if any(p.metadata.uid == self.driver_uid for p in self.app.pods("driver")):
            return ""
        return f"the driver {self.driver} no longer runs: application {self.app.state()}"

    def _observe(self) -> tuple[list[str], list[Batch]]:
        """The executors registered now (the peak is kept) and the batches since the burst."""
        active = active_executors(read_driver(self.ctx.core, self.ctx.namespace, self.driver))
        self.peak = max(self.peak, len(active))
        return active, read_batches(
            self.ctx.core, self.ctx.namespace, self.driver, self.fault_epoch
        )

    def recovered(self) -> Seen[float]:
        ended = self._driver_ended()
        if ended:
            return None, ended
        active, batches = self._observe()
        read = sum(b.rows for b in batches)
        seen = f"{len(active)} executor(s) registered, {read}/{BURST} events read"
        if len(active) <= MIN:
            return None, seen
        now = time.time()
        self.scale_up = {
            "executors": active,
            "seconds_after_burst": round(now - self.landed_at, 1),
            "events_unread": BURST - read,
            "batches_so_far": len(batches),
        }
        return now, seen

    def mttr(self, recovered_at: float) -> float:
        return max(0.0, recovered_at - self.landed_at)

    def check(self) -> None:
        self.note("scale_up", self.scale_up)
        if self.scale_up.get("events_unread", 0) <= 0:
            self.fail("the executors rose only once the burst was read: no backlog left for them")
        if not self._check_down():
            return
        report = read_driver(self.ctx.core, self.ctx.namespace, self.driver, stages=True)
        added = [e for e in report["executors"] if str(e["id"]) not in self.before]
        self.note("added_executors", added)
        if not any((e.get("completedTasks") or 0) > 0 for e in added):
            self.fail(f"no added executor completed a task of the backlog (REST API: {added})")
        waits = task_waits(report, self.fault_epoch)
        self.note("longest_task_wait_s", max((w.max_wait for w in waits), default=None))
        self._check_gauges()

    def _check_down(self) -> bool:
        """Wait for the drain, then for the fall back to one executor, held to its bound;
        False when the driver ended meanwhile (nothing more can be read of it)."""
        batches: list[Batch] = []
        ended: list[str] = []
        at_drain: list[int] = []

        def down() -> tuple[float | None, str]:
            if gone := self._driver_ended():
                ended.append(gone)
                return -1.0, gone
            active, batches[:] = self._observe()
            pods = self.app.pods("executor")
            drained = drained_at(batches, BURST)
            if drained is not None and not at_drain:
                at_drain.append(len(active))
            seen = (
                f"{sum(b.rows for b in batches)}/{BURST} events read, drained at {drained},"
                f" {len(active)} executor(s) registered, {len(pods)} executor pod(s) running"
            )
            done = drained is not None and len(active) <= MIN and len(pods) <= MIN
            return (time.time() if done else None), seen

        what = f"the burst read and {APP} back to {MIN} executor"
        try:
            down_at = wait_until(what, down, self.drain_within + self.down.seconds, self.poll)
        except WaitTimeout as exc:
            if exc.probe_errors * 4 > exc.probes:
                raise ObserverUnavailable(f"while waiting for {what}: {exc.last_error}") from exc
            self.fail(f"not back to {MIN} executor after the drain: {exc}")
            return True
        if ended:
            self.fail(ended[0])
            return False
        read, drained = sum(b.rows for b in batches), drained_at(batches, BURST) or down_at
        seconds = down_at - drained
        self.ctx.timeline.add("scale-down", APP, f"{seconds:.1f}s after the drain")
        self.note("batches", {"count": len(batches), "rows": [b.rows for b in batches]})
        self.note(
            "scale_down",
            {
                "seconds_after_drain": round(seconds, 1),
                "executors_at_drain": at_drain[0] if at_drain else None,
                "peak": self.peak,
            },
        )
        if read != BURST:
            self.fail(f"{read} events read of the {BURST} the burst wrote: each once expected")
        if not self.down.holds(seconds):
            self.fail(
                f"back to {MIN} executor {seconds:.1f}s after the drain, over the bound"
                f" {self.down.arithmetic()}"
            )
        return True

    def _check_gauges(self) -> None:
        """PromQL: the allocation manager's own view since the burst. Its executor count
        stays up while the backlog keeps the executors busy; its target drops back to the
        minimum between batches (no task pending), so a 5 s scrape may miss it: evidence."""
        window = f"[{int(time.time() - self.fault_epoch) + 5}s]"
        names = ("numberAllExecutors", "numberTargetExecutors", "numberMaxNeededExecutors")
        seen = {
            name: self.ctx.prom.scalar(f"max(max_over_time({allocation_gauge(name)}{window}))")
            for name in names
        }
        rows = self.ctx.prom.scalar(f"max({self.app.metric('spark_stream_input_rows_total')})")
        self.note("promql", {**seen, "listener_input_rows": rows})
        if seen["numberAllExecutors"] <= MIN:
            self.fail(f"Prometheus never saw the allocation manager above {MIN} executor: {seen}")

    def control_failed(self) -> Seen[dict[str, Any]]:
        ended = self._driver_ended()
        if ended:
            return None, ended
        past, bound = time.time() - self.landed_at, self.outcome.bound.seconds
        active, batches = self._observe()
        pods = self.app.pods("executor")
        added = sorted(self.app.pod_names("executor") - self.before_pods)
        read = sum(b.rows for b in batches)
        seen = (
            f"{past:.0f}s of the {bound:g}s bound: {len(active)} executor(s) registered"
            f" (peak {self.peak}), pods added {added}, {read}/{BURST} events read"
        )
        if past < bound or self.peak > MIN or len(pods) > MIN or added or read >= BURST:
            return None, seen
        at_cap = [b for b in batches if b.rows >= MAX_OFFSETS - PARTITIONS]
        report = read_driver(self.ctx.core, self.ctx.namespace, self.driver, stages=True)
        waited = [
            w for w in task_waits(report, self.fault_epoch) if w.max_wait > self.backlog_timeout
        ]
        if not at_cap or not waited:
            return None, (
                f"{seen}; no backlog shown yet: {len(at_cap)} batch(es) at the cap, {len(waited)}"
                f" stage(s) whose tasks waited over {self.backlog_timeout:g}s"
            )
        return {
            "seconds_after_burst": round(past, 1),
            "scale_up_bound_s": bound,
            "executors_peak": self.peak,
            "executor_pods": sorted(p.metadata.name for p in pods),
            "burst_events": BURST,
            "events_unread": BURST - read,
            "batches_at_cap": len(at_cap),
            "input_cap": MAX_OFFSETS,
            "stages_waited_over_backlog_timeout": len(waited),
            "longest_task_wait_s": max(w.max_wait for w in waited),
            "tasks_per_stage": max(w.tasks for w in waited),
            "backlog_timeout_s": self.backlog_timeout,
        }, seen

    def control_healed(self) -> Seen[float]:
        pods = self.app.pods("executor")
        seen = f"peak {self.peak} executor(s) registered, {len(pods)} executor pod(s) running"
        return (time.time() if self.peak > MIN or len(pods) > MIN else None), seen
