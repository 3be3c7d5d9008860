"""The Spark operator's leader election: its settings, its Lease, its candidates, its metric.

What the harness relies on, read in the sources of the operator (Kubeflow Spark Operator
v2.5.2, cmd/operator/controller/start.go), controller-runtime v0.20.4 (its manager) and
client-go v0.32.5 (tools/leaderelection), which it runs:

- the settings are the controller's flags ``--leader-election*``, which the chart (and
  harness.deploy.operator_chart offline) writes from 04's ``controller.leaderElection``;
  v2.5.2 hands lease duration, renew deadline and retry period to the manager and leaves
  ``LeaderElectionReleaseOnCancel`` commented out: a leader that exits, even gracefully,
  does not release the Lease, so a successor waits for it to expire;
- a candidate's identity, the Lease's ``holderIdentity``, is ``<hostname>_<uuid>``, and a
  pod's hostname is its name;
- a candidate deems the Lease expired ``leaseDurationSeconds`` after it last *observed* a
  change of the record (isLeaseValid counts from observedTime, not from renewTime), and it
  tries every retry period with jitter 1.2 (wait.JitterUntil: up to 2.2 periods);
- every candidate exports ``leader_election_master_status{name=<lock>}``: 0 from its
  start (NewLeaderElector sets it), 1 once it leads. Without election no elector is made
  and the series does not exist at all;
- the leader logs ``Submitting SparkApplication`` (JSON, ``ts`` and the application's
  name) before it runs spark-submit, so the pod that submitted an application can be
  named from the logs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kubernetes import client

from harness.cluster.timing import parse_duration
from harness.deploy.operator_chart import NAME, NAMESPACE
from harness.mechanisms.model import Term
from harness.observe.prometheus import Prometheus

__all__ = [
    "CONTROLLER",
    "JITTER",
    "METRIC",
    "OPERATOR_NAMESPACE",
    "Candidate",
    "Election",
    "LeaseRecord",
    "candidate",
    "candidates",
    "classify_holder",
    "controller_args",
    "election_settings",
    "holder_pod",
    "leader_problems",
    "leader_series",
    "log_epoch",
    "operator_settled",
    "read_lease",
    "submissions",
    "submitters",
    "takeover_terms",
    "without_election",
]

JITTER = 1.2
"""client-go leaderelection.JitterFactor: a retry waits up to (1 + 1.2) retry periods."""
METRIC = "leader_election_master_status"
OPERATOR_NAMESPACE = NAMESPACE
CONTROLLER = NAME
"""The controller's Deployment and container (04, as the chart and the render name them)."""
SUBMITTING = "Submitting SparkApplication"
"""The leader's log line before spark-submit (internal/controller/sparkapplication)."""


@dataclass(frozen=True)
class Election:
    """The controller's leader-election flags (defaults: the operator v2.5.2's own)."""

    enabled: bool = False
    lock_name: str = "spark-operator-lock"
    lock_namespace: str = "spark-operator"
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0


_FLAGS = {
    "--leader-election-lock-name": "lock_name",
    "--leader-election-lock-namespace": "lock_namespace",
    "--leader-election-lease-duration": "lease_duration",
    "--leader-election-renew-deadline": "renew_deadline",
    "--leader-election-retry-period": "retry_period",
}
_TEXT = {"lock_name", "lock_namespace"}


def election_settings(args: Sequence[str]) -> Election:
    """The election flags in a controller's arguments (``--flag=value`` or ``--flag value``;
    the boolean ``--leader-election`` alone means true, as pflag reads it)."""
    found: dict[str, Any] = {}
    items = list(args)
    for i, arg in enumerate(items):
        flag, equals, value = arg.partition("=")
        if flag == "--leader-election":
            found["enabled"] = value.lower() in ("true", "1", "t") if equals else True
        elif flag in _FLAGS:
            if not equals:
                value = items[i + 1] if i + 1 < len(items) else ""
            name = _FLAGS[flag]
            found[name] = value if name in _TEXT else parse_duration(value)
    return Election(**found)


def without_election(args: Sequence[str]) -> list[str]:
    """The arguments with leader election switched off (``--leader-election=false`` in
    place of any ``--leader-election`` flag, or added); the other flags are kept."""
    kept = [a for a in args if a.partition("=")[0] != "--leader-election"]
    return [*kept, "--leader-election=false"]


def controller_args(deployment: Mapping[str, Any]) -> list[str]:
    """The controller container's arguments in a Deployment (API dict, camelCase)."""
    containers = deployment["spec"]["template"]["spec"]["containers"]
    chosen = next((c for c in containers if c["name"] == CONTROLLER), containers[0])
    return list(chosen.get("args") or [])


