"""The image archive's manifest: built from files, read back, checked; and a load that
verifies everything before it moves anything (Docker replaced by stand-ins)."""

import hashlib
import json
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from harness.errors import InvalidInput
from harness.images import archive
from harness.images.archive_manifest import (
    DOCKER_MEMBER,
    FileEntry,
    ImageEntry,
    Manifest,
    check_cache_path,
    check_file,
    file_entry,
    file_in_place,
    image_problems,
    images_to_load,
    unit_of,
    units,
)
from harness.settings import LabSettings

ID_A = "sha256:" + "a" * 64
ID_B = "sha256:" + "b" * 64
KIND_BIN = "go/kind-v0.30.0/bin/kind"


def _entry(path: str, data: bytes = b"x", mode: int = 0o644) -> FileEntry:
    return FileEntry(path, len(data), hashlib.sha256(data).hexdigest(), mode)


def _manifest(**changes) -> Manifest:
    made = Manifest(
        created="2026-12-03T06:00:00Z",
        debian_mirror="http://mirror.example/debian",
        docker=_entry(DOCKER_MEMBER, b"docker"),
        images=(ImageEntry("harness.local/toolbox:bookworm-1", ID_A, "recipe-a"),),
        files=(_entry("go/kind-v0.30.0/.recipe"), _entry(KIND_BIN, b"elf", 0o755)),
    )
    return replace(made, **changes)


def _json_with(**changes) -> str:
    data = json.loads(_manifest().to_json())
    data.update(changes)
    return json.dumps(data)


def test_manifest_reads_back_what_was_written():
    manifest = _manifest()
    assert Manifest.from_json(manifest.to_json(), "a.tar") == manifest


def test_manifest_members_are_the_docker_archive_then_cache_files():
    members = list(_manifest().members())
    assert members == [DOCKER_MEMBER, "cache/go/kind-v0.30.0/.recipe", "cache/" + KIND_BIN]


def test_manifest_of_another_format_is_refused():
    with pytest.raises(InvalidInput, match="format"):
        Manifest.from_json(_json_with(format=2), "a.tar")


def test_manifest_that_is_not_json_names_the_member():
    with pytest.raises(InvalidInput, match=re.escape("manifest.json")):
        Manifest.from_json("{", "a.tar")


@pytest.mark.parametrize(
    ("field", "value", "complaint"),
    [
        ("sha256", "not-hex", "64 lowercase hex digits"),
        ("size", -1, "a size >= 0"),
        ("size", True, "int"),
        ("mode", 0o4755, "permission bits"),
    ],
)
def test_bad_file_fields_are_named(field, value, complaint):
    data = json.loads(_manifest().to_json())
    data["files"][1][field] = value
    with pytest.raises(InvalidInput, match=complaint) as raised:
        Manifest.from_json(json.dumps(data), "a.tar")
    assert f"files[1].{field}" in str(raised.value)


def test_bad_image_id_is_named():
    data = json.loads(_manifest().to_json())
    data["images"][0]["id"] = "a" * 64
    with pytest.raises(InvalidInput, match=r"images\[0\]\.id"):
        Manifest.from_json(json.dumps(data), "a.tar")


def test_a_file_listed_twice_is_refused():
    data = json.loads(_manifest().to_json())
    data["files"].append(data["files"][0])
    with pytest.raises(InvalidInput, match="twice"):
        Manifest.from_json(json.dumps(data), "a.tar")


@pytest.mark.parametrize(
    "path",
    [
        "../outside",
        "/etc/passwd",
        "go/../../etc/passwd",
        "clusters/spark-chaos/kubeconfig",
        "go",
        "go//kind",
        "go/./kind",
    ],
)
def test_paths_outside_the_cache_folders_are_refused(path):
    with pytest.raises(InvalidInput, match="relative file path"):
        check_cache_path(path, "files[0].path", "a.tar")


