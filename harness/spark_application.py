"""The pipeline's SparkApplication: the object, its pods, its state and its progress.

One home for the resource (kopf's ``Resource`` idea): every mechanism reads the
application, its driver and executors, and "the first progress of a driver started
after t" through this module, never through helpers of another mechanism.

Progress is read from Prometheus: the job's query listener exports
``spark_stream_driver_start_timestamp_seconds`` (when this driver's JVM started),
``spark_stream_first_progress_timestamp_seconds`` and ``..._last_progress_...`` (epoch
seconds of its first and latest completed micro-batch) and ``spark_stream_first_batch_id``.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubernetes import client

from harness.cluster.timing import parse_duration
from harness.deploy.manifests import load_documents
from harness.errors import ObserverUnavailable
from harness.kube import exec_in_pod
from harness.observe.prometheus import Prometheus
from harness.observe.wait import wait_until

__all__ = ["APP", "CONTROL", "NAMESPACE", "AppState", "SparkApplication", "control_twin"]

APP = "events-stream"
QUERY = "events"
"""The streaming query's name (stream.py QUERY_NAME), the ``query`` label of its metrics."""
CONTROL = "events-control"
CONTROL_QUERY = "control"
NAMESPACE = "spark-pipeline"
GROUP, VERSION, PLURAL = "sparkoperator.k8s.io", "v1beta2", "sparkapplications"
MANIFEST = "05-spark-application.yaml"
RECREATE_TIMEOUT = 300.0
"""Delete, then submit + driver JVM + executors + first batch on two cores, with margin."""
_ALL_EXECUTORS = """
import json, urllib.request
base = "http://localhost:4040/api/v1/applications"
app = json.load(urllib.request.urlopen(base, timeout=5))[0]["id"]
rows = json.load(urllib.request.urlopen(f"{base}/{app}/allexecutors", timeout=5))
keys = ("id", "isActive", "removeReason", "completedTasks", "failedTasks")
print(json.dumps([{k: r.get(k) for k in keys} for r in rows]))
"""


@dataclass(frozen=True)
class AppState:
    """The operator's view: applicationState.state and executionAttempts."""

    state: str
    attempts: int

    def __str__(self) -> str:
        return f"{self.state} (attempts {self.attempts})"


def _live(pod: client.V1Pod) -> bool:
    return pod.status.phase == "Running" and not pod.metadata.deletion_timestamp


def _ready(pod: client.V1Pod) -> bool:
    statuses = pod.status.container_statuses or []
    return bool(statuses) and all(s.ready for s in statuses)


