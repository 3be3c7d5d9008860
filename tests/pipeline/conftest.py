"""Every test under tests/pipeline needs the real cluster with the pipeline deployed."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client

from harness.fixtures.pipeline import Pipeline
from harness.fixtures.workloads import pod_manifest, wait_pod_running
from harness.observe.wait import wait_until

NAMESPACE = "spark-pipeline"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/pipeline/" in str(item.path):
            item.add_marker(pytest.mark.lab)
            item.add_marker(pytest.mark.pipeline)


@pytest.fixture
def probe_pod(pipeline: Pipeline) -> Iterator[Callable[..., client.V1Pod]]:
    """Start short-lived restricted toolbox pods in the pipeline namespace; delete them after."""
    made: list[str] = []

    def start(labels: dict[str, str], **kwargs: Any) -> client.V1Pod:
        name = f"probe-{uuid.uuid4().hex[:6]}"
        manifest = pod_manifest(
            name, pipeline.lab.images.toolbox_image, labels=labels, restricted=True, **kwargs
        )
        made.append(name)
        pipeline.core.create_namespaced_pod(NAMESPACE, manifest)
        return wait_pod_running(pipeline.core, NAMESPACE, name)

    yield start
    for name in made:
        pipeline.core.delete_namespaced_pod(name, NAMESPACE, grace_period_seconds=0)

    def gone() -> tuple[bool | None, str]:
        left = [
            p.metadata.name
            for p in pipeline.core.list_namespaced_pod(NAMESPACE).items
            if p.metadata.name in made
        ]
        return (True if not left else None), f"still there: {left}"

    wait_until("probe pods deleted", gone, 60.0)


def running_driver(pipeline: Pipeline) -> client.V1Pod:
    """The Running driver pod of the streaming application."""
    pods = pipeline.core.list_namespaced_pod(
        NAMESPACE, label_selector="spark-role=driver,harness.local/spark-app=events-stream"
    ).items
    running = [p for p in pods if p.status.phase == "Running" and not p.metadata.deletion_timestamp]
    assert running, f"no Running driver; pods: {[(p.metadata.name, p.status.phase) for p in pods]}"
    return running[0]
