"""The runner's three verdicts, on recorded outcomes of made-up mechanisms (no cluster).

Each case is one way a run can end: a steady state that never held, a fault that did not
land, an observer that could not be read (Prometheus down through a negative control's
window), a Prometheus restart inside the window, a recovery within or over its bound, a
control whose declared failure was seen, or that healed, or that saw nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest

from harness.chaos.rollback import Rollbacks
from harness.errors import FaultNotLanded, ObserverUnavailable
from harness.mechanisms.context import MechanismContext
from harness.mechanisms.model import Bound, Term
from harness.mechanisms.outcome import Outcome, Verdict
from harness.mechanisms.runner import conclude, start, strike
from harness.mechanisms.template import MechanismTemplate, Seen


@dataclass
class RecordedPrometheus:
    """What the runner asks of Prometheus after the window: when it started."""

    started: float = 0.0

    def started_at(self) -> float:
        return self.started


@dataclass
class Script:
    """What each part of the made-up mechanism answers, in order."""

    steady: list[bool] = field(default_factory=lambda: [True])
    landed: dict[str, Any] | Exception = field(default_factory=lambda: {"pod": "driver-1"})
    recovered_after: float | None = 0.0
    """Seconds after the strike at which recovered() says so; None: never."""
    recovered_raises: bool = False
    control_evidence_after: float | None = None
    control_raises: bool = False


SCRIPT = Script()


class Recorded(MechanismTemplate):
    """A mechanism whose parts answer from SCRIPT (readiness_gate: it touches no data)."""

    id = "readiness_gate"
    expected_failure = "the made-up failure"
    poll: ClassVar[float] = 0.01
    margin: ClassVar[float] = 0.3
    steady_timeout: ClassVar[float] = 0.1

    def switch_off(self) -> None:
        self.ctx.rollbacks.register("switch back on", lambda: None)

    def steady_state(self) -> Seen[bool]:
        held = SCRIPT.steady[0]
        return (True if held else None), f"steady={held}"

    def bound(self) -> Bound:
        return Bound((Term("recorded", 0.2, "test"),))

    def strike(self) -> dict[str, Any]:
        if isinstance(SCRIPT.landed, Exception):
            raise SCRIPT.landed
        return SCRIPT.landed

    def recovered(self) -> Seen[float]:
        if SCRIPT.recovered_raises:
            raise ObserverUnavailable("Prometheus could not be read: connection refused")
        after = SCRIPT.recovered_after
        now = time.time()
        if after is not None and now - self.fault_epoch >= after:
            return now, "recovered"
        return None, "not yet"

    def control_failed(self) -> Seen[dict[str, Any]]:
        if SCRIPT.control_raises:
            raise ObserverUnavailable("Prometheus could not be read: connection refused")
        after = SCRIPT.control_evidence_after
        if after is not None and time.time() - self.fault_epoch >= after:
            return {"state": "FAILED"}, "failed as declared"
        return None, "still running"

    def control_healed(self) -> Seen[float]:
        if SCRIPT.control_raises:
            raise ObserverUnavailable("Prometheus could not be read: connection refused")
        return self.recovered()


def _run(script: Script, control: bool = False, prom_started: float = 0.0) -> Outcome:
    global SCRIPT
    SCRIPT = script
    with Rollbacks() as undo:
        ctx = MechanismContext(None, RecordedPrometheus(prom_started), undo, {})  # type: ignore[arg-type]
        run = start(Recorded, ctx, control)
        undo.registered.pop(0)  # the application restore: nothing to restore here
        strike(run)
        return conclude(run)


def test_recovery_within_the_bound_passes_with_its_mttr() -> None:
    outcome = _run(Script(recovered_after=0.05))
    assert outcome.verdict is Verdict.PASSED
    assert outcome.mttr_seconds is not None
    assert 0.05 <= outcome.mttr_seconds <= 0.2
    assert outcome.landed == {"pod": "driver-1"}


def test_recovery_over_the_bound_fails() -> None:
    outcome = _run(Script(recovered_after=0.35))
    assert outcome.verdict is Verdict.FAILED
    assert "over the bound" in outcome.failures[0]


def test_no_recovery_fails_with_what_was_last_seen() -> None:
    outcome = _run(Script(recovered_after=None))
    assert outcome.verdict is Verdict.FAILED
    assert "last seen: not yet" in outcome.failures[0]


def test_a_steady_state_that_never_held_is_inconclusive_and_nothing_strikes() -> None:
    outcome = _run(Script(steady=[False], landed=AssertionError("struck")))
    assert outcome.verdict is Verdict.INCONCLUSIVE
    assert outcome.inconclusive is not None
    assert "steady state did not hold" in outcome.inconclusive
    assert outcome.landed is None


def test_a_fault_that_did_not_land_is_inconclusive() -> None:
    outcome = _run(Script(landed=FaultNotLanded("pkill exited 1: no process matched")))
    assert outcome.verdict is Verdict.INCONCLUSIVE
    assert outcome.inconclusive == "pkill exited 1: no process matched"


def test_an_unreadable_observer_during_recovery_is_inconclusive_not_failed() -> None:
    outcome = _run(Script(recovered_raises=True))
    assert outcome.verdict is Verdict.INCONCLUSIVE
    assert outcome.inconclusive is not None
    assert "could not be read" in outcome.inconclusive
    assert not outcome.failures


def test_a_control_passes_only_on_its_declared_evidence() -> None:
    outcome = _run(Script(recovered_after=None, control_evidence_after=0.05), control=True)
    assert outcome.verdict is Verdict.PASSED
    assert outcome.control_evidence == {"state": "FAILED"}
    assert outcome.expected_failure == "the made-up failure"
    assert not outcome.healed


def test_a_control_ends_as_soon_as_its_evidence_is_seen() -> None:
    begun = time.monotonic()
    _run(Script(recovered_after=None, control_evidence_after=0.0), control=True)
    assert time.monotonic() - begun < 0.2  # the deadline is bound 0.2 + margin 0.3


def test_a_control_whose_mechanism_heals_fails() -> None:
    outcome = _run(Script(recovered_after=0.0, control_evidence_after=None), control=True)
    assert outcome.verdict is Verdict.FAILED
    assert "healed with it switched off" in outcome.failures[0]


def test_a_control_that_saw_nothing_fails() -> None:
    outcome = _run(Script(recovered_after=None, control_evidence_after=None), control=True)
    assert outcome.verdict is Verdict.FAILED
    assert "declared failure was not seen" in outcome.failures[0]


def test_prometheus_down_through_a_control_is_inconclusive_never_a_pass() -> None:
    outcome = _run(Script(recovered_after=None, control_raises=True), control=True)
    assert outcome.verdict is Verdict.INCONCLUSIVE
    assert outcome.verdict is not Verdict.PASSED
    assert outcome.control_evidence is None


def test_a_prometheus_restart_inside_the_window_is_inconclusive() -> None:
    outcome = _run(
        Script(recovered_after=None, control_evidence_after=0.0),
        control=True,
        prom_started=time.time() + 3600,
    )
    assert outcome.verdict is Verdict.INCONCLUSIVE
    assert outcome.inconclusive is not None
    assert "restarted inside the verdict window" in outcome.inconclusive


@pytest.mark.parametrize(
    ("control", "inconclusive", "evidence", "failures", "verdict"),
    [
        pytest.param(False, None, None, [], Verdict.PASSED, id="mechanism-all-checks-held"),
        pytest.param(False, None, None, ["x"], Verdict.FAILED, id="mechanism-a-check-failed"),
        pytest.param(False, "why", None, [], Verdict.INCONCLUSIVE, id="mechanism-inconclusive"),
        pytest.param(True, None, {"e": 1}, [], Verdict.PASSED, id="control-evidence-seen"),
        pytest.param(True, None, None, [], Verdict.FAILED, id="control-no-evidence"),
        pytest.param(True, "why", {"e": 1}, [], Verdict.INCONCLUSIVE, id="control-inconclusive"),
    ],
)
def test_verdict_of_a_recorded_outcome(
    control: bool,
    inconclusive: str | None,
    evidence: dict[str, Any] | None,
    failures: list[str],
    verdict: Verdict,
) -> None:
    outcome = Outcome("driver_restart", control, Bound(()))
    outcome.inconclusive, outcome.control_evidence, outcome.failures = (
        inconclusive,
        evidence,
        failures,
    )
    assert outcome.verdict is verdict
    assert outcome.as_json()["verdict"] == verdict.value
