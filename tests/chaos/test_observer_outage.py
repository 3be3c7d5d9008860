"""An observer outage gives an inconclusive verdict, never a pass (on the real cluster).

driver_restart's negative control reads its declared failure partly from Prometheus ("no
progress from a driver started after the fault"). With Prometheus scaled to zero from
just after the strike through the verdict window, that evidence cannot be read: the
control must end INCONCLUSIVE. (Before the framework rework this exact run passed.)
"""

from __future__ import annotations

import pytest

from harness.chaos.observers import stop_prometheus
from harness.mechanisms.context import MechanismContext
from harness.mechanisms.outcome import Verdict
from harness.mechanisms.runner import begin, conclude, strike


@pytest.mark.disruptive
@pytest.mark.negative_control
@pytest.mark.mechanism("driver_restart")
def test_prometheus_down_through_a_negative_control_is_inconclusive(
    chaos: MechanismContext,
) -> None:
    run = begin("driver_restart", chaos, negative_control=True)
    strike(run)
    assert run.struck, run.outcome.explain()
    run.outcome.evidence["observer_fault"] = stop_prometheus(chaos)
    outcome = conclude(run)
    print(outcome.explain())
    assert outcome.verdict is Verdict.INCONCLUSIVE, outcome.explain()
    assert outcome.inconclusive is not None
    assert "could not be read" in outcome.inconclusive or "restarted" in outcome.inconclusive
