"""After every chaos test: proof that the cluster and the pipeline are whole again.

Checked from the real cluster: every node Ready and schedulable, no NetworkPolicy or pod
the harness added (``harness.local/chaos``), every NetworkPolicy 07 declares present (an
isolation sets them aside), the SparkApplication RUNNING with the restart policy 05 declares, the
checkpoint volume not full (no fill file left), and the stream making progress.
"""

from __future__ import annotations

import time
from typing import Any

import yaml
from kubernetes import client

from harness.kube import exec_in_pod
from harness.observe.prometheus import Prometheus
from harness.observe.wait import wait_until
from harness.settings import PROJECT_ROOT

__all__ = ["CHAOS_LABEL", "FILL_FILE", "broken_invariants", "wait_whole"]

CHAOS_LABEL = "harness.local/chaos"
"""Every object a fault creates carries this label, so leftovers can be found."""
FILL_FILE = ".harness-fill"
"""What a volume fill writes at the claim's root (harness.chaos.volumes)."""
READER_MOUNTS = ("/checkpoint", "/data/sink")
"""The pipeline's claims as the reader pod (harness.integrity.collect) mounts them."""

PROGRESS_WITHIN = 60.0
"""Trigger 5 s, scrape 10 s: a minute without progress is not a healthy stream."""


def broken_invariants(api: client.ApiClient, prom: Prometheus) -> list[str]:
    """What is not whole; empty when the cluster and the pipeline are."""
    core = client.CoreV1Api(api)
    problems: list[str] = []
    for node in core.list_node().items:
        ready = [c.status for c in node.status.conditions or [] if c.type == "Ready"]
        if ready != ["True"]:
            problems.append(f"node {node.metadata.name} Ready={ready}")
        if node.spec.unschedulable:
            problems.append(f"node {node.metadata.name} is cordoned")
    leftovers = client.NetworkingV1Api(api).list_network_policy_for_all_namespaces(
        label_selector=CHAOS_LABEL
    )
    problems += [
        f"chaos NetworkPolicy {p.metadata.namespace}/{p.metadata.name} left"
        for p in leftovers.items
    ]
    present = {
        (p.metadata.namespace, p.metadata.name)
        for p in client.NetworkingV1Api(api).list_network_policy_for_all_namespaces().items
    }
    problems += [
        f"NetworkPolicy {ns}/{name} (07) missing" for ns, name in _declared_policies() - present
    ]
    problems += [
        f"chaos pod {p.metadata.namespace}/{p.metadata.name} left"
        for p in core.list_pod_for_all_namespaces(label_selector=CHAOS_LABEL).items
    ]
    app: dict[str, Any] = client.CustomObjectsApi(api).get_namespaced_custom_object(
        "sparkoperator.k8s.io", "v1beta2", "spark-pipeline", "sparkapplications", "events-stream"
    )
    state = app.get("status", {}).get("applicationState", {}).get("state")
    if state != "RUNNING":
        problems.append(f"SparkApplication events-stream is {state}, not RUNNING")
    policy = app["spec"].get("restartPolicy", {}).get("type")
    if policy != "Always":
        problems.append(f"SparkApplication restartPolicy is {policy}, not Always (05)")
    rows = prom.query(
        'kubelet_volume_stats_available_bytes{persistentvolumeclaim="spark-checkpoint"}'
        ' / kubelet_volume_stats_capacity_bytes{persistentvolumeclaim="spark-checkpoint"}'
    )
    if rows and min(v for _, v in rows) < 0.5:
        problems.append(f"checkpoint volume {100 * (1 - min(v for _, v in rows)):.0f}% full")
    problems += _fill_files(core)
    progress = prom.query('max(spark_stream_last_progress_timestamp_seconds{query="events"})')
    last = progress[0][1] if progress else 0.0
    if time.time() - last > PROGRESS_WITHIN:
        problems.append(f"no streaming progress for {time.time() - last:.0f}s")
    return problems


def _fill_files(core: client.CoreV1Api) -> list[str]:
    """Fill files left on the pipeline's claims, seen through the reader pod if it runs."""
    try:
        reader = core.read_namespaced_pod("pipeline-reader", "spark-pipeline")
    except client.ApiException:
        return []
    if reader.status.phase != "Running" or reader.metadata.deletion_timestamp:
        return []
    paths = [f"{m}/{FILL_FILE}" for m in READER_MOUNTS]
    script = "; ".join(f"test -e {p} && echo {p}" for p in paths) + "; true"
    code, out = exec_in_pod(core, "spark-pipeline", "pipeline-reader", ["sh", "-c", script], 20)
    return [f"fill file {line} left" for line in out.split() if code == 0 and line in paths]


def _declared_policies() -> set[tuple[str, str]]:
    text = (PROJECT_ROOT / "manifests" / "07-networking.yaml").read_text()
    return {
        (d["metadata"].get("namespace", "default"), d["metadata"]["name"])
        for d in yaml.safe_load_all(text)
        if isinstance(d, dict) and d.get("kind") == "NetworkPolicy"
    }


def wait_whole(api: client.ApiClient, prom: Prometheus, timeout: float) -> None:
    """Wait until no invariant is broken; WaitTimeout names the ones still broken."""

    def whole() -> tuple[bool | None, str]:
        problems = broken_invariants(api, prom)
        return (True if not problems else None), "; ".join(problems)

    wait_until("the cluster and the pipeline whole again", whole, timeout, 5.0)
