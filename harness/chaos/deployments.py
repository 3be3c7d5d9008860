"""Deployment faults: take every replica of a controller away, and bring them back.

Used to hold a controller's reaction back on purpose (prometheus_alerting stops the
Spark operator so that a lost driver stays lost until its alert has fired). The
rollback, registered before the scale-down, puts the replicas back and waits until
they are all available; the leftover check names a Deployment left short. A mechanism
may lift the fault earlier with ``ScaledDown.restore`` (the rollback then does nothing).

A twin is a copy of a Deployment, and of the Service in front of it, under a name of its
own, with the mechanism a negative control switches off taken out of the copy, so the
Deployment under test is never changed (readiness_gate's twin of ingest has no readiness
probe). Its pods carry the twin's name where the original's selector labels were, so no
selector of the original (Service, PDB, HPA, PodMonitor) picks them up, and
``harness.local/chaos``: harness.chaos.leftovers deletes a twin an interrupted run left.
Its deletion is registered before it is created.

A patched Deployment (``patch_deployment``) is one whose spec a negative control changed
in place (operator_leader_failover: one replica, no leader election): the rollback,
registered before the patch, puts the whole spec back as it was read and waits until the
rollout is done and the caller's ``settled`` condition holds (a leader again). A run
killed before its rollback leaves it to ``pipeline up``, which applies 04 again (Helm or
the offline render) and so restores the replicas and arguments.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client

from harness.chaos.scope import FaultScope
from harness.errors import FaultNotLanded, WaitTimeout
from harness.invariants import CHAOS_LABEL, REPLICAS_MARK
from harness.observe.wait import wait_until

__all__ = [
    "RETURN_TIMEOUT",
    "TWIN_MARK",
    "PatchedDeployment",
    "ScaledDown",
    "Twin",
    "patch_deployment",
    "rollout_problems",
    "scale_to_zero",
    "twin_deployment",
    "twin_manifests",
]

RETURN_TIMEOUT = 120.0
"""Pod scheduling, image already on the node, the controller's start and readiness."""
TWIN_MARK = "harness.local/twin-of"
"""On a twin Deployment and its Service: the name of the original."""
TWIN_GONE_TIMEOUT = 60.0
"""The twin's pods end within their termination grace (ingest: 5 s) plus margin."""


@dataclass
class ScaledDown:
    """A Deployment scaled to zero; ``restore`` lifts the fault, ``evidence`` proves it."""

    apps: client.AppsV1Api
    namespace: str
    name: str
    replicas: int
    evidence: dict[str, Any] = field(default_factory=dict)
    restored: bool = False

    def restore(self) -> None:
        """Scale back to the replicas it had and wait until they are available; idempotent."""
        if self.restored:
            return
        self.apps.patch_namespaced_deployment_scale(
            self.name, self.namespace, {"spec": {"replicas": self.replicas}}
        )
        self.apps.patch_namespaced_deployment(
            self.name, self.namespace, {"metadata": {"annotations": {REPLICAS_MARK: None}}}
        )

        def back() -> tuple[bool | None, str]:
            now = self.apps.read_namespaced_deployment(self.name, self.namespace).status
            available = now.available_replicas or 0
            seen = f"{available}/{self.replicas} available"
            return (True if available >= self.replicas else None), seen

        wait_until(f"Deployment {self.namespace}/{self.name} back", back, RETURN_TIMEOUT, 1.0)
        self.restored = True

    def leftovers(self) -> list[str]:
        """The Deployment, if it is still short of its replicas."""
        spec = self.apps.read_namespaced_deployment(self.name, self.namespace).spec
        have = int(spec.replicas or 0)
        if have == self.replicas:
            return []
        return [f"Deployment {self.namespace}/{self.name} at {have}/{self.replicas} replicas"]