def takeover_terms(election: Election) -> tuple[Term, ...]:
    """A standby's way to the lease after the leader died just after renewing it."""
    retry, stretch = election.retry_period, 1 + JITTER
    flags = "live Deployment args (04 controller.leaderElection)"
    return (
        Term(
            "lease expiry",
            election.lease_duration,
            f"--leader-election-lease-duration, {flags}; a dead leader renewed at most one"
            " retry before, and v2.5.2 never releases the lease on exit",
        ),
        Term(
            "the standby sees the last renewal late",
            round(retry * stretch, 3),
            f"--leader-election-retry-period {retry:g} s x (1 + jitter {JITTER:g}): the"
            " expiry counts from when the standby observed the record (client-go isLeaseValid)",
        ),
        Term(
            "the standby's next attempt",
            round(retry * stretch, 3),
            f"--leader-election-retry-period {retry:g} s x (1 + jitter {JITTER:g})"
            " (wait.JitterUntil in acquire)",
        ),
    )


def holder_pod(identity: str) -> str:
    """The pod named by a controller-runtime identity, ``<hostname>_<uuid>``."""
    return identity.partition("_")[0]


@dataclass(frozen=True)
class LeaseRecord:
    """The Lease as the leader last wrote it; times are epoch seconds."""

    holder: str
    duration: float
    acquired: float
    renewed: float
    transitions: int

    @property
    def pod(self) -> str:
        """The holder's pod name."""
        return holder_pod(self.holder)

    def valid(self, now: float) -> bool:
        """Renewed within its duration: a live leader holds it."""
        return bool(self.holder) and now - self.renewed < self.duration

    def as_json(self, since: float) -> dict[str, Any]:
        """For the evidence: the holder and its times in seconds after ``since``."""
        return {
            "holder": self.holder,
            "acquired_s": round(self.acquired - since, 3),
            "renewed_s": round(self.renewed - since, 3),
            "transitions": self.transitions,
            "duration_s": self.duration,
        }


def read_lease(api: client.ApiClient, election: Election) -> LeaseRecord | None:
    """The election's Lease (coordination.k8s.io/v1), or None when there is none yet."""
    try:
        lease = client.CoordinationV1Api(api).read_namespaced_lease(
            election.lock_name, election.lock_namespace
        )
    except client.ApiException as exc:
        if exc.status == 404:
            return None
        raise
    spec = lease.spec
    return LeaseRecord(
        holder=spec.holder_identity or "",
        duration=float(spec.lease_duration_seconds or 0),
        acquired=spec.acquire_time.timestamp() if spec.acquire_time else 0.0,
        renewed=spec.renew_time.timestamp() if spec.renew_time else 0.0,
        transitions=int(spec.lease_transitions or 0),
    )


@dataclass(frozen=True)
class Candidate:
    """One operator pod as a candidate: which pod, since when, which container run."""

    name: str
    uid: str
    created: float
    container: str
    """The controller container's ID: a restart inside the same pod changes it."""
    restarts: int
    ready: bool
    terminating: bool

    def as_json(self, since: float) -> dict[str, Any]:
        """For the evidence: the pod, its UID, and its creation in seconds after ``since``."""
        return {
            "pod": self.name,
            "uid": self.uid,
            "created_s": round(self.created - since, 1),
            "restarts": self.restarts,
        }


def candidate(pod: client.V1Pod) -> Candidate:
    """A pod as a Candidate."""
    statuses = (pod.status.container_statuses or []) if pod.status else []
    first = statuses[0] if statuses else None
    return Candidate(
        name=pod.metadata.name,
        uid=pod.metadata.uid,
        created=pod.metadata.creation_timestamp.timestamp(),
        container=(first.container_id or "") if first else "",
        restarts=int(first.restart_count or 0) if first else 0,
        ready=bool(statuses) and all(s.ready for s in statuses),
        terminating=pod.metadata.deletion_timestamp is not None,
    )


def candidates(api: client.ApiClient) -> dict[str, Candidate]:
    """The controller's Running pods (terminating ones included, flagged), by name."""
    selector = "app.kubernetes.io/name=spark-operator,app.kubernetes.io/component=controller"
    pods = client.CoreV1Api(api).list_namespaced_pod(OPERATOR_NAMESPACE, label_selector=selector)
    return {
        p.metadata.name: candidate(p)
        for p in pods.items
        if p.status is not None and p.status.phase == "Running"
    }


