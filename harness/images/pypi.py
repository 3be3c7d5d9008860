"""Source distributions from PyPI, fetched through the simple index and checked by hash.

pyspark publishes only an sdist; it carries the whole Spark distribution (jars, bin/,
the Python package), which is what our Spark images are built from.
"""

from __future__ import annotations

import hashlib
import json
import urllib.request
from pathlib import Path

from harness.errors import StepFailed
from harness.settings import cache_dir

__all__ = ["fetch_sdist"]

INDEX = "https://pypi.org/simple"


def fetch_sdist(project: str, version: str) -> Path:
    """Download <project>-<version>.tar.gz once, verifying PyPI's sha256; return its path."""
    out_dir = cache_dir() / "pypi"
    out_dir.mkdir(parents=True, exist_ok=True)
    filename = f"{project}-{version}.tar.gz"
    target = out_dir / filename
    if target.exists():
        return target
    request = urllib.request.Request(
        f"{INDEX}/{project}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        files = json.load(response)["files"]
    entry = next((f for f in files if f["filename"] == filename), None)
    if entry is None:
        raise StepFailed(
            f"find {filename} on PyPI", ["GET", f"{INDEX}/{project}/"], 1, "not listed"
        )
    partial = target.with_suffix(".partial")
    digest = hashlib.sha256()
    with urllib.request.urlopen(entry["url"], timeout=600) as response, partial.open("wb") as out:
        while chunk := response.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != entry["hashes"]["sha256"]:
        partial.unlink()
        raise StepFailed(
            f"verify {filename}",
            ["GET", entry["url"]],
            1,
            f"sha256 {digest.hexdigest()} != {entry['hashes']['sha256']}",
        )
    partial.rename(target)
    return target
