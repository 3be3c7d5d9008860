"""Endpoint faults: one replica behind a Service fails its probes; a client calls the
Service meanwhile and records every answer.

``fail_health`` sends ``POST /fail`` to one ingest replica from inside its own pod (to
127.0.0.1: no NetworkPolicy stands between a pod and itself). The replica's ``/readyz``
and ``/healthz`` then answer 503, "unhealthy: failed on request (POST /fail)", until
``POST /recover``. That fails the liveness probe too (the pipeline-tools image has no
readiness-only failure), so the fault must be lifted before liveness would restart the
container: the caller keeps the window shorter than liveness periodSeconds x
(failureThreshold - 1). It landed when the replica answered "unhealthy" and its
``/readyz`` refuses with the fault's reason (read inside the pod).

Before the request, the pod is marked (annotation ``harness.local/chaos-unready``) and
the rollback registered: ``POST /recover``, a wait until the pod is Ready, the mark
removed. A run killed mid-fault leaves the mark (liveness restarts the container within
about 30 s anyway); harness.chaos.leftovers deletes such a pod, and its Deployment
replaces it with a fresh one.

``start_service_client`` runs a client pod against a Service's ClusterIP (no DNS lookup
per request that could fail on its own): bash in the pipeline-tools image (Debian, bash
5.2), so no new program and no image rebuild. Each request opens its own TCP connection
(bash's /dev/tcp, HTTP/1.0): a kept-alive connection stays with the backend it was opened
to after the Service has dropped that backend, so it would measure the connection, not
the Service. coreutils' ``timeout`` bounds each request. Requests alternate between
``GET /readyz``, the answer a client of this replica gets (200 "ok", or 503 with the
reason it would refuse), and ``GET /metrics``, whose ``ingest_info{producer=...}`` names
the replica that answered (the pod's name): that is how the client sees which replicas
are in the Service's rotation. The pod carries ``harness.local/ingest-client``, which 07
lets reach the ingest pods and their twin, and ``harness.local/chaos``, so the sweep
removes one an interrupted run left. Its log holds one line per request:
``<start> <end> <path> <status> <detail>`` (status ``ERR``: no answer; detail: the first
body line, or ``replica=<pod>``); ``parse_calls`` reads it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client

from harness.chaos.scope import FaultScope
from harness.errors import FaultNotLanded, HarnessError
from harness.invariants import CHAOS_LABEL
from harness.kube import exec_in_pod, read_pod
from harness.observe.wait import wait_until

__all__ = [
    "CLIENT_LABEL",
    "FAULT_REASON",
    "UNREADY_MARK",
    "Call",
    "Failing",
    "ServiceClient",
    "between",
    "client_pod",
    "fail_health",
    "parse_calls",
    "pod_ready",
    "restarts",
    "start_service_client",
]

UNREADY_MARK = "harness.local/chaos-unready"
"""On a pod whose probes the harness failed; removed when it recovers it."""
CLIENT_LABEL = "harness.local/ingest-client"
"""07 lets pods with this label reach the ingest pods' HTTP port (and its twin's)."""
FAULT_REASON = "failed on request (POST /fail)"
"""How a replica told to fail says so (pipeline-tools ingest_http.go): the one refusal
that names the struck replica, since only it was told to fail."""
RECOVER_TIMEOUT = 30.0
"""POST /recover, then the next readiness probes (period 2 s) and the status update."""
CLIENT_START_TIMEOUT = 60.0
"""A small pod of a cached image on a busy two-core machine."""
CLIENT_LIFETIME = 900
"""The client's own end (seconds): a client whose rollback never ran stops calling."""
CLIENT_PAUSE = 0.05
"""Seconds between one request's end and the next one's start: about ten a second
with bash's fork and exec on two cores."""
REQUEST_TIMEOUT = 1
"""Seconds one request may take, connection included (the Service answers in ms)."""
EXEC_TIMEOUT = 5
"""Seconds for one request made inside a replica (exec)."""

