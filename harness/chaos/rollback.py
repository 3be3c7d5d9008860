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
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType, TracebackType

from harness.errors import HarnessError

__all__ = ["Rollback", "RollbackFailed", "Rollbacks"]


@dataclass(frozen=True)
class Rollback:
    """One undo action and what it undoes."""

    description: str
    action: Callable[[], None]


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
    results: list[RollbackResult] = field(default_factory=list)
    _previous_sigterm: object = None

    def register(self, description: str, action: Callable[[], None]) -> None:
        """Register an undo action; call this before injecting the fault it undoes."""
        self.registered.append(Rollback(description, action))

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


def _sigterm_as_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")
