"""Mechanism 2, driver_liveness: the kubelet kills a frozen driver; the operator resubmits.

Trigger: SIGSTOP the driver's JVM (``org.apache.spark.deploy.SparkSubmit``, a child of
tini) with harness.chaos.pods.freeze_process; it landed when ps shows the pids stopped
(state T). The job's Python process keeps running, and with it the listener's :9091
metrics, so neither a scrape of them nor SparkDriverDown can see the fault: only the
probe on the UI port (4040, served by the JVM) can.
Verification: the old driver pod has a ``Liveness probe failed`` event, its container
ended, and a new driver (new UID) reports streaming progress (Prometheus). MTTR is
freeze → that first progress.
Integrity: the window's events, exactly once.

The probe must be active at the strike: the steady state waits until the driver's
container is older than the probe's initialDelaySeconds (a driver a previous test just
restarted is not probed yet). 05 sets the probe's own terminationGracePeriodSeconds:
a stopped JVM cannot act on SIGTERM (the signal stays pending until SIGCONT), so
without it the kubelet's kill would wait the pod's whole grace period (30 s).

Negative control: on the job's twin, the driver without its liveness probe, same fault.
Declared failure: once the probe's detection and kill time (failureThreshold x period +
timeout + its grace, read from the job's live probe) has passed since the freeze, the
frozen driver is still the same pod, its container still running with no restart, the
JVM still stopped, and the application still RUNNING with no new attempt: nothing else
heals a frozen driver. That absence cannot be seen earlier, so the control waits it out.
"""

from __future__ import annotations

import time
from typing import Any

from kubernetes import client

from harness.chaos.pods import freeze_process
from harness.errors import FaultNotLanded
from harness.kube import read_pod
from harness.mechanisms.bounds import restart_terms
from harness.mechanisms.model import Bound, Term
from harness.mechanisms.template import MechanismTemplate, Seen, register

__all__ = ["JVM_PATTERN", "DriverLiveness"]

JVM_PATTERN = "org.apache.spark.deploy.SparkSubmit"
"""The driver JVM's command line (spark-submit in client mode inside the driver pod)."""
CONTAINER = "spark-kubernetes-driver"


