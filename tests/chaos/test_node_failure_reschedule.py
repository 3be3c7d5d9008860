"""Mechanism 12, node_failure_reschedule, and its negative control (tolerations for ever)."""

from __future__ import annotations

import pytest

from harness.mechanisms import node_failure_reschedule
from harness.mechanisms.context import MechanismContext


@pytest.mark.mechanism("node_failure_reschedule")
@pytest.mark.disruptive
def test_node_failure_reschedule(chaos: MechanismContext) -> None:
    outcome = chaos.record(node_failure_reschedule.run(chaos))
    print(f"MTTR {outcome.mttr_seconds}s, bound {outcome.bound.arithmetic()}, {outcome.evidence}")
    assert outcome.healed, "; ".join(outcome.failures)


@pytest.mark.mechanism("node_failure_reschedule")
@pytest.mark.disruptive
@pytest.mark.negative_control
def test_node_failure_reschedule_negative_control(chaos: MechanismContext) -> None:
    outcome = chaos.record(node_failure_reschedule.run(chaos, negative_control=True))
    assert not outcome.healed, "node_failure_reschedule passed with tolerations that never expire"
    assert outcome.mttr_seconds is None, f"a driver came back: {outcome.evidence}"
