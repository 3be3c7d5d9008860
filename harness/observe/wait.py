"""Polls with deadlines whose timeout says what was expected and what was last seen."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import urllib3
from kubernetes.client.exceptions import ApiException

from harness.errors import FaultNotLanded, ObserverUnavailable, WaitTimeout

__all__ = ["Probe", "unreadable", "wait_until"]

T = TypeVar("T")
Probe = Callable[[], tuple[T | None, str]]
"""Returns (value, description): a non-None value ends the wait; the text says what was seen."""


def unreadable(exc: BaseException) -> bool:
    """Whether an exception says the observer could not be read (Prometheus or the API
    server down or erring, a connection refused), rather than that the probe is wrong."""
    if isinstance(exc, ObserverUnavailable | OSError | urllib3.exceptions.HTTPError):
        return True
    if isinstance(exc, ApiException):
        return not exc.status or exc.status >= 500 or exc.status == 429
    return False


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
    does not end the wait early). Those that say the observer could not be read
    (``unreadable``) are counted: the WaitTimeout says how often, of how many reads, and
    whether the last read failed, so a caller can tell "the condition never held" from
    "the observer could not be read" (an inconclusive verdict, not a failure). Any other
    exception is shown as the last thing seen, except FaultNotLanded: a probe that finds
    the fault did not land has decided the run (inconclusive), and it ends the wait.
    """
    deadline = clock() + timeout
    last = "nothing observed yet"
    probes, errors, last_error = 0, 0, ""
    while True:
        probes += 1
        try:
            value, last = probe()
        except FaultNotLanded:  # a decision the probe made, not an observation
            raise
        except Exception as exc:  # the probe's failure is itself an observation
            value, last = None, f"{type(exc).__name__}: {exc}"
            if unreadable(exc):
                errors, last_error = errors + 1, last
        if value is not None:
            return value
        remaining = deadline - clock()
        if remaining <= 0:
            raise WaitTimeout(expected, last, timeout, errors, last_error, probes)
        pause(min(interval, remaining))
