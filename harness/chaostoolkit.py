"""Activities for chaostoolkit experiments: the same harness functions the tests call.

An experiment (experiments/<id>.json) names these with a ``python`` provider, module
``harness.chaostoolkit``. Each opens its own clients from the harness's settings (the
lab's kubeconfig and context), so ``chaos run experiments/driver_restart.json`` works
from a shell with the lab up.
"""

from __future__ import annotations

from typing import Any

from harness.chaos.rollback import Rollbacks
from harness.deploy.pipeline import current_image_values
from harness.errors import WaitTimeout
from harness.invariants import broken_invariants, wait_whole
from harness.kube import api_client
from harness.mechanisms.context import MechanismContext
from harness.mechanisms.runner import run_mechanism as _run
from harness.observe.prometheus import prometheus
from harness.observe.timeline import Recorder
from harness.safety import check_fault_target
from harness.settings import LabSettings

__all__ = ["pipeline_whole", "restore_pipeline", "run_mechanism"]


def pipeline_whole() -> bool:
    """Steady-state probe: nodes Ready and schedulable, app RUNNING, data flowing."""
    settings = LabSettings()
    with api_client(settings) as api, prometheus(settings) as prom:
        return not broken_invariants(api, prom)


def run_mechanism(mechanism: str, negative_control: bool = False) -> dict[str, Any]:
    """Inject the mechanism's fault, verify, reconcile, roll back; return the outcome JSON."""
    settings = LabSettings()
    check_fault_target(settings, None)
    with (
        api_client(settings) as api,
        prometheus(settings) as prom,
        Rollbacks() as undo,
    ):
        ctx = MechanismContext(
            api, prom, undo, current_image_values(settings), kind_config=settings.kind_config
        )
        with Recorder(api, ctx.timeline, ("spark-pipeline", "spark-operator")):
            ctx.record(_run(mechanism, ctx, negative_control))
    result = ctx.outcome_json()
    assert result is not None
    return result


def restore_pipeline(timeout: float = 300.0) -> bool:
    """Rollback activity: wait until the invariants hold again; False if they do not."""
    settings = LabSettings()
    with api_client(settings) as api, prometheus(settings) as prom:
        try:
            wait_whole(api, prom, timeout)
        except WaitTimeout:
            return False
    return True