@register
class DriverLiveness(MechanismTemplate):
    """Freeze the driver JVM; its liveness probe fails; a new driver makes progress."""

    id = "driver_liveness"
    expected_failure = (
        "without the liveness probe, the frozen driver is still the same running pod with"
        " no container restart and the application still RUNNING with no new attempt, once"
        " the probe's detection and kill time has passed"
    )
    steady_timeout = 240.0
    """The probe's initial delay (90 s) on a driver the previous test restarted."""

    control_on_twin = True

    def switch_off(self) -> None:
        self.probe = _probe(self.ctx.app.manifest())
        self.start_twin(_without_probe)

    def steady_state(self) -> Seen[bool]:
        state, driver = self.app.state(), self.app.driver()
        if driver is None or state.state != "RUNNING":
            return None, f"application {state}, no running driver"
        if self.negative_control:
            return True, f"application {state}, driver {driver.metadata.name} (no probe)"
        self.probe = _probe(self.app.get())
        age = _container_age(driver)
        delay = float(self.probe.get("initialDelaySeconds", 0))
        seen = (
            f"application {state}, driver {driver.metadata.name}: container up"
            f" {age:.0f}s of the probe's initialDelaySeconds {delay:.0f}s"
        )
        return (True if age > delay + 1 else None), seen

    def bound(self) -> Bound:
        self.detect_terms = _detect_terms(self.probe)
        return Bound((*self.detect_terms, *restart_terms(self.ctx)))

    def strike(self) -> dict[str, Any]:
        driver = self.app.driver()
        if driver is None:
            raise FaultNotLanded("no running driver to freeze")
        self.driver = driver.metadata.name
        self.driver_uid = driver.metadata.uid
        self.attempts = self.app.state().attempts
        pids = freeze_process(self.ctx, self.ctx.namespace, self.driver, JVM_PATTERN)
        self.pids = pids
        return {"pod": self.driver, "uid": self.driver_uid, "frozen_pids": pids}

    def recovered(self) -> Seen[float]:
        first = self.app.first_progress_after(self.fault_epoch)
        seen = f"first new progress {first}" if first else self.app.restart_seen(self.fault_epoch)
        return (first or None), seen

    def check(self) -> None:
        events = _pod_events(self.ctx.core, self.ctx.namespace, self.driver, self.driver_uid)
        probe_failed = [e for e in events if e["reason"] == "Unhealthy" and "Liveness" in e["msg"]]
        killed = [e for e in events if e["reason"] == "Killing"]
        self.note("old_driver_events", events[-10:])
        if not probe_failed:
            self.fail(f"no 'Liveness probe failed' event on the frozen driver {self.driver}")
        if not killed:
            self.fail(f"no Killing event on the frozen driver {self.driver}")
        driver = self.app.driver()
        if driver is None or driver.metadata.uid == self.driver_uid:
            self.fail("no new driver pod (same UID or none running)")
        attempts = self.app.state().attempts
        self.note("execution_attempts", [self.attempts, attempts])
        if attempts <= self.attempts:
            self.fail(f"executionAttempts went {self.attempts} → {attempts}, expected a rise")

    def control_failed(self) -> Seen[dict[str, Any]]:
        past = time.time() - self.fault_epoch
        detect = sum(t.seconds for t in self.detect_terms)
        pod = read_pod(self.ctx.core, self.ctx.namespace, self.driver)
        state = self.app.state()
        same = pod is not None and pod.metadata.uid == self.driver_uid
        status = _container(pod) if pod is not None else None
        running = bool(status and status.state and status.state.running)
        restarts = status.restart_count if status else None
        seen = (
            f"{past:.0f}s of the {detect:.0f}s detection time: driver same pod={same},"
            f" container running={running}, restarts={restarts}, application {state}"
        )
        if (
            past >= detect
            and same
            and running
            and restarts == 0
            and state.state == "RUNNING"
            and state.attempts == self.attempts
        ):
            return {
                "seconds_after_freeze": round(past, 1),
                "detection_time_s": detect,
                "driver": self.driver,
                "driver_uid": self.driver_uid,
                "container_restarts": restarts,
                "frozen_pids": self.pids,
                "application": str(state),
            }, seen
        return None, seen

    def control_healed(self) -> Seen[float]:
        pod = read_pod(self.ctx.core, self.ctx.namespace, self.driver)
        status = _container(pod) if pod is not None else None
        gone = pod is None or pod.metadata.uid != self.driver_uid
        running = bool(status and status.state and status.state.running)
        restarted = status is not None and (bool(status.restart_count) or not running)
        healed = gone or restarted or self.app.state().attempts != self.attempts
        return (time.time() if healed else None), f"driver gone={gone}, restarted={restarted}"


def _probe(app: dict[str, Any]) -> dict[str, Any]:
    containers = app["spec"]["driver"]["template"]["spec"]["containers"]
    probe: dict[str, Any] = next(c for c in containers if c["name"] == CONTAINER)["livenessProbe"]
    return probe


def _detect_terms(probe: dict[str, Any]) -> tuple[Term, ...]:
    period = float(probe.get("periodSeconds", 10))
    threshold = int(probe.get("failureThreshold", 3))
    return (
        Term(
            "liveness failures",
            period * threshold,
            f"05 driver livenessProbe failureThreshold {threshold} x periodSeconds {period:g}",
        ),
        Term("last probe's timeout", float(probe.get("timeoutSeconds", 1)), "05 timeoutSeconds"),
        Term(
            "kill grace",
            float(probe.get("terminationGracePeriodSeconds", 30)),
            "05 livenessProbe terminationGracePeriodSeconds (a stopped JVM ignores SIGTERM)",
        ),
    )


def _without_probe(manifest: dict[str, Any]) -> None:
    for container in manifest["spec"]["driver"]["template"]["spec"]["containers"]:
        container.pop("livenessProbe", None)


def _container(pod: client.V1Pod) -> Any:
    return next((s for s in pod.status.container_statuses or [] if s.name == CONTAINER), None)


def _container_age(pod: client.V1Pod) -> float:
    status = _container(pod)
    if status is None or status.state is None or status.state.running is None:
        return 0.0
    return time.time() - float(status.state.running.started_at.timestamp())


def _pod_events(core: client.CoreV1Api, namespace: str, pod: str, uid: str) -> list[dict[str, Any]]:
    """The pod's events (reason, message, count), oldest first."""
    events = core.list_namespaced_event(
        namespace, field_selector=f"involvedObject.name={pod},involvedObject.uid={uid}"
    ).items

    def at(e: client.CoreV1Event) -> float:
        when = e.last_timestamp or e.event_time or e.first_timestamp
        return when.timestamp() if when is not None else 0.0

    rows = sorted(events, key=at)
    return [{"reason": e.reason, "msg": e.message or "", "count": e.count or 1} for e in rows]
