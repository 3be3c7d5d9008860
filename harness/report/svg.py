"""Inline SVG charts for the report: swimlane timeline, PromQL series, MTTR bars, sparklines.

Hand-written SVG rather than an inlined chart library: the report must be readable
without JavaScript, print crisply at any size, and stay one small file; SVG drawn here
does all three, and a test can count its elements. Every mark carries a ``<title>``
(the browser's tooltip, and the text a screen reader reads) and ``data-*`` attributes
that say what it plots.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

__all__ = [
    "COLOURS",
    "health",
    "mttr_bars",
    "series_chart",
    "sparkline",
    "swimlane",
    "verdict_strip",
]

COLOURS = {
    "passed": "#1a7f37",
    "failed": "#cf222e",
    "inconclusive": "#bf8700",
    "not run": "#8c959f",
    "ok": "#2da44e",
    "transition": "#d4a72c",
    "bad": "#cf222e",
    "mark": "#57606a",
}
_PALETTE = ("#0969da", "#8250df", "#bf3989", "#1b7c83", "#9a6700", "#cf222e", "#57606a")
W = 760
"""The viewBox width of the wide charts; CSS scales them to the page."""

LANES = (
    ("fault", ("fault", "landed", "eviction", "control", "fence", "restore")),
    ("sparkapplication", ("sparkapplication",)),
    ("pod", ("pod",)),
    ("node", ("node",)),
    ("alert / symptom", ("symptom", "alert")),
    ("harness", ("recovered", "control failed", "inconclusive", "watch", "check")),
)
"""Swimlanes, top to bottom, and the timeline sources each draws."""
ROWS_PER_LANE = 6


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _el(tag: str, body: str = "", title: str | None = None, **attrs: object) -> str:
    """One element; attribute names with _ become -, a trailing _ is dropped (class_)."""
    shown = "".join(
        f' {k.rstrip("_").replace("_", "-")}="{_e(_num(v) if isinstance(v, float) else v)}"'
        for k, v in attrs.items()
        if v is not None
    )
    inner = (f"<title>{_e(title)}</title>" if title is not None else "") + body
    return f"<{tag}{shown}>{inner}</{tag}>" if inner else f"<{tag}{shown}/>"


def health(what: str) -> str:
    """ok, transition or bad: the colour of an object's state from its timeline text."""
    bad = ("DELETED", "Failed", "FAILED", "terminating", "Ready=False", "Ready=Unknown")
    if any(b in what for b in (*bad, "OOMKilled", "Error", "CrashLoopBackOff")):
        return "bad"
    if "Running ready=True" in what or what.endswith("Ready=True") or "RUNNING" in what:
        return "ok"
    return "transition"


def sparkline(values: Sequence[float | None], label: str, width: int = 140) -> str:
    """A line of values (None: did not run), the last point marked."""
    height, pad = 26, 3
    known = [v for v in values if v is not None]
    if not known:
        return _el(
            "svg",
            title=f"{label}: no data",
            class_="spark",
            role="img",
            width=width,
            height=height,
            data_points=0,
        )
    lo, hi = min(known), max(known)
    span = (hi - lo) or 1.0
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    pts: list[tuple[float, float, float]] = []
    for i, v in enumerate(values):
        if v is not None:
            pts.append((pad + i * step, height - pad - (v - lo) / span * (height - 2 * pad), v))
    line = " ".join(f"{_num(x)},{_num(y)}" for x, y, _ in pts)
    last = len(pts) - 1
    dots = "".join(
        _el(
            "circle",
            title=f"{_num(v)} s",
            cx=x,
            cy=y,
            r=3.0 if i == last else 1.5,
            fill="#0969da" if i == last else COLOURS["mark"],
        )
        for i, (x, y, v) in enumerate(pts)
    )
    poly = _el("polyline", points=line, fill="none", stroke="#0969da", stroke_width=1.5)
    return _el(
        "svg",
        poly + dots,
        title=label,
        class_="spark",
        role="img",
        width=width,
        height=height,
        viewBox=f"0 0 {width} {height}",
        data_points=len(pts),
    )


