"""Draining and stopping a worker: pods move, the node comes back, the cluster is whole."""

import subprocess
import time

import pytest

from fixtures.workloads import pod_manifest, wait_pod_running
from harness.cluster.timing import NodeFailureTiming
from harness.observe.wait import wait_until

pytestmark = pytest.mark.disruptive

REPLICAS = 2
NODE_RETURN_TIMEOUT = 180.0
"""docker start → systemd → containerd → kubelet → Ready, plus CNI on two cores."""


def spread_deployment(name, image):
    """A Deployment whose replicas prefer different workers."""
    labels = {"app": name}
    pod = pod_manifest(name, image, labels=labels)
    pod["spec"]["topologySpreadConstraints"] = [
        {
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": labels},
        }
    ]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": REPLICAS,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": pod["spec"]},
        },
    }


def ready_pods_by_node(lab, namespace, app):
    """{node: ready pod count} for live (not terminating) pods of the app."""
    counts = {}
    for pod in lab.core.list_namespaced_pod(namespace, label_selector=f"app={app}").items:
        if pod.metadata.deletion_timestamp:
            continue
        statuses = pod.status.container_statuses or []
        if pod.status.phase == "Running" and statuses and all(s.ready for s in statuses):
            counts[pod.spec.node_name] = counts.get(pod.spec.node_name, 0) + 1
    return counts


def node_ready(lab, name):
    node = lab.core.read_node(name)
    ready = [c.status for c in node.status.conditions if c.type == "Ready"]
    return ready[0] if ready else "Unknown"


@pytest.fixture
def restore_node(lab):
    """Registers, before any fault, the rollback that makes every worker whole again."""
    touched = []
    yield touched.append
    for name in touched:
        subprocess.run(["docker", "start", name], capture_output=True, check=False)
        lab.kubectl("uncordon", name)
    for name in touched:
        wait_until(
            f"node {name} Ready after rollback",
            lambda n=name: (
                True if node_ready(lab, n) == "True" else None,
                f"Ready={node_ready(lab, n)}",
            ),
            NODE_RETURN_TIMEOUT,
            2,
        )
        assert not lab.core.read_node(name).spec.unschedulable, f"{name} still cordoned"


def test_drain_moves_pods_and_uncordon_restores_scheduling(lab, namespace, restore_node):
    lab.apps.create_namespaced_deployment(
        namespace, spread_deployment("web", lab.images.toolbox_image)
    )
    first, second = lab.workers
    wait_until(
        "web spread over both workers",
        lambda: (
            True if set(ready_pods_by_node(lab, namespace, "web")) == {first, second} else None,
            str(ready_pods_by_node(lab, namespace, "web")),
        ),
        120,
        2,
    )

    restore_node(first)
    drained = lab.kubectl(
        "drain",
        first,
        "--ignore-daemonsets",
        "--delete-emptydir-data",
        "--grace-period=1",
        "--timeout=120s",
    )
    assert drained.returncode == 0, drained.stderr
    assert lab.core.read_node(first).spec.unschedulable is True

    wait_until(
        f"all {REPLICAS} web pods Ready on {second}",
        lambda: (
            True if ready_pods_by_node(lab, namespace, "web") == {second: REPLICAS} else None,
            str(ready_pods_by_node(lab, namespace, "web")),
        ),
        120,
        2,
    )

    uncordoned = lab.kubectl("uncordon", first)
    assert uncordoned.returncode == 0, uncordoned.stderr
    assert not lab.core.read_node(first).spec.unschedulable
    lab.core.create_namespaced_pod(
        namespace, pod_manifest("back", lab.images.toolbox_image, node=first)
    )
    pod = wait_pod_running(lab.core, namespace, "back")
    assert pod.spec.node_name == first


def test_stopped_worker_goes_not_ready_and_pods_reschedule(lab, namespace, restore_node):
    timing = NodeFailureTiming.from_kind_config(lab.settings.kind_config)
    lab.apps.create_namespaced_deployment(
        namespace, spread_deployment("svc", lab.images.toolbox_image)
    )
    first, second = lab.workers
    wait_until(
        "svc spread over both workers",
        lambda: (
            True if set(ready_pods_by_node(lab, namespace, "svc")) == {first, second} else None,
            str(ready_pods_by_node(lab, namespace, "svc")),
        ),
        120,
        2,
    )

    restore_node(first)
    stopped_at = time.monotonic()
    subprocess.run(["docker", "stop", "--time", "2", first], check=True, capture_output=True)

    wait_until(
        f"{first} NotReady within {timing.not_ready_bound:.0f}s + 2s stop",
        lambda: (
            True if node_ready(lab, first) != "True" else None,
            f"Ready={node_ready(lab, first)}",
        ),
        timing.not_ready_bound + 2 + 10,
        1,
    )
    not_ready_after = time.monotonic() - stopped_at

    wait_until(
        f"all {REPLICAS} svc pods Ready on {second} within {timing.explain()}",
        lambda: (
            True if ready_pods_by_node(lab, namespace, "svc") == {second: REPLICAS} else None,
            str(ready_pods_by_node(lab, namespace, "svc")),
        ),
        timing.reschedule_bound + 2,
        1,
    )
    rescheduled_after = time.monotonic() - stopped_at
    print(
        f"\nnode NotReady after {not_ready_after:.1f}s; pods rescheduled after "
        f"{rescheduled_after:.1f}s (bound {timing.explain()})"
    )
    assert rescheduled_after <= timing.reschedule_bound + 2

    subprocess.run(["docker", "start", first], check=True, capture_output=True)
    wait_until(
        f"{first} Ready again",
        lambda: (
            True if node_ready(lab, first) == "True" else None,
            f"Ready={node_ready(lab, first)}",
        ),
        NODE_RETURN_TIMEOUT,
        2,
    )
    lab.core.create_namespaced_pod(
        namespace, pod_manifest("back", lab.images.toolbox_image, node=first)
    )
    assert wait_pod_running(lab.core, namespace, "back").spec.node_name == first
