"""History across runs: one JSON line per run in ``history.jsonl`` beside the run folders.

The file lives in the report directory (``reports/history.jsonl``) unless
``--history PATH`` or ``$HARNESS_REPORT_HISTORY`` names another place (a CI cache or a
downloaded artifact). Each line is a run's summary: its verdicts, MTTRs and bounds per
mechanism and control, so the report of run N can draw the last runs without their
folders.

Regression: a mechanism's MTTR is flagged when it exceeds the median of its previous
runs (at least ``MIN_BASELINE`` of them) by more than
``max(REL_THRESHOLD * median, ABS_THRESHOLD, MAD_FACTOR * 1.4826 * MAD)``. The constants
come from the lab's measured run-to-run spread (docs/report.md#regressions).
"""

from __future__ import annotations

import json
import os
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.mechanisms.registry import MECHANISMS
from harness.report.matrix import NOT_RUN, matrix
from harness.report.score import score

__all__ = [
    "ABS_THRESHOLD",
    "DEFAULT_LAST",
    "HISTORY_ENV",
    "HISTORY_FILE",
    "MAD_FACTOR",
    "MIN_BASELINE",
    "REL_THRESHOLD",
    "Change",
    "Comparison",
    "Trend",
    "compare",
    "entry",
    "history_path",
    "load_history",
    "record",
    "regression",
    "trends",
]

HISTORY_FILE = "history.jsonl"
HISTORY_ENV = "HARNESS_REPORT_HISTORY"
DEFAULT_LAST = 10
"""Runs the report embeds: two weeks of nightlies minus weekends."""
KEPT = 400
"""Runs the file keeps; older lines are dropped on write."""
REL_THRESHOLD = 0.35
"""Largest relative spread measured on the same code: +21 % (driver_restart), with margin."""
ABS_THRESHOLD = 20.0
"""Largest absolute spread of a short mechanism: executor_replacement 5.7-31.2 s."""
MAD_FACTOR = 3.0
"""Three robust standard deviations once a mechanism's own history is noisier still."""
MIN_BASELINE = 2
"""Previous MTTRs needed before a rise can be called a regression."""


def history_path(report_dir: Path, override: str | None = None) -> Path:
    """The history file: the override, else $HARNESS_REPORT_HISTORY, else beside the runs."""
    chosen = override or os.environ.get(HISTORY_ENV)
    return Path(chosen) if chosen else report_dir / HISTORY_FILE


def entry(data: dict[str, Any]) -> dict[str, Any]:
    """One run's line: id, start, commit, duration, score, and per mechanism its cells."""
    rows = matrix(data)
    mechanisms: dict[str, Any] = {}
    for row in rows:
        if row.run.status == NOT_RUN and row.control.status == NOT_RUN:
            continue
        mechanisms[row.mechanism.id] = {
            "run": row.run.status,
            "control": row.control.status,
            "mttr": row.run.mttr,
            "bound": row.run.bound,
        }
    git = (data.get("provenance") or {}).get("git") or {}
    return {
        "run_id": data["run_id"],
        "started": data.get("started"),
        "commit": git.get("commit"),
        "seconds": data.get("seconds"),
        "score": score(rows).value,
        "mechanisms": mechanisms,
    }


def load_history(path: Path) -> list[dict[str, Any]]:
    """Every run of the file, oldest first; unreadable lines are skipped."""
    if not path.is_file():
        return []
    runs: dict[str, dict[str, Any]] = {}
    for line in path.read_text().splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict) and isinstance(item.get("run_id"), str):
            runs[item["run_id"]] = item
    return [runs[k] for k in sorted(runs)]


def record(path: Path, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Add (or replace) this run's line; return the history, oldest first."""
    runs = {r["run_id"]: r for r in load_history(path)}
    new = entry(data)
    runs[new["run_id"]] = new
    kept = [runs[k] for k in sorted(runs)][-KEPT:]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in kept))
    tmp.replace(path)
    return kept


