"""Mechanism 1, driver_restart, and its negative control (restartPolicy Never)."""

from __future__ import annotations

import pytest

from harness.mechanisms import driver_restart
from harness.mechanisms.context import MechanismContext


@pytest.mark.mechanism("driver_restart")
def test_driver_restart(chaos: MechanismContext) -> None:
    outcome = chaos.record(driver_restart.run(chaos))
    print(f"MTTR {outcome.mttr_seconds}s, bound {outcome.bound.arithmetic()}")
    assert outcome.healed, "; ".join(outcome.failures)


@pytest.mark.mechanism("driver_restart")
@pytest.mark.negative_control
def test_driver_restart_negative_control(chaos: MechanismContext) -> None:
    outcome = chaos.record(driver_restart.run(chaos, negative_control=True))
    assert not outcome.healed, (
        "the driver_restart check passed with restartPolicy Never: it cannot fail"
    )
    assert outcome.mttr_seconds is None, "the application came back with the mechanism off"
