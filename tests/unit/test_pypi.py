"""Sdists come through pip, so the index is the one pip.conf or PIP_INDEX_URL names."""

import sys
from pathlib import Path

import pytest

from harness.errors import StepFailed
from harness.images import pypi


def test_pip_downloads_exactly_one_sdist_from_its_configured_index(tmp_path):
    command = pypi.pip_download_command("pyspark", "4.2.0", tmp_path)
    assert command[:4] == [sys.executable, "-m", "pip", "download"]
    assert command[-1] == "pyspark==4.2.0"
    assert "--no-deps" in command
    assert command[command.index("--no-binary") + 1] == "pyspark"
    assert command[command.index("--dest") + 1] == str(tmp_path)
    assert not [part for part in command if "index-url" in part or "://" in part]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def fake_pip(saved_name: str | None, calls: list[list[str]]):
    def run_logged(step: str, command: list[str], log: Path) -> None:
        calls.append(command)
        if saved_name:
            dest = Path(command[command.index("--dest") + 1])
            (dest / saved_name).write_bytes(b"sdist")

    return run_logged


def test_the_sdist_lands_in_the_cache_under_its_usual_name(cache, tmp_path, monkeypatch):
    calls: list[list[str]] = []
    monkeypatch.setattr(pypi, "run_logged", fake_pip("pyspark-4.2.0.tar.gz", calls))
    path = pypi.fetch_sdist("pyspark", "4.2.0", tmp_path / "logs")
    assert path == cache / "pypi" / "pyspark-4.2.0.tar.gz"
    assert path.read_bytes() == b"sdist"
    assert len(calls) == 1
    assert [p.name for p in (cache / "pypi").iterdir()] == ["pyspark-4.2.0.tar.gz"]


def test_a_normalised_index_file_name_keeps_the_cache_name(cache, tmp_path, monkeypatch):
    calls: list[list[str]] = []
    monkeypatch.setattr(pypi, "run_logged", fake_pip("some_project-1.0.tar.gz", calls))
    path = pypi.fetch_sdist("some-project", "1.0", tmp_path / "logs")
    assert path.name == "some-project-1.0.tar.gz"


def test_a_cached_sdist_needs_no_pip(cache, tmp_path, monkeypatch):
    (cache / "pypi").mkdir(parents=True)
    (cache / "pypi" / "pyspark-4.2.0.tar.gz").write_bytes(b"cached")
    calls: list[list[str]] = []
    monkeypatch.setattr(pypi, "run_logged", fake_pip("pyspark-4.2.0.tar.gz", calls))
    assert pypi.fetch_sdist("pyspark", "4.2.0", tmp_path / "logs").read_bytes() == b"cached"
    assert calls == []


def test_pip_saving_no_sdist_is_a_step_failure(cache, tmp_path, monkeypatch):
    monkeypatch.setattr(pypi, "run_logged", fake_pip(None, []))
    with pytest.raises(StepFailed, match="pip saved nothing"):
        pypi.fetch_sdist("pyspark", "4.2.0", tmp_path / "logs")
    assert not (cache / "pypi" / "pyspark-4.2.0.tar.gz").exists()
