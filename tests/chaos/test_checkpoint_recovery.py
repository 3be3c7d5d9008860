"""Mechanism 4, checkpoint_recovery, and its negative control (checkpoint on emptyDir)."""

from __future__ import annotations

import pytest

from harness.mechanisms import checkpoint_recovery
from harness.mechanisms.context import MechanismContext


@pytest.mark.mechanism("checkpoint_recovery")
def test_checkpoint_recovery(chaos: MechanismContext) -> None:
    outcome = chaos.record(checkpoint_recovery.run(chaos))
    print(f"MTTR {outcome.mttr_seconds}s, bound {outcome.bound.arithmetic()}, {outcome.evidence}")
    assert outcome.healed, "; ".join(outcome.failures)


@pytest.mark.mechanism("checkpoint_recovery")
@pytest.mark.negative_control
def test_checkpoint_recovery_negative_control(chaos: MechanismContext) -> None:
    outcome = chaos.record(checkpoint_recovery.run(chaos, negative_control=True))
    assert not outcome.healed, "checkpoint_recovery passed with the checkpoint on an emptyDir"
    assert outcome.evidence.get("first_batch_after_restart") == 0, outcome.evidence
