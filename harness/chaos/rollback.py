"""A stack of rollbacks that runs on pass, fail, timeout and Ctrl-C.

A fault registers its rollback *before* it strikes::

    with Rollbacks() as undo:
        undo.register("start worker", lambda: docker_start(worker))
        docker_stop(worker)          # the fault
        ...                          # observe recovery

Rollbacks run in reverse order when the block exits, whatever ends it (an assertion,
a timeout, KeyboardInterrupt). SIGTERM is turned into KeyboardInterrupt while the
block runs, so a CI job cancelled mid-fault still restores the cluster. Every rollback
runs even if an earlier one fails; failures are collected and raised together, after
the original exception is preserved as the cause.

A rollback that ran without raising is not proof that the fault is gone (a pod deleted
with grace 0 still takes seconds to go, a node may not come back Ready). So a fault
registers, next to its undo, a *leftover check*: what of it would still be in the
cluster, as sentences. ``leftovers()`` runs the checks of every fault registered, also
of those already rolled back, and is what a fixture asserts on after the rollbacks::

    undo.register("uncordon w1", uncordon, leftover=lambda: ["node w1 cordoned"] if ... else [])
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType, TracebackType

from harness.errors import HarnessError

__all__ = ["LeftoverCheck", "Rollback", "RollbackFailed", "Rollbacks"]

LeftoverCheck = Callable[[], list[str]]
"""What of a fault is still in the cluster, one sentence each; empty when nothing is."""


@dataclass(frozen=True)
class Rollback:
    """One undo action, what it undoes, and how to see whether the fault is really gone."""

    description: str
    action: Callable[[], None]
    leftover: LeftoverCheck | None = None


@dataclass
class RollbackResult:
    """What happened when a rollback ran."""

    description: str
    seconds: float
    error: str = ""


class RollbackFailed(HarnessError):
    """One or more rollbacks raised; the cluster may not be whole."""

    def __init__(self, failures: list[RollbackResult]) -> None:
        self.failures = failures
        lines = "\n".join(f"  {f.description}: {f.error}" for f in failures)
        super().__init__(f"{len(failures)} rollback(s) failed:\n{lines}")


@dataclass
class Rollbacks:
    """The rollbacks of one test or experiment, run in reverse order on exit."""

    registered: list[Rollback] = field(default_factory=list)
    """Rollbacks not run yet, oldest first."""
    results: list[RollbackResult] = field(default_factory=list)
    history: list[Rollback] = field(default_factory=list)
    """Every rollback ever registered, run or not: their leftover checks outlive them."""
    _previous_sigterm: object = None

    def register(
        self,
        description: str,
        action: Callable[[], None],
        leftover: LeftoverCheck | None = None,
    ) -> None:
        """Register an undo action (and its leftover check) before injecting the fault."""
        rollback = Rollback(description, action, leftover)
        self.registered.append(rollback)
        self.history.append(rollback)

    def leftovers(self, settle: float = 0.0, interval: float = 2.0) -> list[str]:
        """The problems every registered fault's leftover check reports, in fault order.

        ``settle`` > 0 asks again every ``interval`` seconds until none is reported or
        ``settle`` seconds pass, then returns the last answer: deletions and a node's
        return take seconds after their rollback has returned. A check that raises is a
        problem too (the leftover could not be ruled out), never a pass.
        """
        deadline = time.monotonic() + settle
        while True:
            problems = [p for r in self.history if r.leftover for p in _check(r)]
            if not problems or time.monotonic() + interval > deadline:
                return problems
            time.sleep(interval)  # the settling wait itself, bounded by settle

    def run_all(self) -> list[RollbackResult]:
        """Run every registered rollback, newest first, each exactly once."""
        ran: list[RollbackResult] = []
        while self.registered:
            rollback = self.registered.pop()
            begun = time.monotonic()
            try:
                rollback.action()
                ran.append(RollbackResult(rollback.description, time.monotonic() - begun))
            except BaseException as exc:  # a rollback must never stop the next one
                ran.append(
                    RollbackResult(
                        rollback.description,
                        time.monotonic() - begun,
                        f"{type(exc).__name__}: {exc}",
                    )
                )
        self.results += ran
        return ran

    def __enter__(self) -> Rollbacks:
        try:
            self._previous_sigterm = signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
        except ValueError:  # not the main thread: signals stay as they are
            self._previous_sigterm = None
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            failures = [r for r in self.run_all() if r.error]
        finally:
            if self._previous_sigterm is not None:
                signal.signal(signal.SIGTERM, self._previous_sigterm)  # type: ignore[arg-type]
        if failures:
            raise RollbackFailed(failures) from exc


def _check(rollback: Rollback) -> list[str]:
    assert rollback.leftover is not None
    try:
        return [str(p) for p in rollback.leftover()]
    except Exception as exc:  # an unreadable cluster cannot prove the fault gone
        return [f"{rollback.description}: leftover check failed: {type(exc).__name__}: {exc}"]


def _sigterm_as_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")
