"""Mechanism 8, hpa_scale: the HorizontalPodAutoscaler on ingest scales it out under CPU load
and back in after it.

What ingest is: the pipeline's producers (05), each replica writing sequence-numbered
events to the topic the Spark job reads. A replica added by the HPA is one more producer;
a replica removed ends gracefully (flush, exit 0 within 5 s). No event is lost or
doubled either way, so the catalog reconciles nothing here.

Trigger: a CPU burn inside both ingest containers (harness.chaos.burn: one exec'd busy
loop each, nice 19, self-bounded), in their own cgroups, which is what metrics-server
reports and the HPA reads. 05 caps ingest at 200m (limit): a burning replica runs at
350-390% of its 50m request (measured), the HPA's desired count is ceil(2 x ~3.7) capped
at maxReplicas (4), and the producer in the same cgroup keeps the CPU it needs (the loop
is nice 19).
Verification, from the API server:
  - the HPA's desiredReplicas > minReplicas (its status, its SuccessfulRescale event);
  - the Deployment at the desired count with every replica Ready (MTTR: burn start to
    then), and the HPA's own currentReplicas equal to desiredReplicas at its next sync;
  - the burned replicas kept serving: same pods, Ready throughout, events acked
    (ingest_events_acked_total) during the burn;
  - once the burn stops, back down to minReplicas within the scale-down bound (recorded,
    and checked).
kube-state-metrics' kube_horizontalpodautoscaler_status_desired_replicas (Prometheus) is
recorded beside them, and must have shown more than minReplicas.
Bound (scale-up), each term live: the kubelet's CPU stats refresh + metrics-server's
resolution (its --metric-resolution) + the HPA sync period (kube-controller-manager's
flag, default 15 s) + the scale-up stabilization window (06) + pod start and the first
Kafka ack + the readiness probe period (05). Scale-down: the same metric lag + two sync
periods + 06's scale-down window + the policy's further steps.
The HPA ignores CPU samples of a pod younger than its cpu-initialization-period (5 m)
unless the sample was taken wholly after the pod became Ready: the steady state waits
until every ingest pod's sample would count (sample_counts), or a burn on a freshly
rolled replica would be invisible to the HPA.

Negative control: the HPA deleted (its rollback re-creates it from 06, once the burn's
samples are gone, so it does not scale on them), the same burn. Declared failure: past
the bound, the Deployment still at minReplicas while the utilization metrics-server
reports (the HPA's own source, read from metrics.k8s.io) is above the target by more
than the HPA's tolerance in at least two metric windows.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from kubernetes import client

from harness.chaos.burn import CpuBurn, burn_cpu
from harness.drift import drift
from harness.errors import FaultNotLanded, ObserverUnavailable, WaitTimeout
from harness.invariants import declared_documents
from harness.mechanisms.model import Bound, Term
from harness.mechanisms.template import MechanismTemplate, Seen, register
from harness.observe.autoscaling import (
    HpaTiming,
    ScaleView,
    Utilization,
    epoch,
    live_timing,
    pod_metrics,
    policy_period,
    policy_steps,
    rescale_events,
    sample_counts,
    sample_window,
    utilization,
)
from harness.observe.wait import wait_until

__all__ = [
    "HpaScale",
    "scale_down_terms",
    "scale_up_terms",
    "served_problems",
    "stayed_evidence",
]

TARGET = "ingest"
"""The Deployment, and the HPA of 06 that scales it (same name)."""
MANIFEST = "06-autoscaling.yaml"
HOUSEKEEPING = Term(
    "kubelet CPU stats refresh",
    10,
    "kubelet --housekeeping-interval default 10s (the kind config sets none)",
)
POD_START = Term(
    "scheduling, container start, first Kafka ack",
    15,
    "measured 7 s on 2 cores (created to Ready, image cached), + margin",
)
BURN_SLACK = 90.0
"""The burn outlives the recovery wait (bound + margin) by this much, so it is still on
while the checks run; the rollback kills it long before it ends by itself."""
RESTORE_TIMEOUT = 60.0
"""The burn's last samples leave metrics-server within a resolution or two."""
EVENT_SLACK = 2.0
"""Event times are the API server's seconds."""


