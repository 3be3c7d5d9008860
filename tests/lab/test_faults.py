"""The generic fault injectors on the real cluster: each strikes, and its rollback undoes it.

Freeze, isolation and resource pressure are not yet used by a mechanism's test (drivers,
nodes and volumes are, in tests/chaos); these tests prove them before the mechanisms
that need them (driver_liveness, network_partition_recovery, ...) arrive.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from kubernetes import client

from fixtures.cluster import Lab
from fixtures.workloads import pod_manifest, wait_pod_running
from harness.chaos import cpu_pressure, freeze_process, isolate, memory_pressure
from harness.chaos.pressure import CHAOS_NAMESPACE
from harness.chaos.rollback import Rollbacks
from harness.invariants import CHAOS_LABEL
from harness.kube import exec_in_pod
from harness.observe.timeline import Timeline
from harness.observe.wait import wait_until
from tests.lab.conftest import fetch

pytestmark = pytest.mark.disruptive

POLICY_SETTLE = 60.0
"""kube-router applies policy changes on watch events: seconds on two cores."""
BEAT = "sh -c 'while :; do date +%s > /tmp/beat; sleep 1; done' & wait"
"""The loop runs as a child: a container's PID 1 ignores SIGSTOP sent from inside."""


@dataclass
class Scope:
    """A FaultScope for tests outside a mechanism run."""

    api: client.ApiClient
    rollbacks: Rollbacks = field(default_factory=Rollbacks)
    timeline: Timeline = field(default_factory=Timeline)


@pytest.fixture
def scope(lab: Lab) -> Iterator[Scope]:
    """Rollbacks run when the test ends, whatever ends it; then no chaos pod is left."""
    s = Scope(lab.api)
    with s.rollbacks:
        yield s
    left = lab.core.list_pod_for_all_namespaces(label_selector=CHAOS_LABEL).items
    assert not [p for p in left if not p.metadata.deletion_timestamp], "chaos pods left"


def _beat_age(lab: Lab, namespace: str) -> float:
    code, out = exec_in_pod(lab.core, namespace, "beater", ["cat", "/tmp/beat"], 10)
    return time.time() - float(out.strip()) if code == 0 and out.strip() else float("inf")


def test_freeze_stops_a_process_and_rollback_thaws_it(
    lab: Lab, namespace: str, scope: Scope
) -> None:
    lab.core.create_namespaced_pod(
        namespace, pod_manifest("beater", lab.images.toolbox_image, shell=BEAT)
    )
    wait_pod_running(lab.core, namespace, "beater")
    wait_until(
        "a fresh beat", lambda: (True if _beat_age(lab, namespace) < 3 else None, "stale"), 30
    )

    freeze_process(scope, namespace, "beater", "/tmp/beat")

    def stale() -> tuple[bool | None, str]:
        age = _beat_age(lab, namespace)
        return (True if age >= 4 else None), f"beat {age:.1f}s old"

    wait_until("the frozen loop to stop beating", stale, 30, 1)
    scope.rollbacks.run_all()

    def fresh() -> tuple[bool | None, str]:
        age = _beat_age(lab, namespace)
        return (True if age < 3 else None), f"beat {age:.1f}s old"

    wait_until("the thawed loop to beat again", fresh, 30, 1)


def test_isolation_cuts_a_pod_off_and_rollback_restores(
    lab: Lab,
    namespace: str,
    server_and_client: tuple[client.V1Pod, client.V1Pod, str],
    scope: Scope,
) -> None:
    server, _, token = server_and_client
    url = f"http://{server.status.pod_ip}:8080/token"
    lab.networking.create_namespaced_network_policy(
        namespace,
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "allow-all-to-server"},
            "spec": {
                "podSelector": {"matchLabels": {"role": "server"}},
                "policyTypes": ["Ingress"],
                "ingress": [{}],
            },
        },
    )

    def reachable() -> tuple[bool | None, str]:
        code, out = fetch(lab, namespace, "client", url)
        return (True if code == 0 and out.strip() == token else None), f"wget exit {code}"

    wait_until("client → server before the fault", reachable, POLICY_SETTLE, 2)
    isolation = isolate(scope, namespace, {"role": "server"})
    assert isolation.set_aside_names == ["allow-all-to-server"]

    def blocked() -> tuple[bool | None, str]:
        code, _ = fetch(lab, namespace, "client", url)
        return (True if code != 0 else None), f"wget exit {code}"

    wait_until("the isolated server unreachable", blocked, POLICY_SETTLE, 2)
    scope.rollbacks.run_all()
    names = {
        p.metadata.name for p in lab.networking.list_namespaced_network_policy(namespace).items
    }
    assert names == {"allow-all-to-server"}, f"policies after rollback: {names}"
    wait_until("client → server after the rollback", reachable, POLICY_SETTLE, 2)


def _cgroup_value(lab: Lab, pod: str, path: str) -> int:
    code, out = exec_in_pod(lab.core, CHAOS_NAMESPACE, pod, ["cat", path], 10)
    assert code == 0, f"cat {path} in {pod}: {out}"
    return int(out.strip().split()[0])


def test_memory_pressure_holds_memory_until_rolled_back(lab: Lab, scope: Scope) -> None:
    node = lab.workers[0]
    pod = memory_pressure(scope, node, lab.images.toolbox_image, mebibytes=256)

    def held() -> tuple[int | None, str]:
        used = _cgroup_value(lab, pod, "/sys/fs/cgroup/memory/memory.usage_in_bytes")
        return (used if used >= 256 * 2**20 else None), f"{used / 2**20:.0f} MiB in use"

    wait_until("256 MiB held by the memory hog", held, 60, 2)
    scope.rollbacks.run_all()
    gone(lab, pod)


def test_cpu_pressure_burns_cpu_until_rolled_back(lab: Lab, scope: Scope) -> None:
    node = lab.workers[0]
    pod = cpu_pressure(scope, node, lab.images.toolbox_image, workers=1)
    usage = "/sys/fs/cgroup/cpuacct/cpuacct.usage"  # cgroup v1, as these hosts run
    before, at = _cgroup_value(lab, pod, usage), time.monotonic()

    def burning() -> tuple[float | None, str]:
        elapsed = time.monotonic() - at
        share = (_cgroup_value(lab, pod, usage) - before) / 1e9 / elapsed
        return (share if elapsed >= 3 and share >= 0.3 else None), f"{share:.2f} cores"

    wait_until("the burner using CPU", burning, 30, 1)
    scope.rollbacks.run_all()
    gone(lab, pod)


def gone(lab: Lab, pod: str) -> None:
    """Wait until the pressure pod is deleted."""

    def deleted() -> tuple[bool | None, str]:
        try:
            lab.core.read_namespaced_pod(pod, CHAOS_NAMESPACE)
        except client.ApiException as exc:
            if exc.status == 404:
                return True, "deleted"
            raise
        return None, "still there"

    wait_until(f"{CHAOS_NAMESPACE}/{pod} deleted", deleted, 60, 1)