def test_cache_paths_under_the_known_folders_pass():
    for path in (KIND_BIN, "rootfs/node-bookworm-1.tar", "crds/vpa-v1.7.1-x/a.yaml"):
        check_cache_path(path, "files[0].path", "a.tar")


def test_a_file_of_another_size_or_digest_is_named_with_what_was_expected():
    entry = _entry(KIND_BIN, b"elf")
    check_file(entry, 3, entry.sha256, "a.tar")
    with pytest.raises(InvalidInput, match="3 bytes") as raised:
        check_file(entry, 2, entry.sha256, "a.tar")
    assert KIND_BIN in str(raised.value)
    with pytest.raises(InvalidInput, match=f"sha256 {entry.sha256}"):
        check_file(entry, 3, "0" * 64, "a.tar")


def test_units_are_single_files_or_the_first_folder_below_the_root():
    assert unit_of(KIND_BIN) == "go/kind-v0.30.0"
    assert unit_of("rootfs/node-bookworm-1.tar") == "rootfs/node-bookworm-1.tar"
    grouped = units([_entry(KIND_BIN), _entry("rootfs/a.tar"), _entry("go/kind-v0.30.0/.recipe")])
    assert list(grouped) == ["go/kind-v0.30.0", "rootfs/a.tar"]
    assert [e.path for e in grouped["go/kind-v0.30.0"]] == ["go/kind-v0.30.0/.recipe", KIND_BIN]


def test_file_in_place_needs_the_same_content_and_mode(tmp_path):
    path = tmp_path / KIND_BIN
    path.parent.mkdir(parents=True)
    path.write_bytes(b"elf")
    path.chmod(0o755)
    entry = file_entry(path, KIND_BIN)
    assert entry == _entry(KIND_BIN, b"elf", 0o755)
    assert file_in_place(entry, tmp_path)
    path.chmod(0o644)
    assert not file_in_place(entry, tmp_path)
    path.chmod(0o755)
    path.write_bytes(b"elg")
    assert not file_in_place(entry, tmp_path)
    path.unlink()
    assert not file_in_place(entry, tmp_path)


def test_images_to_load_are_the_absent_and_the_differently_tagged():
    same = ImageEntry("a:1", ID_A, "r")
    other = ImageEntry("b:1", ID_A, "r")
    absent = ImageEntry("c:1", ID_A, "r")
    present = {"a:1": ID_A, "b:1": ID_B}
    assert images_to_load([same, other, absent], present) == [other, absent]


def test_image_problems_after_a_load_say_what_was_expected():
    entry = ImageEntry("a:1", ID_A, "r1")
    assert image_problems([entry], {"a:1": (ID_A, "r1")}) == []
    assert image_problems([entry], {}) == [f"a:1 is absent (expected {ID_A})"]
    (problem,) = image_problems([entry], {"a:1": (ID_B, "r2")})
    assert ID_B in problem
    assert f"expected {ID_A} with recipe 'r1'" in problem


# A load end to end, on a cache in tmp_path, with the daemon already holding the image.


@pytest.fixture
def saved(tmp_path, monkeypatch):
    """An archive of two cache units, written by the archive's own writer."""
    source = tmp_path / "source"
    files = {KIND_BIN: b"\x7fELF kind", "go/kind-v0.30.0/.recipe": b"abc", "rootfs/x.tar": b"t"}
    for name, data in files.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(data)
    (source / KIND_BIN).chmod(0o755)
    docker_tar = tmp_path / "images.tar"
    docker_tar.write_bytes(b"docker save output")
    manifest = _manifest(
        docker=file_entry(docker_tar, DOCKER_MEMBER),
        files=tuple(file_entry(source / n, n) for n in sorted(files)),
    )
    path = tmp_path / "images.tar.zst"
    compression = "zstd" if shutil.which("zstd") else "none"
    archive._write(path, manifest, docker_tar, source, compression)
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(archive, "_local_images", lambda: {e.ref: e.id for e in manifest.images})

    def no_docker(*args, **kwargs):
        raise AssertionError("the image is in place: docker load must not run")

    monkeypatch.setattr(archive, "_docker_load", no_docker)
    return path, manifest