HTTP_REQUEST = r"""exec 3<>"/dev/tcp/$1/$2" || exit 3
printf '%s %s HTTP/1.0\r\nHost: %s\r\nContent-Length: 0\r\n\r\n' "$3" "$4" "$1" >&3
read -r _ status _ <&3 || exit 4
detail='' headers=1
while IFS= read -r line <&3 || [ -n "$line" ]; do
  line=${line%$'\r'}
  if ((headers)); then [ -z "$line" ] && headers=0; continue; fi
  case $line in
    'ingest_info{producer="'*) line=${line#*producer=\"}; detail="replica=${line%%\"*}"; break ;;
    ingest_* | '#'*) ;;
    *) detail=$line; break ;;
  esac
done
printf '%s %s\n' "$status" "$detail"
"""
"""One HTTP/1.0 request on a new connection, in bash: host port method path → a line
``<status> <detail>`` (exit 3: no connection, 4: no status line)."""

CLIENT_LOOP = r"""host=$1 port=$2 pause=$3 until=$(( ${EPOCHREALTIME%.*} + $4 )) limit=$5 req=$6
exec {nap}<> <(:)
n=0
while (( ${EPOCHREALTIME%.*} < until )); do
  path=/readyz; (( n++ % 2 )) && path=/metrics
  start=$EPOCHREALTIME
  out=$(timeout "$limit" bash -c "$req" request "$host" "$port" GET "$path" 2>&1) ||
    out="ERR exit=$? ${out//[$'\n\r']/ }"
  printf '%s %s %s %s\n' "$start" "$EPOCHREALTIME" "$path" "$out"
  read -r -t "$pause" -u "$nap" _ || :
done
"""
"""The client: host port pause lifetime timeout request-script. ``read -t`` on a pipe
it holds open itself is the pause (no sleep process per request)."""


def _request(
    core: client.CoreV1Api, namespace: str, pod: str, port: int, method: str, path: str
) -> tuple[str, str]:
    """One request to http://127.0.0.1:port/path, made inside the pod: (status, detail);
    status "ERR" when no answer came."""
    command = [
        "timeout",
        str(EXEC_TIMEOUT),
        "bash",
        "-c",
        HTTP_REQUEST,
        "request",
        "127.0.0.1",
        str(port),
        method,
        path,
    ]
    code, out = exec_in_pod(core, namespace, pod, command, EXEC_TIMEOUT + 10)
    lines = [line for line in out.splitlines() if line.strip()]
    if code != 0 or not lines:
        return "ERR", f"exit {code}: {out.strip()[-200:]}"
    status, _, detail = lines[-1].partition(" ")
    return status, detail


def pod_ready(pod: client.V1Pod) -> bool:
    """The pod's Ready condition is True and it is not terminating."""
    conditions = (pod.status.conditions or []) if pod.status else []
    ready = [c.status for c in conditions if c.type == "Ready"]
    return ready == ["True"] and not pod.metadata.deletion_timestamp


def restarts(pod: client.V1Pod) -> int:
    """The pod's container restarts, summed."""
    return sum(s.restart_count for s in (pod.status.container_statuses or []))