def regression(current: float | None, previous: list[float]) -> str | None:
    """Why current is a regression over previous MTTRs, or None (see the module docstring)."""
    if current is None or len(previous) < MIN_BASELINE:
        return None
    median = statistics.median(previous)
    mad = statistics.median(abs(v - median) for v in previous)
    allowed = max(REL_THRESHOLD * median, ABS_THRESHOLD, MAD_FACTOR * 1.4826 * mad)
    if current - median <= allowed:
        return None
    return (
        f"MTTR {current:g} s is {current - median:.1f} s over the median {median:g} s of the"
        f" {len(previous)} previous runs (allowed {allowed:.1f} s)"
    )


@dataclass
class Trend:
    """One mechanism over the last runs, oldest first (None where it did not run)."""

    mechanism: str
    run_ids: list[str] = field(default_factory=list)
    mttrs: list[float | None] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    controls: list[str] = field(default_factory=list)
    regression: str | None = None

    @property
    def flaky(self) -> list[str]:
        """'mechanism' and/or 'control' when each both passed and failed in the window."""
        found = []
        for name, statuses in (("mechanism", self.runs), ("control", self.controls)):
            if "passed" in statuses and "failed" in statuses:
                found.append(name)
        return found


def trends(
    history: list[dict[str, Any]], run_id: str, last: int = DEFAULT_LAST
) -> dict[str, Trend]:
    """Per catalog mechanism, the last runs up to and including run_id."""
    upto = [h for h in history if h["run_id"] <= run_id][-last:]
    result: dict[str, Trend] = {}
    for mid in MECHANISMS:
        t = Trend(mid)
        for h in upto:
            cell = h.get("mechanisms", {}).get(mid)
            t.run_ids.append(h["run_id"])
            t.mttrs.append(None if cell is None else cell.get("mttr"))
            t.runs.append(NOT_RUN if cell is None else cell.get("run", NOT_RUN))
            t.controls.append(NOT_RUN if cell is None else cell.get("control", NOT_RUN))
        if upto and upto[-1]["run_id"] == run_id:
            previous = [
                m
                for m, s in zip(t.mttrs[:-1], t.runs[:-1], strict=True)
                if m is not None and s == "passed"
            ]
            t.regression = regression(t.mttrs[-1], previous)
        result[mid] = t
    return result


@dataclass(frozen=True)
class Change:
    """One mechanism between two runs."""

    mechanism: str
    part: str
    """'mechanism' or 'control'."""
    before: str
    after: str
    mttr_before: float | None = None
    mttr_after: float | None = None

    @property
    def delta(self) -> float | None:
        """MTTR after - before."""
        if self.mttr_before is None or self.mttr_after is None:
            return None
        return round(self.mttr_after - self.mttr_before, 2)


@dataclass(frozen=True)
class Comparison:
    """Run B against run A: what changed."""

    before: str
    after: str
    changes: list[Change]

    @property
    def verdicts_changed(self) -> list[Change]:
        """Cells whose status differs."""
        return [c for c in self.changes if c.before != c.after]


def compare(before: dict[str, Any], after: dict[str, Any]) -> Comparison:
    """Every mechanism and control that ran in either (history lines or entry())."""
    changes = []
    for mid in MECHANISMS:
        a = before.get("mechanisms", {}).get(mid)
        b = after.get("mechanisms", {}).get(mid)
        if a is None and b is None:
            continue
        a, b = a or {}, b or {}
        changes.append(
            Change(
                mid,
                "mechanism",
                a.get("run", NOT_RUN),
                b.get("run", NOT_RUN),
                a.get("mttr"),
                b.get("mttr"),
            )
        )
        changes.append(Change(mid, "control", a.get("control", NOT_RUN), b.get("control", NOT_RUN)))
    return Comparison(before["run_id"], after["run_id"], changes)
