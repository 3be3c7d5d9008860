"""Reconciliation of the sink against the Kafka records it was computed from.

Pure logic, no cluster: the inputs are read elsewhere (harness.integrity.collect).

The property under test is the pipeline's: every Kafka record of a window of the topic
lands in the sink exactly once. Records are identified by (partition, offset), which every
sink row carries, so a producer that re-sent an event (a send whose acknowledgement was lost,
retried: the topic then holds the event twice, at two offsets) is told apart from the
pipeline writing one record twice.

A window W is a range of offsets [start, end) per partition: start is where the topic
ended when the test began (or where it begins), end where it ended at the snapshot taken
when the test is over. Definitions, for the records the topic holds inside W and the sink
rows read after the snapshot:

* sent              - records in W;
* received          - records of W with at least one sink row;
* missing           - records of W with no sink row;
* duplicated        - sink rows beyond the first for the same record;
* unexpected        - sink rows naming an offset inside W that the topic does not hold, or
                      holding another event than the topic has at that offset (invented or
                      corrupted data);
* source_duplicates - records of W beyond the first carrying the same event (the
                      producer's at-least-once retries; reported, not the pipeline's fault);
* source_gaps       - sequence numbers missing strictly between the lowest and the highest
                      seq W holds for one (producer, run): events the producer had
                      acknowledged that the topic does not hold. The lowest and the highest
                      are W's boundaries, not gaps: the run's earlier and later events lie
                      outside W. (A producer sends one event at a time, each acknowledged
                      before the next, round-robin over the partitions, so the end offsets
                      read at one moment cut every run's sequence cleanly.)
* trimmed           - offsets of W that the topic deleted (retention) before they could be
                      read: their delivery cannot be checked.

The check holds (``exactly_once``) when there is no problem: something was sent, and
nothing is missing, duplicated, unexpected, lost at the source or trimmed. A window in
which nothing was sent proves nothing, so it fails. Source duplicates are only reported.

Sink rows outside W (earlier or later traffic) are not counted. Rows without provenance
(partition/offset -1, written by an older job) are matched by event id instead; such a
row is unexpected when its event is not in W although its seq lies between the lowest and
the highest seq W holds for its run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

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
    """The verdict on one window; ``exactly_once`` is the property the tests assert."""

    sent: int
    received: int
    missing: int
    duplicated: int
    unexpected: int
    source_gaps: int = 0
    """Sequence numbers absent from the source itself, inside the window."""
    source_duplicates: int = 0
    """Records repeating an event already in the window (producer retries)."""
    examples: dict[str, list[str]] = field(default_factory=dict)
    """A few ids per problem, for the report."""
    trimmed: int = 0
    """Offsets of the window deleted from the topic before they were read."""
    start_offsets: dict[int, int] = field(default_factory=dict)
    """The window: its first offset per partition."""
    end_offsets: dict[int, int] = field(default_factory=dict)
    """The window: its end offset (exclusive) per partition."""

    @property
    def problems(self) -> list[str]:
        """Why the window is not exactly once, one phrase per problem; empty when it is."""
        found = [
            (self.sent == 0, "nothing sent: the window holds no event, so it proves nothing", ""),
            (self.missing > 0, f"{self.missing} missing (records with no sink row)", "missing"),
            (
                self.duplicated > 0,
                f"{self.duplicated} duplicated (sink rows beyond the first for a record)",
                "duplicated",
            ),
            (
                self.unexpected > 0,
                f"{self.unexpected} unexpected (sink rows the topic does not hold)",
                "unexpected",
            ),
            (
                self.source_gaps > 0,
                f"{self.source_gaps} source gaps (acknowledged events the topic does not hold)",
                "source_gaps",
            ),
            (
                self.trimmed > 0,
                f"{self.trimmed} trimmed (offsets deleted from the topic before the check)",
                "",
            ),
        ]
        return [
            text + (f", e.g. {self.examples[key][0]}" if self.examples.get(key) else "")
            for held, text, key in found
            if held
        ]

    @property
    def exactly_once(self) -> bool:
        """Something was sent and every record of the window is in the sink once."""
        return not self.problems

    def summary(self) -> str:
        """One line for logs and assertion messages: the counts, the window, the verdict."""
        window = ",".join(
            f"{p}:{self.start_offsets.get(p, 0)}..{end}"
            for p, end in sorted(self.end_offsets.items())
        )
        problems = self.problems
        return (
            f"sent={self.sent} received={self.received} missing={self.missing} "
            f"duplicated={self.duplicated} unexpected={self.unexpected} "
            f"source_gaps={self.source_gaps} source_duplicates={self.source_duplicates} "
            f"window={window or '-'}: "
            + ("exactly once" if not problems else "NOT exactly once: " + "; ".join(problems))
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


_Run = tuple[str, str]
"""A producer run: (producer, run)."""


def _gaps(events: Iterable[EventId]) -> list[tuple[_Run, int, int]]:
    """The seqs missing strictly inside each run's seen range, as (run, first, last)."""
    by_run: dict[_Run, set[int]] = {}
    for e in events:
        by_run.setdefault((e.producer, e.run), set()).add(e.seq)
    gaps: list[tuple[_Run, int, int]] = []
    for key, seqs in sorted(by_run.items()):
        ordered = sorted(seqs)
        gaps += [(key, a + 1, b - 1) for a, b in pairwise(ordered) if b > a + 1]
    return gaps


