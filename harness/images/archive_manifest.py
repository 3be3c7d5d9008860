"""The manifest of an image archive: every image (name, recipe label, image ID) and every
cache file (path, size, sha256, mode) that ``harness images save`` carries.

Pure parts only: building entries, reading and checking the JSON, and deciding what a
machine already holds. ``harness.images.archive`` does the Docker and file work.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from harness.errors import InvalidInput

__all__ = [
    "CACHE_MEMBER_PREFIX",
    "CACHE_ROOTS",
    "DOCKER_MEMBER",
    "FORMAT",
    "MANIFEST_MEMBER",
    "FileEntry",
    "ImageEntry",
    "Manifest",
    "check_cache_path",
    "check_file",
    "file_entry",
    "file_in_place",
    "image_problems",
    "images_to_load",
    "sha256_file",
    "unit_of",
    "units",
]

FORMAT = 1
"""Bump when the archive's layout or the manifest's fields change."""
MANIFEST_MEMBER = "manifest.json"
"""The archive's first member, so a reader knows everything before the data arrives."""
DOCKER_MEMBER = "docker/images.tar"
"""One ``docker save`` of every image: layers shared between images are stored once."""
CACHE_MEMBER_PREFIX = "cache/"
"""Cache files sit under this prefix, at their path relative to the cache directory."""
CACHE_ROOTS = ("crds", "go", "images", "jars", "pypi", "rootfs")
"""The only cache folders an archive may write into (never clusters/, logs/ or above)."""

_HEX = frozenset("0123456789abcdef")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileEntry:
    """One file: where it goes, and what it must be."""

    path: str
    """Relative to the cache directory (or the archive member, for the Docker archive)."""
    size: int
    sha256: str
    mode: int
    """Permission bits (Go binaries must stay executable)."""


@dataclass(frozen=True)
class ImageEntry:
    """One Docker image as the builder's warm check finds it."""

    ref: str
    """name:tag, as the builder and the manifests ask for it."""
    id: str
    """Docker's image ID (sha256 of the image config), the same on every daemon."""
    recipe: str
    """The io.harness.recipe label the builder compares."""


@dataclass(frozen=True)
class Manifest:
    """What an archive holds, written first into it as JSON."""

    created: str
    debian_mirror: str
    """The mirror in the root filesystems' recipes: another mirror means other recipes."""
    docker: FileEntry
    images: tuple[ImageEntry, ...]
    files: tuple[FileEntry, ...]
    format: int = FORMAT

    def to_json(self) -> str:
        """The manifest as indented JSON."""
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str) -> Manifest:
        """Read and check a manifest; InvalidInput names the field that is wrong."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(source, MANIFEST_MEMBER, "JSON", str(exc)) from exc
        obj = _mapping(data, "manifest", source)
        version = _get(obj, "format", int, "manifest", source)
        if version != FORMAT:
            raise InvalidInput(
                source, "format", f"{FORMAT} (this harness's archive format)", version
            )
        docker = _file(_get(obj, "docker", dict, "manifest", source), "docker", source)
        if docker.path != DOCKER_MEMBER:
            raise InvalidInput(source, "docker.path", repr(DOCKER_MEMBER), docker.path)
        images = tuple(
            _image(item, f"images[{i}]", source)
            for i, item in enumerate(_get(obj, "images", list, "manifest", source))
        )
        files = tuple(
            _file(item, f"files[{i}]", source)
            for i, item in enumerate(_get(obj, "files", list, "manifest", source))
        )
        for i, entry in enumerate(files):
            check_cache_path(entry.path, f"files[{i}].path", source)
        _unique([e.ref for e in images], "images", source)
        _unique([e.path for e in files], "files", source)
        return cls(
            created=_get(obj, "created", str, "manifest", source),
            debian_mirror=_get(obj, "debian_mirror", str, "manifest", source),
            docker=docker,
            images=images,
            files=files,
        )

    def members(self) -> dict[str, FileEntry]:
        """Every data member of the archive by its name in the tar, in the archive's order."""
        out = {DOCKER_MEMBER: self.docker}
        out.update({CACHE_MEMBER_PREFIX + e.path: e for e in self.files})
        return out

    def total_bytes(self) -> int:
        """The uncompressed size of the archive's data."""
        return self.docker.size + sum(e.size for e in self.files)


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file's content."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_entry(path: Path, name: str) -> FileEntry:
    """The entry of a file on disk, under the name it gets in the manifest."""
    stat = path.stat()
    return FileEntry(name, stat.st_size, sha256_file(path), stat.st_mode & 0o777)


def check_cache_path(path: str, field: str, source: str) -> None:
    """Refuse a path that could leave the cache folders an archive may fill."""
    parts = PurePosixPath(path).parts
    if (
        path != str(PurePosixPath(path))
        or PurePosixPath(path).is_absolute()
        or len(parts) < 2
        or parts[0] not in CACHE_ROOTS
        or any(p in ("", ".", "..") or "\\" in p for p in parts)
    ):
        roots = ", ".join(f"{r}/" for r in CACHE_ROOTS)
        raise InvalidInput(source, field, f"a relative file path under one of {roots}", path)


