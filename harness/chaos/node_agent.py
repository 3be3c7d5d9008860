"""A node failure made from inside the cluster: no Docker, no access to the machine.

``stop_kubelet`` runs a privileged agent pod on the target node (kube-system, hostPID,
bound to the node by nodeName, tolerating everything). The agent enters the node's own
namespaces (``nsenter -t 1``) and hands two transient units to the node's systemd, so
both outlive the agent:

1. a timer, ``harness-node-return-<id>``, that starts containerd and the kubelet again
   ``hold`` seconds later. The node comes back even if the harness dies mid-fault;
2. a service, ``harness-node-stop-<id>``, that stops the kubelet, SIGKILLs every
   container (the kubepods slices, the agent's own included) and stops containerd.

That is a machine that went dark as the control plane sees it: no lease renewal, no pod
status, no container alive. Only its network stack stays up (a host that lost its node
agent and its workloads, not its NIC). A container runtime stopped without killing its
containers would leave the old driver running beside the new one, a split brain that
``docker stop`` of a kind node never produces.

It landed when the node's Lease (kube-node-lease) stops being renewed: no renewal for
``LANDED_AFTER`` seconds after the agent was created, where the kubelet renews every 10
seconds. The rollback is registered before the agent is created. On a kind node
(a local container) it starts the units at once (``docker exec``). Elsewhere the harness
cannot reach a node whose kubelet is down, so it waits for the timer. Either way it then
waits until the node is Ready and deletes the agent pod. The leftover check names a node
that is not Ready, and an agent pod that is left.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client

from harness.chaos.nodes import container_state, node_exec, node_ready, wait_node_ready
from harness.chaos.scope import FaultScope
from harness.errors import FaultNotLanded, HarnessError, InvalidInput, WaitTimeout
from harness.invariants import CHAOS_LABEL
from harness.observe.wait import wait_until

__all__ = [
    "AGENT_NAMESPACE",
    "NODE_FAULT_ENV",
    "KubeletDown",
    "agent_pod",
    "agent_script",
    "node_fault_way",
    "stop_kubelet",
]

AGENT_NAMESPACE = "kube-system"
"""Privileged pods are refused in the pipeline's namespaces (restricted PSA)."""
LANDED_AFTER = 15.0
"""Seconds without a lease renewal that prove the kubelet stopped (it renews every 10 s)."""
LANDED_TIMEOUT = 60.0
"""The agent's start (image on the node) and the stop, then LANDED_AFTER."""
RETURN_TIMEOUT = 180.0
"""containerd, the kubelet, its re-registration and the CNI's pods, on two cores."""
NODE_FAULT_ENV = "HARNESS_NODE_FAULT"
"""How a node fails: ``docker`` (stop the kind node's container), ``kubelet`` (this
module's agent) or ``auto`` (the default: docker where the node is a local container,
else kubelet). Read by pytest, the CLI and chaostoolkit alike."""
NODE_FAULTS = ("auto", "docker", "kubelet")


def node_fault_way(node: str, asked: str | None = None) -> str:
    """``docker`` or ``kubelet``: what was asked ($HARNESS_NODE_FAULT), or for ``auto``
    what the node allows. InvalidInput for anything else."""
    chosen = asked if asked is not None else os.environ.get(NODE_FAULT_ENV, "auto")
    if chosen not in NODE_FAULTS:
        raise InvalidInput(f"${NODE_FAULT_ENV}", "value", " or ".join(NODE_FAULTS), chosen)
    if chosen != "auto":
        return chosen
    return "docker" if _local_container(node) else "kubelet"


def agent_script(unit: str, hold: int) -> str:
    """The agent's shell script, run in the node's namespaces."""
    return (
        "set -e\n"
        f"systemd-run --unit=harness-node-return-{unit} --on-active={hold}s"
        " --timer-property=AccuracySec=1s"
        " /bin/sh -c 'systemctl start containerd; systemctl start kubelet'\n"
        f"systemd-run --unit=harness-node-stop-{unit} --no-block /bin/sh -c '"
        "systemctl stop kubelet;"
        " for s in kubelet-kubepods.slice kubepods.slice; do"
        ' systemctl kill --signal=SIGKILL "$s" || true; done;'
        " systemctl stop containerd'\n"
        "echo armed\n"
    )


def agent_pod(name: str, node: str, image: str, script: str) -> dict[str, Any]:
    """The agent: privileged, in the host's PID namespace, on the node by name."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": AGENT_NAMESPACE,
            "labels": {CHAOS_LABEL: "node-agent", "app.kubernetes.io/name": "node-agent"},
        },
        "spec": {
            "nodeName": node,
            "hostPID": True,
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 0,
            "automountServiceAccountToken": False,
            "tolerations": [{"operator": "Exists"}],
            "containers": [
                {
                    "name": "agent",
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["nsenter", "-t", "1", "-m", "-u", "-i", "-n", "-p", "--"],
                    "args": ["/bin/sh", "-c", script],
                    # root: the tools images run as 185, and nsenter needs root as well
                    "securityContext": {"privileged": True, "runAsUser": 0, "runAsNonRoot": False},
                }
            ],
        },
    }


def _local_container(node: str) -> bool:
    """Whether the node is a running container on this machine's Docker (a kind node)."""
    try:
        return container_state(node) == "running"
    except (HarnessError, OSError):  # no such container, or no Docker here at all
        return False


