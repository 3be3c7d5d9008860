"""A fault sequence replayed under chaostoolkit: the replay's clients and its verdict.

``replay_fault_sequence`` (harness.chaostoolkit.actions) opens the clients and the
Rollbacks like a mechanism run (harness.chaostoolkit.runs), checks the fault target
first, plants the weakness when the experiment names one, replays the steps
(harness.property.replay) and keeps the verdict here for the probe
``sequence_outcome``; ``restore_after_sequence`` runs what is still registered, puts
05's application back when a weakness was planted and waits until the pipeline is whole.
"""

from __future__ import annotations

from typing import Any

from harness.chaos.rollback import RollbackFailed, Rollbacks
from harness.deploy.pipeline import current_image_values
from harness.errors import HarnessError
from harness.invariants import wait_whole
from harness.kube import api_client
from harness.mechanisms.context import MechanismContext
from harness.observe.prometheus import prometheus
from harness.property.live import LivePipeline
from harness.property.replay import replay
from harness.property.steps import parse_steps
from harness.safety import check_fault_target
from harness.settings import LabSettings

__all__ = ["kept_promises", "outcome", "restore", "run"]

RESTORE_TIMEOUT = 300.0
_LAST: dict[str, Any] = {}


def run(steps: list[dict[str, Any]], plant: str | None, settings: LabSettings) -> dict[str, Any]:
    """Replay the steps on the lab (the weakness planted first); the verdict JSON."""
    parsed = parse_steps(steps, "the experiment's replay_fault_sequence steps")
    check_fault_target(settings, None)
    with (
        api_client(settings) as api,
        prometheus(settings) as prom,
        Rollbacks() as undo,
    ):
        ctx = MechanismContext(
            api, prom, undo, current_image_values(settings), kind_config=settings.kind_config
        )
        pipeline = LivePipeline(ctx, plant)
        pipeline.plant_weakness()
        replayed = replay(pipeline, parsed).as_json()
        failures = [r for r in undo.run_all() if r.error]
        if failures:
            raise RollbackFailed(failures)
    _LAST["outcome"] = replayed
    return replayed


def outcome() -> dict[str, Any]:
    """The last replay's verdict in this process."""
    if "outcome" not in _LAST:
        raise HarnessError("no fault sequence was replayed in this process")
    return dict(_LAST["outcome"])


def kept_promises() -> bool:
    """Whether the last replay in this process kept every promise (true before any)."""
    return "outcome" not in _LAST or _LAST["outcome"]["verdict"] != "failed"


def restore(settings: LabSettings, plant: str | None, timeout: float = RESTORE_TIMEOUT) -> None:
    """05's application again if a weakness was planted (recreated as declared); then the
    wait until the pipeline is whole (WaitTimeout names what is still broken)."""
    with api_client(settings) as api, prometheus(settings) as prom, Rollbacks() as undo:
        image_values = current_image_values(settings)
        if plant:
            LivePipeline(MechanismContext(api, prom, undo, image_values), None).unplant()
        wait_whole(api, prom, timeout, image_values=image_values)
