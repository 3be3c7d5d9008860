"""Clients for the lab cluster, always from the harness's own kubeconfig and context."""

from __future__ import annotations

from kubernetes import client, config, stream

from harness.errors import HarnessError
from harness.settings import LabSettings

__all__ = ["api_client", "exec_in_pod", "read_pod"]


def read_pod(core: client.CoreV1Api, namespace: str, name: str) -> client.V1Pod | None:
    """The pod, or None when there is none by that name (404)."""
    try:
        return core.read_namespaced_pod(name, namespace)
    except client.ApiException as exc:
        if exc.status == 404:
            return None
        raise


def api_client(settings: LabSettings) -> client.ApiClient:
    """An API client bound to the lab's kubeconfig and context (never the user's default).

    Close it (or use it as a context manager): its connection pool holds sockets.
    """
    return config.new_client_from_config(
        config_file=str(settings.kubeconfig), context=settings.context
    )


def exec_in_pod(
    api: client.CoreV1Api, namespace: str, pod: str, command: list[str], timeout: float = 30.0
) -> tuple[int, str]:
    """Run a command in a pod's first container; return (exit code, stdout+stderr)."""
    resp = stream.stream(
        api.connect_get_namespaced_pod_exec,
        pod,
        namespace,
        command=command,
        stderr=True,
        stdin=False,
        stdout=True,
        tty=False,
        _preload_content=False,
    )
    output: list[str] = []
    try:
        resp.run_forever(timeout=timeout)
        output.append(resp.read_stdout() or "")
        output.append(resp.read_stderr() or "")
        try:
            code = resp.returncode
        except ValueError as exc:  # the error channel held a message, not a status
            raise HarnessError(f"exec {command[0]} in {namespace}/{pod}: {exc}") from exc
    finally:
        resp.close()
        # websocket-client's close() skips the socket once the server has closed the
        # stream (every finished command); shutdown() closes it whatever the state.
        if resp.sock is not None:
            resp.sock.shutdown()
    return (code if code is not None else -1), "".join(output)
