"""Reconciliation of sequence-numbered events: what the source holds against the sink.

Pure logic, no cluster: inputs are event ids read elsewhere (harness.integrity.collect).

Definitions, for a snapshot S of the source (the Kafka topic up to its end offsets at
one moment) and the sink's rows read after it:

* sent       - distinct events in S;
* received   - distinct events of S found in the sink;
* missing    - events of S not in the sink;
* duplicated - sink rows beyond the first for the same event (any event);
* unexpected - sink events that are neither in S nor newer than S for their
               (producer, run) (they would be invented or corrupted data).

Sink events newer than S (a higher seq of a known run, or a run S has not seen) are
simply later traffic and are not counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["EventId", "Reconciliation", "parse_ids", "reconcile"]


@dataclass(frozen=True, order=True)
class EventId:
    """One event: the producer (pod), its run (a random id per process) and the sequence."""

    producer: str
    run: str
    seq: int


@dataclass(frozen=True)
class Reconciliation:
    """The verdict on one snapshot; ``exactly_once`` is the property the tests assert."""

    sent: int
    received: int
    missing: int
    duplicated: int
    unexpected: int
    source_gaps: int = 0
    """Sequence numbers absent from the source itself (a producer skipped one)."""
    examples: dict[str, list[str]] = field(default_factory=dict)
    """A few ids per problem, for the report."""

    @property
    def exactly_once(self) -> bool:
        """No loss, no duplicate, nothing invented."""
        return self.missing == 0 and self.duplicated == 0 and self.unexpected == 0

    def summary(self) -> str:
        """One line for logs and assertion messages."""
        return (
            f"sent={self.sent} received={self.received} missing={self.missing} "
            f"duplicated={self.duplicated} unexpected={self.unexpected} "
            f"source_gaps={self.source_gaps}"
        )


def parse_ids(lines: Iterable[str], fields: tuple[int, int, int]) -> list[EventId]:
    """Event ids from whitespace-separated lines; fields are the producer, run, seq columns.

    Lines that do not parse (a non-event record marked '!') are skipped.
    """
    ids: list[EventId] = []
    p, r, s = fields
    for line in lines:
        parts = line.split()
        if len(parts) <= max(fields) or "!" in parts[: max(fields) + 1]:
            continue
        try:
            ids.append(EventId(parts[p], parts[r], int(parts[s])))
        except ValueError:
            continue
    return ids


def _gaps(events: Iterable[EventId]) -> int:
    by_run: dict[tuple[str, str], list[int]] = {}
    for e in events:
        by_run.setdefault((e.producer, e.run), []).append(e.seq)
    gaps = 0
    for seqs in by_run.values():
        distinct = sorted(set(seqs))
        gaps += (distinct[-1] - distinct[0] + 1) - len(distinct)
    return gaps


def reconcile(
    source: Iterable[EventId], sink: Iterable[EventId], examples: int = 5
) -> Reconciliation:
    """Compare a source snapshot with the sink's rows (see the module docstring)."""
    sent = set(source)
    rows = Counter(sink)
    newest: dict[tuple[str, str], int] = {}
    for e in sent:
        key = (e.producer, e.run)
        newest[key] = max(newest.get(key, e.seq), e.seq)
    missing = sorted(sent - rows.keys())
    duplicates = sorted(e for e, n in rows.items() if n > 1)
    unexpected = sorted(
        e
        for e in rows
        if e not in sent and (e.producer, e.run) in newest and e.seq <= newest[(e.producer, e.run)]
    )
    return Reconciliation(
        sent=len(sent),
        received=len(sent & rows.keys()),
        missing=len(missing),
        duplicated=sum(n - 1 for n in rows.values() if n > 1),
        unexpected=len(unexpected),
        source_gaps=_gaps(sent),
        examples={
            "missing": [_show(e) for e in missing[:examples]],
            "duplicated": [f"{_show(e)} x{rows[e]}" for e in duplicates[:examples]],
            "unexpected": [_show(e) for e in unexpected[:examples]],
        },
    )


def _show(e: EventId) -> str:
    return f"{e.producer}/{e.run}#{e.seq}"
