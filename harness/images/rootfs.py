"""Debian root filesystems made with debootstrap, cached as tarballs by their recipe."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from harness.settings import cache_dir
from harness.steps import run_logged

__all__ = ["JRE_ROOTFS", "NODE_ROOTFS", "TOOLS_ROOTFS", "Rootfs", "ensure_rootfs"]


@dataclass(frozen=True)
class Rootfs:
    """A minbase Debian tree with extra packages."""

    name: str
    suite: str
    packages: tuple[str, ...]

    def recipe(self, mirror: str) -> str:
        """Digest of what decides the tree's content."""
        text = "|".join([self.name, self.suite, mirror, *sorted(self.packages)])
        return hashlib.sha256(text.encode()).hexdigest()[:12]


NODE_ROOTFS = Rootfs(
    "node",
    "bookworm",
    (
        # what kind execs and what systemd needs as PID 1
        "systemd",
        "systemd-sysv",
        "dbus",
        "bash",
        "procps",
        "util-linux",
        "mount",
        # the container runtime and the CNI plugins (bridge, host-local, portmap, loopback)
        "containerd",
        "runc",
        "containernetworking-plugins",
        # what the kubelet and kube-proxy shell out to
        "iptables",
        "nftables",
        "ipset",
        "conntrack",
        "iproute2",
        "ethtool",
        "socat",
        "kmod",
        "ca-certificates",
        "e2fsprogs",
        "libseccomp2",
    ),
)
"""The kind node: Debian's containerd 1.6, runc 1.1, CNI plugins, iptables in nft mode."""

TOOLS_ROOTFS = Rootfs(
    "tools",
    "bookworm",
    (
        "iptables",
        "ipset",
        "iproute2",
        "conntrack",
        "kmod",
        "busybox",
        "ca-certificates",
        "procps",
    ),
)
"""Base of images that need a userland: kube-proxy, kube-router, the lab's toolbox."""


JRE_ROOTFS = Rootfs(
    "jre",
    "bookworm",
    (
        # Spark 4 and Kafka 4 run on Java 17
        "openjdk-17-jre-headless",
        # Spark's scripts are bash; the operator image runs tini -s like upstream's
        "bash",
        "tini",
        "procps",
        "coreutils",
        # PySpark driver and Python workers
        "python3",
        "ca-certificates",
        # name lookups and socket checks in probes and entrypoints
        "busybox",
        "libnss-wrapper",
    ),
)
"""Base of the Java images: Spark (driver, executors, operator) and the Kafka broker."""


def ensure_rootfs(fs: Rootfs, mirror: str, log_dir: Path) -> Path:
    """Return a tarball of the tree, running debootstrap only when the cache lacks it."""
    out_dir = cache_dir() / "rootfs"
    out_dir.mkdir(parents=True, exist_ok=True)
    tarball = out_dir / f"{fs.name}-{fs.suite}-{fs.recipe(mirror)}.tar"
    if tarball.exists():
        return tarball
    tree = out_dir / f"{fs.name}-{fs.suite}-{fs.recipe(mirror)}.tree"
    shutil.rmtree(tree, ignore_errors=True)
    log = log_dir / f"debootstrap-{fs.name}.log"
    run_logged(
        f"debootstrap {fs.name}",
        [
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(fs.packages)}",
            fs.suite,
            str(tree),
            mirror,
        ],
        log,
    )
    # Package caches and lists are dead weight in an image.
    for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
        shutil.rmtree(tree / junk, ignore_errors=True)
    partial = tarball.with_suffix(".tar.partial")
    run_logged(
        f"pack {fs.name} rootfs",
        ["tar", "--numeric-owner", "-C", str(tree), "-cf", str(partial), "."],
        log,
    )
    partial.rename(tarball)
    shutil.rmtree(tree, ignore_errors=True)
    return tarball
