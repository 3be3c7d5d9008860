"""Assemble the kind node image: Debian rootfs, our node files, Kubernetes, preloaded images.

Steps (each skipped when its output for the same recipe exists):
1. ``docker import`` of the node rootfs tarball;
2. ``docker build`` adding kubeadm/kubelet/kubectl, crictl, the runc wrapper, our
   entrypoint, systemd units, containerd config and the CNI/storage manifests;
3. preload: start containerd inside a container of that image, ``ctr images import
   --no-unpack`` every image tarball into the k8s.io namespace, ``docker commit``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from harness.images.docker import RECIPE_LABEL, build_image, has_image, import_rootfs
from harness.settings import Versions
from harness.steps import run

__all__ = ["NODE_REPOSITORY", "assemble_node_image"]

NODE_REPOSITORY = "harness.local/kind-node"
ASSETS = Path(__file__).resolve().parent / "assets"

_STAGE_DOCKERFILE = """\
FROM {base}
COPY files/ /
COPY kubeadm kubelet kubectl /usr/bin/
COPY crictl /usr/local/bin/crictl
COPY runc-capstrip /usr/local/sbin/runc-capstrip
COPY manifests/ /kind/manifests/
RUN echo "{kubernetes}" > /kind/version \\
 && mkdir -p /opt/cni /etc/kubernetes/manifests /etc/cni/net.d \\
 && ln -sfn /usr/lib/cni /opt/cni/bin \\
 && rm -f /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/* \\
          /lib/systemd/system/local-fs.target.wants/* \\
          /lib/systemd/system/sockets.target.wants/*udev* \\
          /lib/systemd/system/sockets.target.wants/*initctl* \\
          /lib/systemd/system/basic.target.wants/* \\
          /lib/systemd/system/sysinit.target.wants/systemd-tmpfiles-setup.service \\
 && systemctl enable containerd kubelet \\
 && systemctl mask systemd-binfmt.service getty.target console-getty.service \\
 && echo "ReadKMsg=no" >> /etc/systemd/journald.conf \\
 && chmod 0755 /usr/local/bin/entrypoint
ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]
"""

# Runs inside the staging container: a throwaway containerd imports every tarball.
_PRELOAD_SCRIPT = """\
set -eu
containerd --config /etc/containerd/config.toml >/tmp/containerd.log 2>&1 &
pid=$!
tries=0
until ctr version >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -gt 150 ]; then
    echo "containerd did not start:"; cat /tmp/containerd.log; exit 1
  fi
  sleep 0.2
done
for tarball in /preload/*.tar; do
  ctr -n k8s.io images import --no-unpack "$tarball"
done
ctr -n k8s.io images ls -q
kill "$pid"
wait "$pid" || true
rm -rf /tmp/* /var/lib/containerd/tmpmounts
"""


def assemble_node_image(
    v: Versions,
    rootfs_tarball: Path,
    kube_bin: Path,
    crictl_bin: Path,
    wrapper_bin: Path,
    manifests: Path,
    preload: Sequence[Path],
) -> tuple[str, list[str]]:
    """Return the node image reference (and its intermediate images), building what lacks."""
    base_recipe = _digest([rootfs_tarball.name])
    base = f"harness.local/node-rootfs:{base_recipe}"
    if not has_image(base, base_recipe):
        import_rootfs(rootfs_tarball, base, base_recipe)

    files = {
        "files": ASSETS / "node" / "files",
        "manifests": manifests,
        "kubeadm": kube_bin / "kubeadm",
        "kubelet": kube_bin / "kubelet",
        "kubectl": kube_bin / "kubectl",
        "crictl": crictl_bin / "crictl",
        "runc-capstrip": wrapper_bin / "runc-capstrip",
    }
    dockerfile = _STAGE_DOCKERFILE.format(base=base, kubernetes=v.kubernetes)
    stage_recipe = _digest([base_recipe, dockerfile, *(_tree_digest(p) for p in files.values())])
    stage = f"harness.local/node-stage:{stage_recipe}"
    if not has_image(stage, stage_recipe):
        build_image(stage, stage_recipe, dockerfile, files)

    final_recipe = _digest([stage_recipe, *sorted(p.name for p in preload)])
    final = f"{NODE_REPOSITORY}:{v.kubernetes}-{final_recipe}"
    if not has_image(final, final_recipe):
        _preload(stage, final, final_recipe, preload)
    return final, [base, stage]


def _preload(stage: str, final: str, recipe: str, preload: Sequence[Path]) -> None:
    name = f"harness-node-preload-{recipe}"
    run("remove stale preload container", ["docker", "rm", "-f", name], check=False)
    mounts: list[str] = []
    for tarball in preload:
        mounts += ["-v", f"{tarball}:/preload/{tarball.name}:ro"]
    run(
        "start preload container",
        [
            "docker",
            "run",
            "-d",
            "--name",
            name,
            "--privileged",
            "--entrypoint",
            "/bin/sleep",
            *mounts,
            stage,
            "infinity",
        ],
    )
    try:
        run(
            "import images into the node's containerd",
            ["docker", "exec", name, "sh", "-c", _PRELOAD_SCRIPT],
            timeout=900,
        )
        run(
            "commit node image",
            [
                "docker",
                "commit",
                "--change",
                'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]',
                "--change",
                "CMD []",
                "--change",
                f"LABEL {RECIPE_LABEL}={recipe}",
                name,
                final,
            ],
        )
    finally:
        run("remove preload container", ["docker", "rm", "-f", name], check=False)


def _digest(parts: Sequence[str]) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:12]


def _tree_digest(path: Path) -> str:
    """Digest of a file or directory by relative names and content.

    Content, not mtimes: a rebuilt binary that is byte-identical (Go builds with -trimpath
    are reproducible) must not force a new node image.
    """
    digest = hashlib.sha256()
    paths = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for p in paths:
        digest.update(str(p.relative_to(path.parent)).encode())
        with p.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()[:12]
