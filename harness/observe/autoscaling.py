"""Reading a HorizontalPodAutoscaler the way its controller sees the world.

The HPA's timing lives in kube-controller-manager's flags (sync period, tolerance, the
CPU initialization period), its metric in metrics-server (``--metric-resolution``), and
its decision in its status and its SuccessfulRescale events. The functions here read
each from the cluster, and compute utilization from metrics.k8s.io with the HPA's own
rules, so a check can say what the HPA saw when it has been switched off.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kubernetes import client
from kubernetes.utils import parse_quantity

from harness.cluster.timing import parse_duration
from harness.errors import ObserverUnavailable

__all__ = [
    "HpaTiming",
    "ScaleView",
    "Utilization",
    "controller_timing",
    "epoch",
    "live_timing",
    "metric_resolution",
    "pod_metrics",
    "policy_period",
    "policy_steps",
    "rescale_events",
    "sample_counts",
    "sample_window",
    "utilization",
]


def epoch(stamp: Any) -> float:
    """Epoch seconds of an API timestamp (RFC 3339 text or a datetime)."""
    if isinstance(stamp, datetime):
        return stamp.timestamp()
    return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()


def _millis(quantity: Any) -> float:
    return float(parse_quantity(str(quantity)) * 1000) if quantity not in (None, "") else 0.0


def _flag(command: Sequence[str], name: str) -> str | None:
    """The value of --name=value (or --name value) in a command line."""
    for i, arg in enumerate(command):
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
        if arg == f"--{name}" and i + 1 < len(command):
            return command[i + 1]
    return None


@dataclass(frozen=True)
class HpaTiming:
    """The HPA controller's settings (kube-controller-manager flags; v1.34 defaults)."""

    sync: float = 15.0
    tolerance: float = 0.1
    cpu_initialization: float = 300.0
    readiness_delay: float = 30.0
    source: str = "kube-controller-manager defaults"


def controller_timing(command: Sequence[str]) -> HpaTiming:
    """The HPA settings a kube-controller-manager command line sets, defaults elsewhere."""
    prefix = "horizontal-pod-autoscaler-"
    found: dict[str, Any] = {}
    durations = {
        "sync": "sync-period",
        "cpu_initialization": "cpu-initialization-period",
        "readiness_delay": "initial-readiness-delay",
    }
    for key, flag in durations.items():
        value = _flag(command, prefix + flag)
        if value is not None:
            found[key] = parse_duration(value)
    tolerance = _flag(command, prefix + "tolerance")
    if tolerance is not None:
        found["tolerance"] = float(tolerance)
    shown = ", ".join(f"{k}={v:g}" for k, v in sorted(found.items())) or "none set"
    return HpaTiming(**found, source=f"kube-controller-manager flags ({shown}; else defaults)")


def metric_resolution(command: Sequence[str]) -> float:
    """metrics-server's --metric-resolution (default 60s)."""
    value = _flag(command, "metric-resolution")
    return 60.0 if value is None else parse_duration(value)


def _command(container: Any) -> list[str]:
    return [*(container.command or []), *(container.args or [])]


def live_timing(api: client.ApiClient) -> tuple[HpaTiming, float]:
    """The HPA controller's settings and metrics-server's resolution, read from the pods
    and Deployment that run them (kube-system)."""
    managers = client.CoreV1Api(api).list_namespaced_pod(
        "kube-system", label_selector="component=kube-controller-manager"
    )
    if not managers.items:
        raise ObserverUnavailable("no kube-controller-manager pod to read the HPA flags of")
    timing = controller_timing(_command(managers.items[0].spec.containers[0]))
    server = client.AppsV1Api(api).read_namespaced_deployment("metrics-server", "kube-system")
    return timing, metric_resolution(_command(server.spec.template.spec.containers[0]))


def sample_counts(
    pod: Mapping[str, Any], metric_end: float, window: float, timing: HpaTiming, now: float
) -> bool:
    """Whether the HPA counts this pod's CPU sample (replica_calculator's groupPods): a pod
    within its cpu-initialization-period counts only when Ready and sampled for a whole
    window after it became Ready; an older one unless it has never been Ready."""
    status = pod.get("status") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    if ready is None or not status.get("startTime"):
        return False
    started, since = epoch(status["startTime"]), epoch(ready["lastTransitionTime"])
    if started + timing.cpu_initialization > now:
        return bool(ready.get("status") == "True" and metric_end >= since + window)
    return not (ready.get("status") == "False" and started + timing.readiness_delay > since)


def pod_metrics(api: client.ApiClient, namespace: str) -> list[dict[str, Any]]:
    """metrics.k8s.io PodMetrics of a namespace (what the HPA reads)."""
    listed = client.CustomObjectsApi(api).list_namespaced_custom_object(
        "metrics.k8s.io", "v1beta1", namespace, "pods"
    )
    return list(listed.get("items") or [])


def sample_window(sample: Mapping[str, Any]) -> tuple[float, float]:
    """A PodMetrics sample's end (epoch) and window (seconds)."""
    return epoch(sample["timestamp"]), parse_duration(str(sample.get("window") or "0s"))


