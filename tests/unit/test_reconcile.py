"""Reconciliation arithmetic: loss, duplicates, invented rows, producer re-sends, windows."""

from __future__ import annotations

import json
from dataclasses import asdict

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
    assert result.problems == []
    assert (result.sent, result.received, result.missing, result.duplicated) == (150, 150, 0, 0)
    assert result.summary().endswith(": exactly once")


def test_missing_and_duplicated_are_counted_with_examples() -> None:
    records = _records("p", "r", 10)
    rows = _rows(records)
    result = reconcile(records, [*rows[:7], rows[0], rows[0], rows[3]])
    assert result.missing == 3
    assert result.duplicated == 3
    assert not result.exactly_once
    assert result.examples["missing"] == ["p/r#8@0:108", "p/r#9@0:109", "p/r#10@0:110"]
    assert result.examples["duplicated"][0] == "p/r#1@0:101 x3"
    assert result.problems == [
        "3 missing (records with no sink row), e.g. p/r#8@0:108",
        "3 duplicated (sink rows beyond the first for a record), e.g. p/r#1@0:101 x3",
    ]
    assert "NOT exactly once: 3 missing" in result.summary()


def test_missing_alone_fails() -> None:
    records = _records("p", "r", 5)
    result = reconcile(records, _rows(records)[1:])
    assert not result.exactly_once
    assert [p.split(" (")[0] for p in result.problems] == ["1 missing"]


def test_duplicated_alone_fails() -> None:
    records = _records("p", "r", 5)
    result = reconcile(records, [*_rows(records), _rows(records)[4]])
    assert not result.exactly_once
    assert [p.split(" (")[0] for p in result.problems] == ["1 duplicated"]


def test_a_producer_resend_is_not_a_pipeline_duplicate() -> None:
    records = _records("p", "r", 5)
    resent = Record(0, 106, records[2].event)  # the ack for offset 103 was lost; sent again
    source = [*records, resent]
    result = reconcile(source, _rows(source))
    assert result.exactly_once
    assert result.problems == []
    assert result.source_duplicates == 1
    assert result.examples["source_duplicates"] == ["p/r#3 x2"]
    # ...but the same record twice in the sink is one.
    doubled = reconcile(source, [*_rows(source), _rows(source)[2]])
    assert doubled.duplicated == 1
    assert not doubled.exactly_once


def test_rows_inside_the_window_that_the_topic_does_not_hold_are_unexpected() -> None:
    records = _records("p", "r", 10)
    later = [SinkRow(EventId("p", "r", 11), 0, 111), SinkRow(EventId("p", "r2", 1), 1, 5)]
    corrupted = SinkRow(EventId("p", "r", 99), 0, 104)
    invented = SinkRow(EventId("p", "r", 0), 0, 105)  # offset 105 holds seq 5
    result = reconcile(records, [*_rows(records), *later, corrupted, invented])
    assert result.unexpected == 2
    assert (result.missing, result.duplicated) == (0, 0)
    assert not result.exactly_once
    assert [p.split(" (")[0] for p in result.problems] == ["2 unexpected"]
    # A corrupted row does not deliver the record it names.
    alone = reconcile(records, [r for r in _rows(records) if r.offset != 104] + [corrupted])
    assert (alone.missing, alone.unexpected) == (1, 1)


def test_rows_without_provenance_match_by_event() -> None:
    records = _records("p", "r", 4)
    rows = [SinkRow(r.event) for r in records] + [SinkRow(records[0].event)]
    result = reconcile(records, rows)
    assert (result.received, result.missing, result.duplicated) == (4, 0, 1)


def test_rows_without_provenance_outside_the_runs_seen_seqs_are_other_traffic() -> None:
    records = [Record(0, 10 + i, EventId("p", "r", s)) for i, s in enumerate((5, 6, 8))]
    earlier, later = SinkRow(EventId("p", "r", 2)), SinkRow(EventId("p", "r", 9))
    invented = SinkRow(EventId("p", "r", 7))  # between seqs the window holds, yet not in it
    result = reconcile(records, [*_rows(records), earlier, later, earlier, invented])
    assert (result.unexpected, result.duplicated) == (1, 0)
    assert result.examples["unexpected"] == ["p/r#7"]


def test_the_window_covers_only_its_offsets() -> None:
    records = _records("p", "r", 20)  # offsets 101..120
    # The batch in flight at the start also holds records before the window; later
    # traffic is in the sink too. Neither is counted, and records outside are not missing.
    rows = _rows(records)[2:]
    result = reconcile(records, rows, start_offsets={0: 106}, end_offsets={0: 116})
    assert (result.sent, result.received, result.missing, result.unexpected) == (10, 10, 0, 0)
    assert result.exactly_once
    assert (result.start_offsets, result.end_offsets) == ({0: 106}, {0: 116})
    assert "window=0:106..116" in result.summary()


def test_a_record_at_the_window_end_belongs_to_the_next_window() -> None:
    records = _records("p", "r", 10)  # offsets 101..110
    result = reconcile(records, _rows(records)[:-1], start_offsets={0: 101}, end_offsets={0: 110})
    assert (result.sent, result.missing) == (9, 0)


