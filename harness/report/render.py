"""report.html: one self-contained page from results.json and the history.

Everything is inline (styles, SVG charts; no script, no font, no external reference), so
the file opens from file://, prints, and reads without JavaScript. Order: the verdict
matrix with the score and its formula, what changed since the previous run, the trends,
one section per mechanism run, the other tests, the provenance.
"""

from __future__ import annotations

import html
from typing import Any

from harness.report.details import anchor, badge, cell_section, kv_table
from harness.report.history import DEFAULT_LAST, Trend, compare, entry, trends
from harness.report.matrix import NOT_RUN, Row, matrix, matrix_test
from harness.report.score import FORMULA, points, score
from harness.report.searches import searches_section
from harness.report.svg import sparkline, verdict_strip

__all__ = ["render_html"]

_e = html.escape

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em auto;
 max-width:1100px;color:#1f2328;padding:0 1em}
h1{font-size:1.6em;margin:.2em 0}
h2{border-bottom:2px solid #d0d7de;padding-bottom:.2em;margin-top:1.6em}
h3{margin-top:1.4em}h4{margin:1em 0 .3em}h5{margin:.8em 0 .2em}
table{border-collapse:collapse;margin:.3em 0 .8em;width:100%}
td,th{border:1px solid #d0d7de;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f6f8fa}.kv th{width:30%;font-weight:600}
code,pre{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
pre{background:#f6f8fa;padding:.5em;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
.badge{display:inline-block;padding:1px 7px;border-radius:10px;font-size:11px;font-weight:700;
 color:#fff;background:#8c959f;border:1px solid transparent}
.badge.passed{background:#1a7f37}.badge.failed{background:#cf222e}
.badge.inconclusive{background:#bf8700}.badge.not-run{background:#fff;color:#57606a;border-color:#8c959f}
.badge.passed-unproven{background:#fff;color:#1a7f37;border-color:#1a7f37}
.muted{color:#57606a}.flag{color:#cf222e;font-weight:600}
.score{font-size:1.3em;font-weight:700}
.chart{width:100%;height:auto;display:block;margin:.3em 0}
.chart text,.spark text{font:10px system-ui,sans-serif;fill:#57606a}
.chart .lanelabel{font-weight:700;fill:#1f2328}.chart .lane{stroke:#d0d7de}
.chart .grid{stroke:#eaeef2}.chart .barlabel{fill:#fff;font-weight:600}
.legend{list-style:none;padding:0;font-size:12px}.sw{display:inline-block;width:10px;height:10px;
 margin:0 3px 0 6px}
section.run{border-top:1px solid #d0d7de;margin-top:1em}.failure{border-left:4px solid #cf222e;
 padding-left:.8em}.hint{background:#fff8c5;padding:.3em .5em}
pre.log{max-height:24em;overflow:auto}
nav a{margin-right:.8em}
@media print{body{max-width:none;margin:0;font-size:11px}nav{display:none}
 section.run,.chart,table{break-inside:avoid}h2{break-after:avoid}pre.log{max-height:none}
 .badge{-webkit-print-color-adjust:exact;print-color-adjust:exact}
 .chart,.spark,.strip{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"""


def _mttr(row: Row) -> str:
    m, b = row.run.mttr, row.run.bound
    if m is None:
        return "—" if b is None else f"— / {b:g} s"
    margin = row.run.margin
    return f"{m:g} / {b:g} s (margin {margin:+g} s)" if b is not None else f"{m:g} s"


def _matrix(rows: list[Row], trend: dict[str, Trend] | None) -> str:
    head = (
        "<tr><th>#</th><th>mechanism</th><th>verdict</th><th>MTTR / bound</th><th>exactly-once</th>"
        "<th>negative control</th><th>points</th>"
        + ("<th>last runs</th>" if trend else "")
        + "</tr>"
    )
    body = []
    for r in rows:
        mid = r.mechanism.id
        ran = r.run.status != NOT_RUN or r.control.status != NOT_RUN
        name = f'<a href="#{anchor(mid, False)}">{_e(mid)}</a>' if ran else _e(mid)
        if r.implemented is False:
            name += ' <span class="muted">(not implemented)</span>'
        control = badge(r.control.status)
        if r.control.status != NOT_RUN:
            control = f'<a href="#{anchor(mid, True)}">{control}</a>'
        pts = f"{points(r):g}" if ran else "—"
        cells = (
            f'<tr data-mechanism="{_e(mid)}" data-verdict="{_e(r.run.status)}"'
            f' data-control="{_e(r.control.status)}" data-unproven="{str(r.unproven).lower()}">'
            f"<td>{r.mechanism.number}</td><td>{name}<br><span class='muted'>"
            f"{_e(r.mechanism.provided_by)}</span></td>"
            f"<td>{badge(r.label)}<br><span class='muted'>{_e(r.run.reason[:160])}</span></td>"
            f"<td>{_e(_mttr(r))}</td><td>{_e(r.exactly_once or '—')}</td>"
            f"<td>{control}<br><span class='muted'>{_e(r.control.reason[:120])}</span></td>"
            f"<td>{pts}</td>"
        )
        if trend and all(v == NOT_RUN for v in (*trend[mid].runs, *trend[mid].controls)):
            cells += "<td class='muted'>—</td>"
        elif trend:
            t = trend[mid]
            flags = []
            if t.regression:
                flags.append(
                    f'<span class="flag" title="{_e(t.regression)}">MTTR regression</span>'
                )
            if t.flaky:
                flags.append(f'<span class="flag">flaky ({_e(", ".join(t.flaky))})</span>')
            cells += (
                "<td>"
                + sparkline(t.mttrs, f"{mid} MTTR over the last {len(t.mttrs)} runs")
                + "<br>"
                + verdict_strip(t.runs, t.run_ids, f"{mid} verdicts")
                + " "
                + verdict_strip(t.controls, t.run_ids, f"{mid} control verdicts")
                + ("<br>" + " ".join(flags) if flags else "")
                + "</td>"
            )
        body.append(cells + "</tr>")
    return f'<table class="matrix" id="verdict-matrix">{head}{"".join(body)}</table>'


def _changes(history: list[dict[str, Any]], data: dict[str, Any]) -> str:
    previous = [h for h in history if h["run_id"] < data["run_id"]]
    if not previous:
        return "<p class='muted'>No previous run in the history.</p>"
    c = compare(previous[-1], entry(data))
    rows = "".join(
        f"<tr><td>{_e(ch.mechanism)}</td><td>{_e(ch.part)}</td><td>{badge(ch.before)}</td>"
        f"<td>{badge(ch.after)}</td><td>{'' if ch.delta is None else f'{ch.delta:+g} s'}</td></tr>"
        for ch in c.changes
        if ch.before != ch.after or ch.delta
    )
    return (
        f"<p>Against run <b>{_e(c.before)}</b>: {len(c.verdicts_changed)} verdict(s) changed.</p>"
        + (
            "<table id='changes'><tr><th>mechanism</th><th>part</th><th>before</th><th>now</th>"
            f"<th>MTTR Δ</th></tr>{rows}</table>"
            if rows
            else "<p>No verdict or MTTR changed.</p>"
        )
    )


def _trend_notes(trend: dict[str, Trend], last: int) -> str:
    regressions = [(m, t.regression) for m, t in trend.items() if t.regression]
    flaky = [(m, t.flaky) for m, t in trend.items() if t.flaky]
    out = f"<p>Window: the last {last} runs of the history.</p>"
    out += "<h4>MTTR regressions</h4>" + (
        "<ul>" + "".join(f"<li><b>{_e(m)}</b>: {_e(why)}</li>" for m, why in regressions) + "</ul>"
        if regressions
        else "<p>None.</p>"
    )
    out += "<h4>Flaky mechanisms (passed and failed within the window)</h4>" + (
        "<ul>"
        + "".join(f"<li><b>{_e(m)}</b>: {_e(', '.join(parts))}</li>" for m, parts in flaky)
        + "</ul>"
        if flaky
        else "<p>None.</p>"
    )
    return out


def _provenance(data: dict[str, Any]) -> str:
    prov = dict(data.get("provenance") or {})
    cluster = prov.pop("cluster", None) or {}
    versions = prov.pop("versions", None) or (data.get("environment") or {}).get("versions", {})
    out = kv_table(
        {
            "run": data["run_id"],
            "started": data["started"],
            "duration": f"{data['seconds']:g} s",
            **prov,
        }
    )
    if cluster:
        nodes = "".join(
            f"<tr><td>{_e(n.get('name', ''))}</td><td>{_e(', '.join(n.get('roles', [])))}</td>"
            f"<td>{_e(str(n.get('cpu')))}</td><td>{_e(str(n.get('memory')))}</td>"
            f"<td>{_e(str(n.get('kubelet')))}</td><td>{_e(str(n.get('runtime')))}</td></tr>"
            for n in cluster.get("nodes", [])
        )
        images = "".join(
            f"<tr><td>{_e(i.get('image', ''))}</td>"
            f"<td><code>{_e(str(i.get('digest')))}</code></td></tr>"
            for i in cluster.get("images", [])
        )
        out += (
            f"<p>Kubernetes {_e(str(cluster.get('kubernetes')))},"
            f" {len(cluster.get('nodes', []))} nodes.</p>"
            "<table><tr><th>node</th><th>roles</th><th>cpu</th><th>memory</th><th>kubelet</th>"
            f"<th>runtime</th></tr>{nodes}</table>"
            f"<table><tr><th>image</th><th>digest</th></tr>{images}</table>"
        )
    else:
        out += "<p class='muted'>No cluster was read in this run.</p>"
    return out + "<h4>Pinned versions</h4>" + kv_table(versions)


def render_html(
    data: dict[str, Any], history: list[dict[str, Any]] | None = None, last: int = DEFAULT_LAST
) -> str:
    """The report page for one run (history: every run's line, oldest first)."""
    rows = matrix(data)
    s = score(rows)
    trend = trends(history, data["run_id"], last) if history else None
    sections = []
    for r in rows:
        for cell, control in ((r.run, False), (r.control, True)):
            if cell.status != NOT_RUN or (not control and r.control.status != NOT_RUN):
                sections.append(cell_section(r.mechanism.id, r.mechanism.id, cell, control))
    others = [t for t in data["tests"] if matrix_test(t["nodeid"]) is None and t.get("mechanism")]
    other_rows = "".join(
        f"<tr><td><code>{_e(t['nodeid'])}</code></td><td>{_e(t['outcome'])}</td>"
        f"<td>{badge(t['mechanism']['verdict'])}</td>"
        f"<td>{_e((t.get('message') or '')[:300])}</td></tr>"
        for t in others
    )
    failing = "".join(
        f"<li><code>{_e(t['nodeid'])}</code>: {_e(_last_line(t))}</li>"
        for t in data["tests"]
        if t["outcome"] in ("failed", "error")
    )
    counts = ", ".join(f"{k} {v}" for k, v in sorted(data.get("counts", {}).items()))
    commit = str(((data.get("provenance") or {}).get("git") or {}).get("commit") or "unknown")
    breakdown = ", ".join(f"{k} {v:g}" for k, v in s.breakdown.items()) or "—"
    no_history = "<p class='muted'>No history: this is the first run recorded.</p>"
    others_table = (
        "<table><tr><th>test</th><th>pytest</th><th>verdict</th><th>message</th></tr>"
        f"{other_rows}</table>"
        if other_rows
        else "<p class='muted'>None recorded a mechanism outcome.</p>"
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Resilience report {_e(data["run_id"])}</title>
<style>{CSS}</style></head><body>
<h1>Resilience report {_e(data["run_id"])}</h1>
<p>Started {_e(data["started"])}, {data["seconds"]:g} s; commit <code>{_e(commit[:12])}</code>;
tests: {_e(counts)}. Data: <a href="results.json">results.json</a>,
<a href="junit.xml">junit.xml</a>.</p>
<nav><a href="#verdicts">Verdicts</a><a href="#changes-since">Since the previous run</a>
<a href="#trends">Trends</a><a href="#runs">Runs</a><a href="#other-tests">Other tests</a>
<a href="#provenance">Provenance</a></nav>
<h2 id="verdicts">Verdicts</h2>
<p class="score" id="score" data-score="{"" if s.value is None else s.value}">
Resilience score: {_e(s.text())}</p>
<p class="muted" id="score-formula">{_e(FORMULA)}. Per mechanism: {_e(breakdown)}.
A mechanism whose negative control did not pass is <b>unproven</b>: nothing showed that its
check can fail.</p>
{_matrix(rows, trend)}
<h2 id="changes-since">Since the previous run</h2>
{_changes(history or [], data)}
<h2 id="trends">Trends</h2>
{_trend_notes(trend, last) if trend else no_history}
<h2 id="runs">Runs</h2>
{"".join(sections) or "<p class='muted'>No mechanism ran.</p>"}
{searches_section(data)}
<h2 id="other-tests">Other tests</h2>
{others_table}
<p>{len(data["tests"])} tests in all; failed or errored:</p>
<ul>{failing or "<li>none</li>"}</ul>
<h2 id="provenance">Provenance</h2>
{_provenance(data)}
</body></html>
"""


def _last_line(test: dict[str, Any]) -> str:
    lines = (test.get("message") or "").strip().splitlines()
    return lines[-1][:300] if lines else str(test["outcome"])