def verdict_strip(statuses: Sequence[str], titles: Sequence[str], label: str) -> str:
    """One square per run, coloured by status, oldest first."""
    size, gap = 10, 2
    width = max(len(statuses) * (size + gap), size)
    cells = "".join(
        f'<rect x="{i * (size + gap)}" y="1" width="{size}" height="{size}" rx="2"'
        f' fill="{COLOURS.get(s, COLOURS["not run"])}" data-status="{_e(s)}">'
        f"<title>{_e(t)}: {_e(s)}</title></rect>"
        for i, (s, t) in enumerate(zip(statuses, titles, strict=True))
    )
    return (
        f'<svg class="strip" role="img" width="{width}" height="{size + 2}"'
        f' data-points="{len(statuses)}"><title>{_e(label)}</title>{cells}</svg>'
    )


def _axis(x0: float, x1: float, t0: float, t1: float, y: float, height: float) -> str:
    """Ticks every 'nice' number of seconds between t0 and t1, gridlines down to height."""
    span = max(t1 - t0, 1e-6)
    step = next(s for s in (1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 1e9) if span / s <= 10)
    out = []
    tick = (t0 // step) * step
    while tick <= t1:
        if tick >= t0:
            x = x0 + (tick - t0) / span * (x1 - x0)
            out.append(
                _el("line", x1=x, y1=y, x2=x, y2=height, class_="grid")
                + _el(
                    "text", f"{tick:+g}s", x=x, y=height + 12, text_anchor="middle", class_="tick"
                )
            )
        tick += step
    return "".join(out)


def _marks(
    marks: dict[str, float | None],
    x0: float,
    x1: float,
    t0: float,
    t1: float,
    top: float,
    bottom: float,
) -> str:
    """Vertical lines: strike, recovered, bound (seconds from the strike)."""
    style = {"strike": "#cf222e", "recovered": "#1a7f37", "bound": "#57606a"}
    out = []
    for name, at in marks.items():
        if at is None or not t0 <= at <= t1:
            continue
        x = x0 + (at - t0) / max(t1 - t0, 1e-6) * (x1 - x0)
        colour = style.get(name, "#57606a")
        out.append(
            _el(
                "line",
                title=f"{name} at {at:+.1f}s",
                x1=x,
                y1=top,
                x2=x,
                y2=bottom,
                stroke=colour,
                stroke_width=1.5,
                stroke_dasharray="none" if name == "strike" else "4 3",
                data_mark=name,
            )
            + _el(
                "text",
                _e(name),
                x=x - 3 if x > x1 - 60 else x + 3,
                y=top + 9,
                text_anchor="end" if x > x1 - 60 else None,
                class_="marklabel",
                fill=colour,
            )
        )
    return "".join(out)


def swimlane(
    events: Sequence[dict[str, Any]],
    strike_at: float,
    marks: dict[str, float | None],
    pre: float = 30.0,
) -> str:
    """The timeline on one clock from the strike (t = 0): one band per lane, one row per
    object; objects' states as coloured segments, other events as diamonds."""
    if not events:
        return '<p class="muted">No timeline recorded.</p>'
    end = max([float(e["at"]) for e in events] + [strike_at + (m or 0) for m in marks.values()])
    first = min(float(e["at"]) for e in events)
    t0 = max(first, strike_at - pre) - strike_at
    t1 = max(end - strike_at, t0 + 1) + 2
    rows: list[tuple[str, str, list[dict[str, Any]]]] = []
    for lane, sources in LANES:
        by_name: dict[str, list[dict[str, Any]]] = {}
        for e in events:
            if e["source"] in sources:
                by_name.setdefault(e["name"], []).append(e)
        names = sorted(by_name, key=lambda n: by_name[n][0]["at"])
        for name in names[:ROWS_PER_LANE]:
            rows.append((lane, name, by_name[name]))
        if len(names) > ROWS_PER_LANE:
            rest = [e for n in names[ROWS_PER_LANE:] for e in by_name[n]]
            rows.append((lane, f"+{len(names) - ROWS_PER_LANE} more", rest))
    label_w, row_h, top = 210, 16, 14
    x0, x1 = label_w, W - 10
    height = top + row_h * len(rows)
    scale = (x1 - x0) / (t1 - t0)

    def x(at: float) -> float:
        return x0 + (min(max(at - strike_at, t0), t1) - t0) * scale

    body: list[str] = []
    previous_lane = ""
    for i, (lane, name, evs) in enumerate(rows):
        y = top + i * row_h
        if lane != previous_lane:
            body.append(
                f'<line x1="0" y1="{y}" x2="{W}" y2="{y}" class="lane"/>'
                f'<text x="2" y="{y + 11}" class="lanelabel">{_e(lane)}</text>'
            )
            previous_lane = lane
        body.append(
            _el(
                "text",
                _e(name[-34:]),
                x=label_w - 4,
                y=y + 11,
                text_anchor="end",
                class_="rowlabel",
            )
        )
        stateful = lane in ("pod", "node", "sparkapplication")
        evs = sorted(evs, key=lambda e: e["at"])
        for j, e in enumerate(evs):
            rel = e["at"] - strike_at
            tip = f"{rel:+.1f}s {e['source']} {e['name']}: {e['what']}"
            if stateful and not name.startswith("+"):
                nxt = evs[j + 1]["at"] if j + 1 < len(evs) else end + 2
                if nxt - strike_at < t0:
                    continue
                left, right = x(e["at"]), x(nxt)
                if e["what"].startswith("DELETED"):  # gone: a tick, not a state that lasts
                    right = left + 3
                colour = COLOURS[health(e["what"])]
                body.append(
                    _el(
                        "rect",
                        title=tip,
                        x=left,
                        y=y + 3,
                        width=max(right - left, 1.5),
                        height=row_h - 6,
                        fill=colour,
                        data_at=f"{rel:.3f}",
                        class_="seg",
                    )
                )
            else:
                cx, cy = x(e["at"]), y + row_h / 2
                colour = (
                    COLOURS["bad"] if e["source"] in ("fault", "inconclusive") else COLOURS["mark"]
                )
                if e["source"] == "recovered" or e["source"] == "control failed":
                    colour = COLOURS["passed"]
                body.append(
                    f'<path d="M{_num(cx)} {_num(cy - 5)} l5 5 l-5 5 l-5 -5 z" fill="{colour}"'
                    f' data-at="{rel:.3f}" class="evt"><title>{_e(tip)}</title></path>'
                )
    axis = _axis(x0, x1, t0, t1, top, height)
    lines = _marks(marks, x0, x1, t0, t1, top - 12, height)
    return _el(
        "svg",
        axis + "".join(body) + lines,
        title="Timeline from the strike (t = 0)",
        class_="chart swimlane",
        role="img",
        viewBox=f"0 0 {W} {height + 18}",
        data_rows=len(rows),
        data_events=len(events),
    )


def series_chart(
    samples: Sequence[Sequence[float | None]],
    strike_at: float,
    marks: dict[str, float | None],
    label: str,
    threshold: float | None = None,
) -> str:
    """One PromQL query's polled values against time from the strike; samples with no
    series drawn as hollow circles on the axis."""
    if not samples:
        return '<p class="muted">No samples.</p>'
    height, left, right, top = 150, 70, W - 10, 12
    ts = [float(s[0]) - strike_at for s in samples]  # type: ignore[arg-type]
    values = [None if s[1] is None else float(s[1]) for s in samples]
    known = [v for v in values if v is not None]
    t0 = min(min(ts), *(m for m in marks.values() if m is not None)) - 1
    t1 = max(max(ts), *(m for m in marks.values() if m is not None)) + 1
    lo, hi = (min(known), max(known)) if known else (0.0, 1.0)
    if threshold is not None and known and lo - (hi - lo) <= threshold <= hi + (hi - lo):
        lo, hi = min(lo, threshold), max(hi, threshold)
    else:
        threshold = None
    if hi == lo:
        lo, hi = lo - 1, hi + 1
    bottom = height - 20

    def px(t: float) -> float:
        return left + (t - t0) / (t1 - t0) * (right - left)

    def py(v: float) -> float:
        return bottom - (v - lo) / (hi - lo) * (bottom - top)

    pts = [(px(t), py(v)) for t, v in zip(ts, values, strict=True) if v is not None]
    path = (
        f'<polyline points="{" ".join(f"{_num(a)},{_num(b)}" for a, b in pts)}" fill="none"'
        f' stroke="#0969da" stroke-width="1.5" class="series" data-points="{len(pts)}"/>'
        if pts
        else ""
    )
    dots = "".join(
        f'<circle cx="{_num(px(t))}" cy="{_num(py(v) if v is not None else bottom)}" r="2.2"'
        f' fill="{"#0969da" if v is not None else "none"}" stroke="#0969da" class="sample">'
        f"<title>{t:+.1f}s: {_e('no series' if v is None else f'{v:g}')}</title></circle>"
        for t, v in zip(ts, values, strict=True)
    )
    yaxis = "".join(
        _el("text", _e(f"{v:.6g}"), x=left - 4, y=py(v) + 3, text_anchor="end", class_="tick")
        + _el("line", x1=left, y1=py(v), x2=right, y2=py(v), class_="grid")
        for v in (lo, (lo + hi) / 2, hi)
    )
    thr = (
        _el(
            "line",
            title=f"threshold {threshold:g}",
            x1=left,
            y1=py(threshold),
            x2=right,
            y2=py(threshold),
            stroke="#bf8700",
            stroke_dasharray="6 3",
            data_mark="threshold",
        )
        if threshold is not None
        else ""
    )
    body = yaxis + _axis(left, right, t0, t1, top, bottom) + thr + path + dots
    return _el(
        "svg",
        body + _marks(marks, left, right, t0, t1, top, bottom),
        title=label,
        class_="chart series-chart",
        role="img",
        viewBox=f"0 0 {W} {height}",
        data_samples=len(samples),
    )


def mttr_bars(
    measured: Sequence[tuple[str, float]], terms: Sequence[tuple[str, float]], label: str
) -> str:
    """Two stacked bars on one scale: where the measured MTTR went, and the bound's terms."""
    totals = {"measured": sum(s for _, s in measured), "bound": sum(s for _, s in terms)}
    scale_max = max(*totals.values(), 1e-6)
    left, right, bar_h = 90, W - 60, 18
    out = []
    legend: list[str] = []
    for row, (name, parts) in enumerate((("measured", measured), ("bound", terms))):
        y = 6 + row * (bar_h + 8)
        out.append(_el("text", name, x=left - 6, y=y + 13, text_anchor="end", class_="rowlabel"))
        x = float(left)
        for i, (part, seconds) in enumerate(parts):
            w = max(seconds, 0) / scale_max * (right - left)
            out.append(
                _el(
                    "rect",
                    title=f"{part}: {seconds:g} s",
                    x=x,
                    y=y,
                    width=max(w, 0.5),
                    height=bar_h,
                    fill=_PALETTE[i % len(_PALETTE)],
                    class_="bar",
                    data_seconds=f"{seconds:g}",
                    stroke="#fff",
                )
            )
            if w > 38:
                out.append(_el("text", f"{_num(seconds)}s", x=x + 3, y=y + 13, class_="barlabel"))
            x += w
        out.append(_el("text", f"{_num(totals[name])} s", x=x + 4, y=y + 13, class_="tick"))
        swatches = "; ".join(
            _el("span", " ", class_="sw", style=f"background:{_PALETTE[i % len(_PALETTE)]}")
            + f"{_e(p)} {s:g} s"
            for i, (p, s) in enumerate(parts)
        )
        legend.append(f"<li><b>{name}</b>: {swatches}</li>")
    svg = _el(
        "svg",
        "".join(out),
        title=label,
        class_="chart mttr-bars",
        role="img",
        viewBox=f"0 0 {W} {2 * (bar_h + 8) + 6}",
    )
    return svg + f'<ul class="legend">{"".join(legend)}</ul>'
