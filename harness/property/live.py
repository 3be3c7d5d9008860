"""The real pipeline under a property-based search: each step through harness.chaos.

Every fault strikes into a scope of its own (its own Rollbacks), so a hold can end it
alone; each scope is also registered on the run's Rollbacks before the strike, so an
error, a timeout or Ctrl-C lifts whatever is still in force. The promises are read from
the cluster and Prometheus:

* the application has not given up (pipeline.gave_up: the operator's retry rule);
* once no fault is in force, a micro-batch completes within the bound after the last
  fault ended: the driver restart terms of harness.mechanisms.bounds, read live (the
  operator's backoff grows with each resubmission, and the bound with it);
* at the end of an example: that recovery, every event of the example's window in the
  sink exactly once (harness.integrity), and the cluster's invariants (harness.invariants).

An observer that cannot be read is reported as ``unreadable: ...``; the search treats
a sequence whose only broken promises are unreadable as inconclusive, never a failure.

The planted weakness (test-only, ``plant="retry-budget"``): the job runs with
restartPolicy OnFailure and onFailureRetries 1, a retry budget too short for two driver
losses in one run. ``restore`` recreates it so (a fresh application, attempts reset);
the search's owner restores 05's application afterwards (``unplant``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client

from harness.chaos.network import partition
from harness.chaos.nodes import stop_node
from harness.chaos.pods import delete_pod
from harness.chaos.rollback import RollbackFailed, Rollbacks
from harness.chaos.volumes import fill_volume
from harness.errors import FaultNotLanded, HarnessError, ObserverUnavailable, WaitTimeout
from harness.integrity.collect import Window, open_window, reconcile_window
from harness.invariants import broken_invariants
from harness.mechanisms.bounds import restart_terms
from harness.mechanisms.context import MechanismContext
from harness.mechanisms.model import Bound
from harness.observe.timeline import Timeline
from harness.observe.wait import wait_until
from harness.property.pipeline import gave_up
from harness.property.steps import Step

__all__ = ["PLANTS", "LivePipeline"]

CHECKPOINT_CLAIM = "spark-checkpoint"
STEADY_TIMEOUT = 300.0
"""How long an example may wait for the steady state: a recreated application's first
progress on two cores (harness.spark_application.RECREATE_TIMEOUT)."""
DECIDE = 30.0
"""How long a kill waits for the operator's decision on the lost driver (it takes seconds:
its next reconcile sees the driver pod gone)."""
RESUBMITTING = ("PENDING_RERUN", "SUBMITTED")
"""States in which the operator has decided to run the application again."""
WHOLE_TIMEOUT = 300.0
"""How long the end of an example waits for the invariants (harness.fixtures.chaos)."""


def _retry_budget(manifest: dict[str, Any]) -> None:
    manifest["spec"]["restartPolicy"] = {
        "type": "OnFailure",
        "onFailureRetries": 1,
        "onFailureRetryInterval": 1,
        "onSubmissionFailureRetries": 3,
        "onSubmissionFailureRetryInterval": 10,
    }


PLANTS: dict[str, Callable[[dict[str, Any]], None]] = {"retry-budget": _retry_budget}
"""Test-only weaknesses a search must find: name → patch of 05's SparkApplication."""


@dataclass
class _Scope:
    """One fault's own scope: what harness.chaos needs (a FaultScope)."""

    api: client.ApiClient
    rollbacks: Rollbacks
    timeline: Timeline


@dataclass
class _InForce:
    step: Step
    scope: _Scope
    until: float


