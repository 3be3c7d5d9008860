"""The PromQL query log: what the report shows as each query's window, threshold and series."""

from __future__ import annotations

import pytest

from harness.errors import ObserverUnavailable
from harness.observe.query_log import MAX_SAMPLES, QueryLog, RecordingPrometheus, threshold_of


class FakeClient:
    def __init__(self, answers):
        self.answers = list(answers)

    def custom_query(self, promql):
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def _prom(answers, clock):
    log = QueryLog(clock)
    return RecordingPrometheus(FakeClient(answers), None, "http://prometheus", log), log


def test_threshold_is_the_trailing_comparison():
    assert threshold_of("max(a and b > 1764727204.200)") == "> 1764727204.200"
    assert threshold_of("sum(x) >= 3") == ">= 3"
    assert threshold_of("sum(spark_application_submit_count)") is None


def test_samples_are_on_the_timeline_clock_with_no_series_as_none():
    times = iter([1.0, 3.0, 5.0])
    prom, log = _prom(
        [[], [{"metric": {"query": "events"}, "value": [0, "7"]}], ConnectionError("down")],
        lambda: next(times),
    )
    assert prom.scalar("q > 5") == 0.0
    assert prom.scalar("q > 5") == 7.0
    with pytest.raises(ObserverUnavailable):
        prom.query("q > 5")
    [entry] = log.as_json()
    assert entry["samples"] == [[1.0, None], [3.0, 7.0]]
    assert entry["window"] == [1.0, 3.0]
    assert entry["threshold"] == "> 5"
    assert entry["errors"] == 1
    assert entry["labels"] == [{"query": "events"}]


def test_a_long_poll_keeps_its_latest_value_within_the_limit():
    log = QueryLog(lambda: 0.0)
    for i in range(MAX_SAMPLES + 10):
        log.add("q", [({}, float(i))])
    [entry] = log.as_json()
    assert len(entry["samples"]) == MAX_SAMPLES
    assert entry["samples"][-1][1] == MAX_SAMPLES + 9
    assert entry["dropped"] == 10