def unit_of(path: str) -> str:
    """The unit installed at once: ``rootfs/x.tar`` itself, ``go/kind-v0.30.0`` for its files.

    A unit is swapped in whole, so a half-moved folder never passes a warm check.
    """
    return "/".join(PurePosixPath(path).parts[:2])


def units(files: Iterable[FileEntry]) -> dict[str, list[FileEntry]]:
    """Entries grouped by unit, units and their files sorted by path."""
    grouped: dict[str, list[FileEntry]] = {}
    for entry in sorted(files, key=lambda e: e.path):
        grouped.setdefault(unit_of(entry.path), []).append(entry)
    return dict(sorted(grouped.items()))


def check_file(entry: FileEntry, size: int, sha256: str, source: str) -> None:
    """Raise InvalidInput, naming the entry, unless size and digest are the manifest's."""
    if size != entry.size:
        raise InvalidInput(source, entry.path, f"{entry.size} bytes (the manifest's size)", size)
    if sha256 != entry.sha256:
        raise InvalidInput(source, entry.path, f"sha256 {entry.sha256} (the manifest's)", sha256)


def file_in_place(entry: FileEntry, root: Path) -> bool:
    """True when the file under ``root`` has the entry's size, digest and mode already."""
    path = root / entry.path
    if not path.is_file() or path.is_symlink():
        return False
    stat = path.stat()
    return (
        stat.st_size == entry.size
        and stat.st_mode & 0o777 == entry.mode
        and sha256_file(path) == entry.sha256
    )


def images_to_load(images: Iterable[ImageEntry], present: Mapping[str, str]) -> list[ImageEntry]:
    """The images a daemon lacks: ref absent, or tagged on another image ID (``present``
    maps ref to image ID)."""
    return [e for e in images if present.get(e.ref) != e.id]


def image_problems(
    images: Iterable[ImageEntry], present: Mapping[str, tuple[str, str]]
) -> list[str]:
    """What differs from the manifest after a load (``present`` maps ref to (image ID,
    recipe label)); empty when every image is there as saved."""
    problems = []
    for entry in images:
        found = present.get(entry.ref)
        if found is None:
            problems.append(f"{entry.ref} is absent (expected {entry.id})")
        elif found != (entry.id, entry.recipe):
            problems.append(
                f"{entry.ref} is {found[0]} with recipe {found[1]!r}"
                f" (expected {entry.id} with recipe {entry.recipe!r})"
            )
    return problems


def _mapping(value: object, where: str, source: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput(source, where, "an object", type(value).__name__)
    return value


def _get(obj: Mapping[str, Any], key: str, kind: type, where: str, source: str) -> Any:
    value = obj.get(key)
    # bool is an int to Python, never a size or a mode to us
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidInput(source, f"{where}.{key}", kind.__name__, value)
    return value


def _file(value: object, where: str, source: str) -> FileEntry:
    obj = _mapping(value, where, source)
    entry = FileEntry(
        path=_get(obj, "path", str, where, source),
        size=_get(obj, "size", int, where, source),
        sha256=_get(obj, "sha256", str, where, source),
        mode=_get(obj, "mode", int, where, source),
    )
    if entry.size < 0:
        raise InvalidInput(source, f"{where}.size", "a size >= 0", entry.size)
    if len(entry.sha256) != 64 or not set(entry.sha256) <= _HEX:
        raise InvalidInput(source, f"{where}.sha256", "64 lowercase hex digits", entry.sha256)
    if not 0 <= entry.mode <= 0o777:
        raise InvalidInput(source, f"{where}.mode", "permission bits (0..0o777)", entry.mode)
    return entry


def _image(value: object, where: str, source: str) -> ImageEntry:
    obj = _mapping(value, where, source)
    entry = ImageEntry(
        ref=_get(obj, "ref", str, where, source),
        id=_get(obj, "id", str, where, source),
        recipe=_get(obj, "recipe", str, where, source),
    )
    if ":" not in entry.ref.rsplit("/", 1)[-1]:
        raise InvalidInput(source, f"{where}.ref", "name:tag", entry.ref)
    digest = entry.id.removeprefix("sha256:")
    if not entry.id.startswith("sha256:") or len(digest) != 64 or not set(digest) <= _HEX:
        raise InvalidInput(source, f"{where}.id", "sha256:<64 hex digits>", entry.id)
    if not entry.recipe:
        raise InvalidInput(source, f"{where}.recipe", "the image's recipe label", entry.recipe)
    return entry


def _unique(values: list[str], where: str, source: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise InvalidInput(source, where, "each entry once", f"{value} twice")
        seen.add(value)
