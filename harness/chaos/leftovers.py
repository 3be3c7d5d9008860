"""Faults an interrupted run left behind, found and undone before the pipeline converges.

Rollbacks run on pass, fail, timeout and Ctrl-C, but not when the harness itself is
killed (SIGKILL, a CI job cancelled, a machine that stopped mid-test). What such a run
leaves is still recognisable, because every fault marks what it touches:

- NetworkPolicies and pods labelled ``harness.local/chaos`` (isolations, fillers,
  pressure pods): deleted, and the policies an isolation set aside (kept in its
  annotation ``harness.local/chaos-set-aside``) created again;
- PriorityClasses labelled ``harness.local/chaos`` (a CPU fill's, harness.chaos.capacity):
  deleted, after the pods that name them;
- Deployments and Services labelled ``harness.local/chaos`` (a control's twin of a
  Deployment, harness.chaos.deployments.twin_deployment): deleted, before the pods;
- pods whose probes the harness failed (annotation ``harness.local/chaos-unready``,
  harness.chaos.endpoints): deleted, so their Deployment replaces them with healthy ones;
- nodes the harness cordoned (annotation ``harness.local/chaos-cordon``): uncordoned;
- Deployments it scaled to zero (annotation ``harness.local/chaos-replicas``, the
  replicas they had): scaled back;
- the SparkApplications a run creates beside 05's (the controls' twin,
  dynamic_allocation's ``events-autoscale``, operator_leader_failover's
  ``failover-probe``): deleted;
- fill files on the pipeline's claims: removed (through the reader pod).

Seen on CI (2026-12-02): a run killed mid-fault left the stream at zero input rows, and
re-applying the manifests alone did not bring the data back. A NetworkPolicy 07 does not
declare is not removed by ``kubectl apply``, nor is a node uncordoned by it; this sweep is
what makes ``pipeline up`` converge from any state a fault can leave.
"""

from __future__ import annotations

import json

from kubernetes import client

from harness.chaos.endpoints import UNREADY_MARK
from harness.integrity.collect import READER, ensure_reader
from harness.invariants import (
    CHAOS_LABEL,
    CORDON_MARK,
    FILL_FILE,
    READER_MOUNTS,
    REPLICAS_MARK,
    SET_ASIDE_MARK,
)
from harness.kube import exec_in_pod
from harness.spark_application import CONTROL, GROUP, NAMESPACE, PLURAL, VERSION

__all__ = ["sweep"]
READER_TIMEOUT = 60.0


def sweep(api: client.ApiClient, tools_image: str | None) -> list[str]:
    """Undo every fault an interrupted run left; return what was undone (empty: nothing)."""
    core = client.CoreV1Api(api)
    done: list[str] = []
    net = client.NetworkingV1Api(api)
    for policy in net.list_network_policy_for_all_namespaces(label_selector=CHAOS_LABEL).items:
        ns, name = policy.metadata.namespace, policy.metadata.name
        set_aside = json.loads((policy.metadata.annotations or {}).get(SET_ASIDE_MARK, "[]"))
        net.delete_namespaced_network_policy(name, ns)
        done.append(f"deleted chaos NetworkPolicy {ns}/{name}")
        for body in set_aside:
            try:
                net.create_namespaced_network_policy(ns, body)
            except client.ApiException as exc:
                if exc.status != 409:  # 409: there again already (re-applied)
                    raise
                continue
            done.append(f"restored NetworkPolicy {ns}/{body['metadata']['name']} it set aside")
    done += _twins(api)
    for pod in core.list_pod_for_all_namespaces(label_selector=CHAOS_LABEL).items:
        ns, name = pod.metadata.namespace, pod.metadata.name
        core.delete_namespaced_pod(name, ns, grace_period_seconds=0)
        done.append(f"deleted chaos pod {ns}/{name}")
    for pod in core.list_pod_for_all_namespaces().items:
        if UNREADY_MARK in (pod.metadata.annotations or {}):
            ns, name = pod.metadata.namespace, pod.metadata.name
            core.delete_namespaced_pod(name, ns)
            done.append(f"deleted pod {ns}/{name}, left failing its probes")
    scheduling = client.SchedulingV1Api(api)
    for priority_class in scheduling.list_priority_class(label_selector=CHAOS_LABEL).items:
        scheduling.delete_priority_class(priority_class.metadata.name)
        done.append(f"deleted chaos PriorityClass {priority_class.metadata.name}")
    for node in core.list_node().items:
        if CORDON_MARK in (node.metadata.annotations or {}):
            name = node.metadata.name
            core.patch_node(
                name,
                {
                    "metadata": {"annotations": {CORDON_MARK: None}},
                    "spec": {"unschedulable": False},
                },
            )
            done.append(f"uncordoned node {name}")
    done += _scaled_down(client.AppsV1Api(api))
    done += _twin(api)
    if tools_image is not None and _claims_mounted(core):
        done += _fill_files(core, tools_image)
    return done


