"""Every registered mechanism and its negative control, on the real cluster and pipeline.

One test per part, generated from the registry: ``test_mechanism[driver_restart]`` and
``test_negative_control[driver_restart]``; ``pytest -k driver_restart`` runs both. A
verdict other than passed fails the test with the outcome's explanation; an
inconclusive verdict says INCONCLUSIVE and why, and is never a pass.
"""

from __future__ import annotations

import pytest

from harness.mechanisms.context import MechanismContext
from harness.mechanisms.outcome import Outcome, Verdict
from harness.mechanisms.runner import run_mechanism
from harness.mechanisms.template import implemented


def _params(control: bool) -> list[pytest.ParameterSet]:
    marks = [pytest.mark.disruptive, *([pytest.mark.negative_control] if control else [])]
    return [pytest.param(m, marks=[pytest.mark.mechanism(m), *marks], id=m) for m in implemented()]


def _judge(outcome: Outcome) -> None:
    print(outcome.explain())
    if outcome.verdict is Verdict.INCONCLUSIVE:
        pytest.fail(f"INCONCLUSIVE (not a pass): {outcome.explain()}", pytrace=False)
    if outcome.verdict is Verdict.FAILED:
        pytest.fail(outcome.explain(), pytrace=False)


@pytest.mark.parametrize("mechanism_id", _params(control=False))
def test_mechanism(chaos: MechanismContext, mechanism_id: str) -> None:
    _judge(run_mechanism(mechanism_id, chaos, negative_control=False))


@pytest.mark.parametrize("mechanism_id", _params(control=True))
def test_negative_control(chaos: MechanismContext, mechanism_id: str) -> None:
    _judge(run_mechanism(mechanism_id, chaos, negative_control=True))
