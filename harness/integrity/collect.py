"""Reading what the pipeline produced and what its sink holds, from inside the cluster.

A reader pod (our tools image, allowed to talk to the broker by its label, with the
sink and checkpoint volumes mounted read-only) runs ``pipeline-tools topic-dump`` and
``pipeline-tools sink-dump``; reconciliation itself is pure (harness.integrity.reconcile).
"""

from __future__ import annotations

import json
from typing import Any

from kubernetes import client

from harness.errors import StepFailed, WaitTimeout
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
    "ensure_reader",
    "read_checkpoint",
    "read_sink",
    "read_source",
    "reconcile_pipeline",
]

NAMESPACE = "spark-pipeline"
READER = "pipeline-reader"


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


def read_source(core: client.CoreV1Api, topic: str = "events") -> list[Record]:
    """Every record in the topic up to its end offsets now (partition offset producer run seq)."""
    return parse_records(_tool(core, ["topic-dump", "--topic", topic]))


def read_sink(core: client.CoreV1Api, path: str = "/data/sink") -> list[SinkRow]:
    """Every row the sink's metadata log commits (producer run seq batch partition offset)."""
    return parse_sink_rows(_tool(core, ["sink-dump", path]))


def read_checkpoint(
    core: client.CoreV1Api, path: str = "/checkpoint/events", timeout: float = 30.0
) -> dict[str, Any]:
    """The checkpoint's state (``pipeline-tools checkpoint-info``): last offset and commit
    batch ids and offsets; StepFailed when it does not read."""
    info: dict[str, Any] = json.loads(_tool(core, ["checkpoint-info", path], timeout)[0])
    return info


def reconcile_pipeline(
    core: client.CoreV1Api, image: str, settle: float = 120.0, interval: float = 5.0
) -> Reconciliation:
    """Snapshot the topic, then read the sink until it holds the snapshot or settle passes.

    The result after the deadline is returned, not raised: a test asserts on it and the
    report shows it, whatever it says.
    """
    ensure_reader(core, image)
    source = read_source(core)
    last: list[Reconciliation] = []

    def settled() -> tuple[Reconciliation | None, str]:
        last[:] = [reconcile(source, read_sink(core))]
        return (last[0] if last[0].missing == 0 else None), last[0].summary()

    try:
        return wait_until("the sink to hold every event of the snapshot", settled, settle, interval)
    except WaitTimeout:
        if not last:
            raise
        return last[0]