def _bounds(
    source: list[Record], start: dict[int, int] | None, end: dict[int, int] | None
) -> dict[int, tuple[int, int]]:
    """[first, end) per partition: as given, or else what the source holds."""
    held: dict[int, tuple[int, int]] = {}
    for r in source:
        lo, hi = held.get(r.partition, (r.offset, r.offset))
        held[r.partition] = (min(lo, r.offset), max(hi, r.offset))
    partitions = set(end) if end is not None else set(held) | set(start or {})
    bounds: dict[int, tuple[int, int]] = {}
    for p in partitions:
        lo, hi = held.get(p, (0, -1))
        first = start.get(p, 0) if start is not None else lo
        bounds[p] = (first, end[p] if end is not None else max(hi + 1, first))
    return bounds


def reconcile(
    source: Iterable[Record],
    sink: Iterable[SinkRow],
    examples: int = 5,
    *,
    start_offsets: dict[int, int] | None = None,
    end_offsets: dict[int, int] | None = None,
    trimmed: int = 0,
) -> Reconciliation:
    """Compare the records of a window with the sink's rows (see the module docstring).

    The window is [start_offsets, end_offsets) per partition: a partition missing from
    start_offsets starts at 0, one missing from end_offsets is outside the window; without
    them it is what the source holds. Records and rows outside it are not counted.
    ``trimmed`` is carried into the verdict (the caller knows what retention deleted).
    """
    records = list(source)
    bounds = _bounds(records, start_offsets, end_offsets)

    def inside(partition: int, offset: int) -> bool:
        lo, hi = bounds.get(partition, (0, 0))
        return lo <= offset < hi

    at = {(r.partition, r.offset): r.event for r in records if inside(r.partition, r.offset)}
    copies = Counter(at.values())
    seen: dict[_Run, tuple[int, int]] = {}
    for e in copies:
        lo, hi = seen.get((e.producer, e.run), (e.seq, e.seq))
        seen[(e.producer, e.run)] = (min(lo, e.seq), max(hi, e.seq))

    rows = list(sink)
    # A row naming a record but holding another event is unexpected, not a delivery.
    by_record = Counter(
        (r.partition, r.offset)
        for r in rows
        if r.attributed and at.get((r.partition, r.offset)) == r.event
    )
    by_event = Counter(r.event for r in rows if not r.attributed)
    unexpected: list[str] = []
    for r in rows:
        if r.attributed:
            if inside(r.partition, r.offset) and at.get((r.partition, r.offset)) != r.event:
                unexpected.append(f"{_show(r.event)}@{r.partition}:{r.offset}")
        elif r.event not in copies:
            lo, hi = seen.get((r.event.producer, r.event.run), (0, -1))
            if lo <= r.event.seq <= hi:
                unexpected.append(_show(r.event))

    missing = sorted(k for k, e in at.items() if by_record[k] == 0 and by_event[e] == 0)
    duplicated = {k: n for k, n in by_record.items() if n > 1}
    extra_by_event = {e: n - copies[e] for e, n in by_event.items() if n > copies[e] > 0}
    resent = {e: n for e, n in copies.items() if n > 1}
    gaps = _gaps(copies)
    return Reconciliation(
        sent=len(at),
        received=len(at) - len(missing),
        missing=len(missing),
        duplicated=sum(n - 1 for n in duplicated.values()) + sum(extra_by_event.values()),
        unexpected=len(unexpected),
        source_gaps=sum(last - first + 1 for _, first, last in gaps),
        source_duplicates=sum(n - 1 for n in resent.values()),
        examples={
            "missing": [f"{_show(at[k])}@{k[0]}:{k[1]}" for k in missing[:examples]],
            "duplicated": [
                f"{_show(at[k])}@{k[0]}:{k[1]} x{n}" for k, n in sorted(duplicated.items())
            ][:examples]
            + [f"{_show(e)} x{n + copies[e]}" for e, n in sorted(extra_by_event.items())][
                :examples
            ],
            "unexpected": unexpected[:examples],
            "source_gaps": [_show_gap(*g) for g in gaps[:examples]],
            "source_duplicates": [f"{_show(e)} x{n}" for e, n in sorted(resent.items())][:examples],
        },
        trimmed=trimmed,
        start_offsets={p: lo for p, (lo, _) in sorted(bounds.items())},
        end_offsets={p: hi for p, (_, hi) in sorted(bounds.items())},
    )


def _show_gap(run: _Run, first: int, last: int) -> str:
    seqs = f"#{first}" if first == last else f"#{first}..#{last}"
    return f"{run[0]}/{run[1]}{seqs}"


def _show(e: EventId) -> str:
    return f"{e.producer}/{e.run}#{e.seq}"
