"""Where a run came from: the commit, the command line and seed, the pinned versions, and
(when the run reached a cluster) its Kubernetes version, nodes and image digests.

Read once per run and never allowed to fail it: a read that fails is noted in
``errors``. Nothing here reads a Secret or copies a kubeconfig; the report's redaction
(harness.report.redact) runs over it like over everything else.
"""

from __future__ import annotations

import platform
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from harness.settings import PROJECT_ROOT, PipelineVersions, Versions

__all__ = ["IMAGE_NAMESPACES", "cluster_provenance", "git_provenance", "local_provenance"]

IMAGE_NAMESPACES = ("spark-pipeline", "spark-operator", "monitoring", "kube-system")
"""Namespaces whose running images are listed with their digests."""


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_provenance() -> dict[str, Any]:
    """The commit, branch and whether the work tree had uncommitted changes."""
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "commit": _git("rev-parse", "HEAD"),
        "branch": _git("rev-parse", "--abbrev-ref", "HEAD"),
        "dirty": None if status is None else bool(status),
    }


def local_provenance(args: Sequence[str], seed: str | int | None) -> dict[str, Any]:
    """Everything that needs no cluster."""
    versions = {**Versions().__dict__, **PipelineVersions().__dict__}
    return {
        "git": git_provenance(),
        "command": ["pytest", *args],
        "seed": seed,
        "python": platform.python_version(),
        "host": platform.node(),
        "platform": f"{platform.system()} {platform.release()} {platform.machine()}",
        "executable": sys.executable,
        "versions": {k: str(v) for k, v in versions.items()},
    }


def cluster_provenance(api: Any) -> dict[str, Any]:
    """Kubernetes version, nodes (roles, capacity, kubelet, runtime), running image digests."""
    from kubernetes import client  # the client layer, only when a cluster was used

    found: dict[str, Any] = {"kubernetes": None, "nodes": [], "images": [], "errors": []}
    try:
        found["kubernetes"] = client.VersionApi(api).get_code().git_version
    except Exception as exc:  # provenance never fails a run
        found["errors"].append(f"version: {type(exc).__name__}")
    core = client.CoreV1Api(api)
    try:
        for node in core.list_node(_request_timeout=15).items:
            labels = node.metadata.labels or {}
            info = node.status.node_info
            found["nodes"].append(
                {
                    "name": node.metadata.name,
                    "roles": sorted(
                        k.split("/", 1)[1]
                        for k in labels
                        if k.startswith("node-role.kubernetes.io/")
                    )
                    or ["worker"],
                    "cpu": (node.status.capacity or {}).get("cpu"),
                    "memory": (node.status.capacity or {}).get("memory"),
                    "kubelet": None if info is None else info.kubelet_version,
                    "runtime": None if info is None else info.container_runtime_version,
                }
            )
    except Exception as exc:
        found["errors"].append(f"nodes: {type(exc).__name__}")
    images: dict[str, dict[str, Any]] = {}
    for ns in IMAGE_NAMESPACES:
        try:
            pods = core.list_namespaced_pod(ns, _request_timeout=15).items
        except Exception as exc:
            found["errors"].append(f"pods of {ns}: {type(exc).__name__}")
            continue
        for pod in pods:
            for status in pod.status.container_statuses or []:
                entry = images.setdefault(
                    status.image, {"image": status.image, "digest": None, "pods": []}
                )
                digest = (status.image_id or "").rsplit("@", 1)[-1] or None
                entry["digest"] = entry["digest"] or digest
                if len(entry["pods"]) < 5:
                    entry["pods"].append(f"{ns}/{pod.metadata.name}")
    found["images"] = [images[k] for k in sorted(images)]
    return found
