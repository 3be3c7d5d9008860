"""Rollbacks run newest first, all of them, on success, failure and interrupt."""

from __future__ import annotations

import pytest

from harness.chaos import RollbackFailed, Rollbacks


def _strike(ran: list[str], fault: BaseException) -> None:
    """Register one rollback, then fail the way a test or a user would."""
    with Rollbacks() as undo:
        undo.register("restore", lambda: ran.append("restore"))
        raise fault


def test_rollbacks_run_in_reverse_order_on_success() -> None:
    ran: list[str] = []
    with Rollbacks() as undo:
        undo.register("first", lambda: ran.append("first"))
        undo.register("second", lambda: ran.append("second"))
    assert ran == ["second", "first"]


def test_rollbacks_run_when_the_test_fails_and_the_failure_survives() -> None:
    ran: list[str] = []
    with pytest.raises(AssertionError, match="the check"):
        _strike(ran, AssertionError("the check"))
    assert ran == ["restore"]


def test_rollbacks_run_on_keyboard_interrupt() -> None:
    ran: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        _strike(ran, KeyboardInterrupt())
    assert ran == ["restore"]


def test_a_failing_rollback_does_not_stop_the_others() -> None:
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("docker start failed")

    def run() -> None:
        with Rollbacks() as undo:
            undo.register("first", lambda: ran.append("first"))
            undo.register("broken", broken)
            undo.register("third", lambda: ran.append("third"))

    with pytest.raises(RollbackFailed, match="docker start failed") as info:
        run()
    assert ran == ["third", "first"]
    assert [f.description for f in info.value.failures] == ["broken"]


def test_each_rollback_runs_once() -> None:
    ran: list[str] = []
    undo = Rollbacks()
    undo.register("once", lambda: ran.append("once"))
    undo.run_all()
    undo.run_all()
    assert ran == ["once"]


def test_leftover_checks_of_rolled_back_faults_still_run() -> None:
    cordoned = {"w1": True}
    undo = Rollbacks()
    undo.register(
        "uncordon w1",
        lambda: None,  # a rollback that "succeeds" without undoing anything
        leftover=lambda: ["node w1 cordoned"] if cordoned["w1"] else [],
    )
    undo.register("no check", lambda: None)
    undo.run_all()
    assert undo.registered == []
    assert undo.leftovers() == ["node w1 cordoned"]
    cordoned["w1"] = False
    assert undo.leftovers() == []


def test_leftovers_come_in_the_order_the_faults_were_registered() -> None:
    undo = Rollbacks()
    undo.register("first", lambda: None, leftover=lambda: ["first left"])
    undo.register("second", lambda: None, leftover=lambda: ["second left", "and more"])
    with undo:
        pass
    assert undo.leftovers() == ["first left", "second left", "and more"]


def test_a_leftover_check_that_cannot_read_the_cluster_is_a_problem() -> None:
    def unreadable() -> list[str]:
        raise ConnectionError("API server gone")

    undo = Rollbacks()
    undo.register("delete chaos-cpu", lambda: None, leftover=unreadable)
    assert undo.leftovers() == [
        "delete chaos-cpu: leftover check failed: ConnectionError: API server gone"
    ]


def test_leftovers_settle_until_the_fault_is_gone() -> None:
    answers = [["pod chaos-cpu left (terminating)"], ["pod chaos-cpu left (terminating)"], []]
    undo = Rollbacks()
    undo.register("delete chaos-cpu", lambda: None, leftover=lambda: answers.pop(0))
    assert undo.leftovers(settle=5.0, interval=0.01) == []
    assert answers == []


def test_leftovers_that_do_not_settle_are_returned_after_the_deadline() -> None:
    undo = Rollbacks()
    undo.register("stop w1", lambda: None, leftover=lambda: ["node container w1 exited"])
    assert undo.leftovers(settle=0.05, interval=0.01) == ["node container w1 exited"]
