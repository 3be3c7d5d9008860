"""Pod Security and NetworkPolicy hold in the pipeline namespace; each check can fail."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from kubernetes import client

from harness.fixtures.pipeline import Pipeline
from harness.fixtures.workloads import pod_manifest, wait_pod_running
from harness.kube import exec_in_pod
from tests.pipeline.conftest import NAMESPACE, running_driver


def test_pod_security_rejects_a_privileged_pod(pipeline: Pipeline) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "privileged-probe"},
        "spec": {
            "containers": [
                {
                    "name": "main",
                    "image": pipeline.lab.images.toolbox_image,
                    "command": ["sleep", "60"],
                    "securityContext": {"privileged": True},
                    "resources": {"requests": {"memory": "8Mi"}},
                }
            ]
        },
    }
    with pytest.raises(client.ApiException) as info:
        pipeline.core.create_namespaced_pod(NAMESPACE, pod, dry_run="All")
    assert info.value.status == 403
    assert "violates PodSecurity" in str(info.value.body)
    assert "privileged" in str(info.value.body)


def _reach(pipeline: Pipeline, pod: str, ip: str, port: int) -> tuple[int, str]:
    # Debian's busybox wget -T segfaults; timeout(1) bounds the attempt instead.
    return exec_in_pod(
        pipeline.core,
        NAMESPACE,
        pod,
        ["timeout", "4", "busybox", "wget", "-q", "-O", "/dev/null", f"http://{ip}:{port}/"],
        timeout=20,
    )


def test_only_spark_pods_reach_the_driver(
    pipeline: Pipeline, probe_pod: Callable[..., client.V1Pod], namespace: str
) -> None:
    driver = running_driver(pipeline)
    ip = driver.status.pod_ip
    # Positive control: with the label the policy admits, the driver's UI answers. If it
    # did not, the negative result below would prove nothing.
    allowed = probe_pod({"harness.local/spark-app": "events-stream"})
    code, out = _reach(pipeline, allowed.metadata.name, ip, 4040)
    assert code == 0, f"a labelled pod could not reach the driver UI at {ip}:4040: {out}"
    # The stranger runs in a namespace without policies, so its own egress is open:
    # only the driver's ingress rules can stop it.
    pipeline.core.create_namespaced_pod(
        namespace, pod_manifest("stranger", pipeline.lab.images.toolbox_image)
    )
    wait_pod_running(pipeline.core, namespace, "stranger")
    code, out = exec_in_pod(
        pipeline.core,
        namespace,
        "stranger",
        ["timeout", "4", "busybox", "wget", "-q", "-O", "/dev/null", f"http://{ip}:4040/"],
        timeout=20,
    )
    assert code != 0, f"a pod without the allowed labels reached the driver at {ip}:4040"
