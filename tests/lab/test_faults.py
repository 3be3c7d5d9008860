"""The generic fault injectors on the real cluster: each strikes, and its rollback undoes it.

Freeze, isolation and resource pressure are not yet used by a mechanism's test (drivers,
nodes and volumes are, in tests/chaos); these tests prove them before the mechanisms
that need them (driver_liveness, network_partition_recovery, ...) arrive.
"""

from __future__ import annotations

import time

import pytest
from kubernetes import client

from harness.chaos import cpu_pressure, freeze_process, isolate, memory_pressure
from harness.chaos.pressure import CHAOS_NAMESPACE
from harness.fixtures.cluster import Lab
from harness.fixtures.faults import LabFaults
from harness.fixtures.workloads import pod_manifest, wait_pod_running
from harness.kube import exec_in_pod
from harness.observe.wait import wait_until
from tests.lab.conftest import fetch

pytestmark = pytest.mark.disruptive

POLICY_SETTLE = 60.0
"""kube-router applies policy changes on watch events: seconds on two cores."""
LEFTOVER_SETTLE = 60.0
"""A pressure pod deleted with grace 0 leaves the API within seconds."""
BEAT = "sh -c 'while :; do date +%s > /tmp/beat; sleep 1; done' & wait"
"""The loop runs as a child: a container's PID 1 ignores SIGSTOP sent from inside."""


def _beat_age(lab: Lab, namespace: str) -> float:
    code, out = exec_in_pod(lab.core, namespace, "beater", ["cat", "/tmp/beat"], 10)
    return time.time() - float(out.strip()) if code == 0 and out.strip() else float("inf")


def test_freeze_stops_a_process_and_rollback_thaws_it(
    lab: Lab, namespace: str, lab_faults: LabFaults
) -> None:
    lab.core.create_namespaced_pod(
        namespace, pod_manifest("beater", lab.images.toolbox_image, shell=BEAT)
    )
    wait_pod_running(lab.core, namespace, "beater")
    wait_until(
        "a fresh beat", lambda: (True if _beat_age(lab, namespace) < 3 else None, "stale"), 30
    )

    frozen = freeze_process(lab_faults, namespace, "beater", "/tmp/beat")
    assert frozen, "freeze_process returned no pid"
    assert 1 not in frozen, f"PID 1 cannot be frozen from inside, yet: {frozen}"

    def stale() -> tuple[bool | None, str]:
        age = _beat_age(lab, namespace)
        return (True if age >= 4 else None), f"beat {age:.1f}s old"

    wait_until("the frozen loop to stop beating", stale, 30, 1)
    # The leftover check sees the fault while it holds, or it could not see one left.
    assert any("still frozen" in p for p in lab_faults.rollbacks.leftovers())
    lab_faults.rollbacks.run_all()
    left = lab_faults.rollbacks.leftovers()
    assert not left, f"after the thaw: {left}"

    def fresh() -> tuple[bool | None, str]:
        age = _beat_age(lab, namespace)
        return (True if age < 3 else None), f"beat {age:.1f}s old"

    wait_until("the thawed loop to beat again", fresh, 30, 1)


def test_isolation_cuts_a_pod_off_and_rollback_restores(
    lab: Lab,
    namespace: str,
    server_and_client: tuple[client.V1Pod, client.V1Pod, str],
    lab_faults: LabFaults,
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
    isolation = isolate(lab_faults, namespace, {"role": "server"})
    assert isolation.set_aside_names == ["allow-all-to-server"]

    def blocked() -> tuple[bool | None, str]:
        code, _ = fetch(lab, namespace, "client", url)
        return (True if code != 0 else None), f"wget exit {code}"

    wait_until("the isolated server unreachable", blocked, POLICY_SETTLE, 2)
    assert f"chaos NetworkPolicy {namespace}/{isolation.policy} left" in (
        lab_faults.rollbacks.leftovers()
    )
    lab_faults.rollbacks.run_all()
    left = lab_faults.rollbacks.leftovers()
    assert not left, f"after lifting the isolation: {left}"
    names = {
        p.metadata.name for p in lab.networking.list_namespaced_network_policy(namespace).items
    }
    assert names == {"allow-all-to-server"}, f"policies after rollback: {names}"
    wait_until("client → server after the rollback", reachable, POLICY_SETTLE, 2)


def _cgroup_value(lab: Lab, pod: str, path: str) -> int:
    code, out = exec_in_pod(lab.core, CHAOS_NAMESPACE, pod, ["cat", path], 10)
    assert code == 0, f"cat {path} in {pod}: {out}"
    return int(out.strip().split()[0])


def test_memory_pressure_holds_memory_until_rolled_back(lab: Lab, lab_faults: LabFaults) -> None:
    node = lab.workers[0]
    pod = memory_pressure(lab_faults, node, lab.images.toolbox_image, mebibytes=256)

    def held() -> tuple[int | None, str]:
        used = _cgroup_value(lab, pod, "/sys/fs/cgroup/memory/memory.usage_in_bytes")
        return (used if used >= 256 * 2**20 else None), f"{used / 2**20:.0f} MiB in use"

    wait_until("256 MiB held by the memory hog", held, 60, 2)
    lab_faults.rollbacks.run_all()
    left = lab_faults.rollbacks.leftovers(LEFTOVER_SETTLE)
    assert not left, f"after deleting {pod}: {left}"


def test_cpu_pressure_burns_cpu_until_rolled_back(lab: Lab, lab_faults: LabFaults) -> None:
    node = lab.workers[0]
    pod = cpu_pressure(lab_faults, node, lab.images.toolbox_image, workers=1)
    usage = "/sys/fs/cgroup/cpuacct/cpuacct.usage"  # cgroup v1, as these hosts run
    before, at = _cgroup_value(lab, pod, usage), time.monotonic()

    def burning() -> tuple[float | None, str]:
        elapsed = time.monotonic() - at
        share = (_cgroup_value(lab, pod, usage) - before) / 1e9 / elapsed
        return (share if elapsed >= 3 and share >= 0.3 else None), f"{share:.2f} cores"

    wait_until("the burner using CPU", burning, 30, 1)
    lab_faults.rollbacks.run_all()
    left = lab_faults.rollbacks.leftovers(LEFTOVER_SETTLE)
    assert not left, f"after deleting {pod}: {left}"
