"""The offline image builder: every image the lab needs, from package registries only.

Go programs come from the Go module proxy, root filesystems from Debian's mirror, each as
the machine configures it (GOPROXY, apt's sources); the results are cached by recipe under
the cache directory and in Docker's image store, so a warm run only checks labels.
"""

from __future__ import annotations

import fcntl
import hashlib
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness.aptsources import debian_mirror
from harness.images.catalog import ContainerImage, go_programs, lab_images
from harness.images.docker import (
    build_image,
    has_image,
    import_rootfs,
    prune_stale,
    save_image,
)
from harness.images.gobuild import GoProgram, build, outputs
from harness.images.nodeimage import ASSETS, assemble_node_image
from harness.images.rootfs import NODE_ROOTFS, TOOLS_ROOTFS, ensure_rootfs
from harness.progress import note, phase
from harness.settings import LabSettings, Versions, cache_dir
from harness.templates import fill_placeholders

__all__ = ["BuildResult", "build_lab_images", "fill_placeholders"]


@dataclass(frozen=True)
class BuildResult:
    """Where the built artefacts are."""

    node_image: str
    toolbox_image: str
    kind: Path
    kubectl: Path
    seconds: float
    images: tuple[str, ...] = ()
    """Every image this build made or found, intermediates included (harness images save)."""
    cached: tuple[Path, ...] = ()
    """The cache files the warm path checks: root filesystems, image tarballs, Go outputs."""


def build_lab_images(settings: LabSettings, v: Versions) -> BuildResult:
    """Build (or find cached) everything a lab cluster needs; idempotent and resumable."""
    begun = time.monotonic()
    with build_lock():
        return _build(settings, v, begun)


@contextmanager
def build_lock() -> Iterator[None]:
    """One builder at a time per cache: a second one waits instead of corrupting the first."""
    path = cache_dir() / "build.lock"
    with path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            note(f"another build holds {path}; waiting for it")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _build(settings: LabSettings, v: Versions, begun: float) -> BuildResult:
    logs = cache_dir() / "logs"
    programs = go_programs(v)
    # Resolved before any build starts, so a machine without a Debian source fails at once.
    mirror = settings.debian_mirror or debian_mirror(v.debian)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="build") as pool:
        # debootstrap waits on the network while the Go compiler uses the CPUs.
        node_fs = pool.submit(ensure_rootfs, NODE_ROOTFS, mirror, logs)
        tools_fs = pool.submit(ensure_rootfs, TOOLS_ROOTFS, mirror, logs)
        bins = {name: _build_program(p, logs) for name, p in programs.items()}
        with phase("debootstrap root filesystems (node, tools)"):
            node_tarball, tools_tarball = node_fs.result(), tools_fs.result()

    with phase("container images"):
        toolbox = f"harness.local/toolbox:{v.debian}-{tools_tarball.stem.rsplit('-', 1)[-1]}"
        toolbox_recipe = tools_tarball.stem
        if not has_image(toolbox, toolbox_recipe):
            import_rootfs(
                tools_tarball,
                toolbox,
                toolbox_recipe,
                ["ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            )
        tarballs = [save_image(toolbox, toolbox_recipe, cache_dir() / "images")]
        for image in lab_images(v):
            recipe = _image_recipe(image, programs[image.program], toolbox_recipe)
            if not has_image(image.ref, recipe):
                note(f"  building {image.ref}")
                build_image(
                    image.ref,
                    recipe,
                    _dockerfile(image, toolbox),
                    {b: bins[image.program] / b for b in image.binaries},
                )
            tarballs.append(save_image(image.ref, recipe, cache_dir() / "images"))

    with phase("kind node image"):
        manifests = _render_manifests(v, toolbox)
        node, intermediates = assemble_node_image(
            v,
            node_tarball,
            bins["kubernetes"],
            bins["crictl"],
            bins["runc-capstrip"],
            manifests,
            tarballs,
        )
        note(f"  node image: {node}")
    current = {node, toolbox, *intermediates, *(image.ref for image in lab_images(v))}
    removed = prune_stale(current, set(tarballs), cache_dir() / "images")
    if removed:
        note(f"  removed {len(removed)} images and tarballs of earlier recipes")
    return BuildResult(
        node,
        toolbox,
        bins["kind"] / "kind",
        bins["kubernetes"] / "kubectl",
        time.monotonic() - begun,
        images=tuple(sorted(current)),
        cached=(
            node_tarball,
            tools_tarball,
            *tarballs,
            *(path for p in programs.values() for path in outputs(p)),
        ),
    )


def _build_program(program: GoProgram, logs: Path) -> Path:
    with phase(f"go build {program.name} {program.version}"):
        return build(program, logs)


def _image_recipe(image: ContainerImage, program: GoProgram, base: str) -> str:
    parts = [
        image.ref,
        program.recipe(),
        *image.binaries,
        *image.entrypoint,
        _dockerfile(image, ""),
    ]
    if image.on_debian:
        parts.append(base)
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


def _dockerfile(image: ContainerImage, toolbox: str) -> str:
    lines = [f"FROM {toolbox}" if image.on_debian else "FROM scratch"]
    lines += [f"COPY {b} /usr/local/bin/{b}" for b in image.binaries]
    lines.append("ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    if image.entrypoint:
        quoted = ", ".join(f'"{part}"' for part in image.entrypoint)
        lines.append(f"ENTRYPOINT [{quoted}]")
    return "\n".join(lines) + "\n"


def _render_manifests(v: Versions, toolbox: str) -> Path:
    """Fill image names into the node's CNI and storage manifests."""
    values = {
        "kube_router_image": f"harness.local/kube-router:{v.kube_router}",
        "local_path_image": f"harness.local/local-path-provisioner:{v.local_path_provisioner}",
        "toolbox_image": toolbox,
    }
    out = cache_dir() / "node-manifests" / toolbox.rsplit(":", 1)[-1]
    out.mkdir(parents=True, exist_ok=True)
    for template in sorted((ASSETS / "node" / "manifests").glob("*.yaml")):
        text = fill_placeholders(template.read_text(), values, str(template))
        target = out / template.name
        if not target.exists() or target.read_text() != text:
            target.write_text(text)
    return out