def scale_up_terms(
    timing: HpaTiming, resolution: float, spec: Mapping[str, Any], probe: float
) -> tuple[Term, ...]:
    """Burn start → the first scaled-up replicas Ready."""
    up = (spec.get("behavior") or {}).get("scaleUp") or {}
    return (
        HOUSEKEEPING,
        Term("metrics-server resolution", resolution, "metrics-server --metric-resolution (live)"),
        Term("HPA sync period", timing.sync, timing.source),
        Term(
            "scale-up stabilization window",
            float(up.get("stabilizationWindowSeconds") or 0),
            "06 behavior.scaleUp.stabilizationWindowSeconds",
        ),
        POD_START,
        Term("readiness probe period", probe, "05 ingest readinessProbe.periodSeconds (live)"),
    )


def scale_down_terms(
    timing: HpaTiming, resolution: float, spec: Mapping[str, Any], peak: int
) -> tuple[Term, ...]:
    """Burn stopped → back at minReplicas: the metric lag, a sync to see it, the window,
    the sync at its edge, then the policy's further steps."""
    down = (spec.get("behavior") or {}).get("scaleDown") or {}
    window = down.get("stabilizationWindowSeconds")
    steps = policy_steps(down, peak, int(spec.get("minReplicas") or 1))
    return (
        HOUSEKEEPING,
        Term("metrics-server resolution", resolution, "metrics-server --metric-resolution (live)"),
        Term("HPA syncs: one to see it, one at the window's edge", 2 * timing.sync, timing.source),
        Term(
            "scale-down stabilization window",
            float(300 if window is None else window),
            "06 behavior.scaleDown.stabilizationWindowSeconds",
        ),
        Term(
            "further scale-down steps",
            steps * policy_period(down),
            f"06 behavior.scaleDown.policies: {steps} more period(s) from {peak}",
        ),
    )


def stayed_evidence(
    readings: Sequence[Utilization],
    view: ScaleView,
    minimum: int,
    threshold: float,
    past: float,
    due: float,
) -> dict[str, Any] | None:
    """The control's declared failure, once certain: past the bound, the Deployment still
    at minReplicas, and at least two metric windows above the HPA's threshold, the
    latest among them."""
    above = [r for r in readings if r.percent > threshold]
    if past < due or not view.settled_at(minimum) or len(above) < 2:
        return None
    if readings[-1].percent <= threshold:
        return None
    return {
        "replicas": view.spec,
        "ready": view.ready,
        "min_replicas": minimum,
        "utilization_above_target": [r.as_json() for r in above[-4:]],
        "windows_above": len(above),
        "threshold_percent": round(threshold, 1),
        "seconds_after_burn": round(past, 1),
        "bound_s": due,
    }


def _restarts(pod: Mapping[str, Any]) -> int:
    return sum(s.get("restartCount", 0) for s in pod["status"].get("containerStatuses") or [])


def served_problems(
    before: Mapping[str, Mapping[str, Any]],
    pods: Sequence[Mapping[str, Any]],
    acked: Mapping[str, float],
    burn_started: float,
) -> list[str]:
    """What says a burned replica stopped serving (empty: none did): ``before`` maps each
    burned pod to its UID and restarts at the strike; ``acked`` is the events each pod
    acked during the burn. Each must be the same pod, Ready since before the burn, not
    restarted, and have acked events."""
    by_name = {p["metadata"]["name"]: p for p in pods}
    problems = []
    for name, was in sorted(before.items()):
        pod = by_name.get(name)
        if pod is None or pod["metadata"]["uid"] != was["uid"]:
            problems.append(f"burned replica {name} was replaced during the burn")
            continue
        conditions = pod["status"].get("conditions") or []
        ready = next((c for c in conditions if c["type"] == "Ready"), {"status": "missing"})
        if ready["status"] != "True" or epoch(ready["lastTransitionTime"]) > burn_started:
            problems.append(f"burned replica {name} was not Ready throughout the burn: {ready}")
        if _restarts(pod) != was["restarts"]:
            problems.append(
                f"burned replica {name} restarted ({was['restarts']} -> {_restarts(pod)})"
            )
        if acked.get(name, 0.0) <= 0:
            problems.append(f"burned replica {name} acked no event during the burn")
    return problems


@dataclass
class _Stages:
    at: dict[str, float] = field(default_factory=dict)

    def first(self, name: str, when: float | None = None) -> bool:
        if name in self.at:
            return False
        self.at[name] = time.time() if when is None else when
        return True


