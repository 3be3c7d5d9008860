"""``harness images save`` / ``load``: every built image and every cache file the builder's
warm path checks, in one archive that another machine (or CI's cache) imports in minutes
instead of building for an hour and a half.

The archive is a tar, compressed with zstd by default: manifest.json first (images with
their recipe labels and IDs, files with sizes and sha256), then one ``docker save`` of
every image, then the cache files under ``cache/``. What it carries is what the warm path
looks at and nothing else (no Go module cache, no build folders, no Spark layout, no
cluster state); the builders report it (BuildResult.cached, PipelineImages.cached).

``load`` unpacks into a folder beside the cache, verifies every file against the manifest,
and only then loads the images and moves each unit into place, so a corrupt or truncated
archive changes nothing. What is already in place (same image ID, same file digest) is
left alone, which makes a second load a quick no-op.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from harness.aptsources import debian_mirror
from harness.ci import ACTIONLINT
from harness.errors import HarnessError, InvalidInput, StepFailed
from harness.images.archive_manifest import (
    CACHE_MEMBER_PREFIX,
    DOCKER_MEMBER,
    MANIFEST_MEMBER,
    ImageEntry,
    Manifest,
    check_file,
    file_entry,
    file_in_place,
    image_problems,
    images_to_load,
    units,
)
from harness.images.builder import build_lab_images, build_lock
from harness.images.crds import CRD_SOURCES, generate_crds
from harness.images.docker import RECIPE_LABEL
from harness.images.gobuild import build, outputs
from harness.images.pipeline import build_pipeline_images
from harness.progress import note, phase
from harness.settings import LabSettings, PipelineVersions, Versions, cache_dir
from harness.steps import run

__all__ = [
    "COMPRESSIONS",
    "DEFAULT_COMPRESSION",
    "Carried",
    "Loaded",
    "Saved",
    "carried",
    "load_archive",
    "save_archive",
]

COMPRESSIONS = ("zstd", "gzip", "none")
DEFAULT_COMPRESSION = "zstd"
"""Chosen by measurement (docs/measurements.md): docker save writes layers uncompressed."""
_COMPRESS = {
    # One thread: the lab's two cores also run the cluster.
    "zstd": ["zstd", "-q", "-c", "-3", "-T1"],
    "gzip": ["gzip", "-c", "-1"],
}
_DECOMPRESS = {"zstd": ["zstd", "-q", "-d", "-c"], "gzip": ["gzip", "-d", "-c"]}
_MAGIC = {b"\x28\xb5\x2f\xfd": "zstd", b"\x1f\x8b": "gzip"}
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Carried:
    """What the warm path checks, found (or built) on this machine."""

    images: tuple[str, ...]
    files: tuple[Path, ...]
    """Absolute paths under the cache directory."""
    debian_mirror: str


@dataclass(frozen=True)
class Saved:
    """What ``save`` wrote."""

    path: Path
    manifest: Manifest
    bytes: int
    seconds: float


@dataclass(frozen=True)
class Loaded:
    """What ``load`` changed."""

    manifest: Manifest
    images_loaded: int
    units_installed: int
    seconds: float


def carried(settings: LabSettings) -> Carried:
    """Run the builders' warm path (building whatever is missing) and return what it checks:
    the lab's and the pipeline's images, their cache files, the CRDs and CI's actionlint."""
    v = Versions()
    lab = build_lab_images(settings, v)
    pipeline = build_pipeline_images(settings, lab.toolbox_image, PipelineVersions())
    with phase("CRDs and actionlint"):
        crd_dirs = [generate_crds(source) for source in CRD_SOURCES]
        build(ACTIONLINT, cache_dir() / "logs")
    entries = [*lab.cached, *pipeline.cached, *crd_dirs, *outputs(ACTIONLINT)]
    files = {f for entry in entries for f in _files_of(entry)}
    images = {*lab.images, *pipeline.refs.values(), *pipeline.intermediates}
    mirror = settings.debian_mirror or debian_mirror(v.debian)
    return Carried(tuple(sorted(images)), tuple(sorted(files)), mirror)


