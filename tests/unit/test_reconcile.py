"""Reconciliation arithmetic: loss, duplicates, invented rows and later traffic."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from harness.integrity.reconcile import EventId, parse_ids, reconcile


def _events(producer: str, run: str, n: int, start: int = 1) -> list[EventId]:
    return [EventId(producer, run, s) for s in range(start, start + n)]


def test_identical_source_and_sink_is_exactly_once() -> None:
    events = _events("ingest-a", "r1", 100) + _events("ingest-b", "r2", 50)
    result = reconcile(events, list(reversed(events)))
    assert result.exactly_once
    assert (result.sent, result.received, result.missing, result.duplicated) == (150, 150, 0, 0)


def test_missing_and_duplicated_are_counted_with_examples() -> None:
    events = _events("p", "r", 10)
    sink = [*events[:7], events[0], events[0], events[3]]
    result = reconcile(events, sink)
    assert result.missing == 3
    assert result.duplicated == 3
    assert not result.exactly_once
    assert result.examples["missing"] == ["p/r#8", "p/r#9", "p/r#10"]
    assert result.examples["duplicated"][0] == "p/r#1 x3"


def test_newer_sink_events_are_not_unexpected_but_invented_ones_are() -> None:
    events = _events("p", "r", 10)
    newer = _events("p", "r", 5, start=11) + _events("p", "r2", 3)
    invented = [EventId("p", "r", 0)]
    result = reconcile(events[1:], events[1:] + newer + invented)
    assert result.unexpected == 1
    assert result.missing == 0


def test_source_gaps() -> None:
    events = [EventId("p", "r", s) for s in (1, 2, 5, 6)]
    assert reconcile(events, events).source_gaps == 2


def test_parse_ids_skips_non_events() -> None:
    lines = ["0 12 p r 3", "1 13 ! Zm9v", "records=2 partitions=2", "0 14 p r x"]
    assert parse_ids(lines, (2, 3, 4)) == [EventId("p", "r", 3)]


@given(
    st.lists(st.integers(min_value=1, max_value=200), unique=True, min_size=1, max_size=100),
    st.lists(st.integers(min_value=0, max_value=3), min_size=100, max_size=100),
)
def test_counts_add_up(seqs: list[int], copies: list[int]) -> None:
    source = [EventId("p", "r", s) for s in seqs]
    sink = [e for e, n in zip(source, copies, strict=False) for _ in range(n)]
    result = reconcile(source, sink)
    delivered = sum(1 for n in copies[: len(source)] if n > 0)
    assert result.received == delivered
    assert result.missing == len(source) - delivered
    assert result.duplicated == sum(n - 1 for n in copies[: len(source)] if n > 1)
    assert result.received + result.missing == result.sent
    assert result.exactly_once == all(n == 1 for n in copies[: len(source)])
