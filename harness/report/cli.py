"""``harness report``: rebuild a run's report from results.json (and the history) without a
cluster, compare two runs, or take a screenshot of a report in headless Chromium."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from harness.errors import InvalidInput
from harness.progress import note
from harness.report.history import DEFAULT_LAST, compare, entry, history_path
from harness.report.run import rebuild
from harness.report.schema import load_results
from harness.settings import PROJECT_ROOT

__all__ = ["add_report_parser", "compare_text", "report_command"]

REPORTS = PROJECT_ROOT / "reports"


def _run_dir(given: str | None) -> Path:
    """A run directory (or results.json); default: the newest run under reports/."""
    if given:
        path = Path(given)
        if not path.exists() and (REPORTS / given).exists():
            path = REPORTS / given
        if not path.exists():
            raise InvalidInput("harness report", "run", "a run directory or results.json", given)
        return path
    runs = sorted(p.parent for p in REPORTS.glob("*/results.json"))
    if not runs:
        raise InvalidInput("harness report", "run", f"a run under {REPORTS}", "none found")
    return runs[-1]


def _summary(path: Path) -> dict[str, Any]:
    return entry(load_results(path))


def compare_text(before: dict[str, Any], after: dict[str, Any]) -> str:
    """Two history lines (or entry() of two runs) compared, as text."""
    c = compare(before, after)
    lines = [f"{c.before} → {c.after}: {len(c.verdicts_changed)} verdict(s) changed"]
    for ch in c.changes:
        delta = (
            ""
            if ch.delta is None
            else f"  MTTR {ch.mttr_before:g} → {ch.mttr_after:g} s ({ch.delta:+g} s)"
        )
        mark = "*" if ch.before != ch.after else " "
        lines.append(
            f"{mark} {ch.mechanism:<28} {ch.part:<10} {ch.before:>12} → {ch.after:<12}{delta}"
        )
    return "\n".join(lines)


def report_command(args: argparse.Namespace) -> int:
    """Entry point of ``harness report``."""
    if args.compare:
        a, b = (_summary(_run_dir(x)) for x in args.compare)
        print(compare_text(a, b))
        return 0
    run = _run_dir(args.run)
    base = run if run.is_dir() else run.parent
    history = history_path(base.parent, args.history)
    page = rebuild(run, history if history.exists() else None, args.last)
    note(f"report: {page} (history: {history if history.exists() else 'none'})")
    if args.screenshot:
        from harness.host.chromium import ensure_chromium
        from harness.report.browser import screenshot

        shot = screenshot(ensure_chromium(), page, Path(args.screenshot), args.width, args.height)
        note(f"screenshot: {shot}")
    return 0


def add_report_parser(sub: Any) -> None:
    """Register ``harness report`` on the CLI's subparsers."""
    p = sub.add_parser(
        "report",
        help="rebuild a run's report.html and junit.xml from results.json; compare two runs",
        description="Rebuild report.html and junit.xml from a run's results.json and the"
        " history (no cluster needed); --compare A B prints what changed from run A to B.",
    )
    p.add_argument("run", nargs="?", help="run directory, results.json or run id (default: newest)")
    p.add_argument(
        "--history", help="history file (default: $HARNESS_REPORT_HISTORY or beside the runs)"
    )
    p.add_argument("--last", type=int, default=DEFAULT_LAST, help="runs of the history to embed")
    p.add_argument("--compare", nargs=2, metavar=("A", "B"), help="compare run A with run B")
    p.add_argument(
        "--screenshot", metavar="PNG", help="also write a full-page screenshot (headless Chromium)"
    )
    p.add_argument("--width", type=int, default=1280, help="screenshot width in pixels")
    p.add_argument(
        "--height", type=int, default=None, help="only the page's top HEIGHT pixels (default: all)"
    )
    p.set_defaults(func=report_command)
