"""One run's report in reports/<run-id>/: results.json, report.html, junit.xml beside them.

results.json is the complete record (every test, every mechanism outcome with its
timeline, evidence and reconciliation); the HTML is rendered from it, so a richer report
can later be rebuilt from the JSON alone.
"""

from __future__ import annotations

import html
import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["RunReport", "TestRecord", "render_html"]


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


@dataclass
class RunReport:
    """Everything written at the end of a run."""

    run_id: str
    directory: Path
    started: float = field(default_factory=time.time)
    tests: list[TestRecord] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The complete record."""
        counts: dict[str, int] = {}
        for t in self.tests:
            counts[t.outcome] = counts.get(t.outcome, 0) + 1
        return {
            "run_id": self.run_id,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "seconds": round(time.time() - self.started, 1),
            "host": platform.node(),
            "environment": self.environment,
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
                }
                for t in self.tests
            ],
        }

    def write(self) -> Path:
        """Write results.json and report.html; return the directory."""
        self.directory.mkdir(parents=True, exist_ok=True)
        data = self.as_json()
        (self.directory / "results.json").write_text(json.dumps(data, indent=2) + "\n")
        (self.directory / "report.html").write_text(render_html(data))
        return self.directory


def render_html(data: dict[str, Any]) -> str:
    """A plain, self-contained HTML page from results.json's data."""
    e = html.escape
    rows = []
    for t in data["tests"]:
        m = t.get("mechanism") or {}
        mttr = m.get("mttr_seconds")
        bound = m.get("bound_seconds")
        rec = m.get("reconciliation") or {}
        recon = (
            f"sent {rec['sent']}, received {rec['received']}, missing {rec['missing']}, "
            f"duplicated {rec['duplicated']}, unexpected {rec['unexpected']}"
            + (
                f" (producer re-sends in the topic: {rec['source_duplicates']})"
                if rec.get("source_duplicates")
                else ""
            )
            if rec
            else ""
        )
        rows.append(
            "<tr class='{cls}'><td>{id}</td><td>{outcome}</td><td>{mech}</td>"
            "<td>{mttr}</td><td>{bound}</td><td>{recon}</td><td>{why}</td></tr>".format(
                cls=e(m.get("verdict") or t["outcome"]),
                id=e(t["nodeid"]),
                outcome=e(m.get("verdict") or t["outcome"]),
                mech=e(
                    m.get("mechanism", "")
                    + (" (negative control)" if m.get("negative_control") else "")
                ),
                mttr="" if mttr is None else f"{mttr:.1f} s",
                bound=e(m.get("bound_arithmetic", "")) if bound is not None else "",
                recon=e(recon),
                why=e(
                    m.get("inconclusive")
                    or "; ".join(m.get("failures", []))
                    or (m.get("expected_failure") or "" if m.get("control_evidence") else "")
                    or t.get("message", "")[:500]
                ),
            )
        )
    counts = ", ".join(f"{k} {v}" for k, v in sorted(data["counts"].items()))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Resilience report {e(data["run_id"])}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }}
tr.passed td:nth-child(2) {{ color: #060; }}
tr.failed td:nth-child(2), tr.error td:nth-child(2) {{ color: #a00; font-weight: bold; }}
tr.inconclusive td:nth-child(2) {{ color: #a60; font-weight: bold; }}
</style></head><body>
<h1>Resilience report {e(data["run_id"])}</h1>
<p>Started {e(data["started"])}, {data["seconds"]} s, on {e(data["host"])}: {e(counts)}.
Full data: <a href="results.json">results.json</a>; JUnit: <a href="junit.xml">junit.xml</a>.</p>
<table><thead><tr><th>test</th><th>verdict</th><th>mechanism</th><th>MTTR</th><th>bound</th>
<th>reconciliation</th><th>why it failed</th></tr></thead><tbody>
{"".join(rows)}
</tbody></table></body></html>
"""
