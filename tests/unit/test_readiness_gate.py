"""readiness_gate's pure parts: the bounds from the probes, the EndpointSlice reading and
what the client's record says (recorded calls, no cluster)."""

from __future__ import annotations

from harness.chaos.endpoints import FAULT_REASON, Call
from harness.mechanisms.model import Bound
from harness.mechanisms.readiness_gate import (
    MIN_SERVED_CALLS,
    client_problems,
    gate_terms,
    liveness_deadline,
    ready_endpoints,
    return_terms,
)

READINESS = {"periodSeconds": 2, "failureThreshold": 2}
LIVENESS = {"periodSeconds": 10, "failureThreshold": 3, "initialDelaySeconds": 10}
VICTIM, OTHER = "ingest-a", "ingest-b"


def _calls(start: float, end: float, answer: str, step: float = 0.1) -> list[Call]:
    """Alternating /readyz and /metrics calls; answer 'ok', 'refused', 'err'."""
    calls, t, n = [], start, 0
    while t < end:
        readyz = n % 2 == 0
        if answer == "err":
            call = Call(t, t + 0.01, "/readyz" if readyz else "/metrics", "ERR", "exit=3")
        elif answer == "refused" and readyz:
            call = Call(t, t + 0.01, "/readyz", "503", f"unhealthy: {FAULT_REASON}")
        elif readyz:
            call = Call(t, t + 0.01, "/readyz", "200", "ok")
        else:
            call = Call(t, t + 0.01, "/metrics", "200", f"replica={OTHER}")
        calls.append(call)
        t, n = t + step, n + 1
    return calls


def test_the_bounds_come_from_the_live_probes() -> None:
    gate = Bound(gate_terms(READINESS))
    assert gate.seconds == 2 * 2 + 1 + 2
    assert "failureThreshold 2" in gate.terms[0].source
    assert Bound(return_terms(READINESS)).seconds == 2 * 1 + 2
    # lifted before the third failed liveness probe: 10 x (3 - 1) - margin
    assert liveness_deadline(LIVENESS) == 16.0


def test_an_endpoint_not_ready_or_absent_is_out_of_rotation() -> None:
    slices = [
        {
            "endpoints": [
                {"targetRef": {"name": VICTIM}, "conditions": {"ready": False}},
                {"targetRef": {"name": OTHER}, "conditions": {"ready": True}},
                {"targetRef": {"name": "ingest-c"}, "conditions": {}},  # nil: ready
            ]
        }
    ]
    assert ready_endpoints(slices) == {VICTIM: False, OTHER: True, "ingest-c": True}
    assert ready_endpoints([]).get(VICTIM, False) is False


def test_a_clean_gate_has_no_problem() -> None:
    calls = _calls(100.0, 104.0, "refused") + _calls(104.0, 112.0, "ok")
    problems, counts = client_problems(calls, 100.0, 103.0, 112.0, VICTIM)
    assert problems == []
    assert counts["refusals_in_detection_window"] > 0
    assert counts["calls_out_of_rotation"] >= MIN_SERVED_CALLS


def test_errors_after_the_gate_closed_and_answers_from_the_victim_are_problems() -> None:
    late = _calls(106.0, 107.0, "refused")
    victim = [Call(108.0, 108.01, "/metrics", "200", f"replica={VICTIM}")]
    calls = _calls(100.0, 106.0, "ok") + late + victim + _calls(108.1, 112.0, "ok")
    problems, counts = client_problems(calls, 100.0, 103.0, 112.0, VICTIM)
    assert any("failed with the replica out of rotation" in p for p in problems)
    assert any(f"answered by {VICTIM}" in p for p in problems)
    assert counts["errors_out_of_rotation"] == len([c for c in late if not c.ok])


def test_an_unanswered_call_in_the_detection_window_is_a_problem() -> None:
    calls = _calls(100.0, 101.0, "err") + _calls(101.0, 112.0, "ok")
    problems, _ = client_problems(calls, 100.0, 103.0, 112.0, VICTIM)
    assert any("not for the fault's reason" in p for p in problems)


def test_too_few_calls_out_of_rotation_prove_nothing() -> None:
    calls = _calls(100.0, 105.5, "ok")
    problems, _ = client_problems(calls, 100.0, 103.0, 105.5, VICTIM)
    assert any("needed to show the client was served" in p for p in problems)
