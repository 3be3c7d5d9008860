"""Run a mechanism by id: the one entry point tests, experiments and the CLI share.

The order, for every mechanism (the parts come from its module, harness.mechanisms.template):

1. a rollback that restores the SparkApplication if the run leaves it broken, so a
   failed positive test cannot hand the next test a broken pipeline;
2. for a negative control, ``switch_off`` (which registers its own restore);
3. the steady state, polled until it holds (else: inconclusive, nothing struck);
4. the bound, from the live settings; the reconciliation window opens (data mechanisms);
5. the strike, which returns proof that the fault landed (else: inconclusive);
6. a mechanism: the wait for recovery (bound + margin), the bound, its checks, the
   reconciliation of the window; a control: the wait for its declared failure, which
   ends as soon as that evidence is seen, or fails at once if the mechanism heals;
7. the observers: Prometheus must have run through the whole window (a restart inside
   it means the series the verdict read have a gap): else inconclusive.

A wait that timed out while its probe could not read an observer is inconclusive, not
a failure: "it did not happen" and "it could not be seen" are different findings.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from harness.errors import Inconclusive, ObserverUnavailable, WaitTimeout
from harness.integrity.collect import Window, open_window, reconcile_window
from harness.mechanisms.context import MechanismContext
from harness.mechanisms.outcome import Outcome
from harness.mechanisms.template import (
    MechanismTemplate,
    implemented_mechanism,
    timed,
)
from harness.observe.wait import wait_until

__all__ = [
    "RECONCILE_SETTLE",
    "Run",
    "begin",
    "conclude",
    "run_mechanism",
    "start",
    "strike",
]

RECONCILE_SETTLE = 90.0
"""How long the sink may take to hold every event of the window: a resubmitted job's
first batches on two cores, with margin."""
RESTORE_WITHIN = 60.0
"""How long a run's end may wait for the application to be RUNNING before recreating it."""


def run_mechanism(mechanism_id: str, ctx: MechanismContext, negative_control: bool) -> Outcome:
    """Run one implemented mechanism (or its negative control); the outcome holds the verdict."""
    run = begin(mechanism_id, ctx, negative_control)
    strike(run)
    return conclude(run)


@dataclass
class Run:
    """One run in progress, between its phases (chaostoolkit calls them one by one)."""

    mechanism: MechanismTemplate
    window: Window | None = None
    observed_since: float = 0.0
    struck: bool = False

    @property
    def outcome(self) -> Outcome:
        """The outcome so far."""
        return self.mechanism.outcome


def begin(mechanism_id: str, ctx: MechanismContext, negative_control: bool) -> Run:
    """Phases 1-4: restore registered, switch off (controls), steady state, bound, window."""
    return start(implemented_mechanism(mechanism_id, "mechanism"), ctx, negative_control)


def start(template: type[MechanismTemplate], ctx: MechanismContext, negative_control: bool) -> Run:
    """begin() for a template class itself (begin looks it up by id)."""
    run = Run(template(ctx, negative_control))
    m, outcome = run.mechanism, run.outcome
    ctx.record(outcome)
    ctx.rollbacks.register(
        "restore the SparkApplication if the run left it broken", lambda: _restore(ctx)
    )
    with _verdict_of(run):
        if negative_control:
            done = timed(outcome.phases, "switch off")
            ctx.timeline.add("control", m.id, m.catalog().negative_control)
            m.switch_off()
            done()
        done = timed(outcome.phases, "steady state")
        _steady_state(m)
        outcome.bound = m.bound()
        if m.catalog().touches_data:
            run.window = open_window(ctx.core, ctx.tools_image)
        run.observed_since = time.time()
        done()
    return run


def strike(run: Run) -> None:
    """Phase 5: the fault, with proof that it landed (else the run is inconclusive)."""
    m, outcome = run.mechanism, run.outcome
    if outcome.inconclusive is not None:
        return
    with _verdict_of(run):
        done = timed(outcome.phases, "strike")
        m.fault_epoch = time.time()
        outcome.landed = m.strike()
        run.struck = True
        m.ctx.timeline.add("landed", m.id, _brief(outcome.landed))
        done()


def conclude(run: Run) -> Outcome:
    """Phases 6-7: recovery or the declared failure, checks, reconciliation, observers."""
    m, outcome, ctx = run.mechanism, run.outcome, run.mechanism.ctx
    if outcome.inconclusive is None and not run.struck:
        outcome.inconclusive = "the fault was never struck"
    if outcome.inconclusive is not None:
        return ctx.record(outcome)
    with _verdict_of(run):
        if m.negative_control:
            done = timed(outcome.phases, "until the declared failure")
            _control(m)
            done()
        elif _recover(m):
            done = timed(outcome.phases, "checks")
            m.check()
            done()
            if run.window is not None:
                done = timed(outcome.phases, "reconciliation")
                outcome.reconciliation = reconcile_window(
                    ctx.core, ctx.tools_image, run.window, settle=RECONCILE_SETTLE
                )
                if not outcome.reconciliation.exactly_once:
                    m.fail(f"integrity: {outcome.reconciliation.summary()}")
                done()
        _observers_held(ctx, run.observed_since)
    return ctx.record(outcome)


