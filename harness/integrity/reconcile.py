"""Reconciliation of the sink against the Kafka records it was computed from.

Pure logic, no cluster: the inputs are read elsewhere (harness.integrity.collect).

The property under test is the pipeline's: every Kafka record of the topic lands in the
sink exactly once. Records are identified by (partition, offset), which every sink row
carries, so a producer that re-sent an event (a send whose acknowledgement was lost,
retried: the topic then holds the event twice, at two offsets) is told apart from the
pipeline writing one record twice.

Definitions, for a snapshot S of the topic (every record up to its end offsets at one
moment) and the sink's rows read after it:

* sent              - records in S;
* received          - records of S with at least one sink row;
* missing           - records of S with no sink row;
* duplicated        - sink rows beyond the first for the same record;
* unexpected        - sink rows naming an offset inside S's range that S does not hold,
                      or holding another event than S has at that offset (invented or
                      corrupted data);
* source_duplicates - records of S beyond the first carrying the same event (the
                      producer's at-least-once retries; reported, not the pipeline's fault);
* source_gaps       - sequence numbers a producer skipped.

Sink rows past the end of S (or before its start, trimmed by retention) are other
traffic and are not counted. Rows without provenance (partition/offset -1, written by an
older job) are matched by event id instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = [
    "EventId",
    "Reconciliation",
    "Record",
    "SinkRow",
    "parse_records",
    "parse_sink_rows",
    "reconcile",
]


@dataclass(frozen=True, order=True)
class EventId:
    """One event: the producer (pod), its run (a random id per process) and the sequence."""

    producer: str
    run: str
    seq: int


@dataclass(frozen=True, order=True)
class Record:
    """One Kafka record of the topic and the event it carries."""

    partition: int
    offset: int
    event: EventId


@dataclass(frozen=True, order=True)
class SinkRow:
    """One sink row: its event and the record it came from (-1, -1 when it does not say)."""

    event: EventId
    partition: int = -1
    offset: int = -1

    @property
    def attributed(self) -> bool:
        """Whether the row names its Kafka record."""
        return self.partition >= 0 and self.offset >= 0


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
    source_duplicates: int = 0
    """Records repeating an event already in the topic (producer retries)."""
    examples: dict[str, list[str]] = field(default_factory=dict)
    """A few ids per problem, for the report."""

    @property
    def exactly_once(self) -> bool:
        """Every record of the snapshot in the sink once: no loss, duplicate or invention."""
        return self.missing == 0 and self.duplicated == 0 and self.unexpected == 0

    def summary(self) -> str:
        """One line for logs and assertion messages."""
        return (
            f"sent={self.sent} received={self.received} missing={self.missing} "
            f"duplicated={self.duplicated} unexpected={self.unexpected} "
            f"source_gaps={self.source_gaps} source_duplicates={self.source_duplicates}"
        )


def _event(parts: list[str], first: int) -> EventId | None:
    if len(parts) < first + 3 or parts[first] == "!":
        return None
    try:
        return EventId(parts[first], parts[first + 1], int(parts[first + 2]))
    except ValueError:
        return None


def parse_records(lines: Iterable[str]) -> list[Record]:
    """Records from ``topic-dump`` lines: partition offset producer run seq.

    Non-event records ('!' lines) and summary lines are skipped.
    """
    records: list[Record] = []
    for line in lines:
        parts = line.split()
        event = _event(parts, 2)
        if event is None:
            continue
        try:
            records.append(Record(int(parts[0]), int(parts[1]), event))
        except ValueError:
            continue
    return records


def parse_sink_rows(lines: Iterable[str]) -> list[SinkRow]:
    """Rows from ``sink-dump`` lines: producer run seq batch [partition offset]."""
    rows: list[SinkRow] = []
    for line in lines:
        parts = line.split()
        event = _event(parts, 0)
        if event is None:
            continue
        partition, offset = -1, -1
        if len(parts) >= 6:
            try:
                partition, offset = int(parts[4]), int(parts[5])
            except ValueError:
                continue
        rows.append(SinkRow(event, partition, offset))
    return rows


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
    source: Iterable[Record], sink: Iterable[SinkRow], examples: int = 5
) -> Reconciliation:
    """Compare a topic snapshot with the sink's rows (see the module docstring)."""
    at: dict[tuple[int, int], EventId] = {(r.partition, r.offset): r.event for r in source}
    span: dict[int, tuple[int, int]] = {}
    for p, o in at:
        lo, hi = span.get(p, (o, o))
        span[p] = (min(lo, o), max(hi, o))
    copies = Counter(at.values())
    newest: dict[tuple[str, str], int] = {}
    for e in copies:
        newest[(e.producer, e.run)] = max(newest.get((e.producer, e.run), e.seq), e.seq)

    rows = list(sink)
    by_record = Counter((r.partition, r.offset) for r in rows if r.attributed)
    by_event = Counter(r.event for r in rows if not r.attributed)
    unexpected: list[str] = []
    for r in rows:
        if r.attributed:
            lo, hi = span.get(r.partition, (0, -1))
            held = at.get((r.partition, r.offset))
            if lo <= r.offset <= hi and held != r.event:
                unexpected.append(f"{_show(r.event)}@{r.partition}:{r.offset}")
        elif r.event not in copies:
            key = (r.event.producer, r.event.run)
            if key in newest and r.event.seq <= newest[key]:
                unexpected.append(_show(r.event))

    missing = sorted(k for k, e in at.items() if by_record[k] == 0 and by_event[e] == 0)
    duplicated = {k: n for k, n in by_record.items() if n > 1 and k in at}
    extra_by_event = {e: n - copies.get(e, 1) for e, n in by_event.items() if n > copies.get(e, 1)}
    resent = {e: n for e, n in copies.items() if n > 1}
    return Reconciliation(
        sent=len(at),
        received=len(at) - len(missing),
        missing=len(missing),
        duplicated=sum(n - 1 for n in duplicated.values()) + sum(extra_by_event.values()),
        unexpected=len(unexpected),
        source_gaps=_gaps(copies),
        source_duplicates=sum(n - 1 for n in resent.values()),
        examples={
            "missing": [f"{_show(at[k])}@{k[0]}:{k[1]}" for k in missing[:examples]],
            "duplicated": [
                f"{_show(at[k])}@{k[0]}:{k[1]} x{n}" for k, n in sorted(duplicated.items())
            ][:examples]
            + [f"{_show(e)} x{n + copies.get(e, 1)}" for e, n in sorted(extra_by_event.items())][
                :examples
            ],
            "unexpected": unexpected[:examples],
            "source_duplicates": [f"{_show(e)} x{n}" for e, n in sorted(resent.items())][:examples],
        },
    )


def _show(e: EventId) -> str:
    return f"{e.producer}/{e.run}#{e.seq}"