@dataclass
class SparkApplication:
    """The streaming job as 05 declares it, bound to a cluster and its Prometheus."""

    api: client.ApiClient
    prom: Prometheus
    image_values: dict[str, str]
    """@role_image@ values, to render 05 when the application is recreated."""
    name: str = APP
    namespace: str = NAMESPACE
    query: str = QUERY
    """The query label its listener's metrics carry."""

    @property
    def _custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.api)

    def get(self) -> dict[str, Any]:
        """The live SparkApplication object."""
        obj: dict[str, Any] = self._custom.get_namespaced_custom_object(
            GROUP, VERSION, self.namespace, PLURAL, self.name
        )
        return obj

    def state(self) -> AppState:
        """Its state and execution attempts now."""
        status = self.get().get("status", {})
        return AppState(
            status.get("applicationState", {}).get("state", "NEW"),
            int(status.get("executionAttempts", 0)),
        )

    def _all_pods(self, role: str) -> list[client.V1Pod]:
        selector = f"spark-role={role},harness.local/spark-app={self.name}"
        pods: list[client.V1Pod] = (
            client.CoreV1Api(self.api)
            .list_namespaced_pod(self.namespace, label_selector=selector)
            .items
        )
        return pods

    def pods(self, role: str, ready: bool = False) -> list[client.V1Pod]:
        """Its Running pods of a spark-role (driver, executor), not being deleted."""
        return [p for p in self._all_pods(role) if _live(p) and (_ready(p) or not ready)]

    def pod_names(self, role: str) -> set[str]:
        """The names of all its pods of a spark-role, in any phase (Pending ones included)."""
        return {p.metadata.name for p in self._all_pods(role)}

    def driver(self) -> client.V1Pod | None:
        """The running driver pod, if there is one."""
        drivers = self.pods("driver")
        return drivers[0] if drivers else None

    def driver_executors(self) -> list[dict[str, Any]]:
        """Every executor its running driver knows, live and removed, as the driver's REST
        API lists them (``allexecutors``: id, isActive, removeReason, completedTasks,
        failedTasks; removeReason is the reason the driver recorded), read inside the
        driver pod. ObserverUnavailable when there is no running driver or its API
        cannot be read."""
        driver = self.driver()
        if driver is None:
            raise ObserverUnavailable(f"no running driver of {self.name} to list its executors")
        name = driver.metadata.name
        command = ["python3", "-c", _ALL_EXECUTORS]
        code, out = exec_in_pod(client.CoreV1Api(self.api), self.namespace, name, command, 20)
        rows = [line for line in out.splitlines() if line.startswith("[")]
        if code != 0 or not rows:
            raise ObserverUnavailable(
                f"the REST API of driver {name} could not be read (exit {code}): {out[-300:]}"
            )
        executors: list[dict[str, Any]] = json.loads(rows[-1])
        return executors

    def manifest(self) -> dict[str, Any]:
        """The SparkApplication as 05 declares it, rendered with this cluster's images
        (for the negative controls' twin, 05's application made into the twin)."""
        doc = next(
            d
            for d in load_documents(MANIFEST, self.image_values)
            if d["kind"] == "SparkApplication" and d["metadata"]["name"] == APP
        )
        return doc if self.name == APP else control_twin(doc, self.name, self.query)

    def spark_conf(self, key: str, default: str) -> str:
        """One sparkConf value of the live application."""
        return str(self.get()["spec"].get("sparkConf", {}).get(key, default))

    def trigger_seconds(self) -> float:
        """The query's trigger interval, from the live pipeline-config ConfigMap."""
        config = client.CoreV1Api(self.api).read_namespaced_config_map(
            "pipeline-config", self.namespace
        )
        text = (config.data or {}).get("TRIGGER_INTERVAL", "5 seconds")
        number, _, unit = text.partition(" ")
        return parse_duration(f"{number}{'m' if unit.startswith('min') else 's'}")

    def recreate(
        self, patch: Callable[[dict[str, Any]], None] | None = None, wait_for_data: bool = True
    ) -> None:
        """Submit the application anew as 05 declares it (optionally patched); wait for data
        (its first progress), unless told not to (then only for it to be created).

        A spec change to a running application makes the operator invalidate and re-run
        it, so switching a mechanism off, or back on, means a fresh application either way.
        """
        manifest = self.manifest()
        if patch is not None:
            patch(manifest)
        # Its pods too: a driver pod of the old run still terminating would clash with
        # the new run's (same name), and the submission would fail and back off.
        self.delete()
        created = time.time()
        self._custom.create_namespaced_custom_object(
            GROUP, VERSION, self.namespace, PLURAL, manifest
        )
        if not wait_for_data:
            return
        wait_until(
            f"streaming progress from the recreated {self.name}",
            lambda: (
                (first if (first := self.first_progress_after(created)) else None),
                f"application {self.state()}",
            ),
            RECREATE_TIMEOUT,
            3.0,
        )

    def delete(self) -> None:
        """Delete the application and wait until it and its pods are gone."""
        self._delete_object()

        def gone() -> tuple[bool | None, str]:
            left = self.leftovers()
            return (True if not left else None), "; ".join(left)

        wait_until(f"SparkApplication {self.name} and its pods gone", gone, 120.0, 1.0)

    def _delete_object(self) -> None:
        try:
            self._custom.delete_namespaced_custom_object(
                GROUP, VERSION, self.namespace, PLURAL, self.name
            )
        except client.ApiException as exc:
            if exc.status != 404:
                raise

    def leftovers(self) -> list[str]:
        """What of this application still exists (for a twin that must not outlive its run)."""
        left: list[str] = []
        try:
            self.get()
            left.append(f"SparkApplication {self.namespace}/{self.name} exists")
        except client.ApiException as exc:
            if exc.status != 404:
                raise
        pods = (
            client.CoreV1Api(self.api)
            .list_namespaced_pod(
                self.namespace, label_selector=f"harness.local/spark-app={self.name}"
            )
            .items
        )
        left += [f"pod {self.namespace}/{p.metadata.name} of {self.name} exists" for p in pods]
        return left

    def metric(self, name: str) -> str:
        """A metric of its query: ``name{query="<its query>"}``."""
        return f'{name}{{query="{self.query}"}}'

    def first_progress_after(self, epoch: float) -> float:
        """Epoch of the first progress of a driver started after ``epoch``; 0 if none yet."""
        first = self.prom.scalar(
            f"max({self.metric('spark_stream_first_progress_timestamp_seconds')}"
            f" and {self.metric('spark_stream_driver_start_timestamp_seconds')} > {epoch:.3f})"
        )
        return first if first > epoch else 0.0

    def restart_seen(self, epoch: float) -> str:
        """What a driver restart after ``epoch`` has reached, for a wait's last-seen
        message: the operator's state, each pod of the application with its phase (and
        why a Pending one waits), and whether Prometheus scrapes a driver started after
        ``epoch`` at all. A timeout then says which stage stalled: submission, executor
        scheduling, the driver's metrics, or the first micro-batch."""
        first = self.first_progress_after(epoch)
        started = self.prom.scalar(
            f"max({self.metric('spark_stream_driver_start_timestamp_seconds')})"
        )
        scraped = "scraped" if started > epoch else f"not scraped yet (latest start {started:.0f})"
        pods = []
        for role in ("driver", "executor"):
            for pod in self._all_pods(role):
                phase = pod.status.phase or "?"
                if pod.metadata.deletion_timestamp:
                    phase += ", terminating"
                waiting = [
                    (c.message or c.reason or "")[:160]
                    for c in pod.status.conditions or []
                    if c.type == "PodScheduled" and c.status != "True"
                ]
                if waiting:
                    phase += f", unscheduled: {waiting[0]}"
                elif phase.startswith("Running") and not _ready(pod):
                    phase += ", not ready"
                pods.append(f"{pod.metadata.name} {phase}")
        return (
            f"application {self.state()}, pods [{'; '.join(pods) or 'none'}],"
            f" new driver's metrics {scraped}, first new progress {first}"
        )

    def first_batch_after(self, epoch: float) -> float | None:
        """The first batch id of a driver started after ``epoch``; None if none reported."""
        rows = self.prom.query(
            f"max({self.metric('spark_stream_first_batch_id')}"
            f" and {self.metric('spark_stream_driver_start_timestamp_seconds')} > {epoch:.3f})"
        )
        return rows[0][1] if rows else None

    def last_batch(self) -> float:
        """The latest batch id Prometheus has seen; -1 if none."""
        rows = self.prom.query(f"max({self.metric('spark_stream_last_batch_id')})")
        return rows[0][1] if rows else -1.0

    def last_progress(self) -> float:
        """Epoch of the latest completed micro-batch Prometheus has seen; 0 if none."""
        return self.prom.scalar(
            f"max({self.metric('spark_stream_last_progress_timestamp_seconds')})"
        )


