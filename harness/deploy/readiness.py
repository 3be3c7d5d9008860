"""What "ready" means for each kind of object the pipeline applies, read from the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubernetes import client

__all__ = ["not_ready"]

Document = dict[str, Any]
Check = Callable[[client.ApiClient, Document], str]
"""Returns "" when the object is ready, else what was seen."""


def _name(doc: Document) -> tuple[str, str]:
    meta = doc["metadata"]
    return meta.get("namespace", ""), meta["name"]


def _deployment(api: client.ApiClient, doc: Document) -> str:
    ns, name = _name(doc)
    d = client.AppsV1Api(api).read_namespaced_deployment_status(name, ns)
    want = d.spec.replicas if d.spec.replicas is not None else 1
    status = d.status
    updated, available = status.updated_replicas or 0, status.available_replicas or 0
    if d.metadata.generation != status.observed_generation:
        return "rollout not yet observed"
    if updated < want or available < want:
        return f"{available}/{want} available, {updated} updated"
    return ""


def _statefulset(api: client.ApiClient, doc: Document) -> str:
    ns, name = _name(doc)
    s = client.AppsV1Api(api).read_namespaced_stateful_set_status(name, ns)
    want = s.spec.replicas if s.spec.replicas is not None else 1
    ready = s.status.ready_replicas or 0
    return "" if ready >= want else f"{ready}/{want} ready"


def _job(api: client.ApiClient, doc: Document) -> str:
    if doc.get("spec", {}).get("suspend"):
        return ""  # a suspended Job (the restore procedure) is ready by existing
    ns, name = _name(doc)
    job = client.BatchV1Api(api).read_namespaced_job_status(name, ns)
    for cond in job.status.conditions or []:
        if cond.type == "Complete" and cond.status == "True":
            return ""
        if cond.type == "Failed" and cond.status == "True":
            return f"failed: {cond.message}"
    return f"{job.status.succeeded or 0} succeeded, {job.status.failed or 0} failed so far"


def _pvc(api: client.ApiClient, doc: Document) -> str:
    ns, name = _name(doc)
    pvc = client.CoreV1Api(api).read_namespaced_persistent_volume_claim(name, ns)
    mode = doc.get("spec", {}).get("storageClassName")
    if pvc.status.phase == "Bound":
        return ""
    if mode == "standard":
        return ""  # local-path binds when its first pod is scheduled (WaitForFirstConsumer)
    return f"phase {pvc.status.phase}"


def _crd(api: client.ApiClient, doc: Document) -> str:
    crd = client.ApiextensionsV1Api(api).read_custom_resource_definition(doc["metadata"]["name"])
    for cond in crd.status.conditions or []:
        if cond.type == "Established" and cond.status == "True":
            return ""
    return "not established"


def _apiservice(api: client.ApiClient, doc: Document) -> str:
    svc = client.ApiregistrationV1Api(api).read_api_service(doc["metadata"]["name"])
    for cond in svc.status.conditions or []:
        if cond.type == "Available":
            return "" if cond.status == "True" else f"not available: {cond.message}"
    return "no Available condition yet"


def _custom(group: str, version: str, plural: str) -> Callable[[client.ApiClient, Document], Any]:
    def read(api: client.ApiClient, doc: Document) -> Any:
        ns, name = _name(doc)
        return client.CustomObjectsApi(api).get_namespaced_custom_object(
            group, version, ns, plural, name
        )

    return read


def _prometheus(api: client.ApiClient, doc: Document) -> str:
    obj = _custom("monitoring.coreos.com", "v1", "prometheuses")(api, doc)
    want = obj.get("spec", {}).get("replicas", 1)
    have = obj.get("status", {}).get("availableReplicas", 0)
    return "" if have >= want else f"{have}/{want} available replicas"


def _alertmanager(api: client.ApiClient, doc: Document) -> str:
    obj = _custom("monitoring.coreos.com", "v1", "alertmanagers")(api, doc)
    want = obj.get("spec", {}).get("replicas", 1)
    have = obj.get("status", {}).get("availableReplicas", 0)
    return "" if have >= want else f"{have}/{want} available replicas"


def _spark_application(api: client.ApiClient, doc: Document) -> str:
    obj = _custom("sparkoperator.k8s.io", "v1beta2", "sparkapplications")(api, doc)
    state = obj.get("status", {}).get("applicationState", {})
    if state.get("state") == "RUNNING":
        return ""
    return f"state {state.get('state', 'none')} {state.get('errorMessage', '')}".strip()


CHECKS: dict[str, Check] = {
    "Deployment": _deployment,
    "StatefulSet": _statefulset,
    "Job": _job,
    "PersistentVolumeClaim": _pvc,
    "CustomResourceDefinition": _crd,
    "APIService": _apiservice,
    "Prometheus": _prometheus,
    "Alertmanager": _alertmanager,
    "SparkApplication": _spark_application,
}


def not_ready(api: client.ApiClient, docs: list[Document]) -> list[str]:
    """Objects among docs that are not ready yet, each as 'Kind ns/name: what was seen'."""
    waiting = []
    for doc in docs:
        check = CHECKS.get(doc["kind"])
        if check is None:
            continue
        ns, name = _name(doc)
        try:
            seen = check(api, doc)
        except client.ApiException as exc:
            seen = f"API {exc.status} {exc.reason}"
        if seen:
            waiting.append(f"{doc['kind']} {ns + '/' if ns else ''}{name}: {seen}")
    return waiting
