"""Mechanism 16, pvc_full_recovery, and its negative control (the alert rule removed)."""

from __future__ import annotations

import pytest

from harness.mechanisms import pvc_full_recovery
from harness.mechanisms.context import MechanismContext


@pytest.mark.mechanism("pvc_full_recovery")
def test_pvc_full_recovery(chaos: MechanismContext) -> None:
    outcome = chaos.record(pvc_full_recovery.run(chaos))
    print(f"MTTR {outcome.mttr_seconds}s, bound {outcome.bound.arithmetic()}, {outcome.evidence}")
    assert outcome.healed, "; ".join(outcome.failures)


@pytest.mark.mechanism("pvc_full_recovery")
@pytest.mark.negative_control
def test_pvc_full_recovery_negative_control(chaos: MechanismContext) -> None:
    outcome = chaos.record(pvc_full_recovery.run(chaos, negative_control=True))
    assert not outcome.healed, "pvc_full_recovery passed with its alert rule removed"
    assert "alert_after_s" not in outcome.evidence, f"an alert fired: {outcome.evidence}"
