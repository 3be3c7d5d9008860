"""Bound terms more than one mechanism shares, each computed from the live settings."""

from __future__ import annotations

from harness.mechanisms.context import MechanismContext
from harness.mechanisms.model import Term

__all__ = ["JVM", "SUBMIT", "restart_terms"]

SUBMIT = Term("spark-submit in the operator", 30, "measured 15-25 s on 2 cores, + margin")
JVM = Term("driver JVM, SparkSession, executors", 60, "measured 35-50 s on 2 cores, + margin")


def restart_terms(ctx: MechanismContext) -> tuple[Term, ...]:
    """A resubmitted driver's way back to progress: retry, submit, JVM, trigger, scrape."""
    app = ctx.app
    spec = app.get()["spec"]
    retry = float(spec["restartPolicy"].get("onFailureRetryInterval", 5))
    return (
        Term("operator retry interval", retry, "05 restartPolicy.onFailureRetryInterval"),
        SUBMIT,
        JVM,
        Term("first trigger", app.trigger_seconds(), "pipeline-config TRIGGER_INTERVAL (live)"),
        Term("scrape interval", ctx.prom_settings().scrape, "08 Prometheus scrapeInterval (live)"),
    )