@dataclass(frozen=True)
class Utilization:
    """CPU utilization as the HPA computes it: the pods' usage over their requests."""

    percent: float
    usage: dict[str, float]
    """Pod → millicores used in the metric window."""
    requests: float
    at: float
    """The latest sample's end (epoch)."""

    def as_json(self) -> dict[str, Any]:
        """For the report."""
        return {
            "percent": round(self.percent, 1),
            "usage_m": {k: round(v, 1) for k, v in sorted(self.usage.items())},
            "requests_m": self.requests,
            "at": round(self.at, 1),
        }


def utilization(
    pods: Iterable[Mapping[str, Any]], metrics: Iterable[Mapping[str, Any]]
) -> Utilization | None:
    """Usage over requests of the running, not deleting pods that have a sample (as the
    HPA: a pod without one is left out); None when none has."""
    by_name = {m["metadata"]["name"]: m for m in metrics}
    usage: dict[str, float] = {}
    requests, at = 0.0, 0.0
    for pod in pods:
        meta, spec = pod["metadata"], pod.get("spec") or {}
        sample = by_name.get(meta["name"])
        running = (pod.get("status") or {}).get("phase") == "Running"
        if sample is None or not running or meta.get("deletionTimestamp"):
            continue
        usage[meta["name"]] = sum(
            _millis((c.get("usage") or {}).get("cpu")) for c in sample.get("containers") or []
        )
        requests += sum(
            _millis(((c.get("resources") or {}).get("requests") or {}).get("cpu"))
            for c in spec.get("containers") or []
        )
        at = max(at, epoch(sample["timestamp"]))
    if not usage or requests <= 0:
        return None
    return Utilization(100.0 * sum(usage.values()) / requests, usage, requests, at)


@dataclass(frozen=True)
class ScaleView:
    """One reading of a Deployment and (when it exists) the HPA that scales it."""

    spec: int
    replicas: int
    ready: int
    desired: int | None = None
    current: int | None = None
    utilization: float | None = None
    """The HPA's own reading (status.currentMetrics), percent of request."""

    @classmethod
    def of(cls, deployment: Mapping[str, Any], hpa: Mapping[str, Any] | None) -> ScaleView:
        """From the API's JSON (camelCase)."""
        status = deployment.get("status") or {}
        spec = int((deployment.get("spec") or {}).get("replicas") or 0)
        replicas, ready = int(status.get("replicas") or 0), int(status.get("readyReplicas") or 0)
        if hpa is None:
            return cls(spec, replicas, ready)
        hs = hpa.get("status") or {}
        percent = None
        for metric in hs.get("currentMetrics") or []:
            current = (metric.get("resource") or {}).get("current") or {}
            if current.get("averageUtilization") is not None:
                percent = float(current["averageUtilization"])
        desired, now = hs.get("desiredReplicas"), hs.get("currentReplicas")
        return cls(spec, replicas, ready, desired, now, percent)

    def settled_at(self, count: int) -> bool:
        """The Deployment at exactly ``count`` replicas, every one Ready."""
        return self.spec == self.replicas == count and self.ready >= count

    def __str__(self) -> str:
        hpa = (
            f"; HPA desired {self.desired}, current {self.current}, cpu {self.utilization}%"
            if self.desired is not None
            else "; no HPA status"
        )
        return f"replicas {self.spec} (ready {self.ready}/{self.replicas}){hpa}"


def policy_steps(behavior: Mapping[str, Any], start: int, end: int) -> int:
    """How many policy periods a change from ``start`` to ``end`` replicas takes beyond
    the first (selectPolicy Max: the largest change any policy allows per period)."""
    change = abs(end - start)
    allowed = 0
    for policy in behavior.get("policies") or []:
        value = int(policy.get("value") or 0)
        if policy.get("type") == "Percent":
            value = max(1, math.ceil(start * value / 100))
        allowed = max(allowed, value)
    if change == 0 or allowed <= 0:
        return 0
    return math.ceil(change / allowed) - 1


def policy_period(behavior: Mapping[str, Any]) -> float:
    """The longest periodSeconds of a scaling rule's policies (15 s without any)."""
    periods = [float(p.get("periodSeconds") or 15) for p in behavior.get("policies") or []]
    return max(periods or [15.0])


def rescale_events(
    core: client.CoreV1Api, namespace: str, name: str, since: float
) -> list[tuple[float, str]]:
    """(epoch, message) of the HPA's SuccessfulRescale events at or after ``since``."""
    events = core.list_namespaced_event(
        namespace,
        field_selector=f"involvedObject.kind=HorizontalPodAutoscaler,involvedObject.name={name}",
    ).items
    out = []
    for event in events:
        stamp = event.last_timestamp or event.event_time or event.metadata.creation_timestamp
        if event.reason == "SuccessfulRescale" and epoch(stamp) >= since:
            out.append((epoch(stamp), str(event.message)))
    return sorted(out)