def control_twin(doc: dict[str, Any], name: str = CONTROL, query: str = CONTROL_QUERY) -> Any:
    """05's application as the negative controls' twin, beside the one under test.

        A control switches its mechanism off on the twin, so the application under test is
        never recreated for a control (twice per control before: about 75 s each). The twin
        has its own name, labels (harness.local/spark-app) and query name (the ``query``
        label of its metrics, so nothing that reads the main job's metrics sees it), a start
    at the topic's end (not a catch-up on the whole topic), its
        checkpoint and its sink on emptyDirs (nothing it writes outlives it, and the real
        sink and checkpoint stay the main job's), priority ``pipeline-low`` (it never preempts
        the pipeline), and its driver on another node than the main driver's (a node fault
        aimed at the twin's driver leaves the main driver alone). 07 and 08 carry its
        NetworkPolicy (spark-control-internal) and its PodMonitor (spark-control).
    """
    twin = copy.deepcopy(doc)
    twin["metadata"]["name"] = name
    twin["metadata"]["labels"]["app.kubernetes.io/name"] = name
    for role in ("driver", "executor"):
        part = twin["spec"][role]
        part["labels"]["app.kubernetes.io/name"] = name
        part["labels"]["harness.local/spark-app"] = name
        pod = part["template"]["spec"]
        pod["priorityClassName"] = "pipeline-low"
        for volume in pod["volumes"]:
            if "persistentVolumeClaim" in volume:
                del volume["persistentVolumeClaim"]
                volume["emptyDir"] = {}
    driver = twin["spec"]["driver"]["template"]["spec"]
    container = driver["containers"][0]
    container["env"] = [
        *container.get("env", []),
        {"name": "QUERY_NAME", "value": query},
        # From the topic's end: catching up on the whole topic would load the 2 cores.
        {"name": "STARTING_OFFSETS", "value": "latest"},
    ]
    driver["affinity"] = {
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {
                    "labelSelector": {
                        "matchLabels": {"spark-role": "driver", "harness.local/spark-app": APP}
                    },
                    "topologyKey": "kubernetes.io/hostname",
                }
            ]
        }
    }
    return twin