def scale_to_zero(
    scope: FaultScope, namespace: str, name: str, timeout: float = 90.0
) -> ScaledDown:
    """Scale Deployment namespace/name to 0 and wait until its pods are gone; the evidence
    names the replicas it had and the pods (name → UID) that went away."""
    apps, core = client.AppsV1Api(scope.api), client.CoreV1Api(scope.api)
    deployment = apps.read_namespaced_deployment(name, namespace)
    labels = deployment.spec.selector.match_labels or {}
    selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    fault = ScaledDown(apps, namespace, name, int(deployment.spec.replicas or 1))

    def pods() -> dict[str, str]:
        items = core.list_namespaced_pod(namespace, label_selector=selector).items
        return {p.metadata.name: p.metadata.uid for p in items}

    before = pods()
    scope.rollbacks.register(
        f"Deployment {namespace}/{name} back to {fault.replicas}",
        fault.restore,
        leftover=fault.leftovers,
    )
    scope.timeline.add("fault", f"deployment/{name}", "scaled to 0 replicas")
    # The mark (the replicas it had) lets a later run undo a scale-down whose rollback
    # never ran (harness.chaos.leftovers).
    mark = {"metadata": {"annotations": {REPLICAS_MARK: str(fault.replicas)}}}
    apps.patch_namespaced_deployment(name, namespace, mark)
    apps.patch_namespaced_deployment_scale(name, namespace, {"spec": {"replicas": 0}})

    def gone() -> tuple[bool | None, str]:
        left = sorted(pods())
        return (True if not left else None), f"pods left: {left}"

    try:
        wait_until(f"Deployment {namespace}/{name} pods gone", gone, timeout, 1.0)
    except WaitTimeout as exc:
        raise FaultNotLanded(f"Deployment {namespace}/{name} did not scale down: {exc}") from exc
    scope.timeline.add("fault", f"deployment/{name}", "no pod left")
    fault.evidence = {
        "deployment": f"{namespace}/{name}",
        "replicas_before": fault.replicas,
        "pods_gone": before,
    }
    return fault


