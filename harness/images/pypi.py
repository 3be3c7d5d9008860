"""Source distributions fetched by pip, so the index is the one the machine configures.

pyspark publishes only an sdist; it carries the whole Spark distribution (jars, bin/,
the Python package), which is what our Spark images are built from. pip reads its index
from pip.conf or PIP_INDEX_URL and checks the sha256 the index publishes for the file.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from harness.errors import StepFailed
from harness.settings import cache_dir
from harness.steps import run_logged

__all__ = ["fetch_sdist", "pip_download_command"]


def pip_download_command(project: str, version: str, dest: Path) -> list[str]:
    """``pip download`` of exactly the sdist of ``project==version`` into ``dest``."""
    return [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        # Only this project from source: build isolation still installs setuptools as wheels.
        "--no-binary",
        project,
        # Our cache keeps the file; a second copy in pip's would be dead weight.
        "--no-cache-dir",
        "--progress-bar",
        "off",
        "--dest",
        str(dest),
        f"{project}=={version}",
    ]


def fetch_sdist(project: str, version: str, log_dir: Path) -> Path:
    """Download <project>-<version>.tar.gz once through pip; return its path in the cache."""
    out_dir = cache_dir() / "pypi"
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{project}-{version}.tar.gz"
    if target.exists():
        return target
    work = out_dir / f"{project}-{version}.download"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    command = pip_download_command(project, version, work)
    run_logged(f"pip download {project}=={version}", command, log_dir / f"pip-{project}.log")
    # Index file names are normalised (PEP 625), so take what pip saved, not a guessed name.
    saved = sorted(work.glob("*.tar.gz"))
    if len(saved) != 1:
        found = ", ".join(p.name for p in work.iterdir()) or "nothing"
        raise StepFailed(f"find the {project} {version} sdist", command, 1, f"pip saved {found}")
    saved[0].rename(target)
    shutil.rmtree(work, ignore_errors=True)
    return target
