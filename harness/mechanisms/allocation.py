"""The application dynamic_allocation scales: 05's job beside the job, on its own topic.

Not a mechanism (no catalog id): dynamic_allocation.py is. The job itself cannot show
dynamic allocation: 05 fixes its executors, and while data flows its Kafka source gives
every executor tasks in every batch, so none would ever go idle. This application is
05's (made a second application by harness.spark_application.control_twin: own name,
labels and query name, checkpoint and sink on emptyDirs, priority pipeline-low, its
driver off the main driver's node), then changed by ``autoscale_app``:

- it reads its own topic (``TOPIC``, ``PARTITIONS`` partitions), where nothing but a
  burst ever arrives, from the topic's end;
- ``MAX_OFFSETS`` per batch: a burst of ``BURST`` events is a backlog of
  ``BURST / MAX_OFFSETS`` batches at the cap, each with one task per partition, more
  tasks than one single-core executor runs at once;
- dynamic allocation min/initial/max ``MIN``/1/``MAX`` with shuffle tracking (no
  external shuffle service on Kubernetes), a short idle timeout and a 1 s backlog
  timeout; its negative control keeps one fixed executor instead;
- its own ``spark.metrics.namespace``, so the driver's Spark metrics (the
  ExecutorAllocationManager's gauges) are named apart from the job's;
- ``restartPolicy: Never``: its checkpoint is an emptyDir, so a restarted driver would
  start again at the topic's end and skip the rest of the burst; a run whose driver dies
  fails instead of measuring something else.

07 (``spark-autoscale-internal``) and 08 (PodMonitor ``spark-autoscale``: the Spark
metrics and the listener's) select its label. What the driver says is read here too: its
REST API inside the driver pod (executors, stages and their tasks' launch times) and the
listener's progress lines in its log (rows per batch, with the kubelet's timestamps).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kubernetes import client

from harness.errors import ObserverUnavailable
from harness.kube import exec_in_pod
from harness.mechanisms.model import Term
from harness.observe.prometheus import rfc3339_epoch

__all__ = [
    "APP",
    "BURST",
    "CONF",
    "MAX",
    "MAX_OFFSETS",
    "MIN",
    "PARTITIONS",
    "QUERY",
    "TOPIC",
    "TOPIC_RETENTION",
    "Batch",
    "TaskWait",
    "active_executors",
    "allocation_gauge",
    "autoscale_app",
    "drain_allowance",
    "drained_at",
    "parse_batches",
    "read_batches",
    "read_driver",
    "scale_down_terms",
    "scale_up_terms",
    "spark_seconds",
    "spark_time",
    "task_waits",
]

APP = "events-autoscale"
QUERY = "autoscale"
"""Its query name: the ``query`` label of its listener's metrics."""
TOPIC = "events-autoscale"
PARTITIONS = 12
"""Tasks per batch: one per partition that has data, and a burst fills them all. Eleven
wait behind one single-core executor: at 0.1-0.3 s per small task (assumed, not yet
measured on the lab), longer than the 1 s backlog timeout in every batch, not only in the
first (cold) one."""
TOPIC_RETENTION = "1h"
"""A run reads its burst within minutes; older bursts only take the broker's volume."""
METRICS_NAMESPACE = "events_autoscale"
MAX_OFFSETS = 6000
"""Events per batch (maxOffsetsPerTrigger): 500 per task; a task's cost is mostly its
own overhead (fetch, file, commit), not its rows."""
BURST = 120000
"""20 batches at the cap: at least 20 triggers (100 s at 5 s) to drain, longer than the
scale-up bound, so the added executors come while the backlog lasts, and the control's
backlog outlives its bound."""
MIN, MAX = 1, 3
"""Executors: min = initial 1, max 3 (the lab's 2 cores; 200m requested each)."""
CONF = {
    "spark.dynamicAllocation.executorIdleTimeout": "15s",
    "spark.dynamicAllocation.schedulerBacklogTimeout": "1s",
    "spark.dynamicAllocation.sustainedSchedulerBacklogTimeout": "1s",
}
"""What drives the bounds (Spark's defaults are 60 s, 1 s and 1 s)."""
POD_START = Term(
    "executor pod start, JVM, registration", 45, "measured 20-30 s on 2 cores, + margin"
)
READ = 2.0
"""An exec of python3 in the driver pod and its REST calls, on 2 loaded cores."""
_DRIVER_CONTAINER = "spark-kubernetes-driver"


