"""Bound terms more than one mechanism shares, each computed from the live settings."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from harness.mechanisms.context import MechanismContext
from harness.mechanisms.model import Term

__all__ = ["JVM", "SUBMIT", "restart_terms", "retry_backoff"]

SUBMIT = Term("spark-submit in the operator", 30, "measured 15-25 s on 2 cores, + margin")
JVM = Term("driver JVM, SparkSession, executors", 60, "measured 35-50 s on 2 cores, + margin")


def retry_backoff(app: dict[str, Any], now: float) -> float:
    """Seconds the operator will wait before it resubmits a failed driver, from now.

    Spark operator v2.5.2 (pkg/util TimeUntilNextRetryDue) backs off linearly:
    onFailureRetryInterval * status.submissionAttempts after the last submission, and it
    resets the attempts only when the application is invalidated (a spec change), never
    for restartPolicy Always. A long-lived stream that restarted N times waits up to N
    intervals: the bound says so instead of assuming one interval.
    """
    interval = float(app["spec"]["restartPolicy"].get("onFailureRetryInterval", 5))
    status = app.get("status", {})
    attempts = int(status.get("submissionAttempts", 0))
    last = status.get("lastSubmissionAttemptTime")
    if not last or attempts <= 0:
        return interval
    since = now - datetime.fromisoformat(str(last).replace("Z", "+00:00")).timestamp()
    return max(interval, interval * attempts - since)


def restart_terms(ctx: MechanismContext) -> tuple[Term, ...]:
    """A resubmitted driver's way back to progress: retry, submit, JVM, trigger, scrape."""
    app = ctx.app
    live = app.get()
    attempts = int(live.get("status", {}).get("submissionAttempts", 0))
    return (
        Term(
            "operator retry backoff",
            round(retry_backoff(live, time.time()), 1),
            "05 restartPolicy.onFailureRetryInterval * status.submissionAttempts"
            f" ({attempts}) since the last submission (operator TimeUntilNextRetryDue)",
        ),
        SUBMIT,
        JVM,
        Term("first trigger", app.trigger_seconds(), "pipeline-config TRIGGER_INTERVAL (live)"),
        Term("scrape interval", ctx.prom_settings().scrape, "08 Prometheus scrapeInterval (live)"),
    )
