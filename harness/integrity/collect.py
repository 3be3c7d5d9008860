"""Reading what the pipeline produced and what its sink holds, from inside the cluster.

A reader pod (our tools image, allowed to talk to the broker by its label, with the
sink and checkpoint volumes mounted read-only) runs ``pipeline-tools``; reconciliation
itself is pure (harness.integrity.reconcile).

A test reconciles a window, not the topic: ``open_window`` notes where the topic ends and
which batch the sink last committed (``sink-info``, then ``topic-offsets``), and
``reconcile_window`` reads the records from there to the topic's end now (``topic-dump
--start-offsets --end-offsets``) and the sink rows of the batches committed since
(``sink-dump --after-batch``). Both reads cost what the window holds, not what the topic
or the sink has accumulated (the sink's metadata log is read whole, but it names files,
it does not hold rows).

Why the batches after the window's batch hold every row of the window: a batch's offset
range is fixed when it is planned (its checkpoint offsets entry), from end offsets the
topic had then, and its sink commit (``_spark_metadata/<batch>``) comes after that. The
window's batch and every earlier one were committed before the sink was read, which
happens before the topic's end offsets are read; end offsets only grow, so those batches
end at or before the window's start. A batch in flight at the start has a higher id and
is read. A batch re-run after a driver restart keeps its id and offsets; a query
restarted without its checkpoint re-plans from batch 0 and the sink skips the ids it has
already committed, so those records are lost, and reported missing. The bound is exact,
and reading a batch more would not change the verdict (rows are matched by record inside
the window), only the cost. When the sink's log as of that batch cannot be rebuilt
(cleaned up, replaced) ``sink-dump`` reads more, never less.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from kubernetes import client

from harness.errors import HarnessError, StepFailed, WaitTimeout
from harness.integrity.reconcile import (
    Reconciliation,
    Record,
    SinkRow,
    parse_records,
    parse_sink_rows,
    reconcile,
)
from harness.kube import exec_in_pod
from harness.observe.wait import wait_until

__all__ = [
    "READER",
    "TopicOffsets",
    "Window",
    "ensure_reader",
    "open_window",
    "read_checkpoint",
    "read_sink",
    "read_sink_batch",
    "read_source",
    "read_topic_offsets",
    "reconcile_window",
]

NAMESPACE = "spark-pipeline"
READER = "pipeline-reader"
SINK = "/data/sink"
"""The sink's directory in the reader pod."""


@dataclass(frozen=True)
class Window:
    """Where a reconciliation starts (``open_window``); it ends when it is reconciled."""

    start_offsets: dict[int, int]
    """Per partition, the topic's end offset at the start: the window's first offset.
    A partition not listed (none, for the whole topic) starts at its earliest offset."""
    sink_batch: int
    """The sink's last committed batch at the start (-1: none); only later ones are read."""
    started_at: float
    """When the window opened (``time.time()``; 0.0 for the whole topic)."""


@dataclass(frozen=True)
class TopicOffsets:
    """A topic's earliest and end offsets per partition, read at one moment."""

    start: dict[int, int]
    end: dict[int, int]


def _reader_pod(image: str) -> dict[str, Any]:
    restricted = {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": READER,
            "namespace": NAMESPACE,
            "labels": {
                "app.kubernetes.io/name": READER,
                "harness.local/kafka-client": "true",
                "harness.local/backup-client": "true",
            },
        },
        "spec": {
            "serviceAccountName": "pipeline-reader",
            "priorityClassName": "pipeline-low",
            "terminationGracePeriodSeconds": 1,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 185,
                "runAsGroup": 185,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": "reader",
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["sleep", "infinity"],
                    "envFrom": [
                        {"configMapRef": {"name": "pipeline-config"}},
                        {"secretRef": {"name": "object-store-credentials"}},
                    ],
                    "resources": {
                        "requests": {"cpu": "10m", "memory": "32Mi"},
                        "limits": {"memory": "512Mi"},
                    },
                    "securityContext": restricted,
                    "volumeMounts": [
                        {"name": "sink", "mountPath": "/data/sink", "readOnly": True},
                        {"name": "checkpoint", "mountPath": "/checkpoint", "readOnly": True},
                        {"name": "tmp", "mountPath": "/tmp"},
                    ],
                }
            ],
            "volumes": [
                {"name": "sink", "persistentVolumeClaim": {"claimName": "spark-sink"}},
                {"name": "checkpoint", "persistentVolumeClaim": {"claimName": "spark-checkpoint"}},
                {"name": "tmp", "emptyDir": {}},
            ],
        },
    }


def ensure_reader(core: client.CoreV1Api, image: str, timeout: float = 120.0) -> str:
    """Create the reader pod unless a running one exists; return its name once Running."""
    try:
        pod = core.read_namespaced_pod(READER, NAMESPACE)
        if pod.status.phase not in ("Running", "Pending") or pod.metadata.deletion_timestamp:
            core.delete_namespaced_pod(READER, NAMESPACE, grace_period_seconds=0)
            wait_until(
                f"old {READER} pod gone",
                lambda: (True if not _exists(core) else None, "still there"),
                60.0,
            )
            core.create_namespaced_pod(NAMESPACE, _reader_pod(image))
    except client.ApiException as exc:
        if exc.status != 404:
            raise
        core.create_namespaced_pod(NAMESPACE, _reader_pod(image))

    def running() -> tuple[str | None, str]:
        pod = core.read_namespaced_pod(READER, NAMESPACE)
        return (READER if pod.status.phase == "Running" else None), f"phase {pod.status.phase}"

    return wait_until(f"pod {NAMESPACE}/{READER} Running", running, timeout, 1.0)


