"""The shared volumes the checkpoint lives on: they outlive a worker and have a real size.

Uses the lab's scratch volume (64 MiB tmpfs shared by both workers), presented as a
`local` PersistentVolume exactly like the checkpoint's (manifests/03-storage.yaml).
"""

import contextlib
import subprocess
import uuid

import pytest
from kubernetes import client

from fixtures.workloads import pod_manifest, wait_pod_running, wait_pvc_bound
from harness.cluster.shared_storage import SHARED_VOLUMES
from harness.kube import exec_in_pod
from harness.observe.wait import wait_until

SCRATCH = next(v for v in SHARED_VOLUMES if v.name == "scratch")
NODE_RETURN_TIMEOUT = 180.0


@pytest.fixture
def scratch_claim(lab, namespace):
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


def test_filling_the_volume_gives_enospc_at_its_capacity(lab, namespace, scratch_claim):
    _pod(lab, namespace, "filler", lab.workers[0], "exec sleep 3600")
    code, out = exec_in_pod(lab.core, namespace, "filler", ["df", "-k", "/scratch"])
    assert code == 0, out
    total_kib = int(out.splitlines()[-1].split()[1])
    assert total_kib == SCRATCH.size_mib * 1024, out
    name = f"fill-{uuid.uuid4().hex[:6]}"
    try:
        code, out = exec_in_pod(
            lab.core,
            namespace,
            "filler",
            ["dd", "if=/dev/zero", f"of=/scratch/{name}", "bs=1M", f"count={SCRATCH.size_mib * 2}"],
            timeout=60,
        )
        assert code != 0, f"writing twice the capacity succeeded: {out}"
        assert "No space left on device" in out, out
    finally:
        exec_in_pod(lab.core, namespace, "filler", ["rm", "-f", f"/scratch/{name}"])
    code, out = exec_in_pod(lab.core, namespace, "filler", ["df", "-k", "/scratch"])
    assert int(out.splitlines()[-1].split()[2]) < 1024, f"fill file not removed: {out}"


@pytest.mark.disruptive
def test_data_outlives_the_worker_that_wrote_it(lab, namespace, scratch_claim):
    first, second = lab.workers
    token = uuid.uuid4().hex
    _pod(
        lab, namespace, "writer", first, f"echo {token} > /scratch/token-{token} && exec sleep 3600"
    )

    def restore():
        subprocess.run(["docker", "start", first], capture_output=True, check=False)

        def ready():
            node = lab.core.read_node(first)
            status = [c.status for c in node.status.conditions if c.type == "Ready"]
            return (True if status == ["True"] else None), f"{first} Ready={status}"

        wait_until(f"{first} Ready again", ready, NODE_RETURN_TIMEOUT, 1)

    try:
        # The rollback is registered (the finally) before the fault strikes.
        subprocess.run(["docker", "stop", "-t", "2", first], check=True, capture_output=True)
        _pod(lab, namespace, "reader", second, "exec sleep 3600")
        code, out = exec_in_pod(lab.core, namespace, "reader", ["cat", f"/scratch/token-{token}"])
        assert code == 0, f"{second} cannot read what {first} wrote: {out}"
        assert out.strip() == token, f"{second} read {out!r}, {first} wrote {token!r}"
    finally:
        restore()
        with contextlib.suppress(client.ApiException):
            exec_in_pod(lab.core, namespace, "reader", ["rm", "-f", f"/scratch/token-{token}"])
