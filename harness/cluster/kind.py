"""Create, reuse, inspect and delete the lab's kind cluster.

kind finds a cluster's nodes by the Docker label ``io.x-k8s.kind.cluster``; so do we.
The kubeconfig is written to the harness's own state directory, never merged into the
user's ~/.kube/config, so the context the harness acts on is always one it created.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kubernetes import client

from harness.cluster.shared_storage import config_digest, ensure_shared_volumes, render_kind_config
from harness.errors import ClusterUnavailable
from harness.kube import api_client
from harness.observe.wait import wait_until
from harness.progress import note, phase
from harness.settings import LabSettings
from harness.steps import run, run_logged

__all__ = [
    "ClusterStatus",
    "address_problem",
    "cluster_down",
    "cluster_status",
    "cluster_up",
    "container_problem",
    "node_containers",
    "node_images",
    "node_problem",
    "nodes_ready",
    "parse_node_containers",
    "process_instance",
    "restart_problem",
]

CLUSTER_LABEL = "io.x-k8s.kind.cluster"
EXPECTED_NODES = 3


@dataclass(frozen=True)
class ClusterStatus:
    """What the lab cluster looks like right now."""

    name: str
    containers: dict[str, str] = field(default_factory=dict)
    """Node container name → Docker state (running, exited, ...)."""
    nodes_ready: dict[str, bool] = field(default_factory=dict)
    """Kubernetes node name → its Ready condition is True; a node the API did not list
    (or an API that did not answer) has no entry: unknown, not NotReady."""
    problem: str = ""
    """Why the cluster is not healthy; empty when it is."""
    images: frozenset[str] = frozenset()
    """The images the node containers were created from."""

    @property
    def exists(self) -> bool:
        """Any node container of this cluster exists."""
        return bool(self.containers)

    @property
    def healthy(self) -> bool:
        """Containers run, the API answers, nodes are Ready at their current addresses
        and every kube-system pod is ready."""
        return self.exists and not self.problem


def node_containers(name: str) -> dict[str, str]:
    """The cluster's node containers and their Docker states."""
    out = run(
        "list kind nodes",
        [
            "docker",
            "ps",
            "-a",
            "--filter",
            f"label={CLUSTER_LABEL}={name}",
            "--format",
            "{{.Names}}\t{{.State}}",
        ],
    )
    return parse_node_containers(out.stdout.decode())


def parse_node_containers(listing: str) -> dict[str, str]:
    """``docker ps --format '{{.Names}}\t{{.State}}'`` lines as name → state."""
    pairs = (line.split("\t", 1) for line in listing.splitlines() if line.strip())
    return {n: state.strip() for n, state in pairs}


def node_images(containers: dict[str, str]) -> frozenset[str]:
    """The images the given node containers were created from."""
    if not containers:
        return frozenset()
    out = run(
        "inspect kind nodes", ["docker", "inspect", "--format", "{{.Config.Image}}", *containers]
    )
    return frozenset(out.stdout.decode().split())


def cluster_status(settings: LabSettings) -> ClusterStatus:
    """Inspect the cluster without changing it."""
    status = _status(settings)
    return replace(status, images=node_images(status.containers))


def _status(settings: LabSettings) -> ClusterStatus:
    containers = node_containers(settings.cluster_name)
    if not containers:
        return ClusterStatus(settings.cluster_name, problem="no node containers")
    if not settings.kubeconfig.exists():
        missing = f"no kubeconfig at {settings.kubeconfig}"
        return ClusterStatus(
            settings.cluster_name, containers, problem=container_problem(containers) or missing
        )
    # The API is asked even when a node container is down or paused: the others' nodes
    # are still Ready, and a status that calls every node NotReady then is wrong.
    running = {n: s for n, s in containers.items() if s == "running"}
    try:
        with api_client(settings) as api:
            core = client.CoreV1Api(api)
            nodes = [
                api.sanitize_for_serialization(n) for n in core.list_node(_request_timeout=10).items
            ]
            ready = nodes_ready(nodes)
            problem = container_problem(containers) or node_problem(ready)
            problem = problem or _address_problem(nodes, running) or _kube_system_problem(core)
    except Exception as exc:  # any API failure means "not healthy", with its reason
        why = f"API server not answering: {type(exc).__name__}: {exc}"
        return ClusterStatus(
            settings.cluster_name, containers, problem=container_problem(containers) or why
        )
    return ClusterStatus(settings.cluster_name, containers, ready, problem)