def classify_holder(
    pod: str, struck: str, before: Mapping[str, Candidate], now: Mapping[str, Candidate]
) -> str:
    """Who holds the lease after the strike, against the candidates seen before it:

    ``standby`` (a pod that ran before the strike, same UID, same container run),
    ``restarted`` (such a pod, but its container restarted since), ``struck`` (the deleted
    leader's name still), ``new`` (a pod created after the strike), ``gone`` (no such
    pod now).
    """
    if pod == struck:
        return "struck"
    if pod not in now:
        return "gone"
    if pod not in before or before[pod].uid != now[pod].uid:
        return "new"
    then, current = before[pod], now[pod]
    if then.container != current.container or then.restarts != current.restarts:
        return "restarted"
    return "standby"


def leader_series(prom: Prometheus, election: Election) -> dict[str, float]:
    """``leader_election_master_status`` of the lock, summed per operator pod (Prometheus:
    08's PodMonitor spark-operator scrapes every controller pod)."""
    series: dict[str, float] = {}
    promql = f'{METRIC}{{namespace="{OPERATOR_NAMESPACE}", name="{election.lock_name}"}}'
    for labels, value in prom.query(promql):
        pod = labels.get("pod", "")
        series[pod] = series.get(pod, 0.0) + value
    return series


def leader_problems(series: Mapping[str, float], pods: set[str], holder: str) -> list[str]:
    """Why the metric does not show exactly one leader, the holder, over these pods (each
    of them scraped, no series of a pod not among them); empty when it does."""
    problems = []
    unscraped = sorted(pods - set(series))
    if unscraped:
        problems.append(f"{METRIC} not scraped from {unscraped}")
    stale = sorted(set(series) - pods)
    if stale:
        problems.append(f"{METRIC} still reported for pods not running: {stale}")
    leaders = sorted(p for p, v in series.items() if v >= 1)
    if leaders != [holder]:
        problems.append(f"leaders by {METRIC}: {leaders}, the lease holder is {holder}")
    total = sum(series.values())
    if total != 1:
        problems.append(f"sum({METRIC}) = {total:g}, not 1")
    return problems


def log_epoch(ts: str) -> float:
    """Epoch seconds of a zap ``ts`` (RFC 3339 with milliseconds and 'Z')."""
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def submissions(log: str, app: str) -> list[float]:
    """When the controller whose log this is began submitting application ``app``
    (epoch seconds of its ``Submitting SparkApplication`` lines)."""
    found = []
    for line in log.splitlines():
        if not line.startswith("{"):
            continue  # klog lines of the elector, not the controller's JSON
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        target = entry.get("SparkApplication") or {}
        if entry.get("msg") == SUBMITTING and target.get("name") == app and "ts" in entry:
            found.append(log_epoch(str(entry["ts"])))
    return found


def submitters(
    api: client.ApiClient, pods: Sequence[str], app: str, since: float
) -> dict[str, float]:
    """The pods among these whose log shows the submission of ``app`` after ``since``,
    with the first such time."""
    core = client.CoreV1Api(api)
    found = {}
    for pod in pods:
        # Unparsed: the client turns a log that happens to be one JSON document into the
        # repr of a dict. Only the lines since the strike (spark-submit lines are long).
        response = core.read_namespaced_pod_log(
            pod,
            OPERATOR_NAMESPACE,
            container=CONTROLLER,
            since_seconds=max(1, int(time.time() - since) + 5),
            _preload_content=False,
        )
        log = response.data.decode("utf-8", errors="replace")
        times = [t for t in submissions(log, app) if t >= since]
        if times:
            found[pod] = min(times)
    return found


def operator_settled(api: client.ApiClient, election: Election, now: float) -> list[str]:
    """Why the controller is not whole: its replicas not all available, or (with
    election) no valid Lease held by one of its running pods. Empty when it is."""
    deployment = client.AppsV1Api(api).read_namespaced_deployment(CONTROLLER, OPERATOR_NAMESPACE)
    want, have = int(deployment.spec.replicas or 0), int(deployment.status.available_replicas or 0)
    problems = [] if have >= want else [f"{have}/{want} controller replicas available"]
    if election.enabled:
        lease = read_lease(api, election)
        running = {n for n, c in candidates(api).items() if c.ready and not c.terminating}
        if lease is None or not lease.valid(now):
            problems.append(f"no valid lease ({lease})")
        elif lease.pod not in running:
            problems.append(f"the lease holder {lease.pod} is not a running pod {sorted(running)}")
    return problems