@dataclass
class Failing:
    """One replica failing its probes; ``lift`` ends the fault, ``recover`` also waits
    until the pod is Ready and unmarks it (the rollback; idempotent)."""

    core: client.CoreV1Api
    namespace: str
    pod: str
    uid: str
    port: int
    failed_at: float = 0.0
    """Epoch just before POST /fail was sent (the fault can be no older)."""
    evidence: dict[str, Any] = field(default_factory=dict)
    lifted_at: float | None = None
    recovered: bool = False

    def _same_pod(self) -> client.V1Pod | None:
        pod = read_pod(self.core, self.namespace, self.pod)
        return pod if pod is not None and pod.metadata.uid == self.uid else None

    def lift(self) -> float:
        """POST /recover to the replica; the epoch it answered (the pod gone: now)."""
        if self.lifted_at is not None:
            return self.lifted_at
        if self._same_pod() is not None:
            status, detail = _request(
                self.core, self.namespace, self.pod, self.port, "POST", "/recover"
            )
            if status != "200" or detail != "healthy":
                raise HarnessError(
                    f"POST /recover to {self.namespace}/{self.pod}: {status} {detail}"
                )
        self.lifted_at = time.time()
        return self.lifted_at

    def recover(self) -> None:
        """Lift the fault, wait until the pod is Ready again, remove the mark."""
        if self.recovered:
            return
        self.lift()

        def ready() -> tuple[bool | None, str]:
            pod = self._same_pod()
            if pod is None:
                return True, "the pod is gone: nothing left to recover"
            return (True if pod_ready(pod) else None), f"Ready={pod_ready(pod)}"

        wait_until(f"{self.namespace}/{self.pod} Ready again", ready, RECOVER_TIMEOUT, 0.5)
        if self._same_pod() is not None:
            self.core.patch_namespaced_pod(
                self.pod, self.namespace, {"metadata": {"annotations": {UNREADY_MARK: None}}}
            )
        self.recovered = True

    def leftovers(self) -> list[str]:
        """The replica, if it is still marked or not Ready."""
        pod = self._same_pod()
        if pod is None:
            return []
        problems = []
        if UNREADY_MARK in (pod.metadata.annotations or {}):
            problems.append(f"pod {self.namespace}/{self.pod} still marked {UNREADY_MARK}")
        if not pod_ready(pod):
            problems.append(f"pod {self.namespace}/{self.pod} not Ready after its recovery")
        return problems


def fail_health(scope: FaultScope, namespace: str, pod: str, port: int = 8080) -> Failing:
    """Make one ingest replica fail its probes (readiness and liveness) until recovered;
    the returned fault's evidence is the proof that it landed."""
    core = client.CoreV1Api(scope.api)
    found = read_pod(core, namespace, pod)
    if found is None or not pod_ready(found):
        raise FaultNotLanded(f"no ready pod {namespace}/{pod} to fail")
    fault = Failing(core, namespace, pod, found.metadata.uid, port)
    scope.rollbacks.register(
        f"recover the probes of {namespace}/{pod}", fault.recover, leftover=fault.leftovers
    )
    mark = {"metadata": {"annotations": {UNREADY_MARK: str(int(time.time()))}}}
    core.patch_namespaced_pod(pod, namespace, mark)
    fault.failed_at = time.time()
    status, answer = _request(core, namespace, pod, port, "POST", "/fail")
    answered_at = time.time()
    scope.timeline.add("fault", pod, f"POST /fail: {status} {answer}")
    if status != "200" or answer != "unhealthy":
        fault.recover()
        raise FaultNotLanded(f"POST /fail to {pod} answered {status} {answer}")
    ready_status, readyz = _request(core, namespace, pod, port, "GET", "/readyz")
    live_status, healthz = _request(core, namespace, pod, port, "GET", "/healthz")
    if ready_status != "503" or FAULT_REASON not in readyz:
        raise FaultNotLanded(f"{pod} after POST /fail: /readyz {ready_status} {readyz}")
    fault.evidence = {
        "pod": pod,
        "uid": fault.uid,
        "ip": found.status.pod_ip,
        "node": found.spec.node_name,
        "restarts": restarts(found),
        "answer": f"{status} {answer}",
        "answer_s": round(answered_at - fault.failed_at, 2),
        "readyz": f"{ready_status} {readyz}",
        "healthz": f"{live_status} {healthz}",
    }
    return fault


@dataclass(frozen=True)
class Call:
    """One request of the client."""

    start: float
    end: float
    path: str
    status: str
    """The HTTP status, or "ERR" when no answer came (refused, reset, timed out)."""
    detail: str
    """The answer's first body line, or ``replica=<pod>`` for /metrics."""

    @property
    def ok(self) -> bool:
        """Answered 200."""
        return self.status == "200"

    @property
    def replica(self) -> str:
        """The pod that answered a /metrics call ("" when the call names none)."""
        return self.detail[len("replica=") :] if self.detail.startswith("replica=") else ""

    @property
    def refused_by_fault(self) -> bool:
        """A refusal by the replica told to fail, and for that reason."""
        return self.status == "503" and FAULT_REASON in self.detail


