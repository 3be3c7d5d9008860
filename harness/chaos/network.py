"""Network faults: isolate pods with NetworkPolicies; partition them for real.

NetworkPolicies only add allowances: a deny policy cannot take back what another policy
allows. So isolating pods takes two steps, both undone by the rollback registered first:
the namespace's policies that select the target pods are set aside, each replaced by
stand-ins that select the same pods except the targets (``stand_ins``: so no other pod
loses an allowance), and a deny-all policy labelled ``harness.local/chaos`` selects the
targets (so the isolation holds in a namespace without a default deny too).
The fault's leftover check finds its chaos policy left or a policy it set aside not
restored; the invariants find any chaos policy, and a missing declared one.

A policy change does not cut a live connection: kube-router (like most policy engines)
accepts packets of ESTABLISHED flows before it checks any policy. ``partition`` therefore
also deletes the conntrack entries of the isolated pods' flows on every node, so that
their next packet is checked, and dropped, as a new flow.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client

from harness.chaos.nodes import node_exec
from harness.chaos.scope import FaultScope
from harness.chaos.selectors import matches
from harness.errors import HarnessError
from harness.invariants import CHAOS_LABEL, SET_ASIDE_MARK

__all__ = ["Isolation", "Partition", "isolate", "partition", "stand_ins"]


@dataclass
class Isolation:
    """What an isolation changed: the chaos policy and the policies set aside."""

    namespace: str
    policy: str
    set_aside: list[dict[str, Any]] = field(default_factory=list)
    stand_ins: list[str] = field(default_factory=list)
    """Copies of the set-aside policies that exclude the targets (chaos-labelled)."""

    @property
    def set_aside_names(self) -> list[str]:
        """Names of the policies set aside, for the timeline and the report."""
        return [p["metadata"]["name"] for p in self.set_aside]


def _plain(policy: client.V1NetworkPolicy, api: client.ApiClient) -> dict[str, Any]:
    body: dict[str, Any] = api.sanitize_for_serialization(policy)
    meta = body["metadata"]
    body["metadata"] = {
        k: meta[k] for k in ("name", "namespace", "labels", "annotations") if k in meta
    }
    body.pop("status", None)
    return body


def stand_ins(
    policy: dict[str, Any], pod_labels: Mapping[str, str], tag: str
) -> list[dict[str, Any]]:
    """Copies of a policy that select what it selects except the pods matching pod_labels.

    "Not (k1=v1 and ... and kn=vn)" is a union of selectors, one per key: copy i adds
    k1=v1 ... k(i-1)=v(i-1) and ki NotIn [vi] (NotIn also matches pods without the key).
    Allowances add up across policies, so the copies together keep every other pod's
    allowances while the original is set aside.
    """
    copies = []
    items = list(pod_labels.items())
    for i, (key, value) in enumerate(items):
        body = json.loads(json.dumps(policy))
        meta = body["metadata"]
        meta["name"] = f"{meta['name']}-keep-{tag}-{i}"
        meta["labels"] = {**(meta.get("labels") or {}), CHAOS_LABEL: "isolate-keep"}
        meta.pop("annotations", None)
        chosen = body["spec"].setdefault("podSelector", {})
        chosen["matchExpressions"] = [
            *(chosen.get("matchExpressions") or []),
            *({"key": k, "operator": "In", "values": [v]} for k, v in items[:i]),
            {"key": key, "operator": "NotIn", "values": [value]},
        ]
        copies.append(body)
    return copies


def _restore(net: client.NetworkingV1Api, isolation: Isolation) -> None:
    for body in isolation.set_aside:
        try:
            net.create_namespaced_network_policy(isolation.namespace, body)
        except client.ApiException as exc:
            if exc.status != 409:
                raise
    for name in [isolation.policy, *isolation.stand_ins]:
        try:
            net.delete_namespaced_network_policy(name, isolation.namespace)
        except client.ApiException as exc:
            if exc.status != 404:
                raise


def _not_restored(
    net: client.NetworkingV1Api, api: client.ApiClient, isolation: Isolation
) -> list[str]:
    """The chaos policy still there, a set-aside policy missing or restored different."""
    live = {
        p.metadata.name: p for p in net.list_namespaced_network_policy(isolation.namespace).items
    }
    problems = []
    where = isolation.namespace
    for name in [isolation.policy, *isolation.stand_ins]:
        if name in live:
            problems.append(f"chaos NetworkPolicy {where}/{name} left")
    for body in isolation.set_aside:
        name = body["metadata"]["name"]
        if name not in live:
            problems.append(f"NetworkPolicy {where}/{name} set aside, not restored")
        elif _plain(live[name], api).get("spec") != body.get("spec"):
            problems.append(f"NetworkPolicy {where}/{name} restored with another spec")
    return problems


def isolate(scope: FaultScope, namespace: str, pod_labels: Mapping[str, str]) -> Isolation:
    """Cut every pod matching pod_labels off the network, in and out."""
    core = client.CoreV1Api(scope.api)
    net = client.NetworkingV1Api(scope.api)
    selector = ",".join(f"{k}={v}" for k, v in pod_labels.items())
    targets = core.list_namespaced_pod(namespace, label_selector=selector).items
    if not targets:
        raise HarnessError(f"no pod in {namespace} matches {selector}: nothing to isolate")
    target_labels = [p.metadata.labels or {} for p in targets]
    digest = hashlib.sha256(selector.encode()).hexdigest()[:8]
    isolation = Isolation(namespace, f"chaos-isolate-{digest}")
    for policy in net.list_namespaced_network_policy(namespace).items:
        spec_selector = scope.api.sanitize_for_serialization(policy.spec.pod_selector)
        if any(matches(spec_selector, labels) for labels in target_labels):
            isolation.set_aside.append(_plain(policy, scope.api))
    scope.rollbacks.register(
        f"lift isolation of {selector} in {namespace} (restore {isolation.set_aside_names})",
        lambda: _restore(net, isolation),
        leftover=lambda: _not_restored(net, scope.api, isolation),
    )
    scope.timeline.add(
        "fault", selector, f"isolate: set aside {isolation.set_aside_names}, deny all"
    )
    net.create_namespaced_network_policy(
        namespace,
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {
                "name": isolation.policy,
                "labels": {CHAOS_LABEL: "isolate"},
                # What it set aside, so that a run killed before its rollback can be undone
                # in full by the next one (harness.chaos.leftovers).
                "annotations": {SET_ASIDE_MARK: json.dumps(isolation.set_aside)},
            },
            "spec": {
                "podSelector": {"matchLabels": dict(pod_labels)},
                "policyTypes": ["Ingress", "Egress"],
            },
        },
    )
    # Stand-ins first, then the originals go: the other pods never lose an allowance.
    for body in isolation.set_aside:
        for copy in stand_ins(body, pod_labels, digest):
            isolation.stand_ins.append(copy["metadata"]["name"])
            net.create_namespaced_network_policy(namespace, copy)
    for body in isolation.set_aside:
        net.delete_namespaced_network_policy(body["metadata"]["name"], namespace)
    return isolation


def _flush(node: str, ip: str) -> int:
    """Delete the node's conntrack entries to and from ip; how many were deleted."""
    deleted = 0
    for direction in ("-s", "-d"):
        code, out = node_exec(node, "conntrack", "-D", direction, ip)
        # Exit 1 with "0 flow entries": nothing to delete; anything else is an error.
        if code not in (0, 1):
            raise HarnessError(f"conntrack -D {direction} {ip} on {node} exited {code}: {out}")
        for line in out.splitlines():
            if "flow entries have been deleted" in line:
                deleted += int(line.split(":")[-1].split()[0])
    return deleted


