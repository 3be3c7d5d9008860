"""Every test under tests/lab needs the real kind cluster."""

import uuid

import pytest

from harness.fixtures.workloads import SERVE, pod_manifest, wait_pod_running
from harness.kube import exec_in_pod


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/lab/" in str(item.path):
            item.add_marker(pytest.mark.lab)


def fetch(lab, namespace, pod, url):
    """GET url from inside a pod, giving up after 3s; (exit code, body).

    coreutils' timeout bounds it: Debian's busybox 1.35 wget crashes on its own -T option.
    """
    command = ["timeout", "3", "busybox", "wget", "-q", "-O", "-", url]
    return exec_in_pod(lab.core, namespace, pod, command, timeout=20)


@pytest.fixture
def server_and_client(lab, namespace):
    """An HTTP server pod on the first worker and a client pod on the second."""
    first, second = lab.workers
    token = uuid.uuid4().hex
    lab.core.create_namespaced_pod(
        namespace,
        pod_manifest(
            "server",
            lab.images.toolbox_image,
            shell=SERVE,
            node=first,
            labels={"role": "server"},
            env={"TOKEN": token},
        ),
    )
    lab.core.create_namespaced_pod(
        namespace,
        pod_manifest("client", lab.images.toolbox_image, node=second, labels={"role": "client"}),
    )
    server = wait_pod_running(lab.core, namespace, "server")
    client_pod = wait_pod_running(lab.core, namespace, "client")
    return server, client_pod, token