def save_archive(
    target: Path, settings: LabSettings, compression: str = DEFAULT_COMPRESSION
) -> Saved:
    """Write the archive to ``target`` (through ``target.part``, renamed when complete)."""
    begun = time.monotonic()
    _check_tool(compression, "compress")  # before anything is built
    what = carried(settings)
    target = target.absolute()
    part = target.with_name(target.name + ".part")
    root = cache_dir()
    with (
        build_lock(),
        tempfile.TemporaryDirectory(prefix=f".{target.name}.", dir=target.parent) as tmp,
    ):
        with phase(f"hash {len(what.files)} cache files"):
            files = tuple(file_entry(f, f.relative_to(root).as_posix()) for f in what.files)
        with phase(f"docker save {len(what.images)} images"):
            images = tuple(
                ImageEntry(ref, image_id, recipe)
                for ref, (image_id, recipe) in _inspect(what.images).items()
            )
            docker_tar = Path(tmp) / "images.tar"
            run("docker save", ["docker", "save", "-o", str(docker_tar), *what.images])
            docker = file_entry(docker_tar, DOCKER_MEMBER)
        manifest = Manifest(
            created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            debian_mirror=what.debian_mirror,
            docker=docker,
            images=images,
            files=files,
        )
        size = _size(manifest.total_bytes())
        with phase(f"write {part} ({compression}; {size} uncompressed)"):
            try:
                _write(part, manifest, docker_tar, root, compression)
            except BaseException:
                part.unlink(missing_ok=True)
                raise
        os.replace(part, target)
    return Saved(target, manifest, target.stat().st_size, time.monotonic() - begun)


def load_archive(source: Path, settings: LabSettings) -> Loaded:
    """Verify the archive whole, then load its images and install its cache files;
    what is already in place is left as it is."""
    begun = time.monotonic()
    name = str(source)
    compression = _detect(source)
    _check_tool(compression, "decompress")
    root = cache_dir()
    with build_lock():
        for leftover in root.glob(".load-*"):  # of a load that was killed
            shutil.rmtree(leftover, ignore_errors=True)
        with _reading(source, compression, complete=False) as tar:
            manifest = _read_manifest(tar, name)
        note(
            f"  {len(manifest.images)} images, {len(manifest.files)} cache files,"
            f" {_size(manifest.total_bytes())} uncompressed; saved {manifest.created}"
        )
        _mirror_note(manifest, settings)
        with phase("compare with what this machine has"):
            present = _local_images()
            to_load = images_to_load(manifest.images, present)
            missing = {
                unit: entries
                for unit, entries in units(manifest.files).items()
                if not all(file_in_place(e, root) for e in entries)
            }
        note(f"  to load: {len(to_load)} images, {len(missing)} cache units")
        if not to_load and not missing:
            note("everything in the archive is in place already; nothing to do")
            return Loaded(manifest, 0, 0, time.monotonic() - begun)
        wanted = {CACHE_MEMBER_PREFIX + e.path for es in missing.values() for e in es}
        if to_load:
            wanted.add(DOCKER_MEMBER)
        _check_space(root, sum(m.size for n, m in manifest.members().items() if n in wanted))
        staging = Path(tempfile.mkdtemp(prefix=".load-", dir=root))
        try:
            with (
                phase("unpack and verify every file against the manifest"),
                _reading(source, compression, complete=True) as tar,
            ):
                _unpack(tar, manifest, staging, wanted, name)
            if to_load:
                _docker_load(staging / DOCKER_MEMBER, manifest, to_load, present, name)
            with phase(f"install {len(missing)} cache units"):
                for unit in missing:
                    _install(unit, staging, root)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return Loaded(manifest, len(to_load), len(missing), time.monotonic() - begun)


def _files_of(entry: Path) -> list[Path]:
    if entry.is_dir():
        return sorted(p for p in entry.rglob("*") if p.is_file())
    if not entry.is_file():
        raise HarnessError(f"the builder reported {entry}, which is not there")
    return [entry]


def _inspect(refs: tuple[str, ...] | list[str]) -> dict[str, tuple[str, str]]:
    """ref -> (image ID, recipe label), in the order asked."""
    done = run("inspect images", ["docker", "image", "inspect", *refs])
    found: dict[str, tuple[str, str]] = {}
    for image in json.loads(done.stdout):
        labels = (image.get("Config") or {}).get("Labels") or {}
        for tag in image.get("RepoTags") or []:
            found[tag] = (image["Id"], labels.get(RECIPE_LABEL, ""))
    lacking = [ref for ref in refs if not found.get(ref, ("", ""))[1]]
    if lacking:
        raise HarnessError(f"images without the {RECIPE_LABEL} label: {', '.join(lacking)}")
    return {ref: found[ref] for ref in refs}