def twin_manifests(
    deployment: dict[str, Any],
    service: dict[str, Any] | None,
    name: str,
    patch: Callable[[dict[str, Any]], None] | None = None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The twin of a Deployment (and of its Service), from their API dicts (camelCase):
    every selector label set to ``name``, ``harness.local/chaos`` added, ``patch``
    applied to the twin Deployment last."""
    meta, spec = deployment["metadata"], deployment["spec"]
    original = dict(spec["selector"].get("matchLabels") or {})
    if not original or spec["selector"].get("matchExpressions"):
        raise ValueError(f"{meta['name']}: a twin needs a matchLabels-only selector")
    selector = {key: name for key in original} | {CHAOS_LABEL: "twin"}
    template = copy.deepcopy(spec["template"])
    template.setdefault("metadata", {})
    template["metadata"]["labels"] = {**(template["metadata"].get("labels") or {}), **selector}
    marks = {"labels": {"app.kubernetes.io/name": name, CHAOS_LABEL: "twin"}}
    twin: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, **marks, "annotations": {TWIN_MARK: meta["name"]}},
        "spec": {
            "replicas": spec.get("replicas", 1),
            "selector": {"matchLabels": selector},
            "template": template,
        },
    }
    if "strategy" in spec:
        twin["spec"]["strategy"] = copy.deepcopy(spec["strategy"])
    if patch is not None:
        patch(twin)
    if service is None:
        return twin, None
    front = service["spec"]
    ports = [
        {k: p[k] for k in ("name", "port", "targetPort", "protocol") if k in p}
        for p in front.get("ports") or []
    ]
    twin_service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": name,
            **marks,
            "annotations": {TWIN_MARK: service["metadata"]["name"]},
        },
        "spec": {
            "selector": {key: name for key in front.get("selector") or {}},
            "ports": ports,
        },
    }
    return twin, twin_service


@dataclass
class Twin:
    """A twin Deployment (and Service); ``delete`` removes both and waits for its pods."""

    apps: client.AppsV1Api
    core: client.CoreV1Api
    namespace: str
    name: str
    selector: str
    """The twin's pods, as a label selector."""
    service: bool

    def pods(self) -> list[Any]:
        """The twin's pods, terminating ones included."""
        return list(
            self.core.list_namespaced_pod(self.namespace, label_selector=self.selector).items
        )

    def delete(self) -> None:
        """Delete the Deployment (foreground: its ReplicaSet and pods first) and the
        Service; wait until no pod of the twin is left. Idempotent."""
        _ignore_404(
            lambda: self.apps.delete_namespaced_deployment(
                self.name, self.namespace, propagation_policy="Foreground"
            )
        )
        if self.service:
            _ignore_404(lambda: self.core.delete_namespaced_service(self.name, self.namespace))

        def gone() -> tuple[bool | None, str]:
            left = self.leftovers()  # the Deployment lingers until its pods are gone
            return (True if not left else None), "; ".join(left)

        wait_until(f"twin {self.namespace}/{self.name} gone", gone, TWIN_GONE_TIMEOUT, 1.0)

    def leftovers(self) -> list[str]:
        """The twin's Deployment, Service or pods, while any exists."""
        left = []
        try:
            self.apps.read_namespaced_deployment(self.name, self.namespace)
            left.append(f"twin Deployment {self.namespace}/{self.name} left")
        except client.ApiException as exc:
            if exc.status != 404:
                raise
        if self.service:
            try:
                self.core.read_namespaced_service(self.name, self.namespace)
                left.append(f"twin Service {self.namespace}/{self.name} left")
            except client.ApiException as exc:
                if exc.status != 404:
                    raise
        return left + [f"twin pod {self.namespace}/{p.metadata.name} left" for p in self.pods()]


def _ignore_404(call: Callable[[], Any]) -> None:
    try:
        call()
    except client.ApiException as exc:
        if exc.status != 404:
            raise


def twin_deployment(
    scope: FaultScope,
    namespace: str,
    source: str,
    name: str,
    patch: Callable[[dict[str, Any]], None] | None = None,
    service: str | None = None,
) -> Twin:
    """Create the twin ``name`` of Deployment namespace/source (and of Service ``service``)
    with ``patch`` applied; its deletion is registered first. It does not wait: the
    caller's steady state waits for what it needs of the twin."""
    apps, core = client.AppsV1Api(scope.api), client.CoreV1Api(scope.api)
    serialize = scope.api.sanitize_for_serialization
    original = serialize(apps.read_namespaced_deployment(source, namespace))
    front = serialize(core.read_namespaced_service(service, namespace)) if service else None
    body, service_body = twin_manifests(original, front, name, patch)
    labels = body["spec"]["selector"]["matchLabels"]
    selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    twin = Twin(apps, core, namespace, name, selector, service_body is not None)
    scope.rollbacks.register(
        f"delete the twin {namespace}/{name} of {source}", twin.delete, leftover=twin.leftovers
    )
    twin.delete()  # one an earlier run left
    scope.timeline.add("control", f"deployment/{name}", f"twin of {source}")
    apps.create_namespaced_deployment(namespace, body)
    if service_body is not None:
        core.create_namespaced_service(namespace, service_body)
    return twin


def rollout_problems(deployment: dict[str, Any], pods: list[dict[str, Any]]) -> list[str]:
    """Why a Deployment (API dict) is not rolled out to its spec: its controller has not
    seen the last change, fewer pods are updated or available than its replicas, or pods
    of an earlier template (counted in status.replicas) or terminating ones are left.
    Empty when it is."""
    spec, status = deployment["spec"], deployment.get("status") or {}
    want = int(spec.get("replicas", 1))
    problems = []
    if int(status.get("observedGeneration", 0)) < int(deployment["metadata"]["generation"]):
        problems.append("the Deployment controller has not observed the last change")
    for field_name in ("updatedReplicas", "availableReplicas", "replicas"):
        have = int(status.get(field_name) or 0)
        if have != want:
            problems.append(f"{field_name} {have}/{want}")
    ending = sorted(p["metadata"]["name"] for p in pods if p["metadata"].get("deletionTimestamp"))
    if ending:
        problems.append(f"pods terminating: {ending}")
    if len(pods) != want:
        problems.append(f"{len(pods)} pods for {want} replicas")
    return problems


@dataclass
class PatchedDeployment:
    """A Deployment whose spec was changed in place; ``restore`` puts the spec back."""

    api: client.ApiClient
    namespace: str
    name: str
    original: dict[str, Any]
    """The spec as read before the patch (API dict, camelCase, defaults included)."""
    settled: Callable[[], tuple[bool | None, str]] | None = None
    """What must hold again after the restore, beyond the rollout (a leader elected)."""
    evidence: dict[str, Any] = field(default_factory=dict)
    restored: bool = False

    def read(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The Deployment and the pods its selector matches now, as API dicts."""
        apps, core = client.AppsV1Api(self.api), client.CoreV1Api(self.api)
        serialize = self.api.sanitize_for_serialization
        deployment = serialize(apps.read_namespaced_deployment(self.name, self.namespace))
        labels = deployment["spec"]["selector"].get("matchLabels") or {}
        selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        items = core.list_namespaced_pod(self.namespace, label_selector=selector).items
        return deployment, [serialize(p) for p in items]

    def rolled_out(self) -> tuple[bool | None, str]:
        """A probe: the Deployment rolled out to its current spec (rollout_problems)."""
        problems = rollout_problems(*self.read())
        return (True if not problems else None), "; ".join(problems) or "rolled out"

    def restore(self) -> None:
        """Put the original spec back; wait for its rollout and ``settled``. Idempotent."""
        if self.restored:
            return
        client.AppsV1Api(self.api).patch_namespaced_deployment(
            self.name, self.namespace, [{"op": "replace", "path": "/spec", "value": self.original}]
        )
        what = f"Deployment {self.namespace}/{self.name} rolled back to its spec"
        wait_until(what, self.rolled_out, RETURN_TIMEOUT, 1.0)
        if self.settled is not None:
            wait_until(f"{what}, settled", self.settled, RETURN_TIMEOUT, 1.0)
        self.restored = True

    def leftovers(self) -> list[str]:
        """The Deployment, while its replicas or pod template differ from the original."""
        live = self.read()[0]["spec"]
        return [
            f"Deployment {self.namespace}/{self.name}: {key} not restored"
            for key in ("replicas", "template")
            if live.get(key) != self.original.get(key)
        ]


def patch_deployment(
    scope: FaultScope,
    namespace: str,
    name: str,
    change: Callable[[dict[str, Any]], None],
    settled: Callable[[], tuple[bool | None, str]] | None = None,
    timeout: float = RETURN_TIMEOUT,
) -> PatchedDeployment:
    """Change Deployment namespace/name's spec with ``change`` (it edits the API dict in
    place) and wait until it has rolled out; the restore of the whole original spec is
    registered first. The evidence names the pods (name → UID) before and after."""
    fault = PatchedDeployment(scope.api, namespace, name, {}, settled)
    deployment, before = fault.read()
    fault.original = deployment["spec"]
    spec = copy.deepcopy(fault.original)
    change(spec)
    scope.rollbacks.register(
        f"Deployment {namespace}/{name} back to its spec", fault.restore, leftover=fault.leftovers
    )
    scope.timeline.add("control", f"deployment/{name}", "spec patched")
    client.AppsV1Api(scope.api).patch_namespaced_deployment(
        name, namespace, [{"op": "replace", "path": "/spec", "value": spec}]
    )
    try:
        wait_until(f"Deployment {namespace}/{name} rolled out", fault.rolled_out, timeout, 1.0)
    except WaitTimeout as exc:
        raise FaultNotLanded(f"Deployment {namespace}/{name} did not roll out: {exc}") from exc
    after = fault.read()[1]
    fault.evidence = {
        "deployment": f"{namespace}/{name}",
        "replicas": [fault.original.get("replicas"), spec.get("replicas")],
        "pods_before": {p["metadata"]["name"]: p["metadata"]["uid"] for p in before},
        "pods_after": {p["metadata"]["name"]: p["metadata"]["uid"] for p in after},
    }
    scope.timeline.add(
        "control", f"deployment/{name}", f"rolled out: {sorted(fault.evidence['pods_after'])}"
    )
    return fault