@register
class HpaScale(MechanismTemplate):
    """Burn CPU in ingest; the HPA must scale it out, then back in once the burn stops."""

    id = "hpa_scale"
    expected_failure = (
        "past the bound, ingest still runs minReplicas (2) while the CPU utilization"
        " metrics-server reports is above the HPA's target (+ tolerance) in two windows"
    )
    poll = 2.0

    def _declared(self) -> dict[str, Any]:
        return next(
            d
            for d in declared_documents(MANIFEST)
            if d["kind"] == "HorizontalPodAutoscaler" and d["metadata"]["name"] == TARGET
        )

    def _hpa(self) -> dict[str, Any] | None:
        api = client.AutoscalingV2Api(self.ctx.api)
        try:
            hpa = api.read_namespaced_horizontal_pod_autoscaler(TARGET, self.ctx.namespace)
        except client.ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return dict(self.ctx.api.sanitize_for_serialization(hpa))

    def _deployment(self) -> dict[str, Any]:
        apps = client.AppsV1Api(self.ctx.api)
        live = apps.read_namespaced_deployment(TARGET, self.ctx.namespace)
        return dict(self.ctx.api.sanitize_for_serialization(live))

    def _view(self) -> ScaleView:
        return ScaleView.of(self._deployment(), self._hpa())

    def _pods(self) -> list[dict[str, Any]]:
        selector = self._deployment()["spec"]["selector"]["matchLabels"]
        labels = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        pods = self.ctx.core.list_namespaced_pod(self.ctx.namespace, label_selector=labels)
        return [self.ctx.api.sanitize_for_serialization(p) for p in pods.items]

    def _metrics(self) -> list[dict[str, Any]]:
        return pod_metrics(self.ctx.api, self.ctx.namespace)

    def _utilization(self) -> Utilization | None:
        return utilization(self._pods(), self._metrics())

    def _spec(self) -> dict[str, Any]:
        """The HPA's spec: live, or 06's while the control has it deleted."""
        live = self._hpa()
        return dict((live or self._declared())["spec"])

    @property
    def threshold(self) -> float:
        """The utilization (%) above which the HPA scales up: target x (1 + tolerance)."""
        target = self.hpa_spec["metrics"][0]["resource"]["target"]["averageUtilization"]
        return float(target) * (1 + self.timing.tolerance)

    # The parts.

    def switch_off(self) -> None:
        declared = self._declared()
        api = client.AutoscalingV2Api(self.ctx.api)
        self.ctx.rollbacks.register(
            f"re-create the HPA {TARGET} from 06 once the burn's samples are gone",
            lambda: self._restore_hpa(declared),
            leftover=lambda: self._hpa_drift(declared),
        )
        api.delete_namespaced_horizontal_pod_autoscaler(TARGET, self.ctx.namespace)

        def gone() -> Seen[bool]:
            return (True if self._hpa() is None else None), "HPA still there"

        wait_until(f"HPA {TARGET} deleted", gone, 30.0, 0.5)

    def _restore_hpa(self, declared: dict[str, Any]) -> None:
        threshold = float(
            declared["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"]
        )

        def calm() -> Seen[bool]:
            now = self._utilization()
            low = now is not None and now.percent < threshold
            return (True if low else None), f"utilization {now.as_json() if now else None}"

        try:  # a re-created HPA would scale on the burn's last samples
            wait_until("ingest's CPU back under the target", calm, RESTORE_TIMEOUT, 2.0)
        except WaitTimeout as exc:
            self.ctx.timeline.add("restore", TARGET, f"re-created while still busy: {exc}"[:200])
        api = client.AutoscalingV2Api(self.ctx.api)
        if self._hpa() is None:
            body = {k: v for k, v in declared.items() if k != "status"}
            api.create_namespaced_horizontal_pod_autoscaler(self.ctx.namespace, body)
        self.ctx.timeline.add("restore", f"hpa/{TARGET}", "re-created from 06")

    def _hpa_drift(self, declared: dict[str, Any]) -> list[str]:
        live = self._hpa()
        if live is None:
            return [f"HPA {self.ctx.namespace}/{TARGET} (06) missing"]
        return [f"HPA {TARGET}: {d}" for d in drift(declared["spec"], live["spec"], (), "spec")]

    def steady_state(self) -> Seen[bool]:
        self.hpa_spec = self._spec()
        self.timing, self.resolution = live_timing(self.ctx.api)
        minimum = int(self.hpa_spec.get("minReplicas") or 1)
        view, now = self._view(), time.time()
        pods = [p for p in self._pods() if not p["metadata"].get("deletionTimestamp")]
        samples = {m["metadata"]["name"]: m for m in self._metrics()}
        waiting = [
            p["metadata"]["name"]
            for p in pods
            if p["metadata"]["name"] not in samples
            or not sample_counts(
                p, *sample_window(samples[p["metadata"]["name"]]), self.timing, now
            )
        ]
        busy = self._utilization()
        seen = f"{view}; pods whose CPU sample the HPA would skip: {waiting}; measured {busy}"
        held = view.settled_at(minimum) and len(pods) == minimum and not waiting
        held = held and busy is not None and busy.percent < self.threshold
        if self.negative_control:
            held = held and view.desired is None
        else:
            held = held and view.desired == view.current == minimum
        return (True if held else None), seen

    def bound(self) -> Bound:
        probe = self._deployment()["spec"]["template"]["spec"]["containers"][0]
        period = float((probe.get("readinessProbe") or {}).get("periodSeconds") or 10)
        return Bound(scale_up_terms(self.timing, self.resolution, self.hpa_spec, period))

    def strike(self) -> dict[str, Any]:
        self.stages = _Stages()
        self.readings: list[Utilization] = []
        self.minimum = int(self.hpa_spec.get("minReplicas") or 1)
        pods = [p for p in self._pods() if not p["metadata"].get("deletionTimestamp")]
        self.before = {
            p["metadata"]["name"]: {
                "uid": p["metadata"]["uid"],
                "restarts": _restarts(p),
            }
            for p in pods
        }
        seconds = math.ceil(self.outcome.bound.seconds + self.margin + BURN_SLACK)
        self.burn: CpuBurn = burn_cpu(self.ctx, self.ctx.namespace, sorted(self.before), seconds)
        return {**self.burn.evidence, "replicas_before": self._view().spec}

    def _observe(self) -> ScaleView:
        """Read the HPA and the Deployment; note each stage the first time it is seen."""
        view = self._view()
        busy = view.utilization is not None and view.utilization > self.threshold
        if busy and self.stages.first("HPA reads utilization above target"):
            self.ctx.timeline.add("symptom", f"hpa/{TARGET}", f"cpu {view.utilization}%")
        up = view.desired is not None and view.desired > self.minimum
        if up and self.stages.first("desired above min"):
            self.ctx.timeline.add("symptom", f"hpa/{TARGET}", f"desired {view.desired}")
        return view

    def _read_utilization(self) -> Utilization | None:
        now = self._utilization()
        if now is not None and (not self.readings or now.at > self.readings[-1].at):
            self.readings.append(now)
        return now

    def _burn_never_seen(self, past: float) -> None:
        """FaultNotLanded when, well past the bound, no reading ever showed the burn."""
        above = [r for r in self.readings if r.percent > self.threshold]
        if above or "HPA reads utilization above target" in self.stages.at:
            return
        if past > self.outcome.bound.seconds + self.margin / 2:
            raise FaultNotLanded(
                f"{past:.0f}s into the burn no CPU reading of ingest is above"
                f" {self.threshold:.0f}%: the burn never showed in its metrics"
                f" (readings {[r.as_json() for r in self.readings[-3:]]})"
            )

    def recovered(self) -> Seen[float]:
        view = self._observe()
        self._read_utilization()
        past = time.time() - self.burn.started_at
        up = view.desired is not None and view.desired > self.minimum
        if up and view.settled_at(int(view.desired or 0)):
            self.peak = view
            return time.time(), str(view)
        self._burn_never_seen(past)
        return None, f"{view}; {past:.0f}s into the burn"

    def mttr(self, recovered_at: float) -> float:
        return recovered_at - self.burn.started_at

    def check(self) -> None:
        self.note("at_peak", asdict(self.peak))
        self._caught_up()
        self.note("hpa_conditions_at_peak", self._conditions())
        self._served()
        self.burn.stop()
        self.ctx.timeline.add("restore", TARGET, "CPU burn stopped")
        down = Bound(
            scale_down_terms(self.timing, self.resolution, self.hpa_spec, int(self.peak.spec))
        )
        self.note("scale_down_bound", down.arithmetic())

        def back() -> Seen[float]:
            view = self._observe()
            home = view.desired == self.minimum and view.settled_at(self.minimum)
            return (time.time() if home else None), str(view)

        try:
            home = wait_until(
                f"ingest back at {self.minimum} replicas", back, down.seconds + self.margin, 2.0
            )
        except WaitTimeout as exc:
            self.fail(f"no scale-down to minReplicas after the burn: {exc}")
            home = None
        if home is not None:
            assert self.burn.stopped_at is not None
            took = home - self.burn.stopped_at
            self.note("scale_down_seconds", round(took, 1))
            if not down.holds(took):
                self.fail(f"scaled down in {took:.1f}s, over {down.arithmetic()}")
        self.note("rescale_events", self._rescales())
        self.note("stages_after_burn_s", self._stages())
        self.note("utilization_readings", [r.as_json() for r in self.readings[-6:]])
        self.note("prometheus", self._prometheus())

    def _caught_up(self) -> None:
        """The HPA's own currentReplicas reaches its desired count: it reads the target's
        scale at its next sync, after the new replicas exist (seen: 2 while 4 ran Ready)."""

        def probe() -> Seen[float]:
            view = self._observe()
            caught = view.current is not None and view.current == view.desired
            return (time.time() if caught else None), str(view)

        try:
            at = wait_until(
                "the HPA's currentReplicas = desiredReplicas",
                probe,
                self.timing.sync + self.margin,
                1.0,
            )
        except WaitTimeout as exc:
            self.fail(f"the HPA's currentReplicas never reached desiredReplicas: {exc}")
            return
        self.stages.first("HPA current = desired", at)

    def _served(self) -> None:
        """The burned replicas kept serving (served_problems)."""
        span = max(30, math.ceil(time.time() - self.burn.started_at))
        query = (
            f'sum by (pod) (increase(ingest_events_acked_total{{namespace="{self.ctx.namespace}"'
            f"}}[{span}s]))"
        )
        acked = {labels.get("pod", ""): value for labels, value in self.ctx.prom.query(query)}
        self.note("events_acked_during_burn", {n: round(acked.get(n, 0.0)) for n in self.before})
        for problem in served_problems(self.before, self._pods(), acked, self.burn.started_at):
            self.fail(problem)

    def _conditions(self) -> list[str]:
        hpa = self._hpa() or {}
        return [
            f"{c['type']}={c['status']} {c.get('reason')}: {c.get('message')}"
            for c in (hpa.get("status") or {}).get("conditions") or []
        ]

    def _rescales(self) -> list[str]:
        since = self.burn.started_at - EVENT_SLACK
        out = []
        for at, message in rescale_events(self.ctx.core, self.ctx.namespace, TARGET, since):
            out.append(f"+{at - self.burn.started_at:.0f}s {message}")
            self.stages.first(f"rescale: {message[:40]}", at)
        return out

    def _stages(self) -> dict[str, float]:
        ordered = sorted(self.stages.at.items(), key=lambda kv: kv[1])
        return {k: round(v - self.burn.started_at, 1) for k, v in ordered}

    def _prometheus(self) -> dict[str, Any]:
        span = max(30, math.ceil(time.time() - self.burn.started_at))
        series = (
            f'kube_horizontalpodautoscaler_status_desired_replicas{{namespace="'
            f'{self.ctx.namespace}",horizontalpodautoscaler="{TARGET}"}}'
        )
        try:
            peak = self.ctx.prom.scalar(f"max_over_time({series}[{span}s])")
            now = self.ctx.prom.scalar(series)
        except ObserverUnavailable as exc:
            return {"unreadable": str(exc)[:200]}
        if peak <= self.minimum:
            self.fail(
                f"kube-state-metrics never showed desired replicas above {self.minimum}"
                f" (max over {span}s: {peak})"
            )
        return {"max_desired_replicas": peak, "desired_replicas_now": now, "span_s": span}

    def control_failed(self) -> Seen[dict[str, Any]]:
        view = self._view()
        now = self._read_utilization()
        past = time.time() - self.burn.started_at
        due = self.outcome.bound.seconds
        self._burn_never_seen(past)
        evidence = stayed_evidence(self.readings, view, self.minimum, self.threshold, past, due)
        shown = now.as_json() if now else None
        return evidence, f"{view}; measured {shown}; {past:.0f}s of the {due:.0f}s bound"

    def control_healed(self) -> Seen[float]:
        view = self._view()
        if view.spec > self.minimum:
            return time.time(), f"ingest scaled to {view.spec} with no HPA"
        return None, f"ingest at {view.spec}"
