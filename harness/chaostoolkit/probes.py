"""chaostoolkit probes: the pipeline's steady state, and the verdict of a mechanism run.

``pipeline_whole`` is the steady-state hypothesis: chaostoolkit compares it with its
tolerance (``true``) before and after the method. ``mechanism_outcome`` is the method's
verdict; chaostoolkit evaluates tolerances in the hypothesis only, so the harness
(harness.experiments.verdict) applies this one, ``OUTCOME_TOLERANCE``: the outcome's
verdict is "passed".
"""

# No "from __future__ import annotations": chaostoolkit's discovery and the
# experiment validator read these annotations as types.
from typing import Any

from harness.chaostoolkit import runs
from harness.deploy.pipeline import current_image_values
from harness.invariants import broken_invariants
from harness.kube import api_client
from harness.observe.prometheus import prometheus
from harness.settings import LabSettings

__all__ = [
    "mechanism_outcome",
    "pipeline_whole",
    "sequence_kept_promises",
    "sequence_outcome",
]

OUTCOME_TOLERANCE: dict[str, Any] = {"type": "regex", "target": "verdict", "pattern": "^passed$"}
"""mechanism_outcome's tolerance, in chaostoolkit's words: its "verdict" field is "passed"."""


def pipeline_whole() -> bool:
    """Whether every invariant holds: nodes Ready and schedulable, app RUNNING, data flowing."""
    settings = LabSettings()
    with api_client(settings) as api, prometheus(settings) as prom:
        return not broken_invariants(api, prom, image_values=current_image_values(settings))


def mechanism_outcome(mechanism: str) -> dict[str, Any]:
    """Conclude the open run (recovery or the declared failure, checks, reconciliation);
    the outcome JSON, whose "verdict" is passed, failed or inconclusive."""
    return runs.conclude(mechanism)


def sequence_outcome() -> dict[str, Any]:
    """The verdict of the fault sequence replayed in this process ("verdict": passed,
    failed or inconclusive; its broken promises)."""
    from harness.chaostoolkit import sequences

    return sequences.outcome()


def sequence_kept_promises() -> bool:
    """True until a replayed fault sequence broke a promise in this process (before any
    replay: true), so a replay experiment's steady state deviates when its failure recurs."""
    from harness.chaostoolkit import sequences

    return sequences.kept_promises()
