"""Mechanism 3, readiness_gate: a replica that fails its readiness probe leaves the ingest
Service's rotation, its clients see no error, and it returns once healthy.

What ingest is: 05's producers, two replicas (06's HPA minimum) behind 07's Service
``ingest`` (ClusterIP, port 8080), each with a readiness probe on ``/readyz`` (period
2 s, failureThreshold 2, timeout 1 s) and a liveness probe on ``/healthz`` (period 10 s,
failureThreshold 3).

Trigger: ``POST /fail`` to one replica (harness.chaos.endpoints.fail_health). Its
``/readyz`` and ``/healthz`` then answer 503 with the fault's reason. Meanwhile a client
pod calls the Service all along, about ten requests a second, each on a new connection.
It alternates ``/readyz`` (the answer a client of that replica gets) with ``/metrics``
(which names the replica that answered). 07's default-deny lets no pod reach ingest, so
07 gives the client a label and a policy of its own.

/fail fails liveness too (the tools image has no readiness-only failure). Of the two ways
the issue allows, this module keeps the window shorter than liveness: the fault is lifted
before the kubelet would restart the container. The third failed liveness probe comes at
the earliest 20 s after the fault (period x (threshold - 1)); the fault is lifted by
``LIVENESS_MARGIN`` before that. The check then proves that the replica did not restart:
the same pod, the same restart count. So what heals here is the readiness gate, not a
restart.

Verification, from the API server and the client's own record:
  - the replica's endpoint in the Service's EndpointSlice turns not ready: kube-proxy
    routes only to ready endpoints, so the address is out of rotation. MTTR runs from the
    fault to then;
  - from one propagation allowance after that until the fault is lifted, every call of
    the client is answered 200, and every /metrics answer comes from a healthy replica.
    Before that, the only non-200 answers allowed are the struck replica's refusals for
    the fault's reason (503 "failed on request"), inside the detection window the bound
    covers. An unanswered call (refused, reset, timed out) anywhere is an error;
  - after POST /recover, the endpoint is ready again within the return bound, and the
    client is answered by that replica again;
  - the replica was not restarted (liveness never fired): same UID, same restart count.
Prometheus: ``ingest_healthy`` of the struck replica, which Prometheus scrapes from it, is
recorded beside the verdict (its 15 s scrape may miss a 10 s fault, so it decides
nothing).

Bound (out of rotation), each term from the live Deployment: readiness periodSeconds x
failureThreshold (the probes that must fail), + timeoutSeconds (the last probe's wait),
+ the EndpointSlice update and kube-proxy's sync (measured under a second, 2 s allowed).
Return bound: periodSeconds x successThreshold + the same propagation.

Negative control: a twin of ingest without a readiness probe (harness.chaos.deployments:
``ingest-control``, its own Service, producing into its own topic, so no event of it
reaches the stream), the same fault and client. Declared failure: past the bound plus the
propagation allowance, the struck replica's endpoint is still ready, and the client got
at least ``CONTROL_REFUSALS`` refusals from it for the fault's reason. Those are errors a
readiness gate would have spared the clients.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kubernetes import client

from harness.chaos.bursts import create_topic
from harness.chaos.deployments import twin_deployment
from harness.chaos.endpoints import (
    UNREADY_MARK,
    Call,
    Failing,
    ServiceClient,
    between,
    fail_health,
    pod_ready,
    restarts,
    start_service_client,
)
from harness.errors import FaultNotLanded, ObserverUnavailable, WaitTimeout
from harness.mechanisms.model import Bound, Term
from harness.mechanisms.template import MechanismTemplate, Seen, register
from harness.observe.wait import wait_until

__all__ = [
    "ReadinessGate",
    "client_problems",
    "gate_terms",
    "liveness_deadline",
    "ready_endpoints",
    "return_terms",
]

TARGET = "ingest"
"""05's Deployment and 07's Service in front of it (same name)."""
TWIN = "ingest-control"
"""The control's twin of ingest (07 lets the client reach it)."""
TWIN_TOPIC = "ingest-control"
"""The twin's own topic: its events never reach the stream under test."""
TWIN_RETENTION = "1h"
PORT = 8080
PROPAGATION = Term(
    "EndpointSlice update and kube-proxy sync",
    2,
    "endpoint controller + kube-proxy iptables sync: measured under 1 s, + margin",
)
BASELINE_CALLS = 20
"""Calls the client must have made, all answered, before the strike (about 2 s)."""
BASELINE_TIMEOUT = 30.0
SERVE_WINDOW = 6.0
"""Seconds of calls checked with the replica out of rotation (three probe periods)."""
LIVENESS_MARGIN = 4.0
"""The fault is lifted this long before liveness could restart the container."""
MIN_SERVED_CALLS = 10
"""At least this many calls must fall in the out-of-rotation window for it to count."""
CONTROL_REFUSALS = 3
"""Refusals for the fault's reason past the bound that make the control's failure."""
RETURN_TIMEOUT = 20.0
"""How long the client may take to be answered by the returned replica."""


