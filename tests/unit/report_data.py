"""Paths and loaders of the recorded report fixtures (tests/unit/data/report)."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

from harness.report.schema import load_results

DATA = Path(__file__).resolve().parent / "data" / "report"
RUN_ID = "20261203-020000"
RUN_DIR = DATA / f"run-{RUN_ID}"
HISTORY = DATA / "history.jsonl"


def recorded() -> dict[str, Any]:
    """The recorded run's results.json, validated."""
    return copy.deepcopy(load_results(RUN_DIR))


def reports_dir(tmp: Path) -> Path:
    """A reports/ folder holding the recorded history (the run is written by the test)."""
    out = tmp / "reports"
    out.mkdir()
    shutil.copy(HISTORY, out / "history.jsonl")
    return out
