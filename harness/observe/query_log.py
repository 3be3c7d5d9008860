"""Every PromQL query a mechanism run made, with what it returned and when: the report's
evidence of the exact query, its window, its threshold and the series the verdict read.

``RecordingPrometheus`` is a ``Prometheus`` that notes each instant query in a
``QueryLog`` on the run's timeline clock (seconds since the timeline began), so the
series can be drawn on the same axis as the pod, node and SparkApplication events. The
samples are the values the harness polled, not a range query read afterwards: they are
what the verdict was decided on.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.errors import ObserverUnavailable
from harness.observe.prometheus import Prometheus

__all__ = ["MAX_QUERIES", "MAX_SAMPLES", "QueryLog", "RecordingPrometheus", "threshold_of"]

MAX_QUERIES = 24
"""Distinct queries kept per run; a run polls a handful, a runaway loop must not bloat
results.json."""
MAX_SAMPLES = 400
"""Samples kept per query: a 200 s wait polled every 0.5 s."""

# A comparison with a number at the end of the query (or of its innermost
# parenthesis): PromQL's filter, which is the threshold the query applies.
_THRESHOLD = re.compile(r"(>=|<=|==|!=|>|<)\s*(-?[0-9][0-9.e+]*)\s*\)*\s*$")


def threshold_of(promql: str) -> str | None:
    """The comparison a query filters by ('> 1764650000.000'), or None."""
    found = _THRESHOLD.search(promql)
    return None if found is None else f"{found[1]} {found[2]}"


@dataclass
class _Series:
    query: str
    samples: list[tuple[float, float | None, int]] = field(default_factory=list)
    """(at, first value or None when no series, number of series)."""
    labels: list[dict[str, str]] = field(default_factory=list)
    errors: int = 0
    dropped: int = 0


@dataclass
class QueryLog:
    """The queries of one run, in first-use order."""

    clock: Callable[[], float]
    """The run's timeline clock (harness.observe.timeline.Timeline.now)."""
    series: dict[str, _Series] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, promql: str, rows: list[tuple[dict[str, str], float]] | None) -> None:
        """Note one answer (None: Prometheus could not be read)."""
        at = round(self.clock(), 3)
        with self.lock:
            entry = self.series.get(promql)
            if entry is None:
                if len(self.series) >= MAX_QUERIES:
                    return
                entry = self.series[promql] = _Series(promql)
            if rows is None:
                entry.errors += 1
                return
            if len(entry.samples) >= MAX_SAMPLES:
                entry.dropped += 1
                entry.samples[-1] = (at, rows[0][1] if rows else None, len(rows))
                return
            entry.samples.append((at, rows[0][1] if rows else None, len(rows)))
            for labels, _ in rows[:3]:
                if labels not in entry.labels and len(entry.labels) < 3:
                    entry.labels.append(labels)

    def as_json(self) -> list[dict[str, Any]]:
        """results.json's ``queries``: query, window, threshold, samples [[at, value], ...]."""
        with self.lock:
            return [
                {
                    "query": s.query,
                    "threshold": threshold_of(s.query),
                    "window": [s.samples[0][0], s.samples[-1][0]] if s.samples else None,
                    "samples": [[at, value] for at, value, _ in s.samples],
                    "series_count": max((n for _, _, n in s.samples), default=0),
                    "labels": s.labels,
                    "errors": s.errors,
                    "dropped": s.dropped,
                }
                for s in self.series.values()
            ]


@dataclass(frozen=True)
class RecordingPrometheus(Prometheus):
    """A Prometheus whose instant queries are noted in a QueryLog."""

    log: QueryLog | None = None

    @classmethod
    def of(cls, prom: Prometheus, log: QueryLog) -> RecordingPrometheus:
        """The same connection, recording into log."""
        return cls(prom.client, prom.session, prom.url, log)

    def query(self, promql: str) -> list[tuple[dict[str, str], float]]:
        """Prometheus.query, noted in the log (an unreadable answer as an error)."""
        try:
            rows = super().query(promql)
        except ObserverUnavailable:
            if self.log is not None:
                self.log.add(promql, None)
            raise
        if self.log is not None:
            self.log.add(promql, rows)
        return rows