@dataclass
class LivePipeline:
    """The deployed pipeline, struck step by step (see the module docstring)."""

    ctx: MechanismContext
    plant: str | None = None
    in_force: list[_InForce] = field(default_factory=list)
    window: Window | None = None
    ended_at: float = 0.0
    """Wall-clock time the last fault ended (its kill, or its lift)."""
    transitions: list[dict[str, Any]] = field(default_factory=list)
    """What each step did on the cluster, kept for the report and as recorded data."""

    def __post_init__(self) -> None:
        if self.plant is not None and self.plant not in PLANTS:
            raise HarnessError(f"no planted weakness {self.plant!r}: one of {sorted(PLANTS)}")

    @property
    def patch(self) -> Callable[[dict[str, Any]], None] | None:
        """The plant's patch of 05's application, or None."""
        return None if self.plant is None else PLANTS[self.plant]

    def clock(self) -> float:
        return time.monotonic()

    def plant_weakness(self) -> None:
        """Recreate the job with the planted weakness; 05's job is restored by unplant()."""
        if self.patch is None:
            return
        self.ctx.rollbacks.register(
            f"restore 05's {self.ctx.app.name} (planted {self.plant})", self.unplant
        )
        self.ctx.timeline.add("plant", self.ctx.app.name, f"planted weakness {self.plant}")
        self.ctx.app.recreate(self.patch)

    def unplant(self) -> None:
        """05's application again, as declared."""
        self.ctx.app.recreate()

    def begin(self) -> None:
        app = self.ctx.app

        def steady() -> tuple[bool | None, str]:
            state, driver = app.state(), app.driver()
            fresh = time.time() - app.last_progress() < 3 * app.trigger_seconds() + 30
            held = state.state == "RUNNING" and driver is not None and fresh
            return (True if held else None), f"application {state}, progress fresh: {fresh}"

        wait_until("the steady state before an example", steady, STEADY_TIMEOUT, 3.0)
        self.window = open_window(self.ctx.core, self.ctx.tools_image)
        self.ended_at = 0.0

    def strike(self, step: Step) -> dict[str, Any]:
        self._lift_due()
        scope = _Scope(self.ctx.api, Rollbacks(), self.ctx.timeline)
        until = self.clock() + step.hold
        entry = _InForce(step, scope, until)
        self.ctx.rollbacks.register(
            f"lift {step.describe()}", lambda: self._lift(entry), leftover=scope.rollbacks.leftovers
        )
        self.in_force.append(entry)
        began = time.time()
        try:
            evidence = self._strike(step, scope)
        except FaultNotLanded as exc:
            evidence = {"landed": False, "why": str(exc)}
        if not step.hold:
            self._lift(entry)
        self.ended_at = max(self.ended_at, began)
        self.transitions.append({"step": step.as_json(), "at": began, "evidence": evidence})
        deadline = self.clock() + step.gap
        while (left := deadline - self.clock()) > 0:  # the gap is the fault's timing
            self._lift_due()
            due = min([e.until for e in self.in_force] + [deadline])
            time.sleep(max(0.0, min(left, due - self.clock(), 1.0)))
        self._lift_due()
        return evidence

    def _strike(self, step: Step, scope: _Scope) -> dict[str, Any]:
        app, ns = self.ctx.app, self.ctx.namespace
        if step.fault == "kill_driver":
            driver = self._target("a running driver", lambda: app.driver())
            evidence = delete_pod(scope, ns, driver.metadata.name, grace_seconds=0)
            return {**evidence, "operator": self._decision(str(driver.metadata.uid))}
        if step.fault == "kill_executor":
            index = int(step.target.rsplit("-", 1)[1])

            def executor() -> client.V1Pod | None:
                running = sorted(app.pods("executor"), key=lambda p: str(p.metadata.name))
                return running[index] if len(running) > index else None

            pod = self._target(f"a running executor {index}", executor)
            return delete_pod(scope, ns, pod.metadata.name, grace_seconds=0)
        if step.fault == "partition_executors":
            labels = {"spark-role": "executor", "harness.local/spark-app": app.name}
            return partition(scope, ns, labels).evidence
        if step.fault == "fill_checkpoint":
            return fill_volume(scope, ns, CHECKPOINT_CLAIM, self.ctx.tools_image).evidence
        if step.fault == "stop_worker":
            return stop_node(scope, self._worker(step.target))
        raise HarnessError(f"no live strike for {step.fault}")

    def _target(self, what: str, find: Callable[[], client.V1Pod | None]) -> client.V1Pod:
        """The pod a kill aims at; when there is none yet (a kill right after a kill), wait
        for the next one within the restart bound: each kill in a sequence ends one life
        of its target (with a gap of 0 the second kill would otherwise find nothing, and
        two kills of one driver would never be struck). FaultNotLanded when none came."""

        def running() -> tuple[client.V1Pod | None, str]:
            pod = find()
            if pod is None:
                why = gave_up(self.ctx.app.get())
                if why:  # no next life is coming: the promises will say so
                    raise FaultNotLanded(f"no {what} to strike: the application gave up ({why})")
            return pod, "none running yet"

        try:
            return wait_until(what + " to strike", running, self.bound().seconds, 2.0)
        except WaitTimeout as exc:
            raise FaultNotLanded(f"no {what} to strike: {exc}") from exc

    def _decision(self, killed: str) -> str:
        """What the operator made of a lost driver, once it decided: resubmit (a new driver
        or a resubmission under way) or give up. The promises read right after a kill
        would otherwise see the operator still undecided, and a search would need a step
        more to see it give up (seen on the cluster: three kills where two give up)."""
        app = self.ctx.app

        def decided() -> tuple[str | None, str]:
            live = app.get()
            why = gave_up(live)
            if why:
                return f"gave up: {why}", why
            state = ((live.get("status") or {}).get("applicationState") or {}).get("state", "")
            driver = app.driver()
            if state in RESUBMITTING or (driver is not None and driver.metadata.uid != killed):
                return f"resubmitting ({state})", state
            return None, f"state {state or 'NEW'}"

        began = time.monotonic()
        try:
            seen = wait_until("the operator's decision on the lost driver", decided, DECIDE, 1.0)
        except WaitTimeout as exc:
            return f"undecided after {DECIDE:g}s: {exc.last_seen}"
        return f"{seen} after {time.monotonic() - began:.1f}s"

    def _worker(self, target: str) -> str:
        driver = self.ctx.app.driver()
        if driver is None:
            raise FaultNotLanded("no driver whose node to choose")
        if target == "driver-node":
            return str(driver.spec.node_name)
        workers = [
            n.metadata.name
            for n in self.ctx.core.list_node().items
            if "node-role.kubernetes.io/control-plane" not in (n.metadata.labels or {})
            and n.metadata.name != driver.spec.node_name
        ]
        if not workers:
            raise FaultNotLanded("no worker other than the driver's")
        return str(workers[0])

    def _lift(self, entry: _InForce) -> None:
        if entry not in self.in_force:
            return
        self.in_force.remove(entry)
        failed = [r for r in entry.scope.rollbacks.run_all() if r.error]
        if failed:  # a fault still in force: the search must not go on
            raise RollbackFailed(failed)
        if entry.step.hold:
            self.ended_at = max(self.ended_at, time.time())

    def _lift_due(self) -> None:
        for entry in [e for e in self.in_force if e.until <= self.clock()]:
            self._lift(entry)

    def lift(self) -> None:
        for entry in list(reversed(self.in_force)):
            self._lift(entry)

    def bound(self) -> Bound:
        """Progress after the last fault ended: the driver restart terms, read live."""
        return Bound(restart_terms(self.ctx))

    def promises(self) -> list[str]:
        try:
            return self._promises()
        except (ObserverUnavailable, client.ApiException, OSError) as exc:
            return [f"unreadable: {type(exc).__name__}: {exc}"[:300]]

    def _promises(self) -> list[str]:
        live = self.ctx.app.get()
        why = gave_up(live)
        if why:
            return [f"application gave up: {why}"]
        if self.in_force or not self.ended_at:
            return []
        bound = self.bound()
        since = time.time() - self.ended_at
        if since > bound.seconds and self.ctx.app.last_progress() < self.ended_at:
            return [f"no progress {since:.0f}s after the last fault (bound {bound.arithmetic()})"]
        return []

    def end(self) -> list[str]:
        self.lift()
        try:
            return self._end()
        except (ObserverUnavailable, client.ApiException, OSError) as exc:
            return [f"unreadable: {type(exc).__name__}: {exc}"[:300]]

    def _end(self) -> list[str]:
        app = self.ctx.app
        if self.ended_at:
            bound = self.bound()
            deadline = self.ended_at + bound.seconds - time.time()

            def progressed() -> tuple[float | None, str]:
                why = gave_up(app.get())
                if why:
                    raise _GaveUp(why)
                last = app.last_progress()
                return (last if last > self.ended_at else None), app.restart_seen(self.ended_at)

            try:
                wait_until("progress after the last fault", progressed, max(deadline, 1.0), 3.0)
            except _GaveUp as exc:
                return [f"application gave up: {exc}"]
            except WaitTimeout as exc:
                return [f"no progress within the bound {bound.arithmetic()}: {exc.last_seen}"]
        assert self.window is not None
        reconciliation = reconcile_window(self.ctx.core, self.ctx.tools_image, self.window)
        if not reconciliation.exactly_once:
            return [f"not exactly once: {reconciliation.summary()}"]

        def whole() -> tuple[bool | None, str]:
            problems = broken_invariants(
                self.ctx.api, self.ctx.prom, self.ctx.image_values, app_patch=self.patch
            )
            return (True if not problems else None), "; ".join(problems)

        try:
            wait_until("the cluster whole after the example", whole, WHOLE_TIMEOUT, 5.0)
        except WaitTimeout as exc:
            return [f"invariants broken: {exc.last_seen}"]
        return []

    def restore(self) -> None:
        self.lift()
        app = self.ctx.app
        live = app.get()
        attempts = int((live.get("status") or {}).get("executionAttempts", 1))
        # A planted retry budget is part of the steady state: an example that used some of
        # it would hand the next example a weaker pipeline (seen on the cluster: one kill
        # "gave up" after an earlier example's kill, and passed on its re-run).
        spent = self.patch is not None and attempts > 1
        if gave_up(live) or spent or app.state().state != "RUNNING":
            why = f"{app.state()}, {attempts} execution attempts"
            self.ctx.timeline.add("restore", app.name, f"recreate ({why})")
            app.recreate(self.patch)


class _GaveUp(HarnessError):
    """The application will not run again: the wait for progress ends at once."""
