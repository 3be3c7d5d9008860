"""Checkpoint storage that outlives a worker: size-limited tmpfs volumes shared by both workers.

kind's local-path volumes live inside one node container, die with it and report no
usage. Instead the host holds one directory, bind-mounted into both workers with
HostToContainer propagation (see manifests/kind-cluster.yaml). Under it the harness
mounts one tmpfs per volume with a fixed size, so:

* the data survives the loss of either worker (it lives on the host, and the other
  worker sees the same files);
* filling it gives a real ENOSPC at its real capacity;
* presented as a Kubernetes ``local`` PersistentVolume, the kubelet reports its usage
  through ``kubelet_volume_stats_*`` (the local plugin measures with statfs).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from harness.errors import StepFailed
from harness.settings import LabSettings
from harness.steps import run
from harness.templates import fill_placeholders

__all__ = [
    "NODE_MOUNT",
    "SHARED_VOLUMES",
    "SharedVolume",
    "ensure_shared_volumes",
    "render_kind_config",
]

NODE_MOUNT = "/mnt/harness-shared"
"""Where the shared directory appears inside each worker node."""

SPARK_UID = 185
"""Spark images run as uid 185 (as upstream's); the volumes belong to it."""


@dataclass(frozen=True)
class SharedVolume:
    """One tmpfs under the shared directory, presented as a local PV of the same size."""

    name: str
    size_mib: int

    def host_path(self, settings: LabSettings) -> Path:
        """Where the tmpfs is mounted on the host."""
        return shared_dir(settings) / self.name

    @property
    def node_path(self) -> str:
        """Where the tmpfs appears inside a worker node (the PV's local.path)."""
        return f"{NODE_MOUNT}/{self.name}"


SHARED_VOLUMES = (
    SharedVolume("checkpoint", 256),
    SharedVolume("sink", 1024),
    SharedVolume("kafka", 1024),
    SharedVolume("scratch", 64),
)
"""Checkpoint small so a fill test is quick; sink and broker log sized for hours of flow;
scratch for the lab's own storage tests (fill, node loss)."""


def shared_dir(settings: LabSettings) -> Path:
    """The host directory bind-mounted into both workers."""
    path = settings.state_dir / "shared"
    path.mkdir(parents=True, exist_ok=True)
    return path


def render_kind_config(settings: LabSettings) -> Path:
    """Fill the shared directory into the kind config; return the rendered file."""
    template = settings.kind_config
    text = fill_placeholders(
        template.read_text(), {"shared_dir": str(shared_dir(settings))}, str(template)
    )
    out = settings.state_dir / "kind-cluster.yaml"
    if not out.exists() or out.read_text() != text:
        out.write_text(text)
    return out


def config_digest(path: Path) -> str:
    """What decides whether an existing cluster was made from this config."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _mounts() -> dict[str, tuple[str, str]]:
    """Mount point → (filesystem type, propagation options) from /proc/self/mountinfo."""
    found: dict[str, tuple[str, str]] = {}
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        fields = left.split()
        point = fields[4].replace("\\040", " ")
        found[point] = (right.split()[0], " ".join(fields[6:]))
    return found


def ensure_shared_volumes(settings: LabSettings) -> list[SharedVolume]:
    """Make the shared directory a shared mount and mount each volume's tmpfs; idempotent."""
    base = shared_dir(settings)
    mounts = _mounts()
    if str(base) not in mounts:
        run("bind the shared directory", ["mount", "--bind", str(base), str(base)])
        mounts = _mounts()
    if "shared:" not in mounts[str(base)][1]:
        run("make the shared directory propagate", ["mount", "--make-rshared", str(base)])
    for volume in SHARED_VOLUMES:
        target = volume.host_path(settings)
        target.mkdir(exist_ok=True)
        if mounts.get(str(target), ("", ""))[0] == "tmpfs":
            continue
        run(
            f"mount the {volume.name} volume",
            [
                "mount",
                "-t",
                "tmpfs",
                "-o",
                f"size={volume.size_mib}m,uid={SPARK_UID},gid={SPARK_UID},mode=0775",
                f"harness-{volume.name}",
                str(target),
            ],
        )
    return list(SHARED_VOLUMES)


def check_visible_in_nodes(settings: LabSettings, workers: list[str]) -> None:
    """Each worker must see every volume as a tmpfs of its size, or we fail loudly."""
    for worker in workers:
        for volume in SHARED_VOLUMES:
            out = run(
                f"check {volume.name} in {worker}",
                ["docker", "exec", worker, "stat", "-f", "-c", "%T %b %S", volume.node_path],
            )
            kind, blocks, block_size = out.stdout.decode().split()
            size_mib = int(blocks) * int(block_size) // (1 << 20)
            if kind != "tmpfs" or size_mib != volume.size_mib:
                raise StepFailed(
                    f"shared volume {volume.name} in {worker}",
                    ["stat", "-f", volume.node_path],
                    1,
                    f"expected tmpfs of {volume.size_mib} MiB, found {kind} of {size_mib} MiB",
                )