@contextmanager
def _verdict_of(run: Run) -> Iterator[None]:
    """An Inconclusive raised in a phase becomes the run's verdict; any other exception
    marks the run inconclusive (never passed) and is raised on."""
    try:
        yield
    except Inconclusive as exc:
        run.outcome.inconclusive = exc.reason
        run.mechanism.ctx.timeline.add("inconclusive", run.mechanism.id, exc.reason[:200])
    except Exception as exc:  # the harness could not finish the run: no verdict, and loud
        reason = f"the run did not finish: {type(exc).__name__}: {exc}"
        run.outcome.inconclusive = reason
        run.mechanism.ctx.timeline.add("inconclusive", run.mechanism.id, reason[:200])
        raise


def _steady_state(run: MechanismTemplate) -> None:
    try:
        wait_until(
            f"{run.id}: the steady state before the strike",
            run.steady_state,
            run.steady_timeout,
            2.0,
        )
    except WaitTimeout as exc:
        raise Inconclusive(f"the steady state did not hold before the strike: {exc}") from exc


def _unreadable(exc: WaitTimeout, what: str) -> None:
    """A timed-out wait is inconclusive when its observer could not be read: on the last
    read (the outcome was never seen to stay unmet), or on more than a quarter of them."""
    last_failed = exc.probe_errors > 0 and exc.last_seen == exc.last_error
    if last_failed or exc.probe_errors * 4 > exc.probes:
        raise ObserverUnavailable(
            f"an observer could not be read while waiting for {what}"
            f" ({exc.probe_errors} of {exc.probes} reads failed, last: {exc.last_error})"
        ) from exc


def _recover(run: MechanismTemplate) -> bool:
    """Wait for recovery; record MTTR against the bound. False when it did not recover."""
    outcome = run.outcome
    deadline = outcome.bound.seconds + run.margin
    what = f"{run.id} to recover: {run.catalog().verification}"
    done = timed(outcome.phases, "strike to recovery")
    try:
        recovered_at = wait_until(what, run.recovered, deadline, run.poll)
    except WaitTimeout as exc:
        done()
        _unreadable(exc, what)
        run.fail(str(exc))
        return False
    done()
    outcome.mttr_seconds = run.mttr(recovered_at)
    run.ctx.timeline.add("recovered", run.id, f"MTTR {outcome.mttr_seconds:.1f}s")
    if not outcome.bound.holds(outcome.mttr_seconds):
        run.fail(
            f"recovered in {outcome.mttr_seconds:.1f}s, over the bound {outcome.bound.arithmetic()}"
        )
    return True


def _control(run: MechanismTemplate) -> None:
    """Wait for the declared failure; a mechanism that heals with it off fails the control."""
    outcome = run.outcome
    deadline = outcome.bound.seconds + run.margin
    healed: list[str] = []

    def probe() -> tuple[dict[str, Any] | None, str]:
        evidence, seen = run.control_failed()
        if evidence is not None:
            return evidence, seen
        at, healed_seen = run.control_healed()
        if at is not None:
            healed.append(healed_seen)
            return {"healed": healed_seen}, healed_seen
        return None, f"{seen}; {healed_seen}"

    what = f"the declared failure of {run.id}'s control: {run.expected_failure}"
    try:
        evidence = wait_until(what, probe, deadline, run.poll)
    except WaitTimeout as exc:
        _unreadable(exc, what)
        run.fail(f"the declared failure was not seen: {exc}")
        return
    if healed:
        run.fail(
            f"the mechanism healed with it switched off, so its check cannot fail: {healed[0]}"
        )
        return
    outcome.control_evidence = evidence
    run.ctx.timeline.add("control failed", run.id, _brief(evidence))


def _observers_held(ctx: MechanismContext, since: float) -> None:
    """Prometheus ran through the whole window: no restart since the strike."""
    started = ctx.prom.started_at()
    if started > since:
        raise ObserverUnavailable(
            f"Prometheus restarted inside the verdict window ({started - since:.0f}s after its"
            " start): the series the verdict read have a gap"
        )


def _restore(ctx: MechanismContext) -> None:
    """Recreate the application from 05 unless it is (or soon is) RUNNING."""
    app = ctx.app

    def running() -> tuple[bool | None, str]:
        state = app.state()
        return (True if state.state == "RUNNING" else None), str(state)

    try:
        wait_until("the SparkApplication RUNNING after the run", running, RESTORE_WITHIN, 3.0)
    except WaitTimeout:
        ctx.timeline.add("restore", app.name, "not RUNNING after the run: recreated from 05")
        app.recreate()


def _brief(evidence: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in evidence.items())[:300]
