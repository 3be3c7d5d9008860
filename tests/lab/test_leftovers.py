"""A run killed mid-fault (no rollback ran) leaves marks; the sweep finds and undoes them.

The faults strike through lab_faults as usual; the sweep (harness.chaos.leftovers, which
``pipeline up`` runs first) is called while they still hold, as the next run would find
them; the rollbacks then find nothing left to do.
"""

from __future__ import annotations

import pytest
from kubernetes import client

from harness.chaos import isolate
from harness.chaos.deployments import scale_to_zero
from harness.chaos.leftovers import sweep
from harness.chaos.nodes import cordon
from harness.fixtures.cluster import Lab
from harness.fixtures.faults import LabFaults
from harness.fixtures.workloads import pod_manifest
from harness.invariants import CHAOS_LABEL, CORDON_MARK, REPLICAS_MARK
from harness.observe.wait import wait_until

pytestmark = pytest.mark.disruptive


def _deployment(lab: Lab, namespace: str) -> None:
    pod = pod_manifest("sleeper", lab.images.toolbox_image, labels={"app": "sleeper"})
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "sleeper"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "sleeper"}},
            "template": {"metadata": pod["metadata"], "spec": pod["spec"]},
        },
    }
    client.AppsV1Api(lab.api).create_namespaced_deployment(namespace, body)

    def running() -> tuple[bool | None, str]:
        pods = lab.core.list_namespaced_pod(namespace, label_selector="app=sleeper").items
        phases = [p.status.phase for p in pods]
        return (True if "Running" in phases else None), f"sleeper pods {phases}"

    wait_until("a sleeper pod Running", running, 90.0)


def test_sweep_undoes_a_cordon_an_isolation_and_a_scale_down(
    lab: Lab, namespace: str, lab_faults: LabFaults
) -> None:
    apps = client.AppsV1Api(lab.api)
    _deployment(lab, namespace)
    worker = sorted(
        n.metadata.name for n in lab.core.list_node().items if "worker" in n.metadata.name
    )[0]
    cordon(lab_faults, worker)
    isolate(lab_faults, namespace, {"app": "sleeper"})
    scale_to_zero(lab_faults, namespace, "sleeper", timeout=60.0)
    assert lab_faults.rollbacks.leftovers(), "the faults hold, so their checks see them"

    undone = sweep(lab.api, tools_image=None)

    assert any(f"uncordoned node {worker}" == u for u in undone), undone
    assert any(u.startswith(f"deleted chaos NetworkPolicy {namespace}/") for u in undone), undone
    assert f"scaled Deployment {namespace}/sleeper back to 1" in undone, undone
    node = lab.core.read_node(worker)
    assert not node.spec.unschedulable
    assert CORDON_MARK not in (node.metadata.annotations or {})
    policies = client.NetworkingV1Api(lab.api).list_namespaced_network_policy(
        namespace, label_selector=CHAOS_LABEL
    )
    assert not policies.items
    live = apps.read_namespaced_deployment("sleeper", namespace)
    assert live.spec.replicas == 1
    assert REPLICAS_MARK not in (live.metadata.annotations or {})
    assert sweep(lab.api, tools_image=None) == [], "a second sweep finds nothing"
