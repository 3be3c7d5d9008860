"""Run a mechanism by id: the one entry point tests, experiments and the CLI share."""

from __future__ import annotations

from collections.abc import Callable

from harness.errors import InvalidInput
from harness.mechanisms import (
    checkpoint_recovery,
    driver_restart,
    executor_replacement,
    node_failure_reschedule,
    pdb_drain_block,
    pvc_full_recovery,
)
from harness.mechanisms.context import MechanismContext
from harness.mechanisms.outcome import Outcome
from harness.mechanisms.registry import mechanism

__all__ = ["IMPLEMENTED", "run_mechanism"]

IMPLEMENTED: dict[str, Callable[[MechanismContext, bool], Outcome]] = {
    "driver_restart": driver_restart.run,
    "executor_replacement": executor_replacement.run,
    "checkpoint_recovery": checkpoint_recovery.run,
    "pdb_drain_block": pdb_drain_block.run,
    "node_failure_reschedule": node_failure_reschedule.run,
    "pvc_full_recovery": pvc_full_recovery.run,
}


def run_mechanism(mechanism_id: str, ctx: MechanismContext, negative_control: bool) -> Outcome:
    """Run one implemented mechanism (or its negative control) in the given context."""
    mechanism(mechanism_id)
    if mechanism_id not in IMPLEMENTED:
        raise InvalidInput(
            "mechanism", "id", f"an implemented one: {sorted(IMPLEMENTED)}", mechanism_id
        )
    return IMPLEMENTED[mechanism_id](ctx, negative_control)
