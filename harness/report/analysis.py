"""What the report derives from one outcome's timeline and queries: the strike on the
timeline clock, the milestones after it, where the MTTR went, and the steady state
before and after.

The timeline's clock is seconds since the run's context was created; every event, every
PromQL sample and the strike are on it, so "t = 0" is the strike for all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["HARNESS_SOURCES", "Milestones", "milestones", "mttr_phases", "states_at"]

HARNESS_SOURCES = frozenset(
    {"landed", "recovered", "control failed", "inconclusive", "watch", "control"}
)
"""Timeline sources the harness writes about itself, not observations of the cluster."""
STATEFUL = ("pod", "node", "sparkapplication")


@dataclass(frozen=True)
class Milestones:
    """Seconds on the timeline clock (None: not seen)."""

    strike: float | None
    landed: float | None
    first_symptom: float | None
    last_change: float | None
    """The last object state change before recovery."""
    recovered: float | None
    """Recovery (a mechanism) or the declared failure seen (a control)."""

    def relative(self) -> dict[str, float | None]:
        """Each milestone in seconds from the strike."""
        if self.strike is None:
            return {}
        s = self.strike
        return {
            "landed": None if self.landed is None else round(self.landed - s, 3),
            "first symptom": None
            if self.first_symptom is None
            else round(self.first_symptom - s, 3),
            "recovered": None if self.recovered is None else round(self.recovered - s, 3),
        }


def milestones(outcome: dict[str, Any]) -> Milestones:
    """The strike (first fault event, else the landed mark) and what followed it."""
    events = sorted(outcome.get("timeline") or [], key=lambda e: e["at"])
    strike = next((e["at"] for e in events if e["source"] == "fault"), None)
    landed = next((e["at"] for e in events if e["source"] == "landed"), None)
    if strike is None:
        strike = landed
    if strike is None:
        return Milestones(None, None, None, None, None)
    after = [e for e in events if e["at"] >= strike]
    done = next((e["at"] for e in after if e["source"] in ("recovered", "control failed")), None)
    symptom = next(
        (
            e["at"]
            for e in after
            if e["source"] not in HARNESS_SOURCES
            and e["source"] not in ("fault", "restore", "fence")
        ),
        None,
    )
    changes = [
        e["at"] for e in after if e["source"] in STATEFUL and (done is None or e["at"] <= done)
    ]
    return Milestones(strike, landed, symptom, changes[-1] if changes else None, done)


def mttr_phases(outcome: dict[str, Any]) -> list[tuple[str, float]]:
    """Where strike → recovery went, from the timeline: the fault landing, detection (to
    the first symptom), the cluster's healing (to the last state change), and the wait
    until the harness saw recovery. Empty when the run did not recover."""
    m = milestones(outcome)
    if m.strike is None or m.recovered is None:
        return []
    points = [
        ("fault landing", m.landed),
        ("to the first symptom", m.first_symptom),
        ("healing: state changes", m.last_change),
        ("until recovery was observed", m.recovered),
    ]
    out: list[tuple[str, float]] = []
    previous = m.strike
    for name, at in points:
        if at is None or at < previous or at > m.recovered:
            continue
        out.append((name, round(at - previous, 2)))
        previous = at
    return [(n, s) for n, s in out if s > 0] or [
        ("strike to recovery", round(m.recovered - m.strike, 2))
    ]


def states_at(outcome: dict[str, Any], at: float | None) -> list[tuple[str, str, str]]:
    """(source, name, state) of each pod, node and SparkApplication last seen at or before
    ``at`` (None: the end of the timeline); deleted objects are left out."""
    last: dict[tuple[str, str], str] = {}
    for e in sorted(outcome.get("timeline") or [], key=lambda e: e["at"]):
        if e["source"] not in STATEFUL or (at is not None and e["at"] > at):
            continue
        last[(e["source"], e["name"])] = e["what"]
    return [
        (source, name, what)
        for (source, name), what in sorted(last.items())
        if not what.startswith("DELETED")
    ]
