"""One mechanism run's section of the report: proof, timeline, MTTR, PromQL, steady state,
reconciliation, and for a failure what failed, the events, a log excerpt and a hint.

Each section has a stable anchor: ``#m-<id>`` for the mechanism, ``#c-<id>`` for its
negative control.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from harness.report.analysis import milestones, mttr_phases, states_at
from harness.report.hints import hint
from harness.report.matrix import Cell
from harness.report.svg import mttr_bars, series_chart, swimlane

__all__ = ["anchor", "badge", "cell_section", "kv_table"]

_e = html.escape


def anchor(mechanism_id: str, control: bool) -> str:
    """The section's id: m-<id> or c-<id>."""
    return f"{'c' if control else 'm'}-{mechanism_id}"


def badge(status: str) -> str:
    """A verdict as colour and text (readable in print and without colour)."""
    cls = status.replace(" ", "-").replace(",", "")
    return f'<span class="badge {_e(cls)}">{_e(status.upper())}</span>'


def _value(v: Any) -> str:
    if isinstance(v, dict | list):
        return f"<code>{_e(json.dumps(v, sort_keys=True)[:600])}</code>"
    return _e("—" if v is None else str(v))


def kv_table(data: dict[str, Any], cls: str = "kv") -> str:
    """A two-column table of a dict."""
    if not data:
        return '<p class="muted">none recorded</p>'
    rows = "".join(f"<tr><th>{_e(str(k))}</th><td>{_value(v)}</td></tr>" for k, v in data.items())
    return f'<table class="{cls}">{rows}</table>'


def _threshold_value(threshold: str | None) -> float | None:
    if not threshold:
        return None
    try:
        return float(threshold.split()[-1])
    except ValueError:
        return None


def _queries(outcome: dict[str, Any], strike: float, marks: dict[str, float | None]) -> str:
    queries = outcome.get("queries") or []
    if not queries:
        return '<p class="muted">No PromQL was recorded for this run (older results).</p>'
    out = []
    for q in queries:
        window = q.get("window")
        shown = "—" if not window else f"{window[0] - strike:+.1f} s to {window[1] - strike:+.1f} s"
        out.append(
            '<div class="query">'
            f"<pre><code>{_e(q['query'])}</code></pre>"
            f"<p>window (from the strike): {_e(shown)}; threshold: "
            f"<code>{_e(q.get('threshold') or 'none in the query (see the check)')}</code>; "
            f"{len(q['samples'])} samples, {q.get('errors', 0)} unreadable"
            f"{', ' + str(q['dropped']) + ' dropped' if q.get('dropped') else ''}</p>"
            + series_chart(
                q["samples"], strike, marks, q["query"], _threshold_value(q.get("threshold"))
            )
            + "</div>"
        )
    return "".join(out)


def _states(outcome: dict[str, Any], strike: float | None) -> str:
    before = states_at(outcome, strike)
    after = states_at(outcome, None)
    names = sorted({(s, n) for s, n, _ in before} | {(s, n) for s, n, _ in after})
    b = {(s, n): w for s, n, w in before}
    a = {(s, n): w for s, n, w in after}
    rows = "".join(
        f"<tr><td>{_e(s)}</td><td>{_e(n)}</td><td>{_e(b.get((s, n), '—'))}</td>"
        f"<td>{_e(a.get((s, n), '—'))}</td></tr>"
        for s, n in names
    )
    after_check = outcome.get("steady_after")
    return (
        "<table><tr><th>kind</th><th>name</th><th>before the strike</th><th>at the end</th></tr>"
        f"{rows}</table>"
        + (f"<p>After the rollbacks: {_e(after_check)}.</p>" if after_check else "")
    )


def _reconciliation(rec: dict[str, Any] | None) -> str:
    if not rec:
        return (
            '<p class="muted">No window reconciled (the mechanism does not touch data, or'
            " the run stopped before it).</p>"
        )
    keys = ("sent", "received", "missing", "duplicated", "unexpected", "source_duplicates")
    head = "".join(f"<th>{k.replace('_', ' ')}</th>" for k in keys)
    cells = "".join(f"<td>{rec.get(k, 0):,}</td>" for k in keys)
    verdict = (
        "exactly once"
        if rec.get("exactly_once")
        else "NOT exactly once: " + "; ".join(rec.get("problems") or [])
    )
    parts = sorted(set(rec.get("start_offsets") or {}) | set(rec.get("end_offsets") or {}), key=int)
    window = "".join(
        f"<tr><td>{_e(str(p))}</td><td>{(rec.get('start_offsets') or {}).get(p, '—')}</td>"
        f"<td>{(rec.get('end_offsets') or {}).get(p, '—')}</td></tr>"
        for p in parts
    )
    return (
        f"<table><tr>{head}</tr><tr>{cells}</tr></table><p><b>{_e(verdict)}</b>"
        " (producer re-sends are the producer's at-least-once retries, reported, not counted"
        " against the pipeline).</p>"
        + (
            "<table><tr><th>partition</th><th>window start offset</th><th>end (exclusive)</th></tr>"
            f"{window}</table>"
            if window
            else ""
        )
        + (kv_table(rec["examples"]) if rec.get("examples") else "")
    )