def _twins(api: client.ApiClient) -> list[str]:
    """Chaos-made Deployments (foreground: their pods go first) and Services."""
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    done = []
    for deployment in apps.list_deployment_for_all_namespaces(label_selector=CHAOS_LABEL).items:
        ns, name = deployment.metadata.namespace, deployment.metadata.name
        apps.delete_namespaced_deployment(name, ns, propagation_policy="Foreground")
        done.append(f"deleted chaos Deployment {ns}/{name}")
    for service in core.list_service_for_all_namespaces(label_selector=CHAOS_LABEL).items:
        ns, name = service.metadata.namespace, service.metadata.name
        core.delete_namespaced_service(name, ns)
        done.append(f"deleted chaos Service {ns}/{name}")
    return done


def _scaled_down(apps: client.AppsV1Api) -> list[str]:
    done = []
    for deployment in apps.list_deployment_for_all_namespaces().items:
        mark = (deployment.metadata.annotations or {}).get(REPLICAS_MARK)
        if mark is None:
            continue
        ns, name = deployment.metadata.namespace, deployment.metadata.name
        apps.patch_namespaced_deployment_scale(name, ns, {"spec": {"replicas": int(mark)}})
        apps.patch_namespaced_deployment(
            name, ns, {"metadata": {"annotations": {REPLICAS_MARK: None}}}
        )
        done.append(f"scaled Deployment {ns}/{name} back to {mark}")
    return done


EXTRA_APPLICATIONS = (CONTROL, "events-autoscale", "failover-probe")
"""Applications a run creates beside 05's: the controls' twin, dynamic_allocation's own,
operator_leader_failover's probe created during the failover."""


def _twin(api: client.ApiClient) -> list[str]:
    custom = client.CustomObjectsApi(api)
    done = []
    for name in EXTRA_APPLICATIONS:
        try:
            custom.delete_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, name)
        except client.ApiException as exc:
            if exc.status == 404:
                continue
            raise
        done.append(f"deleted SparkApplication {NAMESPACE}/{name} a run created")
    return done


def _claims_mounted(core: client.CoreV1Api) -> bool:
    """The claims exist (a first deployment has none yet, and nothing to sweep)."""
    names = {c.metadata.name for c in core.list_namespaced_persistent_volume_claim(NAMESPACE).items}
    return {"spark-checkpoint", "spark-sink"} <= names


def _fill_files(core: client.CoreV1Api, image: str) -> list[str]:
    ensure_reader(core, image, READER_TIMEOUT)
    paths = [f"{m}/{FILL_FILE}" for m in READER_MOUNTS]
    script = "; ".join(f"test -e {p} && rm -f {p} && echo {p}" for p in paths) + "; true"
    code, out = exec_in_pod(core, NAMESPACE, READER, ["sh", "-c", script], 30)
    if code != 0:
        return [f"fill files not removed: the reader's rm exited {code}: {out.strip()[-200:]}"]
    return [f"removed fill file {line}" for line in out.split() if line in paths]