@dataclass
class Partition:
    """Pods cut off: ``lift`` ends it early (the rollback is then a no-op), ``evidence``
    proves it struck (JSON-serialisable)."""

    net: client.NetworkingV1Api
    isolation: Isolation
    evidence: dict[str, Any] = field(default_factory=dict)

    def lift(self) -> None:
        """Delete the chaos policy and restore the policies set aside; safe to repeat."""
        _restore(self.net, self.isolation)


def partition(scope: FaultScope, namespace: str, pod_labels: Mapping[str, str]) -> Partition:
    """Isolate the matching pods (see isolate) and cut their live flows on every node;
    the evidence names the pods, the policies set aside and the conntrack entries deleted."""
    core = client.CoreV1Api(scope.api)
    selector = ",".join(f"{k}={v}" for k, v in pod_labels.items())
    pods = core.list_namespaced_pod(namespace, label_selector=selector).items
    ips = {p.metadata.name: p.status.pod_ip for p in pods if p.status.pod_ip}
    isolation = isolate(scope, namespace, pod_labels)
    nodes = [n.metadata.name for n in core.list_node().items]
    flows = {node: sum(_flush(node, ip) for ip in ips.values()) for node in nodes}
    scope.timeline.add("fault", selector, f"conntrack flows deleted: {flows}")
    evidence = {
        "pods": ips,
        "policy": isolation.policy,
        "set_aside": isolation.set_aside_names,
        "conntrack_deleted": flows,
    }
    return Partition(client.NetworkingV1Api(scope.api), isolation, evidence)
