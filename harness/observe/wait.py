"""Polls with deadlines whose timeout says what was expected and what was last seen."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from harness.errors import WaitTimeout

__all__ = ["Probe", "wait_until"]

T = TypeVar("T")
Probe = Callable[[], tuple[T | None, str]]
"""Returns (value, description): a non-None value ends the wait; the text says what was seen."""


def wait_until(
    expected: str,
    probe: Callable[[], tuple[T | None, str]],
    timeout: float,
    interval: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
    pause: Callable[[float], None] = time.sleep,
) -> T:
    """Call probe until it returns a value or the deadline passes; then raise WaitTimeout.

    Exceptions from the probe count as "not yet" (an API server that is still starting
    does not end the wait early), but they are counted: the WaitTimeout says how often
    the probe could not read what it observes, so a caller can tell "the condition never
    held" from "the observer could not be read" (an inconclusive verdict, not a failure).
    """
    deadline = clock() + timeout
    last = "nothing observed yet"
    errors, last_error = 0, ""
    while True:
        try:
            value, last = probe()
        except Exception as exc:  # the probe's failure is itself an observation
            errors, last_error = errors + 1, f"{type(exc).__name__}: {exc}"
            value, last = None, last_error
        if value is not None:
            return value
        remaining = deadline - clock()
        if remaining <= 0:
            raise WaitTimeout(expected, last, timeout, errors, last_error)
        pause(min(interval, remaining))