def autoscale_app(manifest: dict[str, Any], dynamic: bool) -> None:
    """Make the twin of 05 (control_twin(doc, APP, QUERY)) the autoscale application, with
    dynamic allocation on, or for the negative control off with one fixed executor."""
    spec = manifest["spec"]
    spec["restartPolicy"] = {"type": "Never"}
    conf = spec["sparkConf"]
    conf["spark.metrics.namespace"] = METRICS_NAMESPACE
    conf.pop("spark.executor.instances", None)
    executor = spec["executor"]
    if dynamic:
        executor.pop("instances", None)
        spec["dynamicAllocation"] = {
            "enabled": True,
            "initialExecutors": MIN,
            "minExecutors": MIN,
            "maxExecutors": MAX,
            "shuffleTrackingEnabled": True,
        }
        conf.update(CONF)
    else:
        executor["instances"] = MIN
        spec.pop("dynamicAllocation", None)
        for key in CONF:
            conf.pop(key, None)
    container = spec["driver"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container.get("env", [])}
    env["KAFKA_TOPIC"] = {"name": "KAFKA_TOPIC", "value": TOPIC}
    env["MAX_OFFSETS_PER_TRIGGER"] = {"name": "MAX_OFFSETS_PER_TRIGGER", "value": str(MAX_OFFSETS)}
    container["env"] = list(env.values())


def spark_seconds(text: str) -> float:
    """Seconds in a Spark time setting ("1s", "500ms", "2min", "1h"; a bare number is
    seconds, as for the dynamic-allocation timeouts)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?\s*", str(text))
    if match is None:
        raise ValueError(f"not a Spark time: {text!r}")
    number, unit = float(match.group(1)), match.group(2) or "s"
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}[unit]
    return number * scale


def _flag(conf: Mapping[str, str], key: str) -> bool:
    return str(conf.get(key, "false")).lower() == "true"


def _poll(poll: float) -> Term:
    return Term(
        "observation",
        poll + READ,
        f"the harness polls every {poll:g} s; reading the driver's REST API in its pod"
        f" takes up to {READ:g} s",
    )


def scale_up_terms(conf: Mapping[str, str], trigger: float, poll: float) -> tuple[Term, ...]:
    """Burst landed → a second executor registered, from the application's sparkConf."""
    backlog = conf.get("spark.dynamicAllocation.schedulerBacklogTimeout", "1s")
    delay = conf.get("spark.kubernetes.allocation.batch.delay", "1s")
    return (
        Term("next trigger reads the burst", trigger, "pipeline-config TRIGGER_INTERVAL (live)"),
        Term(
            "batch planning",
            2,
            "latest offsets, offset log and query planning before the stage is submitted;"
            " an allowance, not yet measured",
        ),
        Term(
            "scheduler backlog timeout",
            spark_seconds(backlog),
            "spark.dynamicAllocation.schedulerBacklogTimeout: tasks pending this long add one",
        ),
        Term(
            "allocation batch delay",
            spark_seconds(delay),
            "05 spark.kubernetes.allocation.batch.delay",
        ),
        POD_START,
        _poll(poll),
    )


def scale_down_terms(conf: Mapping[str, str], poll: float) -> tuple[Term, ...]:
    """Backlog drained → back to ``MIN`` executors, from the application's sparkConf."""
    idle = conf.get("spark.dynamicAllocation.executorIdleTimeout", "60s")
    terms = [
        Term(
            "executor idle timeout",
            spark_seconds(idle),
            "spark.dynamicAllocation.executorIdleTimeout (live)",
        )
    ]
    if _flag(conf, "spark.decommission.enabled"):
        # Removal decommissions the executor: it migrates its blocks, then exits itself.
        interval = conf.get("spark.storage.decommission.replicationReattemptInterval", "30s")
        terms += [
            Term(
                "decommission: a migration pass",
                spark_seconds(interval),
                "05 spark.storage.decommission.replicationReattemptInterval",
            ),
            Term("executor exit", 5, "JVM shutdown after decommission, + margin"),
        ]
    else:
        grace = conf.get("spark.kubernetes.dynamicAllocation.deleteGracePeriod", "5s")
        terms.append(
            Term(
                "executor pod deletion grace",
                spark_seconds(grace),
                "spark.kubernetes.dynamicAllocation.deleteGracePeriod (Spark default 5s)",
            )
        )
    terms += [
        Term("pod end seen", 5, "kubelet status update, + margin"),
        _poll(poll),
    ]
    return tuple(terms)


def drain_allowance(trigger: float) -> float:
    """How long the burst may take to drain before the check gives up: its batches at
    the cap, at up to three triggers each (a loaded lab), plus a minute."""
    return math.ceil(BURST / MAX_OFFSETS) * trigger * 3 + 60


def allocation_gauge(name: str) -> str:
    """An ExecutorAllocationManager gauge (numberTargetExecutors, numberAllExecutors, ...)
    as Spark's PrometheusServlet names it under this application's metrics namespace."""
    return f"metrics_{METRICS_NAMESPACE}_driver_ExecutorAllocationManager_executors_{name}_Value"