def _cache_files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "build.lock"
    }


def test_load_installs_every_file_then_finds_it_in_place(saved, tmp_path):
    path, manifest = saved
    loaded = archive.load_archive(path, LabSettings(debian_mirror=manifest.debian_mirror))
    assert (loaded.images_loaded, loaded.units_installed) == (0, 2)
    cache = tmp_path / "cache"
    assert _cache_files(cache) == _cache_files(tmp_path / "source")
    assert (cache / KIND_BIN).stat().st_mode & 0o777 == 0o755
    assert not list(cache.glob(".load-*"))
    again = archive.load_archive(path, LabSettings(debian_mirror=manifest.debian_mirror))
    assert (again.images_loaded, again.units_installed) == (0, 0)


def _plain_tar(path: Path) -> bytearray:
    data = path.read_bytes()
    if data[:4] == b"\x28\xb5\x2f\xfd":
        data = subprocess.run(["zstd", "-dc", str(path)], capture_output=True, check=True).stdout
    return bytearray(data)


def test_a_corrupt_archive_names_the_entry_and_changes_nothing(saved, tmp_path):
    path, manifest = saved
    plain = tmp_path / "plain.tar"
    tar = _plain_tar(path)
    at = tar.index(b"\x7fELF kind")
    tar[at + 5 : at + 9] = b"KIND"  # same size, other bytes
    plain.write_bytes(bytes(tar))
    with pytest.raises(InvalidInput, match=re.escape(KIND_BIN)) as raised:
        archive.load_archive(plain, LabSettings(debian_mirror=manifest.debian_mirror))
    assert "sha256" in str(raised.value)
    assert _cache_files(tmp_path / "cache") == {}


def test_a_truncated_archive_changes_nothing(saved, tmp_path):
    path, manifest = saved
    cut = tmp_path / "cut.tar.zst"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
    with pytest.raises(InvalidInput):
        archive.load_archive(cut, LabSettings(debian_mirror=manifest.debian_mirror))
    assert _cache_files(tmp_path / "cache") == {}


def test_something_that_is_not_an_archive_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    junk = tmp_path / "junk"
    junk.write_bytes(b"hello" * 200)
    with pytest.raises(InvalidInput, match="tar archive"):
        archive.load_archive(junk, LabSettings())


def test_a_unit_that_differs_is_swapped_whole_and_one_in_place_is_kept(saved, tmp_path):
    path, manifest = saved
    cache = tmp_path / "cache"
    stale = cache / KIND_BIN
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"an older kind")
    (cache / "go" / "kind-v0.30.0" / "go.mod").write_text("module old\n")
    (cache / "rootfs").mkdir()
    (cache / "rootfs" / "x.tar").write_bytes(b"t")
    loaded = archive.load_archive(path, LabSettings(debian_mirror=manifest.debian_mirror))
    assert loaded.units_installed == 1
    assert stale.read_bytes() == b"\x7fELF kind"
    # the folder was replaced whole: no half-old unit is left behind
    assert not (cache / "go" / "kind-v0.30.0" / "go.mod").exists()


def test_an_archive_cut_inside_a_file_names_that_file(saved, tmp_path):
    path, manifest = saved
    tar = _plain_tar(path)
    cut = tmp_path / "cut.tar"
    cut.write_bytes(bytes(tar[: tar.index(b"\x7fELF kind") + 3]))
    with pytest.raises(InvalidInput, match=re.escape(KIND_BIN)) as raised:
        archive.load_archive(cut, LabSettings(debian_mirror=manifest.debian_mirror))
    assert "truncated" in str(raised.value)
    assert _cache_files(tmp_path / "cache") == {}
