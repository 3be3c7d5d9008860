"""The shared volumes the checkpoint lives on: they outlive a worker and have a real size.

Uses the lab's scratch volume (64 MiB tmpfs shared by both workers), presented as a
`local` PersistentVolume exactly like the checkpoint's (manifests/03-storage.yaml). The
PersistentVolume is cluster-scoped, so the claim fixture needs lab_fault_target (a
cluster the harness created, or a context named with --kube-context); both tests strike
(a fill, a stopped worker) through lab_faults and are disruptive.
"""

import contextlib
import uuid

import pytest
from kubernetes import client

from harness.chaos.nodes import stop_node
from harness.cluster.shared_storage import SHARED_VOLUMES
from harness.fixtures.workloads import pod_manifest, wait_pod_running, wait_pvc_bound
from harness.kube import exec_in_pod

pytestmark = pytest.mark.disruptive

SCRATCH = next(v for v in SHARED_VOLUMES if v.name == "scratch")


@pytest.fixture
def scratch_claim(lab_fault_target, lab, namespace):
    """A PV on the scratch volume bound to a claim in the test namespace; both deleted after."""
    pv_name = f"scratch-{uuid.uuid4().hex[:6]}"
    size = f"{SCRATCH.size_mib}Mi"
    lab.core.create_persistent_volume(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": pv_name},
            "spec": {
                "capacity": {"storage": size},
                "accessModes": ["ReadWriteMany"],
                "persistentVolumeReclaimPolicy": "Retain",
                "storageClassName": "",
                "claimRef": {"namespace": namespace, "name": "scratch"},
                "local": {"path": SCRATCH.node_path},
                "nodeAffinity": {
                    "required": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {
                                        "key": "harness.local/shared-storage",
                                        "operator": "In",
                                        "values": ["true"],
                                    }
                                ]
                            }
                        ]
                    }
                },
            },
        }
    )
    lab.core.create_namespaced_persistent_volume_claim(
        namespace,
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "scratch"},
            "spec": {
                "storageClassName": "",
                "volumeName": pv_name,
                "accessModes": ["ReadWriteMany"],
                "resources": {"requests": {"storage": size}},
            },
        },
    )
    wait_pvc_bound(lab.core, namespace, "scratch")
    yield "scratch"
    lab.core.delete_persistent_volume(pv_name)


def _pod(lab, namespace, name, node, shell):
    manifest = pod_manifest(
        name,
        lab.images.toolbox_image,
        node=node,
        shell=shell,
        volumes=[{"name": "scratch", "persistentVolumeClaim": {"claimName": "scratch"}}],
        mounts=[{"name": "scratch", "mountPath": "/scratch"}],
    )
    lab.core.create_namespaced_pod(namespace, manifest)
    return wait_pod_running(lab.core, namespace, name)


def _df_kib(lab, namespace, pod):
    """(size, used) of /scratch in KiB, from df -k in the pod."""
    code, out = exec_in_pod(lab.core, namespace, pod, ["df", "-k", "/scratch"])
    assert code == 0, out
    fields = out.splitlines()[-1].split()
    return int(fields[1]), int(fields[2])


def test_filling_the_volume_gives_enospc_at_its_capacity(lab, namespace, scratch_claim, lab_faults):
    _pod(lab, namespace, "filler", lab.workers[0], "exec sleep 3600")
    total_kib, _ = _df_kib(lab, namespace, "filler")
    assert total_kib == SCRATCH.size_mib * 1024
    name = f"fill-{uuid.uuid4().hex[:6]}"

    def remove():
        code, out = exec_in_pod(lab.core, namespace, "filler", ["rm", "-f", f"/scratch/{name}"])
        assert code == 0, out

    def left():
        used = _df_kib(lab, namespace, "filler")[1]
        return [f"fill file /scratch/{name} left ({used} KiB used)"] if used >= 1024 else []

    # The removal is registered, with its leftover check, before the first byte is written.
    lab_faults.rollbacks.register(f"rm /scratch/{name}", remove, leftover=left)
    code, out = exec_in_pod(
        lab.core,
        namespace,
        "filler",
        ["dd", "if=/dev/zero", f"of=/scratch/{name}", "bs=1M", f"count={SCRATCH.size_mib * 2}"],
        timeout=60,
    )
    assert code != 0, f"writing twice the capacity succeeded: {out}"
    assert "No space left on device" in out, out
    assert left(), "the leftover check does not see the fill file"
    lab_faults.rollbacks.run_all()
    assert not lab_faults.rollbacks.leftovers(), "fill file not removed"


def test_data_outlives_the_worker_that_wrote_it(lab, namespace, scratch_claim, lab_faults):
    first, second = lab.workers
    token = uuid.uuid4().hex
    _pod(
        lab, namespace, "writer", first, f"echo {token} > /scratch/token-{token} && exec sleep 3600"
    )
    try:
        # stop_node registers docker start and the wait for Ready before it strikes.
        stop_node(lab_faults, first)
        _pod(lab, namespace, "reader", second, "exec sleep 3600")
        code, out = exec_in_pod(lab.core, namespace, "reader", ["cat", f"/scratch/token-{token}"])
        assert code == 0, f"{second} cannot read what {first} wrote: {out}"
        assert out.strip() == token, f"{second} read {out!r}, {first} wrote {token!r}"
    finally:
        with contextlib.suppress(client.ApiException):
            exec_in_pod(lab.core, namespace, "reader", ["rm", "-f", f"/scratch/token-{token}"])