def _failure(cell: Cell) -> str:
    outcome = cell.outcome or {}
    words = cell.reason
    first = (outcome.get("failures") or [None])[0] or outcome.get("inconclusive") or words
    seen = re.search(r"last seen: (.*)", str(first))
    diag = outcome.get("diagnostics") or {}
    events = "".join(
        f"<tr><td>{_e(str(e.get('type')))}</td><td>{_e(str(e.get('reason')))}</td>"
        f"<td>{_e(str(e.get('object')))}</td><td>{_e(str(e.get('message')))}</td></tr>"
        for e in diag.get("events", [])
    )
    logs = "".join(
        f"<h5>log of {_e(str(log.get('pod')))} (last {len(log.get('lines', []))} lines)</h5>"
        f"<pre class='log'>{_e(chr(10).join(log.get('lines', [])))}</pre>"
        for log in diag.get("logs", [])
    )
    advice = hint(" ".join([str(first), *outcome.get("failures", [])]))
    return (
        '<div class="failure"><h4>What failed</h4>'
        f"<p>First failed check: <b>{_e(str(first))}</b></p>"
        + (f"<p>Last state seen: <code>{_e(seen[1])}</code></p>" if seen else "")
        + (
            f"<p>Further failures: {_e('; '.join(outcome.get('failures', [])[1:]))}</p>"
            if len(outcome.get("failures", [])) > 1
            else ""
        )
        + (f'<p class="hint"><b>Usually:</b> {_e(advice)}</p>' if advice else "")
        + (
            "<h5>Kubernetes events of the window</h5><table><tr><th>type</th><th>reason</th>"
            f"<th>object</th><th>message</th></tr>{events}</table>"
            if events
            else ""
        )
        + logs
        + (
            f"<p class='muted'>Not read: {_e('; '.join(diag['errors']))}</p>"
            if diag.get("errors")
            else ""
        )
        + (
            f"<pre class='log'>{_e(cell.test.get('message', '')[-1500:])}</pre>"
            if cell.test and cell.test.get("message") and not outcome
            else ""
        )
        + "</div>"
    )


def cell_section(mechanism_id: str, title: str, cell: Cell, control: bool) -> str:
    """The section of one run (mechanism or control)."""
    kind = "negative control" if control else "mechanism"
    head = (
        f'<section class="run" id="{anchor(mechanism_id, control)}">'
        f"<h3>{_e(title)} — {kind} {badge(cell.status)}</h3><p>{_e(cell.reason)}</p>"
    )
    outcome = cell.outcome
    if outcome is None:
        body = _failure(cell) if cell.status in ("failed", "inconclusive") else ""
        return head + body + "</section>"
    m = milestones(outcome)
    strike = m.strike if m.strike is not None else 0.0
    recovered = None if m.recovered is None else m.recovered - strike
    marks: dict[str, float | None] = {"strike": 0.0, "recovered": recovered}
    if not control and outcome.get("bound_seconds"):
        marks["bound"] = float(outcome["bound_seconds"])
    mttr, bound = outcome.get("mttr_seconds"), outcome.get("bound_seconds")
    parts = [head]
    if cell.test:
        parts.append(f"<p class='muted'>test <code>{_e(cell.test['nodeid'])}</code></p>")
    if not control:
        margin = "" if mttr is None or bound is None else f", margin {bound - mttr:+.1f} s"
        parts.append(
            f"<h4>MTTR against the bound</h4><p>MTTR <b>{'—' if mttr is None else f'{mttr:g} s'}"
            f"</b> against {_e(outcome.get('bound_arithmetic') or f'{bound} s')}{_e(margin)}.</p>"
        )
        terms = [(t["name"], float(t["seconds"])) for t in outcome.get("bound_terms", [])]
        phases = mttr_phases(outcome)
        if phases or terms:
            parts.append(mttr_bars(phases, terms, f"{mechanism_id}: MTTR against the bound"))
        parts.append(
            "<table><tr><th>bound term</th><th>seconds</th><th>from</th></tr>"
            + "".join(
                f"<tr><td>{_e(t['name'])}</td><td>{t['seconds']:g}</td>"
                f"<td>{_e(t.get('source', ''))}</td></tr>"
                for t in outcome.get("bound_terms", [])
            )
            + "</table>"
        )
    else:
        parts.append(
            f"<h4>Declared failure</h4><p>{_e(outcome.get('expected_failure') or '—')}</p>"
            "<p>Evidence seen:</p>" + kv_table(outcome.get("control_evidence") or {})
        )
    parts.append("<h4>Proof that the fault landed</h4>" + kv_table(outcome.get("landed") or {}))
    parts.append(
        "<h4>Timeline (t = 0 at the strike)</h4>"
        + swimlane(outcome.get("timeline") or [], strike, marks)
    )
    parts.append("<h4>PromQL evidence</h4>" + _queries(outcome, strike, marks))
    if outcome.get("evidence"):
        parts.append(
            "<h4>Object states and values the checks read</h4>" + kv_table(outcome["evidence"])
        )
    parts.append("<h4>Steady state before and after</h4>" + _states(outcome, m.strike))
    if not control:
        parts.append("<h4>Reconciliation</h4>" + _reconciliation(outcome.get("reconciliation")))
    if cell.status in ("failed", "inconclusive"):
        parts.append(_failure(cell))
    if outcome.get("phases"):
        parts.append(
            "<h4>Where the run's time went</h4>"
            + kv_table({k: f"{v:g} s" for k, v in outcome["phases"].items()})
        )
    return "".join(parts) + "</section>"
