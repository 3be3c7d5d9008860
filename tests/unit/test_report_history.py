"""History across runs: regression thresholds from the measured spread, flaky mechanisms,
the comparison with the previous run, the history file's place."""

from __future__ import annotations

import json

import pytest

from harness.report.history import (
    HISTORY_ENV,
    compare,
    entry,
    history_path,
    load_history,
    record,
    regression,
    trends,
)
from tests.unit.report_data import HISTORY, RUN_ID, recorded

# Same code, same lab, different runs (docs/measurements.md): none of these is a regression.
MEASURED_SPREAD = {
    "driver_restart": ([74.2, 59.5, 61.7], 82.5),
    "executor_replacement": ([14.6, 15.1, 5.7], 31.2),
    "checkpoint_recovery": ([78.3, 63.2, 63.9], 78.8),
    "node_failure_reschedule": ([106.4, 124.4, 118.7], 113.1),
}


@pytest.mark.parametrize("mechanism", sorted(MEASURED_SPREAD))
def test_measured_run_to_run_spread_is_not_a_regression(mechanism):
    previous, current = MEASURED_SPREAD[mechanism]
    assert regression(current, previous) is None


def test_the_rule_propagation_bug_would_have_been_flagged():
    # pvc_full_recovery: 64-76 s once fixed, 126-147 s while the rule was slow to load
    why = regression(146.9, [64.3, 76.1, 70.0])
    assert why is not None
    assert "over the median" in why


def test_no_regression_without_a_baseline():
    assert regression(500.0, [60.0]) is None
    assert regression(None, [60.0, 61.0]) is None


def _history_with_run():
    runs = load_history(HISTORY)
    return [*runs, entry(recorded())]


def test_trends_flag_the_recorded_regression_and_flaky_mechanisms():
    t = trends(_history_with_run(), RUN_ID)
    assert t["checkpoint_recovery"].regression is not None
    assert t["driver_restart"].regression is None
    assert t["checkpoint_recovery"].flaky == ["mechanism"]
    assert t["executor_replacement"].flaky == ["control"]
    assert t["pvc_full_recovery"].flaky == ["control"]
    assert t["pdb_drain_block"].flaky == []
    assert len(t["driver_restart"].mttrs) == 5


def test_trends_window_is_the_last_n_runs():
    t = trends(_history_with_run(), RUN_ID, last=3)
    assert t["driver_restart"].run_ids[-1] == RUN_ID
    assert len(t["driver_restart"].run_ids) == 3


def test_compare_lists_changed_verdicts_and_mttr_deltas():
    previous = load_history(HISTORY)[-1]
    c = compare(previous, entry(recorded()))
    changed = {(ch.mechanism, ch.part): (ch.before, ch.after) for ch in c.verdicts_changed}
    assert changed[("checkpoint_recovery", "mechanism")] == ("passed", "failed")
    assert changed[("executor_replacement", "control")] == ("passed", "inconclusive")
    assert changed[("node_failure_reschedule", "control")] == ("passed", "not run")
    dr = next(ch for ch in c.changes if ch.mechanism == "driver_restart" and ch.part == "mechanism")
    assert dr.delta == pytest.approx(0.7)


def test_record_replaces_the_same_run_and_keeps_order(tmp_path):
    path = tmp_path / "h" / "history.jsonl"
    path.parent.mkdir()
    path.write_text(HISTORY.read_text() + "not json\n")
    record(path, recorded())
    runs = record(path, recorded())
    assert [r["run_id"] for r in runs] == sorted(r["run_id"] for r in runs)
    assert sum(r["run_id"] == RUN_ID for r in runs) == 1
    assert all(json.loads(line) for line in path.read_text().splitlines())


def test_history_path_override_then_environment_then_beside_the_runs(tmp_path, monkeypatch):
    monkeypatch.delenv(HISTORY_ENV, raising=False)
    assert history_path(tmp_path) == tmp_path / "history.jsonl"
    monkeypatch.setenv(HISTORY_ENV, str(tmp_path / "cache.jsonl"))
    assert history_path(tmp_path) == tmp_path / "cache.jsonl"
    assert history_path(tmp_path, str(tmp_path / "given.jsonl")) == tmp_path / "given.jsonl"
