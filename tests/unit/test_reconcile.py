"""Reconciliation arithmetic: loss, duplicates, invented rows, producer re-sends, later traffic."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from harness.integrity.reconcile import (
    EventId,
    Record,
    SinkRow,
    parse_records,
    parse_sink_rows,
    reconcile,
)


def _records(producer: str, run: str, n: int, start: int = 1, partition: int = 0) -> list[Record]:
    return [Record(partition, 100 + s, EventId(producer, run, s)) for s in range(start, start + n)]


def _rows(records: list[Record]) -> list[SinkRow]:
    return [SinkRow(r.event, r.partition, r.offset) for r in records]


def test_identical_source_and_sink_is_exactly_once() -> None:
    records = _records("ingest-a", "r1", 100) + _records("ingest-b", "r2", 50, partition=1)
    result = reconcile(records, list(reversed(_rows(records))))
    assert result.exactly_once
    assert (result.sent, result.received, result.missing, result.duplicated) == (150, 150, 0, 0)


def test_missing_and_duplicated_are_counted_with_examples() -> None:
    records = _records("p", "r", 10)
    rows = _rows(records)
    result = reconcile(records, [*rows[:7], rows[0], rows[0], rows[3]])
    assert result.missing == 3
    assert result.duplicated == 3
    assert not result.exactly_once
    assert result.examples["missing"] == ["p/r#8@0:108", "p/r#9@0:109", "p/r#10@0:110"]
    assert result.examples["duplicated"][0] == "p/r#1@0:101 x3"


def test_a_producer_resend_is_not_a_pipeline_duplicate() -> None:
    records = _records("p", "r", 5)
    resent = Record(0, 106, records[2].event)  # the ack for offset 103 was lost; sent again
    source = [*records, resent]
    result = reconcile(source, _rows(source))
    assert result.exactly_once
    assert result.source_duplicates == 1
    assert result.examples["source_duplicates"] == ["p/r#3 x2"]
    # ...but the same record twice in the sink is one.
    doubled = reconcile(source, [*_rows(source), _rows(source)[2]])
    assert doubled.duplicated == 1
    assert not doubled.exactly_once


def test_rows_inside_the_snapshot_that_it_does_not_hold_are_unexpected() -> None:
    records = _records("p", "r", 10)
    later = [SinkRow(EventId("p", "r", 11), 0, 111), SinkRow(EventId("p", "r2", 1), 1, 5)]
    corrupted = SinkRow(EventId("p", "r", 99), 0, 104)
    invented = SinkRow(EventId("p", "r", 0), -1, -1)
    result = reconcile(records, [*_rows(records), *later, corrupted, invented])
    assert result.unexpected == 2
    assert result.missing == 0
    assert not result.exactly_once


def test_rows_without_provenance_match_by_event() -> None:
    records = _records("p", "r", 4)
    rows = [SinkRow(r.event) for r in records] + [SinkRow(records[0].event)]
    result = reconcile(records, rows)
    assert (result.received, result.missing, result.duplicated) == (4, 0, 1)


def test_source_gaps() -> None:
    records = [Record(0, i, EventId("p", "r", s)) for i, s in enumerate((1, 2, 5, 6))]
    assert reconcile(records, _rows(records)).source_gaps == 2


def test_parsers_skip_non_events() -> None:
    lines = ["0 12 p r 3", "1 13 ! Zm9v", "records=2 partitions=2", "0 14 p r x"]
    assert parse_records(lines) == [Record(0, 12, EventId("p", "r", 3))]
    sink = ["p r 3 7 0 12", "p - 4 7", "! part-0.json:4 Zm9v 7", "files=1 rows=3 last_batch=7"]
    assert parse_sink_rows(sink) == [
        SinkRow(EventId("p", "r", 3), 0, 12),
        SinkRow(EventId("p", "-", 4)),
    ]


@given(
    st.lists(st.integers(min_value=1, max_value=200), unique=True, min_size=1, max_size=100),
    st.lists(st.integers(min_value=0, max_value=3), min_size=100, max_size=100),
)
def test_counts_add_up(seqs: list[int], copies: list[int]) -> None:
    source = [Record(0, i, EventId("p", "r", s)) for i, s in enumerate(seqs)]
    sink = [
        SinkRow(r.event, r.partition, r.offset)
        for r, n in zip(source, copies, strict=False)
        for _ in range(n)
    ]
    result = reconcile(source, sink)
    delivered = sum(1 for n in copies[: len(source)] if n > 0)
    assert result.received == delivered
    assert result.missing == len(source) - delivered
    assert result.duplicated == sum(n - 1 for n in copies[: len(source)] if n > 1)
    assert result.received + result.missing == result.sent
    assert result.exactly_once == all(n == 1 for n in copies[: len(source)])