def container_problem(containers: dict[str, str]) -> str:
    """Node containers not running, each with its Docker state; empty when all run."""
    stopped = sorted(f"{n} ({s})" for n, s in containers.items() if s != "running")
    return f"node containers not running: {', '.join(stopped)}" if stopped else ""


def node_problem(ready: dict[str, bool]) -> str:
    """The nodes the API does not list as Ready (or a node count other than three)."""
    if len(ready) != EXPECTED_NODES:
        return f"expected {EXPECTED_NODES} nodes, API lists {len(ready)}"
    if not all(ready.values()):
        return "nodes not Ready: " + ", ".join(n for n, r in sorted(ready.items()) if not r)
    return ""


def _address_problem(nodes: list[dict[str, Any]], containers: dict[str, str]) -> str:
    """Node InternalIPs must be their containers' current addresses.

    When Docker itself restarts, it restarts the node containers in any order and they
    may swap addresses; the kubelets keep their old --node-ip, and the API server then
    sends exec and logs requests to the wrong node. Only running containers are compared
    (a stopped one has no address to compare).
    """
    if not containers:
        return ""
    out = run(
        "node container addresses",
        [
            "docker",
            "inspect",
            "--format",
            "{{.Name}} {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
            *containers,
        ],
    )
    return address_problem(nodes, out.stdout.decode())


def address_problem(nodes: list[dict[str, Any]], inspected: str) -> str:
    """Compare nodes' InternalIPs with ``docker inspect`` lines "/<name> <ip>".

    Nodes whose container was not inspected (not running) are left out.
    """
    rows = (line.lstrip("/").split() for line in inspected.splitlines() if line.strip())
    actual = {row[0]: row[1] if len(row) > 1 else "" for row in rows}
    for node in nodes:
        name = node["metadata"]["name"]
        if name not in actual:
            continue
        addresses = (node.get("status") or {}).get("addresses") or []
        internal = [a["address"] for a in addresses if a.get("type") == "InternalIP"]
        if actual[name] not in internal:
            return f"node {name} advertises {internal} but its container has {actual[name]!r}"
    return ""


def _kube_system_problem(core: client.CoreV1Api) -> str:
    """Every kube-system pod must be Running and ready (after a restart they are not yet)."""
    pods = core.list_namespaced_pod("kube-system", _request_timeout=10).items
    unready = sorted(
        p.metadata.name
        for p in pods
        if p.status.phase != "Running"
        or not all(c.ready for c in p.status.container_statuses or [])
    )
    return f"kube-system pods not ready: {', '.join(unready)}" if unready else ""


