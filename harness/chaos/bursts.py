"""Input bursts: many events written at once into a topic, so its reader has a backlog.

The burst runs ``pipeline-tools produce --count`` in the reader pod (our tools image,
allowed to reach the broker): the events go round-robin over the topic's partitions,
so a Kafka source has a backlog on every partition, that is, one task per partition in
each micro-batch. It landed when the broker acknowledged every event; the tool's
summary (acknowledged per partition, seconds) is the proof.

A burst has no undo: events cannot be taken back. It therefore goes to a topic that
only its own application reads (created here, idempotently, with a short retention so
the bursts of earlier runs do not pile up on the broker's volume), and that application
starts at the topic's end, so no later run reads an earlier burst.
"""

from __future__ import annotations

import json
from typing import Any

from kubernetes import client

from harness.chaos.scope import FaultScope
from harness.errors import FaultNotLanded, HarnessError
from harness.integrity.collect import READER, ensure_reader, read_topic_offsets
from harness.kube import exec_in_pod
from harness.observe.wait import wait_until

__all__ = ["BURST_TIMEOUT", "burst_events", "create_topic"]

NAMESPACE = "spark-pipeline"
BURST_TIMEOUT = 180.0
"""A burst of 10^5 small events takes seconds; each record may wait 30 s for its ack."""


def _reader(core: client.CoreV1Api, image: str) -> None:
    """The reader pod, running this tools image. One that a run before the image was
    rebuilt left running lacks the newer flags (produce --count): it is replaced."""
    try:
        pod = core.read_namespaced_pod(READER, NAMESPACE)
    except client.ApiException as exc:
        if exc.status != 404:
            raise
    else:
        if pod.spec.containers[0].image != image:
            core.delete_namespaced_pod(READER, NAMESPACE, grace_period_seconds=0)
            wait_until(f"the {READER} pod of an older image gone", lambda: _gone(core), 60.0)
    ensure_reader(core, image)


def _gone(core: client.CoreV1Api) -> tuple[bool | None, str]:
    try:
        core.read_namespaced_pod(READER, NAMESPACE)
    except client.ApiException as exc:
        if exc.status == 404:
            return True, "gone"
        raise
    return None, "still there"


def _json_line(output: str) -> dict[str, Any] | None:
    for line in output.splitlines():
        if line.startswith("{"):
            found: dict[str, Any] = json.loads(line)
            return found
    return None


def create_topic(
    core: client.CoreV1Api, image: str, topic: str, partitions: int, retention: str
) -> dict[str, Any]:
    """Create the topic unless it exists (``pipeline-tools create-topic``); check that it
    has ``partitions`` partitions. ``retention`` is a Go duration ("1h") for a new topic."""
    _reader(core, image)
    command = [
        "pipeline-tools",
        "create-topic",
        "--topic",
        topic,
        "--partitions",
        str(partitions),
        "--retention",
        retention,
    ]
    code, out = exec_in_pod(core, NAMESPACE, READER, command, 150.0)
    made = _json_line(out)
    if code != 0 or made is None:
        raise HarnessError(f"create-topic {topic} exited {code}: {out.strip()[-500:]}")
    found = len(read_topic_offsets(core, topic).end)
    if found != partitions:
        raise HarnessError(
            f"topic {topic} has {found} partitions, {partitions} expected: it was created"
            " otherwise; delete it (kafka-topics.sh --delete) and run again"
        )
    return {"topic": topic, "partitions": found, "created": bool(made.get("created"))}


def burst_events(
    scope: FaultScope, image: str, topic: str, count: int, producer: str
) -> dict[str, Any]:
    """Write ``count`` events into ``topic`` at once; return the tool's summary (acked,
    acked per partition by partition number as a string, seconds). FaultNotLanded unless
    every event was acknowledged."""
    core = client.CoreV1Api(scope.api)
    _reader(core, image)
    scope.timeline.add("fault", topic, f"burst of {count} events as producer {producer}")
    command = [
        "pipeline-tools",
        "produce",
        "--topic",
        topic,
        "--count",
        str(count),
        "--producer-id",
        producer,
    ]
    code, out = exec_in_pod(core, NAMESPACE, READER, command, BURST_TIMEOUT)
    summary = _json_line(out)
    if summary is None:
        raise FaultNotLanded(f"the burst printed no summary (exit {code}): {out.strip()[-500:]}")
    if code != 0 or int(summary.get("acked", 0)) != count:
        raise FaultNotLanded(
            f"{summary.get('acked')} of {count} burst events acknowledged (exit {code}):"
            f" {summary.get('first_error') or out.strip()[-300:]}"
        )
    return summary
