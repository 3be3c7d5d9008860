"""Headless Chromium for the report's browser test and screenshots: Debian's ``chromium``
package, installed with apt when missing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from harness.host.apt import install_missing

__all__ = ["CHROMIUM_ENV", "CHROMIUM_PACKAGE", "chromium_path", "ensure_chromium"]

CHROMIUM_PACKAGE = "chromium"
DEFAULT_PATH = Path("/usr/bin/chromium")
CHROMIUM_ENV = "HARNESS_CHROMIUM"
"""Names another Chromium (or Chrome) executable."""


def chromium_path() -> Path | None:
    """The Chromium to use: $HARNESS_CHROMIUM, /usr/bin/chromium, or one on PATH."""
    configured = os.environ.get(CHROMIUM_ENV)
    if configured:
        return Path(configured) if Path(configured).exists() else None
    if DEFAULT_PATH.exists():
        return DEFAULT_PATH
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def ensure_chromium() -> Path:
    """Chromium's path, installing Debian's package first when there is none."""
    found = chromium_path()
    if found is not None:
        return found
    install_missing({CHROMIUM_PACKAGE: str(DEFAULT_PATH)}, "the report's browser check")
    return DEFAULT_PATH
