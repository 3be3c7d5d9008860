"""The verdict matrix and the score, from the recorded run."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from harness.mechanisms.registry import MECHANISMS
from harness.report.matrix import NOT_RUN, STATUSES, Cell, Row, matrix, matrix_test
from harness.report.score import score
from tests.unit.report_data import recorded


def _rows():
    return {r.mechanism.id: r for r in matrix(recorded())}


def test_matrix_lists_the_whole_catalog_in_order():
    assert [r.mechanism.id for r in matrix(recorded())] == list(MECHANISMS)


def test_matrix_cells_follow_the_recorded_verdicts():
    rows = _rows()
    assert (rows["driver_restart"].run.status, rows["driver_restart"].control.status) == (
        "passed",
        "passed",
    )
    assert rows["checkpoint_recovery"].run.status == "failed"
    assert rows["executor_replacement"].control.status == "inconclusive"
    assert rows["node_failure_reschedule"].run.status == "inconclusive"
    assert rows["node_failure_reschedule"].control.status == NOT_RUN
    assert rows["pvc_full_recovery"].control.status == "failed"
    assert rows["driver_liveness"].run.status == NOT_RUN
    assert rows["driver_liveness"].implemented is False


def test_a_pass_whose_control_did_not_pass_is_unproven():
    rows = _rows()
    assert rows["executor_replacement"].unproven
    assert rows["executor_replacement"].label == "passed, unproven"
    assert rows["pvc_full_recovery"].unproven
    assert not rows["driver_restart"].unproven


def test_the_observer_outage_test_does_not_stand_in_for_a_control():
    data = recorded()
    data["tests"] = [
        t for t in data["tests"] if "test_negative_control[driver_restart]" not in t["nodeid"]
    ]
    row = next(r for r in matrix(data) if r.mechanism.id == "driver_restart")
    assert row.control.status == NOT_RUN


def test_matrix_test_reads_only_generated_node_ids():
    assert matrix_test("tests/chaos/test_mechanisms.py::test_mechanism[driver_restart]") == (
        "driver_restart",
        False,
    )
    assert matrix_test(
        "tests/chaos/test_mechanisms.py::test_negative_control[pdb_drain_block]"
    ) == (
        "pdb_drain_block",
        True,
    )
    assert matrix_test("tests/chaos/test_observer_outage.py::test_prometheus_down") is None
    assert matrix_test("tests/chaos/test_mechanisms.py::test_mechanism[no_such]") is None


def test_margin_is_bound_minus_mttr():
    rows = _rows()
    assert rows["driver_restart"].run.margin == 105 - 61.7
    assert rows["checkpoint_recovery"].run.margin < 0


def test_a_passed_verdict_with_a_failed_teardown_is_failed():
    data = recorded()
    test = next(t for t in data["tests"] if t["nodeid"].endswith("test_mechanism[driver_restart]"))
    test["outcome"], test["message"] = "error", "Failed: invariants broken after the test"
    row = next(r for r in matrix(data) if r.mechanism.id == "driver_restart")
    assert row.run.status == "failed"
    assert "invariants broken" in row.run.reason


def test_score_of_the_recorded_run_follows_its_formula():
    s = score(matrix(recorded()))
    # driver_restart 1, pdb 1, executor 0.5 (unproven), pvc 0.5, checkpoint 0, node 0
    assert s.ran == 6
    assert s.value == round(100 * 3 / 6, 1)
    assert s.breakdown["node_failure_reschedule"] == 0


def _row(i: int, run: str, control: str) -> Row:
    return Row(list(MECHANISMS.values())[i], True, Cell(run, ""), Cell(control, ""))


@given(st.lists(st.tuples(st.sampled_from(STATUSES), st.sampled_from(STATUSES)), max_size=18))
def test_score_stays_within_0_100_and_never_counts_inconclusive(cells):
    rows = [_row(i, a, b) for i, (a, b) in enumerate(cells)]
    s = score(rows)
    if s.value is None:
        assert all(a == NOT_RUN and b == NOT_RUN for a, b in cells)
        return
    assert 0 <= s.value <= 100
    for row in rows:
        if row.mechanism.id in s.breakdown and row.run.status != "passed":
            assert s.breakdown[row.mechanism.id] == 0
