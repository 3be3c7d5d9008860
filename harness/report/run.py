"""One run's report in reports/<run-id>/: results.json, report.html, junit.xml, and the
run's line in the history (reports/history.jsonl unless told otherwise).

results.json is the complete record (every test, every mechanism outcome with its
timeline, queries, evidence and reconciliation), validated against its schema before it
is written; report.html and junit.xml are rendered from it, so ``harness report``
rebuilds them from the JSON alone. Everything written is redacted first
(harness.report.redact).
"""

from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.report.history import DEFAULT_LAST, entry, load_history, record
from harness.report.junit import render_junit
from harness.report.matrix import matrix_test
from harness.report.redact import Redactor
from harness.report.render import render_html
from harness.report.schema import SCHEMA_VERSION, validate

__all__ = ["RunReport", "TestRecord", "rebuild", "write_report"]


@dataclass
class TestRecord:
    """One test: its id, verdict, duration and, for mechanisms, the outcome's JSON."""

    nodeid: str
    outcome: str
    """passed, failed, error or skipped."""
    seconds: float
    message: str = ""
    mechanism: dict[str, Any] | None = None
    setup_seconds: float = 0.0
    """Fixture setup before the test (cluster and pipeline bring-up fall on the first)."""
    teardown_seconds: float = 0.0
    """Fixture teardown after it: rollbacks and the invariant check."""
    property: dict[str, Any] | None = None
    """A property-based search's JSON (harness.property.session), when the test ran one."""


@dataclass
class RunReport:
    """Everything written at the end of a run."""

    run_id: str
    directory: Path
    started: float = field(default_factory=time.time)
    tests: list[TestRecord] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    implemented: list[str] | None = None
    """The mechanisms the run's code implements (the matrix tells not run from missing)."""

    @property
    def ran_mechanism(self) -> bool:
        """Whether a mechanism or control ran (a report is written only then, by default)."""
        return any(t.mechanism is not None or matrix_test(t.nodeid) for t in self.tests)

    def as_json(self) -> dict[str, Any]:
        """The complete record."""
        counts: dict[str, int] = {}
        for t in self.tests:
            counts[t.outcome] = counts.get(t.outcome, 0) + 1
        seconds = round(time.time() - self.started, 1)
        data: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "run_id": self.run_id,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "seconds": seconds,
            "host": platform.node(),
            "environment": self.environment,
            "provenance": {**self.provenance, "duration_seconds": seconds},
            "counts": counts,
            "tests": [
                {
                    "nodeid": t.nodeid,
                    "outcome": t.outcome,
                    "seconds": round(t.seconds, 2),
                    "setup_seconds": round(t.setup_seconds, 2),
                    "teardown_seconds": round(t.teardown_seconds, 2),
                    "message": t.message,
                    "mechanism": t.mechanism,
                    **({"property": t.property} if t.property is not None else {}),
                }
                for t in self.tests
            ],
        }
        if self.implemented is not None:
            data["implemented"] = self.implemented
        return data

    def write(
        self,
        history: Path | None = None,
        redactor: Redactor | None = None,
        last: int = DEFAULT_LAST,
    ) -> Path:
        """Write results.json, report.html and junit.xml; record the run in the history."""
        return write_report(self.as_json(), self.directory, history, redactor, last)


def write_report(
    data: dict[str, Any],
    directory: Path,
    history: Path | None = None,
    redactor: Redactor | None = None,
    last: int = DEFAULT_LAST,
) -> Path:
    """Redact, validate, write the three files, add the run to the history; the directory."""
    clean: dict[str, Any] = (redactor or Redactor()).value(data)
    validate(clean, str(directory / "results.json"))
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "results.json").write_text(json.dumps(clean, indent=2) + "\n")
    runs = record(history, clean) if history is not None else []
    (directory / "report.html").write_text(render_html(clean, runs, last))
    (directory / "junit.xml").write_text(render_junit(clean))
    return directory


def rebuild(directory: Path, history: Path | None, last: int = DEFAULT_LAST) -> Path:
    """report.html and junit.xml again from results.json (and the history, unchanged)."""
    from harness.report.schema import load_results

    data = load_results(directory)
    runs = load_history(history) if history is not None else []
    if all(r["run_id"] != data["run_id"] for r in runs):  # a run kept outside the history
        runs = sorted([*runs, entry(data)], key=lambda r: str(r["run_id"]))
    target = directory if directory.is_dir() else directory.parent
    (target / "report.html").write_text(render_html(data, runs, last))
    (target / "junit.xml").write_text(render_junit(data))
    return target / "report.html"