def _exists(core: client.CoreV1Api) -> bool:
    try:
        core.read_namespaced_pod(READER, NAMESPACE)
        return True
    except client.ApiException as exc:
        if exc.status == 404:
            return False
        raise


def _tool(core: client.CoreV1Api, args: list[str], timeout: float = 120.0) -> list[str]:
    code, output = exec_in_pod(core, NAMESPACE, READER, ["pipeline-tools", *args], timeout)
    if code != 0:
        raise StepFailed(
            f"pipeline-tools {args[0]}", ["pipeline-tools", *args], code, output[-2000:]
        )
    return output.splitlines()


def _json(lines: list[str], what: str) -> Any:
    """The JSON object a tool printed (its first line; warnings follow on stderr)."""
    for line in lines:
        if line.startswith("{"):
            return json.loads(line)
    raise HarnessError(f"pipeline-tools {what} printed no JSON: {' | '.join(lines)[-500:]}")


def _offsets_arg(offsets: dict[int, int]) -> str:
    return ",".join(f"{p}:{o}" for p, o in sorted(offsets.items()))


def read_topic_offsets(core: client.CoreV1Api, topic: str = "events") -> TopicOffsets:
    """The topic's earliest and end offsets per partition now (``topic-offsets``)."""
    data = _json(_tool(core, ["topic-offsets", "--topic", topic]), "topic-offsets")
    return TopicOffsets(
        start={int(p): int(o) for p, o in data["start"].items()},
        end={int(p): int(o) for p, o in data["end"].items()},
    )


def read_sink_batch(core: client.CoreV1Api, path: str = SINK) -> int:
    """The last batch id the sink's metadata log commits (-1: none), from its file names."""
    return int(_json(_tool(core, ["sink-info", path]), "sink-info")["last_batch"])


def read_source(
    core: client.CoreV1Api,
    topic: str = "events",
    start: dict[int, int] | None = None,
    end: dict[int, int] | None = None,
) -> list[Record]:
    """The topic's records in [start, end) per partition (partition offset producer run seq).

    A partition missing from start begins at its earliest offset, one missing from end
    ends at its end offset now; without either, every record up to the end now.
    """
    args = ["topic-dump", "--topic", topic]
    if start:
        args += ["--start-offsets", _offsets_arg(start)]
    if end:
        args += ["--end-offsets", _offsets_arg(end)]
    return parse_records(_tool(core, args))


def read_sink(core: client.CoreV1Api, path: str = SINK, after_batch: int = -1) -> list[SinkRow]:
    """The rows of the files the sink's metadata log commits after batch ``after_batch``
    (-1: every committed file); producer run seq batch partition offset."""
    args = (
        ["sink-dump", path]
        if after_batch < 0
        else ["sink-dump", "--after-batch", str(after_batch), path]
    )
    return parse_sink_rows(_tool(core, args))


def read_checkpoint(
    core: client.CoreV1Api, path: str = "/checkpoint/events", timeout: float = 30.0
) -> dict[str, Any]:
    """The checkpoint's state (``pipeline-tools checkpoint-info``): last offset and commit
    batch ids and offsets; StepFailed when it does not read."""
    info: dict[str, Any] = json.loads(_tool(core, ["checkpoint-info", path], timeout)[0])
    return info


def open_window(core: client.CoreV1Api, image: str) -> Window:
    """Start a window now: what arrives in the topic from here on is what gets reconciled.

    The sink is read before the topic, the order the module docstring's argument needs.
    """
    ensure_reader(core, image)
    batch = read_sink_batch(core)
    started = time.time()
    return Window(read_topic_offsets(core).end, batch, started)


def _window_start(window: Window, now: TopicOffsets) -> tuple[dict[int, int], int]:
    """The window's first offset per partition now, and how many retention deleted."""
    start, trimmed = {}, 0
    for p, earliest in now.start.items():
        first = window.start_offsets.get(p, earliest)
        trimmed += max(0, earliest - first)
        start[p] = max(first, earliest)
    return start, trimmed


def reconcile_window(
    core: client.CoreV1Api,
    image: str,
    window: Window,
    settle: float = 90.0,
    interval: float = 5.0,
) -> Reconciliation:
    """Close the window at the topic's end now, then read the sink until it holds every
    record of the window or settle passes.

    The result after the deadline is returned, not raised: a test asserts on it and the
    report shows it, whatever it says.
    """
    ensure_reader(core, image)
    now = read_topic_offsets(core)
    start, trimmed = _window_start(window, now)
    source = read_source(core, start=start, end=now.end)
    last: list[Reconciliation] = []

    def settled() -> tuple[Reconciliation | None, str]:
        rows = read_sink(core, after_batch=window.sink_batch)
        last[:] = [
            reconcile(source, rows, start_offsets=start, end_offsets=now.end, trimmed=trimmed)
        ]
        return (last[0] if last[0].missing == 0 else None), last[0].summary()

    try:
        return wait_until("the sink to hold every record of the window", settled, settle, interval)
    except WaitTimeout:
        if not last:
            raise
        return last[0]