def test_a_partition_outside_the_window_is_not_counted() -> None:
    records = _records("a", "r", 5) + _records("b", "r", 5, partition=1)
    result = reconcile(records, _rows(records[:5]), start_offsets={0: 0}, end_offsets={0: 200})
    assert (result.sent, result.missing) == (5, 0)
    assert result.end_offsets == {0: 200}


def test_an_empty_window_fails_and_says_why() -> None:
    result = reconcile([], [], start_offsets={0: 50, 1: 7}, end_offsets={0: 50, 1: 7})
    assert result.sent == 0
    assert result.missing == 0
    assert not result.exactly_once
    assert result.problems == ["nothing sent: the window holds no event, so it proves nothing"]
    assert "NOT exactly once: nothing sent" in result.summary()


def test_an_empty_topic_fails() -> None:
    assert not reconcile([], []).exactly_once


def test_a_source_gap_inside_the_window_fails() -> None:
    seqs = (10, 11, 14, 15, 17)
    records = [Record(0, 200 + i, EventId("p", "r", s)) for i, s in enumerate(seqs)]
    result = reconcile(records, _rows(records), start_offsets={0: 200}, end_offsets={0: 205})
    assert result.source_gaps == 3
    assert result.examples["source_gaps"] == ["p/r#12..#13", "p/r#16"]
    assert result.missing == 0
    assert not result.exactly_once
    assert result.problems == [
        "3 source gaps (acknowledged events the topic does not hold), e.g. p/r#12..#13"
    ]


def test_the_window_boundaries_are_not_source_gaps() -> None:
    records = _records("p", "r", 50)  # seqs 1..50 at offsets 101..150
    # A window from offset 121 to 131 sees seqs 21..30: the 20 before and 20 after are
    # outside it, not gaps.
    result = reconcile(records, _rows(records), start_offsets={0: 121}, end_offsets={0: 131})
    assert (result.sent, result.source_gaps) == (10, 0)
    assert result.exactly_once


def test_a_new_producer_run_is_not_a_gap() -> None:
    # The producer restarted inside the window: run r1 ends at 41, run r2 starts at 1.
    first = [Record(0, i, EventId("p", "r1", 31 + i)) for i in range(11)]
    second = [Record(0, 11 + i, EventId("p", "r2", 1 + i)) for i in range(5)]
    records = first + second
    result = reconcile(records, _rows(records), start_offsets={0: 0}, end_offsets={0: 16})
    assert result.source_gaps == 0
    assert result.exactly_once


def test_records_deleted_by_retention_fail_the_check() -> None:
    records = _records("p", "r", 5)
    result = reconcile(records, _rows(records), trimmed=3)
    assert not result.exactly_once
    assert result.problems == [
        "3 trimmed (offsets deleted from the topic before the check)",
    ]


def test_the_verdict_serialises_with_its_window() -> None:
    records = _records("p", "r", 3)
    result = reconcile(records, _rows(records), start_offsets={0: 101}, end_offsets={0: 104})
    data = json.loads(json.dumps(asdict(result)))
    assert (data["start_offsets"], data["end_offsets"]) == ({"0": 101}, {"0": 104})
    assert data["sent"] == 3


def test_parsers_skip_non_events() -> None:
    lines = ["0 12 p r 3", "1 13 ! Zm9v", "records=2 partitions=2", "0 14 p r x"]
    assert parse_records(lines) == [Record(0, 12, EventId("p", "r", 3))]
    sink = ["p r 3 7 0 12", "p - 4 7", "! part-0.json:4 Zm9v 7", "files=1 rows=3 last_batch=7"]
    assert parse_sink_rows(sink) == [
        SinkRow(EventId("p", "r", 3), 0, 12),
        SinkRow(EventId("p", "-", 4)),
    ]
    warnings = ["warning: partition 0: offsets [0, 5) were deleted", "uncommitted a.json"]
    assert parse_records(warnings) == []
    assert parse_sink_rows(warnings) == []


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
    distinct = sorted(seqs)
    assert result.source_gaps == distinct[-1] - distinct[0] + 1 - len(distinct)
    once = all(n == 1 for n in copies[: len(source)]) and result.source_gaps == 0
    assert result.exactly_once == once


@given(
    st.integers(min_value=0, max_value=60),
    st.integers(min_value=0, max_value=60),
    st.lists(st.integers(min_value=0, max_value=2), min_size=60, max_size=60),
)
def test_only_the_window_decides(first: int, length: int, outside: list[int]) -> None:
    source = [Record(0, i, EventId("p", "r", i + 1)) for i in range(60)]
    last = min(first + length, 60)
    # Inside the window every record once; outside it anything at all.
    sink = [
        SinkRow(r.event, r.partition, r.offset)
        for r, n in zip(source, outside, strict=True)
        for _ in range(1 if first <= r.offset < last else n)
    ]
    result = reconcile(source, sink, start_offsets={0: first}, end_offsets={0: last})
    assert result.sent == last - first
    assert (result.missing, result.duplicated, result.unexpected, result.source_gaps) == (0,) * 4
    assert result.exactly_once == (last > first)