def _local_images() -> dict[str, str]:
    """ref -> image ID of every tagged image of the daemon."""
    done = run(
        "list images",
        ["docker", "images", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"],
    )
    pairs = (line.split() for line in done.stdout.decode().splitlines())
    return {p[0]: p[1] for p in pairs if len(p) == 2 and "<none>" not in p[0]}


def _write(part: Path, manifest: Manifest, docker_tar: Path, root: Path, compression: str) -> None:
    with (
        _compressing(part, compression) as sink,
        tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT) as tar,
    ):
        text = manifest.to_json().encode()
        info = tarfile.TarInfo(MANIFEST_MEMBER)
        info.size, info.mode, info.mtime = len(text), 0o644, int(time.time())
        tar.addfile(info, io.BytesIO(text))
        for member, entry in manifest.members().items():
            path = docker_tar if member == DOCKER_MEMBER else root / entry.path
            info = tarfile.TarInfo(member)
            info.size, info.mode, info.mtime = entry.size, entry.mode, int(path.stat().st_mtime)
            with path.open("rb") as handle:
                reader = _HashingReader(handle)
                tar.addfile(info, reader)
            if reader.digest.hexdigest() != entry.sha256:
                raise HarnessError(f"{path} changed while the archive was written; save again")


@contextmanager
def _compressing(part: Path, compression: str) -> Iterator[IO[bytes]]:
    """A writable stream whose bytes land in ``part``, compressed by a child process."""
    with part.open("wb") as out:
        if compression == "none":
            yield out
            return
        command = _COMPRESS[compression]
        with subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=out, stderr=subprocess.PIPE
        ) as child:
            assert child.stdin is not None
            assert child.stderr is not None
            try:
                yield child.stdin
                child.stdin.close()
            except BrokenPipeError as exc:  # the compressor died: its message says why
                code = child.wait()
                raise StepFailed(compression, command, code, child.stderr.read().decode()) from exc
            except BaseException:
                child.kill()
                raise
            if child.wait():
                raise StepFailed(
                    compression, command, child.returncode, child.stderr.read().decode()
                )


