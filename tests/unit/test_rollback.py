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
