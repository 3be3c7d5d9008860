"""Mechanism 5, executor_replacement, and its negative control (maxNumFailures=1)."""

from __future__ import annotations

import pytest

from harness.mechanisms import executor_replacement
from harness.mechanisms.context import MechanismContext


@pytest.mark.mechanism("executor_replacement")
def test_executor_replacement(chaos: MechanismContext) -> None:
    outcome = chaos.record(executor_replacement.run(chaos))
    print(f"MTTR {outcome.mttr_seconds}s, bound {outcome.bound.arithmetic()}")
    assert outcome.healed, "; ".join(outcome.failures)


@pytest.mark.mechanism("executor_replacement")
@pytest.mark.negative_control
def test_executor_replacement_negative_control(chaos: MechanismContext) -> None:
    outcome = chaos.record(executor_replacement.run(chaos, negative_control=True))
    assert not outcome.healed, (
        "executor_replacement passed with spark.executor.maxNumFailures=1 and two kills: "
        "the check cannot fail"
    )
