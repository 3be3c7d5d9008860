"""Mechanism runs kept open between activities: one per mechanism id, in this process.

chaostoolkit calls each python activity in its own process, one after another, so the
phases of a run (harness.mechanisms.runner: begin, strike, conclude) can be activities
of their own: ``begin`` opens the clients, the timeline recorder and the Rollbacks and
keeps them here under the mechanism's id; ``strike`` and ``conclude`` find them there;
``restore`` runs the Rollbacks, waits until the pipeline is whole and closes them.

The activities (harness.chaostoolkit.actions and .probes) call these with the default
settings; ``harness mechanism run`` calls the same functions with the command line's.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from harness.chaos.rollback import RollbackFailed, RollbackResult, Rollbacks
from harness.deploy.pipeline import current_image_values
from harness.errors import CleanupFailed, HarnessError
from harness.invariants import wait_whole
from harness.kube import api_client
from harness.mechanisms import runner
from harness.mechanisms.context import MechanismContext
from harness.mechanisms.outcome import Outcome
from harness.observe.prometheus import prometheus
from harness.observe.timeline import Recorder
from harness.safety import check_fault_target
from harness.settings import LabSettings

__all__ = [
    "OpenRun",
    "Restored",
    "begin",
    "conclude",
    "open_run",
    "restore",
    "strike",
    "summary",
]

RECORDED_NAMESPACES = ("spark-pipeline", "spark-operator")
"""Where the timeline recorder watches pods and SparkApplications."""


@dataclass
class OpenRun:
    """A run between its phases, with everything it holds open."""

    run: runner.Run
    ctx: MechanismContext
    resources: ExitStack
    """The clients, the Rollbacks and the recorder, closed in reverse order by restore()."""
    concluded: dict[str, Any] | None = None
    """The outcome JSON, once conclude() has run."""

    @property
    def outcome(self) -> Outcome:
        """The outcome so far."""
        return self.run.outcome


@dataclass(frozen=True)
class Restored:
    """What restore() did: the run's rollbacks, then the wait until the pipeline was whole."""

    mechanism: str
    rollbacks: list[RollbackResult] = field(default_factory=list)
    had_open_run: bool = False
    seconds_to_whole: float = 0.0

    def as_json(self) -> dict[str, Any]:
        """The activity's output in the journal."""
        return {
            "mechanism": self.mechanism,
            "had_open_run": self.had_open_run,
            "rollbacks": [
                {"description": r.description, "seconds": round(r.seconds, 1), "error": r.error}
                for r in self.rollbacks
            ],
            "whole": True,
            "seconds_to_whole": round(self.seconds_to_whole, 1),
        }


_OPEN: dict[str, OpenRun] = {}


def open_run(mechanism_id: str) -> OpenRun:
    """The open run of a mechanism; HarnessError when none is open in this process."""
    try:
        return _OPEN[mechanism_id]
    except KeyError:
        raise HarnessError(
            f"no run of {mechanism_id!r} is open in this process: begin_mechanism did not"
            " run, failed, or restore_pipeline has ended it"
        ) from None


def begin(
    mechanism_id: str,
    negative_control: bool,
    settings: LabSettings,
    named_context: str | None = None,
) -> OpenRun:
    """Check the fault target, open the clients and the recorder, and begin the run."""
    if mechanism_id in _OPEN:
        raise HarnessError(
            f"a run of {mechanism_id!r} is already open in this process:"
            f" restore_pipeline({mechanism_id!r}) must end it before another begins"
        )
    check_fault_target(settings, named_context)
    with ExitStack() as resources:  # an error before the end: rollbacks run, clients close
        api = resources.enter_context(api_client(settings))
        prom = resources.enter_context(prometheus(settings))
        # Entered, the Rollbacks turn SIGTERM into KeyboardInterrupt while the run is
        # open; chaostoolkit treats that as an interruption and plays the rollbacks.
        undo = resources.enter_context(Rollbacks())
        ctx = MechanismContext(
            api, prom, undo, current_image_values(settings), kind_config=settings.kind_config
        )
        resources.enter_context(Recorder(api, ctx.timeline, RECORDED_NAMESPACES))
        run = runner.begin(mechanism_id, ctx, negative_control)
        _OPEN[mechanism_id] = OpenRun(run, ctx, resources.pop_all())
    return _OPEN[mechanism_id]


def strike(mechanism_id: str) -> OpenRun:
    """Strike the open run's fault (skipped when the run is already inconclusive)."""
    opened = open_run(mechanism_id)
    if opened.run.struck:
        raise HarnessError(f"the run of {mechanism_id!r} has struck already: one fault per run")
    runner.strike(opened.run)
    return opened


def conclude(mechanism_id: str) -> dict[str, Any]:
    """Conclude the open run once; its outcome JSON (the same on a second call)."""
    opened = open_run(mechanism_id)
    if opened.concluded is None:
        runner.conclude(opened.run)
        concluded = opened.ctx.outcome_json()
        if concluded is None:
            raise HarnessError(f"the run of {mechanism_id!r} recorded no outcome")
        opened.concluded = concluded
    return opened.concluded


LEFTOVERS_SETTLE = 30.0
"""Once the invariants hold, a deletion or an uncordon still in flight has had its time."""


def restore(mechanism_id: str, settings: LabSettings, timeout: float) -> Restored:
    """Run the open run's rollbacks (if a run is open), close it, wait until whole.

    RollbackFailed when a rollback raised; WaitTimeout (naming the broken invariants)
    when the pipeline is not whole within ``timeout`` seconds.
    """
    opened = _OPEN.pop(mechanism_id, None)
    if opened is None:
        with api_client(settings) as api, prometheus(settings) as prom:
            begun = time.monotonic()
            wait_whole(api, prom, timeout, image_values=current_image_values(settings))
        return Restored(mechanism_id, seconds_to_whole=time.monotonic() - begun)
    with opened.resources:  # closes the recorder, the Rollbacks and the clients
        results = opened.ctx.rollbacks.run_all()
        failures = [r for r in results if r.error]
        if failures:
            raise RollbackFailed(failures)
        begun = time.monotonic()
        ctx = opened.ctx
        wait_whole(ctx.api, ctx.prom, timeout, image_values=ctx.image_values)
        left = ctx.rollbacks.leftovers(settle=LEFTOVERS_SETTLE)
        if left:
            raise CleanupFailed(f"faults left something behind: {'; '.join(left)}")
    return Restored(mechanism_id, results, True, time.monotonic() - begun)


def summary(opened: OpenRun) -> dict[str, Any]:
    """The open run so far, for an activity's output: the bound, or why it is inconclusive."""
    outcome = opened.outcome
    return {
        "mechanism": outcome.mechanism,
        "negative_control": outcome.negative_control,
        "inconclusive": outcome.inconclusive,
        "bound_seconds": outcome.bound.seconds,
        "bound_arithmetic": outcome.bound.arithmetic(),
        "landed": outcome.landed,
        "phases": {k: round(v, 1) for k, v in outcome.phases.items()},
    }
