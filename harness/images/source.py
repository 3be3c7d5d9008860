"""Choose the image source: upstream images where a registry answers, else build offline.

The rest of the harness only sees a LabImages value and never knows which one was used.
"""

from __future__ import annotations

import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

from harness.errors import InvalidInput
from harness.images.builder import build_lab_images
from harness.images.catalog import UPSTREAM_NODE_IMAGE, go_programs
from harness.images.gobuild import build
from harness.progress import note
from harness.settings import LabSettings, Versions, cache_dir

__all__ = [
    "UPSTREAM_TOOLBOX",
    "LabImages",
    "kind_binary",
    "registry_reachable",
    "resolve_images",
]

UPSTREAM_TOOLBOX = "docker.io/library/busybox:1.37.0"
SOURCES = ("auto", "offline", "upstream")


@dataclass(frozen=True)
class LabImages:
    """The node image, the lab's toolbox image and the binaries that drive the cluster."""

    source: str
    node_image: str
    toolbox_image: str
    kind: Path
    kubectl: Path


def registry_reachable(host: str = "registry-1.docker.io", timeout: float = 3.0) -> bool:
    """True when a TCP connection to the registry succeeds (DNS and route included)."""
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def resolve_images(settings: LabSettings, v: Versions | None = None) -> LabImages:
    """Build or locate everything the cluster needs, according to settings.image_source."""
    v = v or Versions()
    source = settings.image_source
    if source not in SOURCES:
        raise InvalidInput(
            "HARNESS_IMAGES / --images", "image source", f"one of {', '.join(SOURCES)}", source
        )
    if source == "auto":
        source = "upstream" if registry_reachable() else "offline"
        note(f"image source: {source} (auto-detected)")
    if source == "offline":
        built = build_lab_images(settings, v)
        return LabImages(
            "offline", built.node_image, built.toolbox_image, built.kind, built.kubectl
        )
    kubectl = shutil.which("kubectl") or build(go_programs(v)["kubernetes"], _logs()) / "kubectl"
    return LabImages(
        "upstream", UPSTREAM_NODE_IMAGE, UPSTREAM_TOOLBOX, kind_binary(v), Path(kubectl)
    )


def kind_binary(v: Versions | None = None) -> Path:
    """The pinned kind, built from the Go module proxy once (seconds when cached)."""
    return build(go_programs(v or Versions())["kind"], _logs()) / "kind"


def _logs() -> Path:
    return cache_dir() / "logs"