# What the driver says.

_REST = """
import json, sys, urllib.request
base = "http://localhost:4040/api/v1/applications"
def get(path):
    with urllib.request.urlopen(base + path, timeout=5) as r:
        return json.load(r)
app = get("")[0]["id"]
keep = ("id", "isActive", "addTime", "removeTime", "removeReason", "completedTasks")
out = {"executors": [{k: e.get(k) for k in keep} for e in get(f"/{app}/allexecutors")]}
if sys.argv[1:] == ["stages"]:
    stages = sorted(get(f"/{app}/stages"), key=lambda s: s["stageId"])[-60:]
    out["stages"] = [
        {"stageId": s["stageId"], "numTasks": s.get("numTasks"), "status": s.get("status"),
         "submissionTime": s.get("submissionTime"),
         "launchTimes": [t.get("launchTime") for t in get(
             f"/{app}/stages/{s['stageId']}/{s['attemptId']}/taskList?length=1000")]}
        for s in stages]
print(json.dumps(out))
"""
"""Executors (live and removed) and, asked for, the stages with their tasks' launch times,
from the driver's REST API inside its pod (the UI port is not exposed)."""


def read_driver(core: client.CoreV1Api, namespace: str, pod: str, stages: bool = False) -> Any:
    """The driver's REST API: {"executors": [...], "stages": [...] when asked}.
    ObserverUnavailable when it cannot be read (the UI is not up yet, the pod is gone)."""
    command = ["python3", "-c", _REST, *(["stages"] if stages else [])]
    code, out = exec_in_pod(core, namespace, pod, command, 30.0)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if code != 0 or not lines:
        raise ObserverUnavailable(f"the REST API of driver {pod} (exit {code}): {out[-300:]}")
    return json.loads(lines[-1])


def active_executors(report: Mapping[str, Any]) -> list[str]:
    """The ids of the executors the driver has registered and not removed."""
    rows = report.get("executors", [])
    return sorted(str(e["id"]) for e in rows if e.get("isActive") and e.get("id") != "driver")


def spark_time(text: str) -> float:
    """Epoch seconds of a Spark REST API date ("2026-12-03T10:00:00.123GMT")."""
    return datetime.strptime(text.replace("GMT", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


@dataclass(frozen=True)
class TaskWait:
    """One stage: how many tasks, and how long its last task waited to be launched."""

    stage: int
    tasks: int
    submitted: float
    max_wait: float


def task_waits(report: Mapping[str, Any], since: float) -> list[TaskWait]:
    """The stages submitted at or after ``since`` (epoch), with their longest launch wait:
    a task waits while every executor core is busy, the backlog dynamic allocation reads."""
    waits = []
    for stage in report.get("stages", []):
        launched = [spark_time(t) for t in stage.get("launchTimes") or [] if t]
        if not stage.get("submissionTime") or not launched:
            continue
        submitted = spark_time(stage["submissionTime"])
        if submitted >= since:
            wait = round(max(launched) - submitted, 3)
            waits.append(TaskWait(int(stage["stageId"]), len(launched), submitted, wait))
    return sorted(waits, key=lambda w: w.stage)


@dataclass(frozen=True)
class Batch:
    """One micro-batch as the job's listener logs it (stream.py), and when the line came."""

    batch: int
    rows: int
    at: float
    """The kubelet's timestamp of the log line: the batch's end (progress is posted then)."""


def parse_batches(log: str) -> list[Batch]:
    """The listener's progress lines in a driver log read with timestamps; Spark's own
    lines (plain or structured JSON) are skipped."""
    batches = []
    for line in log.splitlines():
        stamp, _, text = line.partition(" ")
        if not text.startswith("{"):
            continue
        try:
            row = json.loads(text)
            at = rfc3339_epoch(stamp)
        except ValueError:
            continue
        if isinstance(row, dict) and row.get("event") == "progress":
            batches.append(Batch(int(row["batch"]), int(row["rows"]), at))
    return batches


def drained_at(batches: Sequence[Batch], total: int) -> float | None:
    """When the batch that read the ``total``-th event ended; None while events remain."""
    read = 0
    for batch in sorted(batches, key=lambda b: b.at):
        read += batch.rows
        if read >= total:
            return batch.at
    return None


def read_batches(core: client.CoreV1Api, namespace: str, pod: str, since: float) -> list[Batch]:
    """The batches the driver logged at or after ``since`` (epoch; 0: its whole log)."""
    look_back = {"since_seconds": max(1, int(time.time() - since) + 2)} if since > 0 else {}
    log = core.read_namespaced_pod_log(
        pod, namespace, container=_DRIVER_CONTAINER, timestamps=True, **look_back
    )
    return [b for b in parse_batches(str(log)) if b.at >= since]