def gate_terms(probe: Mapping[str, Any]) -> tuple[Term, ...]:
    """Fault → out of rotation, from a readinessProbe (API dict, camelCase)."""
    period = float(probe.get("periodSeconds") or 10)
    threshold = int(probe.get("failureThreshold") or 3)
    timeout = float(probe.get("timeoutSeconds") or 1)
    return (
        Term(
            "failed readiness probes",
            period * threshold,
            f"05 ingest readinessProbe periodSeconds {period:g} x failureThreshold {threshold}",
        ),
        Term("the last probe's timeout", timeout, "05 ingest readinessProbe.timeoutSeconds"),
        PROPAGATION,
    )


def return_terms(probe: Mapping[str, Any]) -> tuple[Term, ...]:
    """Recovered → back in rotation."""
    period = float(probe.get("periodSeconds") or 10)
    success = int(probe.get("successThreshold") or 1)
    return (
        Term(
            "passed readiness probes",
            period * success,
            f"05 ingest readinessProbe periodSeconds {period:g} x successThreshold {success}",
        ),
        PROPAGATION,
    )


def liveness_deadline(probe: Mapping[str, Any]) -> float:
    """Seconds after the fault by which it must be lifted: the earliest third failed
    liveness probe, period x (threshold - 1) after the first, less LIVENESS_MARGIN."""
    period = float(probe.get("periodSeconds") or 10)
    threshold = int(probe.get("failureThreshold") or 3)
    return period * (threshold - 1) - LIVENESS_MARGIN


def ready_endpoints(slices: Iterable[Mapping[str, Any]]) -> dict[str, bool]:
    """Pod name → whether its endpoint is ready, over a Service's EndpointSlices (API
    dicts). A pod absent from every slice is out of rotation as well."""
    found: dict[str, bool] = {}
    for piece in slices:
        for endpoint in piece.get("endpoints") or []:
            name = (endpoint.get("targetRef") or {}).get("name")
            if not name:
                continue
            ready = (endpoint.get("conditions") or {}).get("ready")
            found[name] = found.get(name, False) or ready is not False
    return found


def client_problems(
    calls: Sequence[Call], failed_at: float, out_at: float, lifted_at: float, victim: str
) -> tuple[list[str], dict[str, int]]:
    """What the client saw that a readiness gate should have spared it, and the counts.

    In [failed_at, out_at + propagation): only the victim's refusals for the fault's
    reason may be non-200 (the detection window). In [out_at + propagation, lifted_at):
    every call 200, every /metrics answer from another replica, at least
    MIN_SERVED_CALLS of them. An unanswered call is an error anywhere."""
    settled = out_at + PROPAGATION.seconds
    detecting = between(calls, failed_at, settled)
    served = between(calls, settled, lifted_at)
    problems = []
    stray = [c for c in detecting if not c.ok and not c.refused_by_fault]
    if stray:
        problems.append(
            f"{len(stray)} calls failed before the gate closed, not for the fault's reason:"
            f" {[f'{c.path} {c.status} {c.detail}' for c in stray[:3]]}"
        )
    failed = [c for c in served if not c.ok]
    if failed:
        problems.append(
            f"{len(failed)} of {len(served)} calls failed with the replica out of rotation:"
            f" {[f'{c.path} {c.status} {c.detail}' for c in failed[:3]]}"
        )
    from_victim = [c for c in served if c.replica == victim]
    if from_victim:
        problems.append(f"{len(from_victim)} calls were answered by {victim} while out of rotation")
    if len(served) < MIN_SERVED_CALLS:
        problems.append(
            f"only {len(served)} calls with the replica out of rotation"
            f" (at least {MIN_SERVED_CALLS} needed to show the client was served)"
        )
    counts = {
        "calls_in_detection_window": len(detecting),
        "refusals_in_detection_window": sum(c.refused_by_fault for c in detecting),
        "calls_out_of_rotation": len(served),
        "errors_out_of_rotation": len(failed),
    }
    return problems, counts


