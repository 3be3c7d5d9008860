"""Debian packages the harness needs on the host, installed with apt from the machine's
configured sources (never another index), and only when missing."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from harness.errors import ClusterUnavailable
from harness.progress import phase
from harness.steps import run

__all__ = ["install_missing", "missing_packages"]

_ENV = {"DEBIAN_FRONTEND": "noninteractive"}


def missing_packages(wanted: Mapping[str, str]) -> list[str]:
    """Packages (name → the executable that proves it) whose executable is not found."""
    return [package for package, exe in wanted.items() if not _exists(exe)]


def _exists(exe: str) -> bool:
    if Path(exe).is_absolute():
        return Path(exe).exists()
    return shutil.which(exe) is not None or Path(f"/usr/sbin/{exe}").exists()


def install_missing(wanted: Mapping[str, str], why: str) -> list[str]:
    """apt-get install the missing packages of ``wanted``; what was installed, in words.

    ClusterUnavailable when one is missing and this process is not root (the host cannot
    be prepared here); StepFailed when apt fails.
    """
    needed = missing_packages(wanted)
    if not needed:
        return []
    if os.geteuid() != 0:
        raise ClusterUnavailable(
            f"{why} needs {', '.join(needed)}, and installing them needs root:"
            f" run `harness host setup` as root, or apt-get install {' '.join(needed)}"
        )
    with phase(f"apt-get install {' '.join(needed)}"):
        run("apt-get update", ["apt-get", "update"], env=_ENV, timeout=600)
        run(
            "apt-get install",
            ["apt-get", "install", "-y", "--no-install-recommends", *needed],
            env=_ENV,
            timeout=1800,
        )
    return [f"installed {p}" for p in needed]
