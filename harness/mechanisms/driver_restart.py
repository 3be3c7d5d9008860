"""Mechanism 1, driver_restart: the operator resubmits the application when its driver dies.

Trigger: delete the driver pod with grace period 0 (harness.chaos.pods.delete_pod); it
landed when no pod with the driver's UID remains.
Verification: a driver started after the fault reports streaming progress, read from
Prometheus (``spark_stream_first_progress_timestamp_seconds``); then the
SparkApplication shows executionAttempts +1, a new driver pod (new UID) runs, and the
operator's submit count rises (``spark_application_submit_count``). MTTR is fault →
that first progress.
Integrity: the window's events, exactly once.
Negative control: ``restartPolicy.type: Never`` on the job's twin (an application
beside the job, harness.spark_application.control_twin), same fault. Declared failure: the
application reaches FAILED, no driver pod runs, and Prometheus (read, not down) shows
no progress from a driver started after the fault. FAILED is terminal under Never, so
the control ends as soon as it is seen.
"""

from __future__ import annotations

from typing import Any

from harness.chaos.pods import delete_pod
from harness.errors import FaultNotLanded
from harness.mechanisms.bounds import restart_terms
from harness.mechanisms.model import Bound
from harness.mechanisms.template import MechanismTemplate, Seen, register

__all__ = ["DriverRestart"]


@register
class DriverRestart(MechanismTemplate):
    """Delete the driver; the operator resubmits; a new driver makes progress."""

    id = "driver_restart"
    expected_failure = (
        "the application reaches FAILED, no driver runs, and Prometheus shows no progress"
        " from a driver started after the fault"
    )

    control_on_twin = True

    def switch_off(self) -> None:
        self.start_twin(_never)

    def bound(self) -> Bound:
        return Bound(restart_terms(self.ctx))

    def strike(self) -> dict[str, Any]:
        driver = self.app.driver()
        if driver is None:
            raise FaultNotLanded("no running driver to delete")
        self.driver_uid = driver.metadata.uid
        self.attempts = self.app.state().attempts
        self.submits = self.ctx.prom.scalar("sum(spark_application_submit_count)")
        return delete_pod(self.ctx, self.ctx.namespace, driver.metadata.name, verify_gone=True)

    def recovered(self) -> Seen[float]:
        first = self.app.first_progress_after(self.fault_epoch)
        seen = f"first new progress {first}" if first else self.app.restart_seen(self.fault_epoch)
        return (first or None), seen

    def check(self) -> None:
        attempts = self.app.state().attempts
        self.note("execution_attempts", [self.attempts, attempts])
        if attempts != self.attempts + 1:
            self.fail(f"executionAttempts went {self.attempts} → {attempts}, expected +1")
        driver = self.app.driver()
        if driver is None or driver.metadata.uid == self.driver_uid:
            self.fail("no new driver pod (same UID or none running)")
        submits = self.ctx.metric_eventually(
            "sum(spark_application_submit_count)", lambda v: v > self.submits, 60.0
        )
        self.note("spark_application_submit_count", [self.submits, submits])
        if submits <= self.submits:
            self.fail(f"submit count did not rise: {self.submits} → {submits}")

    def control_failed(self) -> Seen[dict[str, Any]]:
        state, driver = self.app.state(), self.app.driver()
        first = self.app.first_progress_after(self.fault_epoch)
        seen = f"application {state}, driver {'none' if driver is None else 'running'}"
        if state.state == "FAILED" and driver is None and not first:
            return {"application": str(state), "driver": None, "new_progress": None}, seen
        return None, seen


def _never(manifest: dict[str, Any]) -> None:
    manifest["spec"]["restartPolicy"] = {"type": "Never"}
