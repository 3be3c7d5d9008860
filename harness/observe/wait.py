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

    Exceptions from the probe count as "not yet" and their text becomes the last seen state,
    so an API server that is still starting does not end the wait early.
    """
    deadline = clock() + timeout
    last = "nothing observed yet"
    while True:
        try:
            value, last = probe()
        except Exception as exc:  # the probe's failure is itself an observation
            value, last = None, f"{type(exc).__name__}: {exc}"
        if value is not None:
            return value
        remaining = deadline - clock()
        if remaining <= 0:
            raise WaitTimeout(expected, last, timeout)
        pause(min(interval, remaining))
