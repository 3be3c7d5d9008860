"""Docker image primitives for the offline builder: import, build, save, commit.

Every image we make carries the digest of its recipe in a label, so a warm run can
tell "present and current" from "present but stale" without rebuilding anything.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from harness.steps import run

__all__ = [
    "RECIPE_LABEL",
    "build_image",
    "has_image",
    "import_rootfs",
    "prune_stale",
    "save_image",
]

RECIPE_LABEL = "io.harness.recipe"
# The docker CLI may be newer than the engine and lack buildx; the classic builder
# needs nothing beyond the engine.
_BUILD_ENV = {"DOCKER_BUILDKIT": "0"}


def has_image(ref: str, recipe: str) -> bool:
    """True when the image exists locally and was made from this exact recipe."""
    done = run(
        "inspect image",
        [
            "docker",
            "image",
            "inspect",
            "--format",
            f'{{{{ index .Config.Labels "{RECIPE_LABEL}" }}}}',
            ref,
        ],
        check=False,
    )
    return done.returncode == 0 and done.stdout.decode().strip() == recipe


def import_rootfs(tarball: Path, ref: str, recipe: str, changes: Sequence[str] = ()) -> None:
    """Make an image from a root filesystem tarball, with no registry involved."""
    args = ["docker", "import", "--change", f"LABEL {RECIPE_LABEL}={recipe}"]
    for change in changes:
        args += ["--change", change]
    run(f"docker import {ref}", [*args, str(tarball), ref])


def build_image(ref: str, recipe: str, dockerfile: str, files: Mapping[str, Path]) -> None:
    """Build an image from a Dockerfile text and named context files (copied by hard link)."""
    with tempfile.TemporaryDirectory(prefix="harness-build-") as tmp:
        ctx = Path(tmp)
        for name, source in files.items():
            target = ctx / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target, symlinks=True)
            else:
                _link_or_copy(source, target)
        (ctx / "Dockerfile").write_text(dockerfile + f"\nLABEL {RECIPE_LABEL}={recipe}\n")
        run(
            f"docker build {ref}",
            ["docker", "build", "--network", "none", "-q", "-t", ref, str(ctx)],
            env=_BUILD_ENV,
        )


def save_image(ref: str, recipe: str, directory: Path) -> Path:
    """Write the image as a docker-archive tarball (once per recipe) and return its path."""
    safe = ref.replace("/", "_").replace(":", "_")
    tarball = directory / f"{safe}-{recipe}.tar"
    if not tarball.exists():
        directory.mkdir(parents=True, exist_ok=True)
        partial = tarball.with_suffix(".partial")
        run(f"docker save {ref}", ["docker", "save", "-o", str(partial), ref])
        partial.rename(tarball)
    return tarball


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def prune_stale(current: set[str], tarballs: set[Path], directory: Path) -> list[str]:
    """Remove our images and saved tarballs from earlier recipes; return what went.

    Only repositories that hold current images are touched, and Docker refuses to remove
    an image a container still uses (an old cluster keeps its node image).
    """
    repositories = {ref.rsplit(":", 1)[0] for ref in current}
    listed = run(
        "list images",
        [
            "docker",
            "images",
            "--filter",
            f"label={RECIPE_LABEL}",
            "--format",
            "{{.Repository}}:{{.Tag}}",
        ],
    )
    stale = [
        ref
        for ref in listed.stdout.decode().split()
        if ref.rsplit(":", 1)[0] in repositories and ref not in current
    ]
    removed = [
        ref
        for ref in stale
        if run("remove stale image", ["docker", "rmi", ref], check=False).returncode == 0
    ]
    for old in directory.glob("*.tar"):
        if old not in tarballs:
            old.unlink()
            removed.append(old.name)
    run(
        "remove dangling images",
        ["docker", "image", "prune", "-f", "--filter", f"label={RECIPE_LABEL}"],
        check=False,
    )
    return removed
