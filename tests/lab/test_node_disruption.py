"""Draining and stopping a worker: pods move, the node comes back, the cluster is whole.

The faults go through harness.chaos.nodes and the lab_faults scope: the rollback (uncordon;
docker start and a wait for Ready) is registered before the fault strikes, and the
leftover checks (node cordoned, container not running, node not Ready) must be empty
when the test ends.
"""

import time

import pytest

from harness.chaos.node_agent import stop_kubelet
from harness.chaos.nodes import cordon, start_node, stop_node, wait_node_not_ready
from harness.cluster.timing import NodeFailureTiming
from harness.fixtures.workloads import pod_manifest, wait_pod_running
from harness.observe.wait import wait_until

pytestmark = pytest.mark.disruptive

REPLICAS = 2
SPREAD_TIMEOUT = 120.0
"""Two small pods scheduled and started on two cores."""


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


def wait_placement(lab, namespace, app, expected, timeout, what):
    """Wait until the app's ready pods per node satisfy expected(counts)."""

    def probe():
        counts = ready_pods_by_node(lab, namespace, app)
        return (True if expected(counts) else None), f"ready pods by node: {counts}"

    wait_until(what, probe, timeout, 1)


@pytest.fixture
def spread(lab, namespace):
    """A two-replica Deployment with one ready pod on each worker; returns its name."""
    lab.apps.create_namespaced_deployment(
        namespace, spread_deployment("spread", lab.images.toolbox_image)
    )
    workers = set(lab.workers)
    wait_placement(
        lab,
        namespace,
        "spread",
        lambda c: set(c) == workers,
        SPREAD_TIMEOUT,
        "one spread pod Ready on each worker",
    )
    return "spread"


def assert_schedulable_again(lab, namespace, node):
    """A pod pinned to the node runs there: the node takes work again."""
    lab.core.create_namespaced_pod(
        namespace, pod_manifest("back", lab.images.toolbox_image, node=node)
    )
    assert wait_pod_running(lab.core, namespace, "back").spec.node_name == node


def test_drain_moves_pods_and_uncordon_restores_scheduling(lab, namespace, spread, lab_faults):
    first, second = lab.workers
    # cordon registers the uncordon and its leftover check before the drain strikes.
    cordon(lab_faults, first)
    drained = lab.kubectl(
        "drain",
        first,
        # Only this test's pods: the pipeline may share the cluster, and its broker's
        # budget of 0 (06-autoscaling.yaml) refuses a whole-node drain by design.
        f"--pod-selector=app={spread}",
        "--ignore-daemonsets",
        "--delete-emptydir-data",
        "--grace-period=1",
        "--timeout=120s",
    )
    assert drained.returncode == 0, drained.stderr
    assert lab.core.read_node(first).spec.unschedulable is True
    wait_placement(
        lab,
        namespace,
        spread,
        lambda c: c == {second: REPLICAS},
        SPREAD_TIMEOUT,
        f"all {REPLICAS} pods Ready on {second} after draining {first}",
    )
    assert lab_faults.rollbacks.leftovers() == [f"node {first} cordoned"]

    uncordoned = lab.kubectl("uncordon", first)
    assert uncordoned.returncode == 0, uncordoned.stderr
    assert not lab.core.read_node(first).spec.unschedulable
    assert_schedulable_again(lab, namespace, first)


def test_stopped_worker_goes_not_ready_and_pods_reschedule(lab, namespace, spread, lab_faults):
    timing = NodeFailureTiming.from_kind_config(lab.settings.kind_config)
    first, second = lab.workers
    stopped_at = time.monotonic()
    evidence = stop_node(lab_faults, first)
    assert evidence["container_after"] != "running", evidence

    # docker stop itself may take its 2s grace before the kubelet goes silent.
    wait_node_not_ready(lab.core, first, timing.not_ready_bound + 2 + 10)
    not_ready_after = time.monotonic() - stopped_at
    wait_placement(
        lab,
        namespace,
        spread,
        lambda c: c == {second: REPLICAS},
        timing.reschedule_bound + 2,
        f"all {REPLICAS} pods Ready on {second} within {timing.explain()}",
    )
    rescheduled_after = time.monotonic() - stopped_at
    print(
        f"\n{first}: NotReady after {not_ready_after:.1f}s, pods rescheduled after "
        f"{rescheduled_after:.1f}s (bound {timing.explain()}); stop: {evidence}"
    )

    start_node(lab.core, first)
    assert_schedulable_again(lab, namespace, first)


def test_kubelet_stopped_from_inside_goes_not_ready_and_comes_back(
    lab, namespace, spread, lab_faults
):
    """The node fault without Docker (harness.chaos.node_agent): a pod on the node stops
    its kubelet and runtime; the node goes NotReady, its pods reschedule, and it returns.
    On kind the rollback starts them at once; the node's own timer would otherwise."""
    timing = NodeFailureTiming.from_kind_config(lab.settings.kind_config)
    first, second = lab.workers
    stopped_at = time.monotonic()
    down = stop_kubelet(lab_faults, first, lab.images.toolbox_image, hold=600)
    assert down.evidence["last_renewal_after_strike_s"] <= 10, down.evidence

    wait_node_not_ready(lab.core, first, timing.not_ready_bound + 10)
    not_ready_after = time.monotonic() - stopped_at
    wait_placement(
        lab,
        namespace,
        spread,
        lambda c: c == {second: REPLICAS},
        timing.reschedule_bound + 2,
        f"all {REPLICAS} pods Ready on {second} within {timing.explain()}",
    )
    print(
        f"\n{first}: NotReady {not_ready_after:.1f}s after the agent, pods rescheduled"
        f" {time.monotonic() - stopped_at:.1f}s after (bound {timing.explain()}): {down.evidence}"
    )
    began = time.monotonic()
    down.restore()
    print(f"{first} Ready again {time.monotonic() - began:.1f}s after the restore")
    assert down.leftovers() == []
    assert_schedulable_again(lab, namespace, first)
