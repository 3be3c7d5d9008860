"""The report's section on property-based searches: what was tried, what failed, how small.

From each test's ``property`` record (harness.property.session): the summary; every
sequence tried with its phase (generate, shrink, final replay) and verdict; the first
failing sequence beside the shrunk one; what each step did on the cluster, on one clock
from the first strike; and the commands that replay the failure.
"""

from __future__ import annotations

import html
from typing import Any

from harness.report.details import badge

__all__ = ["searches_section"]

_e = html.escape


def _step(step: dict[str, Any]) -> str:
    held = f", held {step.get('hold', 0)}s" if step.get("hold") else ""
    return f"{step['fault']}({step['target']}{held}), then {step.get('gap', 0)}s"


def _sequence(steps: list[dict[str, Any]] | None) -> str:
    if not steps:
        return "<p class='muted'>none</p>"
    return "<ol>" + "".join(f"<li><code>{_e(_step(s))}</code></li>" for s in steps) + "</ol>"


def _tried(tried: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{i}</td><td>{_e(t['phase'])}</td><td>{badge(_verdict(t['verdict']))}"
        f" {_e(t['verdict'])}</td><td>{len(t['steps'])}</td>"
        f"<td>{'; '.join(_e(_step(s)) for s in t['steps']) or '—'}</td>"
        f"<td>{t['seconds']:g}</td><td>{_e('; '.join(t.get('problems') or []))[:400]}</td></tr>"
        for i, t in enumerate(tried, 1)
    )
    return (
        "<table><tr><th>#</th><th>phase</th><th>verdict</th><th>steps</th><th>sequence</th>"
        f"<th>s</th><th>broken promises</th></tr>{rows}</table>"
    )


def _verdict(verdict: str) -> str:
    return {"noise": "inconclusive", "skipped": "not-run"}.get(verdict, verdict)


def _timeline(transitions: list[dict[str, Any]]) -> str:
    if not transitions:
        return "<p class='muted'>No step struck the cluster.</p>"
    start = float(transitions[0]["at"])
    rows = "".join(
        f"<tr><td>{float(t['at']) - start:.1f}</td><td><code>{_e(_step(t['step']))}</code></td>"
        f"<td>{_e(_evidence(t.get('evidence') or {}))}</td></tr>"
        for t in transitions
    )
    head = "<tr><th>s from the first strike</th><th>step</th><th>landed</th></tr>"
    return f"<table>{head}{rows}</table>"


def _evidence(evidence: dict[str, Any]) -> str:
    if evidence.get("landed") is False:
        return f"not landed: {evidence.get('why', '')}"[:300]
    keys = ("pod", "uid", "node", "policy", "claim")
    shown = [f"{k} {evidence[k]}" for k in keys if evidence.get(k)]
    return ", ".join(shown)[:300] or "struck"


def searches_section(data: dict[str, Any]) -> str:
    """The section's HTML; empty when no test ran a search."""
    parts = []
    for test in data["tests"]:
        search = test.get("property")
        if not search:
            continue
        plant = search.get("plant") or ""
        planted = f" (planted weakness: <code>{_e(plant)}</code>)" if plant else ""
        shrunk, original = search.get("shrunk"), search.get("original")
        sizes = (
            f"<p>First failing sequence: {len(original or [])} steps; shrunk to"
            f" {len(shrunk or [])}. Broken: {_e(search.get('failure') or '')}</p>"
            if shrunk
            else "<p>No sequence broke a promise within the budget.</p>"
        )
        replay = "".join(f"<pre>{_e(c)}</pre>" for c in search.get("replay") or [])
        parts.append(
            f"<section class='run' id='search-{_e(test['nodeid'].rsplit('::', 1)[-1])}'>"
            f"<h3><code>{_e(test['nodeid'])}</code>{planted}</h3>"
            f"<pre>{_e(search.get('summary') or '')}</pre>{sizes}"
            "<div style='display:flex;gap:2em'><div><h4>First failing sequence</h4>"
            f"{_sequence(original)}</div><div><h4>Shrunk</h4>{_sequence(shrunk)}</div></div>"
            f"<h4>Sequences tried</h4>{_tried(search.get('tried') or [])}"
            f"<h4>What each step did (one clock)</h4>{_timeline(search.get('transitions') or [])}"
            f"<h4>Replay</h4>{replay}</section>"
        )
    if not parts:
        return ""
    return "<h2 id='searches'>Property-based searches</h2>" + "".join(parts)