def cluster_up(settings: LabSettings, kind: Path, node_image: str) -> ClusterStatus:
    """Reuse the cluster when it is healthy; otherwise (re)create it and wait until it is."""
    ensure_shared_volumes(settings)
    config = render_kind_config(settings)
    digest_file = settings.state_dir / "config.sha"
    made_from = digest_file.read_text() if digest_file.exists() else ""
    instance_file = settings.state_dir / "dockerd.instance"
    made_under = instance_file.read_text() if instance_file.exists() else ""
    status = cluster_status(settings)
    if status.healthy and made_from != config_digest(config):
        status = replace(status, problem="made from another kind config (shared mounts, labels)")
    if status.healthy:
        status = replace(status, problem=restart_problem(made_under, dockerd_instance()))
    if status.healthy and status.images == {node_image}:
        note(f"reusing healthy cluster {settings.cluster_name!r} ({len(status.nodes_ready)} nodes)")
        return status
    if status.exists:
        why = status.problem or f"made from {', '.join(sorted(status.images))}, not {node_image}"
        note(f"cluster {settings.cluster_name!r} cannot be reused ({why}); recreating")
        cluster_down(settings, kind)
    with phase(f"kind create cluster {settings.cluster_name} ({node_image})"):
        run_logged(
            "kind create cluster",
            [
                str(kind),
                "create",
                "cluster",
                "--name",
                settings.cluster_name,
                "--image",
                node_image,
                "--config",
                str(config),
                "--kubeconfig",
                str(settings.kubeconfig),
                "--retain",
            ],
            settings.state_dir / "create.log",
        )
    with phase("wait for nodes Ready, addresses current, kube-system pods ready"):

        def healthy() -> tuple[ClusterStatus | None, str]:
            status = _status(settings)
            return (status if status.healthy else None), status.problem

        wait_until("the new cluster to be healthy", healthy, settings.nodes_ready_timeout, 2.0)
    digest_file.write_text(config_digest(config))
    instance_file.write_text(dockerd_instance())
    return cluster_status(settings)


def restart_problem(made_under: str, current: str) -> str:
    """A cluster is not reused when the Docker daemon restarted since it was made.

    Docker then restarts the node containers itself, and kind clusters do not reliably
    survive that: seen on CI (2026-12-02), a reused cluster whose nodes were Ready at their
    addresses and whose kube-system pods were ready had no pod network (every scrape target
    down, no Service name resolving from a pod); seen here, the restarted nodes came back
    with no pod-CIDR routes and swapped addresses. The harness's own node faults
    (``docker stop``/``start`` of one node) do not restart the daemon and do not count.
    ``current`` is empty when the daemon is not local (its restarts cannot be seen).
    """
    if not current or made_under == current:
        return ""
    if not made_under:
        return "no record of the Docker daemon it was made under (made by an older harness)"
    return f"the Docker daemon restarted since it was made ({made_under} → {current})"


def dockerd_instance() -> str:
    """This boot's id and the local dockerd's start time: it changes when dockerd restarts.

    Empty when no local dockerd runs (a remote DOCKER_HOST, or another engine).
    """
    boot = Path("/proc/sys/kernel/random/boot_id")
    if not boot.exists():
        return ""
    for comm in sorted(Path("/proc").glob("[0-9]*/comm")):
        try:
            if comm.read_text().strip() == "dockerd":
                stat = (comm.parent / "stat").read_text()
                return process_instance(boot.read_text().strip(), stat)
        except OSError:  # the process ended while we looked
            continue
    return ""


def process_instance(boot_id: str, stat: str) -> str:
    """``<boot id>/<start time in clock ticks since boot>`` from a /proc/<pid>/stat line."""
    # The command name (field 2) is parenthesised and may hold spaces: split after it.
    fields = stat.rsplit(")", 1)[1].split()
    return f"{boot_id}/{fields[19]}"  # field 22 of the line, the 20th after the name


def cluster_down(settings: LabSettings, kind: Path) -> None:
    """Delete the cluster's node containers and its volumes; a missing cluster is fine."""
    with phase(f"kind delete cluster {settings.cluster_name}"):
        run(
            "kind delete cluster",
            [
                str(kind),
                "delete",
                "cluster",
                "--name",
                settings.cluster_name,
                "--kubeconfig",
                str(settings.kubeconfig),
            ],
            timeout=300,
        )
        settings.kubeconfig.unlink(missing_ok=True)
    if node_containers(settings.cluster_name):
        raise ClusterUnavailable(f"node containers of {settings.cluster_name} survived deletion")


def nodes_ready(nodes: list[dict[str, Any]]) -> dict[str, bool]:
    """Node name → its own Ready condition is True (nodes as the API serialises them)."""
    return {
        n["metadata"]["name"]: any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in (n.get("status") or {}).get("conditions") or []
        )
        for n in nodes
    }
