"""Mechanism 10, pdb_drain_block, and its negative control (the PDB deleted)."""

from __future__ import annotations

import pytest

from harness.mechanisms import pdb_drain_block
from harness.mechanisms.context import MechanismContext


@pytest.mark.mechanism("pdb_drain_block")
@pytest.mark.disruptive
def test_pdb_drain_block(chaos: MechanismContext) -> None:
    outcome = chaos.record(pdb_drain_block.run(chaos))
    print(f"first refusal after {outcome.mttr_seconds}s; {outcome.evidence}")
    assert outcome.healed, "; ".join(outcome.failures)


@pytest.mark.mechanism("pdb_drain_block")
@pytest.mark.disruptive
@pytest.mark.negative_control
def test_pdb_drain_block_negative_control(chaos: MechanismContext) -> None:
    outcome = chaos.record(pdb_drain_block.run(chaos, negative_control=True))
    assert not outcome.healed, "pdb_drain_block passed with the PDB deleted"
    assert 201 in outcome.evidence["eviction_answers"], outcome.evidence