def parse_calls(log: str) -> list[Call]:
    """The client's calls from its log, in order of start; other lines are skipped."""
    calls = []
    for line in log.splitlines():
        words = line.split(" ", 4)
        if len(words) < 4 or not words[2].startswith("/"):
            continue
        try:
            start, end = float(words[0]), float(words[1])
        except ValueError:
            continue
        detail = words[4].strip() if len(words) > 4 else ""
        calls.append(Call(start, end, words[2], words[3], detail))
    return sorted(calls, key=lambda c: c.start)


def between(calls: Iterable[Call], start: float, end: float = float("inf")) -> list[Call]:
    """The calls that started in [start, end)."""
    return [c for c in calls if start <= c.start < end]


@dataclass
class ServiceClient:
    """The client pod; ``calls`` reads what it has recorded so far."""

    core: client.CoreV1Api
    namespace: str
    name: str
    url: str

    def calls(self) -> list[Call]:
        """Every call the client has made so far."""
        log = self.core.read_namespaced_pod_log(self.name, self.namespace, container="client")
        return parse_calls(str(log))

    def phase(self) -> str:
        """The pod's phase ("Gone" when there is none)."""
        pod = read_pod(self.core, self.namespace, self.name)
        return "Gone" if pod is None else str(pod.status.phase)

    def tail(self) -> str:
        """The end of the pod's log (why an ended client ended)."""
        try:
            log = str(self.core.read_namespaced_pod_log(self.name, self.namespace))
        except client.ApiException as exc:
            return f"log unreadable: {exc.status}"
        return log.strip()[-300:]

    def delete(self) -> None:
        """Delete the pod (grace 0); idempotent."""
        try:
            self.core.delete_namespaced_pod(self.name, self.namespace, grace_period_seconds=0)
        except client.ApiException as exc:
            if exc.status != 404:
                raise

    def leftovers(self) -> list[str]:
        """The pod, while it exists."""
        phase = self.phase()
        return [] if phase == "Gone" else [f"client pod {self.namespace}/{self.name} left"]


def client_pod(name: str, image: str, host: str, port: int) -> dict[str, Any]:
    """The client's pod: restricted, small, no restart (its log is the record)."""
    args = [str(CLIENT_PAUSE), str(CLIENT_LIFETIME), str(REQUEST_TIMEOUT), HTTP_REQUEST]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "labels": {
                "app.kubernetes.io/name": "service-client",
                CHAOS_LABEL: "service-client",
                CLIENT_LABEL: "true",
            },
        },
        "spec": {
            "priorityClassName": "pipeline-low",
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 1,
            "automountServiceAccountToken": False,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 185,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": "client",
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["bash", "-c", CLIENT_LOOP, "client", host, str(port), *args],
                    "resources": {
                        "requests": {"cpu": "20m", "memory": "16Mi"},
                        "limits": {"memory": "64Mi"},
                    },
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
        },
    }


def start_service_client(
    scope: FaultScope,
    namespace: str,
    image: str,
    host: str,
    port: int,
    name: str = "service-client",
) -> ServiceClient:
    """Start the client pod calling host:port (its deletion registered first); return it
    once it runs. One left by an earlier run is replaced."""
    core = client.CoreV1Api(scope.api)
    found = ServiceClient(core, namespace, name, f"http://{host}:{port}")
    scope.rollbacks.register(
        f"delete the client pod {namespace}/{name}", found.delete, leftover=found.leftovers
    )
    if found.phase() != "Gone":
        found.delete()
        wait_until(
            f"an earlier {namespace}/{name} gone",
            lambda: (True if found.phase() == "Gone" else None, found.phase()),
            CLIENT_START_TIMEOUT,
            1.0,
        )
    core.create_namespaced_pod(namespace, client_pod(name, image, host, port))
    scope.timeline.add("client", name, f"{found.url}: /readyz and /metrics, new connection each")

    def running() -> tuple[bool | None, str]:
        phase = found.phase()
        if phase in ("Succeeded", "Failed"):
            raise FaultNotLanded(f"the client pod ended ({phase}): {found.tail()}")
        return (True if phase == "Running" else None), f"phase {phase}"

    wait_until(f"{namespace}/{name} running", running, CLIENT_START_TIMEOUT, 1.0)
    return found