@register
class ReadinessGate(MechanismTemplate):
    """Fail one ingest replica's probes; the Service must stop sending it clients."""

    id = "readiness_gate"
    expected_failure = (
        "past the bound, the failing replica's endpoint is still ready in the Service's"
        f" EndpointSlice and the client got at least {CONTROL_REFUSALS} refusals from it"
    )
    poll = 0.5
    margin = 6.0
    """Short on purpose: liveness restarts the replica about 20 s after the fault."""
    steady_timeout = 120.0

    @property
    def target(self) -> str:
        return TWIN if self.negative_control else TARGET

    def _deployment(self, name: str | None = None) -> dict[str, Any]:
        apps = client.AppsV1Api(self.ctx.api)
        live = apps.read_namespaced_deployment(name or self.target, self.ctx.namespace)
        return dict(self.ctx.api.sanitize_for_serialization(live))

    def _pods(self) -> list[client.V1Pod]:
        selector = self._deployment()["spec"]["selector"]["matchLabels"]
        labels = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        pods = self.ctx.core.list_namespaced_pod(self.ctx.namespace, label_selector=labels)
        return [p for p in pods.items if not p.metadata.deletion_timestamp]

    def _endpoints(self) -> dict[str, bool]:
        slices = client.DiscoveryV1Api(self.ctx.api).list_namespaced_endpoint_slice(
            self.ctx.namespace, label_selector=f"kubernetes.io/service-name={self.target}"
        )
        return ready_endpoints(self.ctx.api.sanitize_for_serialization(s) for s in slices.items)

    # The parts.

    def switch_off(self) -> None:
        topic = create_topic(self.ctx.core, self.ctx.tools_image, TWIN_TOPIC, 1, TWIN_RETENTION)
        self.note("twin_topic", topic)

        def no_gate(twin: dict[str, Any]) -> None:
            container = twin["spec"]["template"]["spec"]["containers"][0]
            container.pop("readinessProbe", None)
            env = [e for e in container.get("env") or [] if e.get("name") != "KAFKA_TOPIC"]
            container["env"] = [*env, {"name": "KAFKA_TOPIC", "value": TWIN_TOPIC}]

        twin_deployment(self.ctx, self.ctx.namespace, TARGET, TWIN, no_gate, service=TARGET)

    def steady_state(self) -> Seen[bool]:
        pods, endpoints = self._pods(), self._endpoints()
        ready = sorted(p.metadata.name for p in pods if pod_ready(p))
        marked = [p.metadata.name for p in pods if UNREADY_MARK in (p.metadata.annotations or {})]
        rotation = sorted(n for n, r in endpoints.items() if r)
        held = len(ready) >= 2 and len(ready) == len(pods) and rotation == ready and not marked
        seen = f"{self.target}: pods ready {ready} of {len(pods)}, in rotation {rotation}"
        return (True if held else None), seen + (f", marked {marked}" if marked else "")

    def bound(self) -> Bound:
        # ingest's own probes, for the control too: its twin has no readiness probe, and
        # the liveness probe it copied is ingest's
        container = self._deployment(TARGET)["spec"]["template"]["spec"]["containers"][0]
        self.readiness = dict(container.get("readinessProbe") or {})
        self.liveness = dict(container.get("livenessProbe") or {})
        if not self.readiness:
            raise FaultNotLanded(f"{TARGET} declares no readinessProbe: nothing to gate")
        return Bound(gate_terms(self.readiness))

    def strike(self) -> dict[str, Any]:
        service = self.ctx.core.read_namespaced_service(self.target, self.ctx.namespace)
        host = str(service.spec.cluster_ip)
        self.client: ServiceClient = start_service_client(
            self.ctx, self.ctx.namespace, self.ctx.tools_image, host, PORT
        )
        pods = sorted(self._pods(), key=lambda p: str(p.metadata.name))
        baseline = self._baseline({str(p.metadata.name) for p in pods})
        victim = pods[0]
        self.victim = str(victim.metadata.name)
        self.others = sorted(str(p.metadata.name) for p in pods[1:])
        self.failing: Failing = fail_health(self.ctx, self.ctx.namespace, self.victim, PORT)
        self.fault_epoch = self.failing.failed_at
        self.deadline = self.fault_epoch + liveness_deadline(self.liveness)
        return {
            **self.failing.evidence,
            "service": f"{self.target} {host}:{PORT}",
            "client_baseline": baseline,
            "lift_by_s": round(self.deadline - self.fault_epoch, 1),
        }

    def _baseline(self, replicas: set[str]) -> dict[str, Any]:
        """The client's last BASELINE_CALLS calls all answered, by every replica, before
        the strike: the steady state as the client sees it (else the run is
        inconclusive). A twin's replica refuses until its first event is acknowledged."""

        def answered() -> Seen[dict[str, Any]]:
            calls = self.client.calls()
            tail = calls[-BASELINE_CALLS:]
            seen = {c.replica for c in tail if c.replica}
            bad = [f"{c.path} {c.status} {c.detail}" for c in tail if not c.ok]
            enough = len(tail) == BASELINE_CALLS and not bad and replicas <= seen
            summary = {"calls": len(calls), "replicas": sorted(seen), "failed": bad[:3]}
            return (summary if enough else None), f"{summary}, expected all of {sorted(replicas)}"

        try:
            return wait_until("the client answered by every replica", answered, BASELINE_TIMEOUT)
        except WaitTimeout as exc:
            raise FaultNotLanded(f"no clean baseline for the client: {exc}") from exc

    def recovered(self) -> Seen[float]:
        endpoints = self._endpoints()
        if not endpoints.get(self.victim, False):
            self.out_at = time.time()
            self.ctx.timeline.add("recovered", self.victim, "endpoint not ready: out of rotation")
            return self.out_at, "out of rotation"
        self._lift_if_due()
        return None, f"{self.victim} still in rotation ({endpoints})"

    def _lift_if_due(self) -> None:
        """Lift the fault before liveness restarts the replica, whatever the verdict."""
        if time.time() >= self.deadline and self.failing.lifted_at is None:
            self.failing.lift()
            self.ctx.timeline.add("restore", self.victim, "POST /recover (liveness deadline)")

    def check(self) -> None:
        lift_at = min(self.out_at + PROPAGATION.seconds + SERVE_WINDOW, self.deadline)
        time.sleep(max(0.0, lift_at - time.time()))  # the window of calls under test
        lifted = self.failing.lift()
        self.ctx.timeline.add("restore", self.victim, "POST /recover")
        back = Bound(return_terms(self.readiness))
        self.note("return_bound", back.arithmetic())

        def returned() -> Seen[float]:
            ready = self._endpoints().get(self.victim, False)
            return (time.time() if ready else None), f"{self.victim} endpoint ready: {ready}"

        try:
            back_at = wait_until(
                f"{self.victim} back in rotation", returned, back.seconds + self.margin, 0.5
            )
        except WaitTimeout as exc:
            self.fail(f"the replica did not return to rotation after its recovery: {exc}")
            back_at = None
        if back_at is not None:
            took = back_at - lifted
            self.note("return_seconds", round(took, 1))
            if not back.holds(took):
                self.fail(f"back in rotation after {took:.1f}s, over {back.arithmetic()}")
            self._answered_again(back_at)
        calls = self.client.calls()
        problems, counts = client_problems(
            calls, self.fault_epoch, self.out_at, lifted, self.victim
        )
        self.note("client", counts | {"calls_total": len(calls)})
        for problem in problems:
            self.fail(problem)
        self._not_restarted()
        self.failing.recover()
        self.note("prometheus", self._prometheus())

    def _answered_again(self, back_at: float) -> None:
        def answered() -> Seen[float]:
            again = [c for c in between(self.client.calls(), back_at) if c.replica == self.victim]
            return (again[0].start if again else None), f"no answer from {self.victim} yet"

        try:
            at = wait_until(f"{self.victim} answering the client", answered, RETURN_TIMEOUT, 1.0)
        except WaitTimeout as exc:
            self.fail(f"the client was not answered by {self.victim} after its return: {exc}")
            return
        self.note("answered_again_after_s", round(at - back_at, 1))

    def _not_restarted(self) -> None:
        pod = self.ctx.core.read_namespaced_pod(self.victim, self.ctx.namespace)
        before = self.failing.evidence.get("restarts")
        if pod.metadata.uid != self.failing.uid or restarts(pod) != before:
            self.fail(
                f"{self.victim} was restarted or replaced (restarts {before} ->"
                f" {restarts(pod)}): liveness healed it, not the readiness gate"
            )

    def _prometheus(self) -> dict[str, Any]:
        span = max(30, int(time.time() - self.fault_epoch) + 15)
        query = f'min_over_time(ingest_healthy{{pod="{self.victim}"}}[{span}s])'
        try:
            rows = self.ctx.prom.query(query)
        except ObserverUnavailable as exc:
            return {"unreadable": str(exc)[:200]}
        return {"query": query, "min_ingest_healthy": rows[0][1] if rows else None}

    def control_failed(self) -> Seen[dict[str, Any]]:
        self._lift_if_due()
        past = time.time() - self.fault_epoch
        due = self.outcome.bound.seconds
        ready = self._endpoints().get(self.victim, False)
        refusals = [
            c for c in between(self.client.calls(), self.fault_epoch + due) if c.refused_by_fault
        ]
        seen = f"{past:.0f}s of {due:g}s: endpoint ready {ready}, {len(refusals)} refusals past it"
        if past < due or not ready or len(refusals) < CONTROL_REFUSALS:
            return None, seen
        return {
            "endpoint_ready": ready,
            "seconds_after_fault": round(past, 1),
            "bound_s": due,
            "refusals_past_bound": len(refusals),
            "first_refusals": [f"{c.path} {c.status} {c.detail}" for c in refusals[:3]],
        }, seen

    def control_healed(self) -> Seen[float]:
        ready = self._endpoints().get(self.victim, True)
        if not ready:
            return time.time(), f"{self.victim} left rotation with no readiness probe"
        return None, f"{self.victim} in rotation"
