"""Bounds are arithmetic; timelines measure from the fault; the registry is the catalog."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.errors import InvalidInput
from harness.mechanisms import MECHANISMS, Bound, Term, mechanism
from harness.observe.timeline import Timeline


def test_bound_sums_its_terms_and_prints_the_arithmetic() -> None:
    bound = Bound((Term("retry", 5, "05 restartPolicy"), Term("submit", 40, "measured")))
    assert bound.seconds == 45
    assert bound.arithmetic() == "retry 5s + submit 40s = 45s"
    assert bound.holds(45.0)
    assert not bound.holds(45.1)


@given(st.lists(st.floats(min_value=0, max_value=600), min_size=1, max_size=6))
def test_bound_is_the_sum(values: list[float]) -> None:
    bound = Bound(tuple(Term(f"t{i}", v, "x") for i, v in enumerate(values)))
    assert bound.seconds == pytest.approx(sum(values))


def test_catalog_has_the_eighteen_mechanisms() -> None:
    assert len(MECHANISMS) == 18
    assert [m.number for m in MECHANISMS.values()] == list(range(1, 19))
    assert mechanism("driver_restart").negative_control == "restartPolicy Never"


def test_unknown_mechanism_names_the_known_ones() -> None:
    with pytest.raises(InvalidInput, match="driver_restart"):
        mechanism("driver_restrat", "experiments/x.json")


def test_timeline_measures_from_fault_to_recovery() -> None:
    timeline = Timeline(began=0.0)
    timeline.add("pod", "driver", "Running", at=1.0)
    timeline.add("fault", "driver", "deleted", at=10.0)
    timeline.add("recovered", "app", "RUNNING", at=5.0)  # before the fault: ignored
    timeline.add("recovered", "app", "RUNNING", at=52.5)
    assert timeline.seconds_between("fault", "recovered") == 42.5
    assert timeline.seconds_between("fault", "never") is None
    assert [r["at"] for r in timeline.as_rows()] == [1.0, 5.0, 10.0, 52.5]


@given(
    st.floats(min_value=0, max_value=1000),
    st.lists(st.floats(min_value=0, max_value=2000), min_size=1, max_size=20),
)
def test_recovery_is_the_first_mark_after_the_fault(fault: float, marks: list[float]) -> None:
    timeline = Timeline(began=0.0)
    timeline.add("fault", "x", "injected", at=fault)
    for at in marks:
        timeline.add("recovered", "x", "ok", at=at)
    after = [m for m in marks if m >= fault]
    expected = min(after) - fault if after else None
    assert timeline.seconds_between("fault", "recovered") == expected