def _renewed(api: client.ApiClient, node: str) -> float:
    lease = client.CoordinationV1Api(api).read_namespaced_lease(node, "kube-node-lease")
    renew = lease.spec.renew_time
    return float(renew.timestamp()) if renew else 0.0


@dataclass
class KubeletDown:
    """A node whose kubelet and runtime the agent stopped; ``restore`` brings it back."""

    api: client.ApiClient
    node: str
    unit: str
    hold: int
    pod: str
    struck_at: float = 0.0
    evidence: dict[str, Any] = field(default_factory=dict)
    restored: bool = False

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    def restore(self) -> None:
        """Start containerd and the kubelet at once where the node is reachable (kind);
        else wait for the agent's timer. Then wait until Ready; delete the agent."""
        if self.restored:
            return
        timeout = RETURN_TIMEOUT
        if _local_container(self.node):
            code, out = node_exec(self.node, "systemctl", "start", "containerd", "kubelet")
            if code != 0:
                raise HarnessError(f"systemctl start on {self.node}: {out.strip()}")
            # the timer fires later on a running node and starts nothing new
        else:
            timeout += max(0.0, self.struck_at + self.hold - time.time())
        wait_node_ready(self.core, self.node, timeout)
        self._delete_agent()
        self.restored = True

    def agent_state(self) -> str:
        """The agent pod's phase and the end of its log (why it did not stop the kubelet)."""
        try:
            pod = self.core.read_namespaced_pod(self.pod, AGENT_NAMESPACE)
            statuses = pod.status.container_statuses or []
            state = statuses[0].state if statuses else None
            ended = state.terminated if state else None
            log = str(self.core.read_namespaced_pod_log(self.pod, AGENT_NAMESPACE))
        except client.ApiException as exc:
            return f"unreadable ({exc.status})"
        exit_code = None if ended is None else ended.exit_code
        return f"{pod.status.phase}, exit {exit_code}, log: {log.strip()[-300:]!r}"

    def _delete_agent(self) -> None:
        try:
            self.core.delete_namespaced_pod(self.pod, AGENT_NAMESPACE, grace_period_seconds=0)
        except client.ApiException as exc:
            if exc.status != 404:
                raise

    def leftovers(self) -> list[str]:
        """The node not Ready, the agent pod left."""
        left = []
        status = node_ready(self.core, self.node)
        if status != "True":
            left.append(f"node {self.node} Ready={status} after the kubelet stop")
        pods = self.core.list_namespaced_pod(
            AGENT_NAMESPACE, field_selector=f"metadata.name={self.pod}"
        ).items
        if pods:
            left.append(f"node agent {AGENT_NAMESPACE}/{self.pod} left")
        return left


def stop_kubelet(scope: FaultScope, node: str, image: str, hold: int) -> KubeletDown:
    """Stop the node's kubelet and runtime from a pod on it, every container killed; they
    start again on the node's own timer after ``hold`` seconds (or at the rollback)."""
    core = client.CoreV1Api(scope.api)
    if node not in {n.metadata.name for n in core.list_node().items}:
        raise HarnessError(f"no node {node!r} in the cluster")
    if node_ready(core, node) != "True":  # a stop now would prove nothing
        raise FaultNotLanded(f"node {node} is not Ready before the kubelet stop")
    unit = str(int(time.time() * 1000))
    down = KubeletDown(scope.api, node, unit, hold, f"node-agent-{unit}")
    scope.rollbacks.register(
        f"start containerd and the kubelet on {node}, wait Ready",
        down.restore,
        leftover=down.leftovers,
    )
    before = _renewed(scope.api, node)
    down.struck_at = time.time()
    core.create_namespaced_pod(
        AGENT_NAMESPACE, agent_pod(down.pod, node, image, agent_script(unit, hold))
    )
    scope.timeline.add(
        "fault", node, f"node agent: kubelet and containerd stopped, back in {hold}s"
    )

    def stalled() -> tuple[float | None, str]:
        renewed = _renewed(scope.api, node)
        quiet = time.time() - max(renewed, down.struck_at)
        seen = f"lease renewed {time.time() - renewed:.0f}s ago"
        return (renewed if quiet >= LANDED_AFTER else None), seen

    try:
        last = wait_until(f"{node}'s lease no longer renewed", stalled, LANDED_TIMEOUT, 1.0)
    except WaitTimeout as exc:
        raise FaultNotLanded(
            f"the kubelet of {node} kept renewing its lease: {exc}; agent: {down.agent_state()}"
        ) from exc
    scope.timeline.add("fault", node, "lease no longer renewed: the kubelet is down")
    down.evidence = {
        "node": node,
        "way": "kubelet stop (in-cluster agent)",
        "agent": f"{AGENT_NAMESPACE}/{down.pod}",
        "return_timer": f"harness-node-return-{unit}.timer ({hold}s)",
        "lease_renewed_before": round(before, 1),
        "last_renewal_after_strike_s": round(last - down.struck_at, 1),
    }
    return down
