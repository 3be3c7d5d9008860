"""`harness cluster status` reports each node on its own, also with one container paused.

Recorded: `docker ps` with the first worker's container paused, and the API's node list a
minute later (that worker NodeStatusUnknown, the other two Ready), as kubectl shows it.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness.cli import node_lines
from harness.cluster import kind
from harness.cluster.kind import (
    ClusterStatus,
    address_problem,
    container_problem,
    node_problem,
    nodes_ready,
    parse_node_containers,
)
from harness.settings import LabSettings

DATA = Path(__file__).parent / "data"
INSPECTED = "/spark-chaos-control-plane 172.18.0.2\n/spark-chaos-worker2 172.18.0.3\n"
"""docker inspect of the running containers: name and address."""


def _containers() -> dict[str, str]:
    return parse_node_containers((DATA / "docker-ps-one-worker-paused.txt").read_text())


def _nodes() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads((DATA / "nodes-one-worker-paused.json").read_text())[
        "items"
    ]
    return items


def test_each_node_is_ready_or_not_on_its_own() -> None:
    assert nodes_ready(_nodes()) == {
        "spark-chaos-control-plane": True,
        "spark-chaos-worker": False,
        "spark-chaos-worker2": True,
    }


def test_the_paused_container_and_the_unready_node_are_named() -> None:
    assert container_problem(_containers()) == (
        "node containers not running: spark-chaos-worker (paused)"
    )
    assert node_problem(nodes_ready(_nodes())) == "nodes not Ready: spark-chaos-worker"
    assert container_problem({"a": "running"}) == ""


def test_addresses_are_compared_for_running_containers_only() -> None:
    assert address_problem(_nodes(), INSPECTED) == ""
    swapped = INSPECTED.replace("172.18.0.3", "172.18.0.4")
    assert address_problem(_nodes(), swapped) == (
        "node spark-chaos-worker2 advertises ['172.18.0.3'] but its container has '172.18.0.4'"
    )


class _Api:
    """api_client's context manager, serialising as the real client does (here: as is)."""

    def __enter__(self) -> _Api:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def sanitize_for_serialization(self, obj: Any) -> Any:
        return obj


class _Core:
    def __init__(self, api: object) -> None:
        pass

    def list_node(self, **kwargs: object) -> SimpleNamespace:
        return SimpleNamespace(items=_nodes())

    def list_namespaced_pod(self, namespace: str, **kwargs: object) -> SimpleNamespace:
        return SimpleNamespace(items=[])


def test_status_with_one_paused_container_reports_each_node(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    monkeypatch.setattr(kind, "node_containers", lambda name: _containers())
    monkeypatch.setattr(kind, "api_client", lambda settings: _Api())
    monkeypatch.setattr(kind.client, "CoreV1Api", _Core)
    monkeypatch.setattr(
        kind, "run", lambda step, command, **kw: SimpleNamespace(stdout=INSPECTED.encode())
    )
    status = kind._status(LabSettings(kubeconfig_override=kubeconfig))
    assert not status.healthy
    assert status.problem == "node containers not running: spark-chaos-worker (paused)"
    assert node_lines(status) == [
        "spark-chaos-control-plane: container running, node Ready",
        "spark-chaos-worker: container paused, node NotReady",
        "spark-chaos-worker2: container running, node Ready",
    ]


def test_a_node_the_api_did_not_list_is_unknown_not_notready() -> None:
    status = ClusterStatus(
        "spark-chaos",
        {"spark-chaos-control-plane": "paused", "spark-chaos-worker": "running"},
        {},
        problem="API server not answering: timeout",
    )
    assert node_lines(status) == [
        "spark-chaos-control-plane: container paused, node unknown (not listed by the API)",
        "spark-chaos-worker: container running, node unknown (not listed by the API)",
    ]


def test_a_docker_restart_since_the_cluster_was_made_is_a_problem():
    from harness.cluster.kind import process_instance, restart_problem

    stat = (
        "4623 (docker d) S 1 4623 4623 0 -1 4194560 9709 150696 6 11 114 75 166 100 20 0 18 0 "
        "1123028"
    )
    made = process_instance("boot-a", stat)
    assert made == "boot-a/1123028"
    assert restart_problem(made, made) == ""
    assert restart_problem(made, "") == ""  # no local daemon: nothing to compare
    assert "restarted since it was made" in restart_problem(made, "boot-a/2000000")
    assert "older harness" in restart_problem("", made)
