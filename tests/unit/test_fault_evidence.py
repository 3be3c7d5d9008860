"""Fault injectors prove their fault landed, or say FaultNotLanded (no cluster: fakes).

The fake pod answers pgrep, pkill and ps the way procps in our images does; the fake API
serves the pod's status before and after the strike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from kubernetes import client

from harness.chaos import pods
from harness.chaos.rollback import Rollbacks
from harness.chaos.volumes import parse_fill_report
from harness.errors import FaultNotLanded
from harness.observe.timeline import Timeline


def _pod(uid: str = "uid-1", restarts: int = 0, running: bool = True) -> SimpleNamespace:
    state = SimpleNamespace(running=object() if running else None)
    status = SimpleNamespace(
        name="spark-kubernetes-executor",
        container_id=f"containerd://c{restarts}",
        restart_count=restarts,
        state=state,
    )
    return SimpleNamespace(
        metadata=SimpleNamespace(uid=uid, name="events-stream-exec-1"),
        spec=SimpleNamespace(node_name="spark-chaos-worker"),
        status=SimpleNamespace(
            phase="Running" if running else "Failed", container_statuses=[status]
        ),
    )


@dataclass
class FakeCluster:
    """One pod: what the API returns for it, and how its processes answer exec."""

    reads: list[SimpleNamespace | None]
    """Successive answers to read_namespaced_pod (the last one repeats); None: 404."""
    processes: dict[int, str] = field(default_factory=dict)
    """pid → ps STAT; pgrep lists them all."""
    pkill: Callable[[str], tuple[int, str]] | None = None
    deleted: list[dict[str, Any]] = field(default_factory=list)

    def read_namespaced_pod(self, name: str, namespace: str) -> SimpleNamespace:
        answer = self.reads.pop(0) if len(self.reads) > 1 else self.reads[0]
        if answer is None:
            raise client.ApiException(status=404, reason="Not Found")
        return answer

    def delete_namespaced_pod(self, name: str, namespace: str, body: Any = None) -> None:
        self.deleted.append({"name": name, "uid": body.preconditions.uid})

    def exec(self, core: Any, namespace: str, pod: str, command: list[str], timeout: float = 30):
        tool = command[0]
        if tool == "pgrep":
            pids = sorted(self.processes)
            return (0 if pids else 1), "\n".join(map(str, pids))
        if tool == "pkill":
            assert self.pkill is not None
            return self.pkill(command[1])
        if tool == "ps":
            wanted = [int(p) for p in command[-1].split(",")]
            rows = [f"{p} {self.processes[p]}" for p in wanted if p in self.processes]
            return (0 if rows else 1), "\n".join(rows)
        raise AssertionError(f"unexpected exec {command}")


@pytest.fixture
def scope() -> SimpleNamespace:
    return SimpleNamespace(api=object(), rollbacks=Rollbacks(), timeline=Timeline())


def _install(monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster) -> None:
    monkeypatch.setattr(pods.client, "CoreV1Api", lambda api: cluster)
    monkeypatch.setattr(pods, "exec_in_pod", cluster.exec)


def test_kill_proves_the_pids_ended_and_returns_the_evidence(monkeypatch, scope) -> None:
    cluster = FakeCluster([_pod()], {1: "Ss", 42: "Sl"})

    def pkill(signal: str) -> tuple[int, str]:
        del cluster.processes[42]  # PID 1 (tini) ignores it, the JVM dies
        return 0, ""

    cluster.pkill = pkill
    _install(monkeypatch, cluster)
    evidence = pods.kill_process(scope, "spark-pipeline", "events-stream-exec-1", "Backend")
    assert evidence["pids"] == [42]
    assert evidence["init_matched"] is True
    assert evidence["pkill_exit"] == 0
    assert evidence["ended"] == "pids [42] gone"


def test_a_kill_whose_session_dies_with_the_container_is_seen_restarted(monkeypatch, scope) -> None:
    cluster = FakeCluster([_pod(restarts=0), _pod(restarts=1)], {1: "Ss", 42: "Sl"})

    def pkill(signal: str) -> tuple[int, str]:
        raise ConnectionResetError("the container went with the process")

    cluster.pkill = pkill
    _install(monkeypatch, cluster)
    evidence = pods.kill_process(scope, "spark-pipeline", "events-stream-exec-1", "Backend")
    assert evidence["pkill_exit"] is None
    assert "ConnectionResetError" in evidence["exec_session"]
    assert evidence["ended"] == (
        "container spark-kubernetes-executor restarted (restartCount 0 -> 1)"
    )


def test_a_dead_session_is_not_proof_when_the_process_lives(monkeypatch, scope) -> None:
    cluster = FakeCluster([_pod()], {1: "Ss", 42: "Sl"})

    def pkill(signal: str) -> tuple[int, str]:
        raise ConnectionResetError("network blip")

    cluster.pkill = pkill
    _install(monkeypatch, cluster)
    with pytest.raises(FaultNotLanded, match=r"pids \[42\] .* still alive"):
        pods.kill_process(scope, "spark-pipeline", "p", "Backend", timeout=0.1)


@pytest.mark.parametrize(
    ("processes", "pkill_answer", "message"),
    [
        ({}, (0, ""), "no process to kill"),
        ({1: "Ss"}, (0, ""), "only the container's PID 1"),
        ({1: "Ss", 42: "Sl"}, (1, ""), r"exited 1 \(1 = no process matched\)"),
    ],
    ids=["nothing_matches", "only_pid_1", "pkill_matched_nothing"],
)
def test_a_kill_that_did_nothing_did_not_land(
    monkeypatch, scope, processes, pkill_answer, message
) -> None:
    cluster = FakeCluster([_pod()], dict(processes), lambda signal: pkill_answer)
    _install(monkeypatch, cluster)
    with pytest.raises(FaultNotLanded, match=message):
        pods.kill_process(scope, "spark-pipeline", "p", "Backend", timeout=0.1)


def test_a_refused_exec_sent_no_signal(monkeypatch, scope) -> None:
    def refused(signal: str) -> tuple[int, str]:
        raise client.ApiException(status=0, reason="Handshake status 500")

    cluster = FakeCluster([_pod()], {1: "Ss", 42: "Sl"}, refused)
    _install(monkeypatch, cluster)
    with pytest.raises(FaultNotLanded, match="refused"):
        pods.kill_process(scope, "spark-pipeline", "p", "Backend")


def test_delete_names_the_uid_and_proves_it_gone(monkeypatch, scope) -> None:
    cluster = FakeCluster([_pod(uid="uid-old"), _pod(uid="uid-new")])
    _install(monkeypatch, cluster)
    evidence = pods.delete_pod(scope, "spark-pipeline", "events-stream-driver", verify_gone=True)
    assert cluster.deleted == [{"name": "events-stream-driver", "uid": "uid-old"}]
    assert evidence["uid"] == "uid-old"
    assert evidence["gone"] == "replaced by uid uid-new"


def test_delete_without_verify_is_backward_compatible(monkeypatch, scope) -> None:
    cluster = FakeCluster([_pod()])
    _install(monkeypatch, cluster)
    evidence = pods.delete_pod(scope, "spark-pipeline", "events-stream-driver")
    assert evidence["gone"] is None
    assert evidence["uid"] == "uid-1"


def test_a_pod_that_outlives_its_deletion_did_not_land(monkeypatch, scope) -> None:
    cluster = FakeCluster([_pod()])
    _install(monkeypatch, cluster)
    with pytest.raises(FaultNotLanded, match="still exists"):
        pods.delete_pod(
            scope, "spark-pipeline", "d", grace_seconds=30, verify_gone=True, timeout=0.1
        )


def test_deleting_a_missing_pod_did_not_land(monkeypatch, scope) -> None:
    cluster = FakeCluster([None])
    _install(monkeypatch, cluster)
    with pytest.raises(FaultNotLanded, match="no pod"):
        pods.delete_pod(scope, "spark-pipeline", "d")
    assert cluster.deleted == []


def test_freeze_returns_the_frozen_pids_and_checks_the_thaw(monkeypatch, scope) -> None:
    cluster = FakeCluster([_pod()], {1: "Ss", 7: "S"})

    def pkill(signal: str) -> tuple[int, str]:
        cluster.processes[7] = "T" if signal == "-STOP" else "S"
        return 0, ""

    cluster.pkill = pkill
    _install(monkeypatch, cluster)
    assert pods.freeze_process(scope, "ns", "beater", "/tmp/beat") == [7]
    assert scope.rollbacks.leftovers() == ["process 7 in ns/beater still frozen (stat T)"]
    scope.rollbacks.run_all()
    assert scope.rollbacks.leftovers() == []


DD_LOG = """dd: error writing '/fill/.harness-fill': No space left on device
244+0 records in
243+0 records out
255852544 bytes (256 MB, 244 MiB) copied, 0.623 s, 411 MB/s
"""
DF = """Filesystem     1K-blocks   Used Available Use% Mounted on
tmpfs             262144 262144         0 100% /fill
"""


def test_the_fill_report_carries_enospc_and_the_full_filesystem() -> None:
    evidence = parse_fill_report(DD_LOG + "DF\n" + DF)
    assert evidence == {
        "enospc": "dd: error writing '/fill/.harness-fill': No space left on device",
        "bytes_written": 255852544,
        "df_at_full_kib": {"size": 262144, "used": 262144, "available": 0},
    }


def test_a_fill_report_without_enospc_has_no_proof() -> None:
    report = "dd: error writing '/fill/.harness-fill': Disk quota exceeded\n" + "DF\n" + DF
    assert parse_fill_report(report)["enospc"] == ""