@contextmanager
def _reading(source: Path, compression: str, *, complete: bool) -> Iterator[tarfile.TarFile]:
    """The archive as a tar stream; ``complete`` reads to the end and checks the
    decompressor's verdict, otherwise the reader stops where the caller did."""
    name = str(source)
    if compression == "none":
        with (
            source.open("rb") as raw,
            _tar_errors(name),
            tarfile.open(fileobj=raw, mode="r|") as tar,
        ):
            yield tar
        return
    command = [*_DECOMPRESS[compression], str(source)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as child:
        assert child.stdout is not None
        assert child.stderr is not None
        try:
            with _tar_errors(name), tarfile.open(fileobj=child.stdout, mode="r|") as tar:
                yield tar
                if complete:
                    while child.stdout.read(_CHUNK):  # the end-of-archive padding
                        pass
        except BaseException:
            child.kill()
            raise
        if not complete:
            child.kill()
            return
        if child.wait():
            message = child.stderr.read().decode(errors="replace").strip()
            raise InvalidInput(name, "(file)", f"a complete {compression} stream", message)


@contextmanager
def _tar_errors(name: str) -> Iterator[None]:
    try:
        yield
    except (tarfile.TarError, EOFError) as exc:
        raise InvalidInput(name, "(file)", "a complete archive", f"{exc}: truncated?") from exc


def _read_manifest(tar: tarfile.TarFile, name: str) -> Manifest:
    first = tar.next()
    if first is None or first.name != MANIFEST_MEMBER or not first.isfile():
        got = "nothing" if first is None else first.name
        raise InvalidInput(name, "(first member)", f"{MANIFEST_MEMBER} (harness images save)", got)
    handle = tar.extractfile(first)
    assert handle is not None
    return Manifest.from_json(handle.read().decode(errors="replace"), name)


def _unpack(
    tar: tarfile.TarFile, manifest: Manifest, staging: Path, wanted: set[str], name: str
) -> None:
    """Read every member, verify each against the manifest, keep the wanted ones."""
    again = _read_manifest(tar, name)
    if again != manifest:
        raise HarnessError(f"{name} changed while it was being read")
    expected = manifest.members()
    seen: set[str] = set()
    while (member := tar.next()) is not None:
        entry = expected.get(member.name)
        if entry is None or member.name in seen or not member.isfile():
            raise InvalidInput(
                name, member.name, "only the files the manifest lists, each once", "another member"
            )
        target = staging / member.name if member.name in wanted else None
        handle = tar.extractfile(member)
        assert handle is not None
        try:
            size, digest = _copy(handle, target)
        except (tarfile.TarError, EOFError) as exc:
            raise InvalidInput(
                name,
                entry.path,
                f"{entry.size} bytes",
                f"{exc}: the archive is truncated or corrupt",
            ) from exc
        check_file(entry, size, digest, name)
        if target is not None:
            target.chmod(entry.mode)
        seen.add(member.name)
        if entry.size >= 64 << 20:
            note(f"  {member.name}: {_size(entry.size)} verified")
    absent = [m for m in expected if m not in seen]
    if absent:
        raise InvalidInput(name, absent[0], "in the archive (the manifest lists it)", "missing")


def _copy(source: IO[bytes], target: Path | None) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    sink = None
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        sink = target.open("wb")
    try:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if sink is not None:
                sink.write(chunk)
    finally:
        if sink is not None:
            sink.close()
    return size, digest.hexdigest()


def _docker_load(
    tarball: Path,
    manifest: Manifest,
    to_load: list[ImageEntry],
    present: dict[str, str],
    name: str,
) -> None:
    with phase(f"docker load ({len(to_load)} of {len(manifest.images)} images absent or other)"):
        run("docker load", ["docker", "load", "-i", str(tarball)])
        for entry in to_load:
            if entry.ref in present:
                note(f"  {entry.ref}: {present[entry.ref][:19]} replaced by {entry.id[:19]}")
    problems = image_problems(manifest.images, _inspect([e.ref for e in manifest.images]))
    if problems:
        raise HarnessError(f"{name}: after docker load, " + "; ".join(problems))


def _install(unit: str, staging: Path, root: Path) -> None:
    """Put one unit in place: a file by rename, a folder by swapping the old one out, so
    a warm check never sees half a folder (absent at worst, which means rebuild)."""
    staged, target = staging / CACHE_MEMBER_PREFIX / unit, root / unit
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and (target.is_dir() or staged.is_dir()) and not target.is_symlink():
        old = staging / "replaced" / unit
        old.parent.mkdir(parents=True, exist_ok=True)
        os.replace(target, old)
    os.replace(staged, target)


def _check_space(root: Path, needed: int) -> None:
    free = shutil.disk_usage(root).free
    if needed > free:
        raise HarnessError(
            f"unpacking needs {_size(needed)} in {root}, which has {_size(free)} free"
        )


def _detect(source: Path) -> str:
    name = str(source)
    try:
        with source.open("rb") as handle:
            head = handle.read(512)
    except OSError as exc:
        raise InvalidInput(name, "(file)", "an archive of harness images save", str(exc)) from exc
    for magic, compression in _MAGIC.items():
        if head.startswith(magic):
            return compression
    if head[257:262] == b"ustar":
        return "none"
    raise InvalidInput(name, "(file)", "a tar archive, plain or compressed (zstd, gzip)", "other")


def _check_tool(compression: str, verb: str) -> None:
    if compression not in COMPRESSIONS:
        raise InvalidInput("--compression", "compression", ", ".join(COMPRESSIONS), compression)
    if compression != "none" and shutil.which(compression) is None:
        raise HarnessError(
            f"no {compression} command to {verb} with: install Debian's {compression} package"
        )


def _mirror_note(manifest: Manifest, settings: LabSettings) -> None:
    """Root filesystems are cached by recipe, and the mirror is part of it."""
    try:
        here = settings.debian_mirror or debian_mirror(Versions().debian)
    except InvalidInput:
        here = "none (no Debian source configured)"
    if here != manifest.debian_mirror:
        note(
            f"[yellow]note:[/yellow] the archive's root filesystems come from"
            f" {manifest.debian_mirror}, this machine's mirror is {here}: the builder will"
            f" make them anew unless HARNESS_DEBIAN_MIRROR={manifest.debian_mirror}"
        )


def _size(n: int) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"


class _HashingReader:
    """Reads through, hashing what it read (to catch a file changing under the save)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw, self.digest = raw, hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        self.digest.update(data)
        return data
