"""chaostoolkit actions: the phases of a mechanism run, and the restore that ends it.

An experiment's method holds, in this order (harness.chaostoolkit.experiment writes it):

1. ``begin_mechanism``: for a negative control, switch the mechanism off; wait for the
   steady state; compute the bound; open the reconciliation window;
2. ``strike_mechanism``: the fault, with the proof that it landed;
3. the probe ``mechanism_outcome`` (harness.chaostoolkit.probes): the verdict;
4. ``restore_pipeline``: the run's rollbacks, then the wait until the pipeline is whole,
   so that the steady-state hypothesis after the method judges the restored pipeline.

``restore_pipeline`` is the experiment's rollback too: whatever stopped the method (an
activity that raised, Ctrl-C, SIGTERM), it runs the rollbacks of the run still open.
The run lives between activities in harness.chaostoolkit.runs, keyed by mechanism id.
The fault target is checked (harness.safety) before anything: begin_mechanism refuses
a cluster the harness did not create.

Why the harness's own fault and not chaostoolkit-kubernetes'. chaosk8s has the same
faults for three mechanisms (``chaosk8s.pod.actions.terminate_pods`` with a label
selector and ``grace_period=0`` for driver_restart and executor_replacement,
``chaosk8s.node.actions.drain_nodes`` for pdb_drain_block), and none can take
strike_mechanism's place yet:

* the verdict needs state read just before the fault (the driver's UID,
  executionAttempts, the submit count, the batch in flight), which each mechanism's
  ``strike()`` records as it strikes: the template has no part that records it without
  striking, and none that proves afterwards that someone else's fault landed;
* the proof: the harness deletes with a UID precondition, so a successor with the same
  labels is never deleted in the target's place, and proves that UID gone;
  terminate_pods selects by label when it runs and deletes by name, and its output (the
  names) is not passed to the next activity;
* the target: chaosk8s builds its client from ``$KUBECONFIG`` or ``~/.kube/config`` and
  ``KUBERNETES_CONTEXT``, not the lab's kubeconfig that harness.safety vouches for, and
  chaostoolkit goes on with the method after a failed activity, so a guard activity
  before it could not stop it;
* drain_nodes raises ActivityFailed at the first 429, which is pdb_drain_block's pass,
  evicts every pod of the node, and leaves its cordon to the experiment's rollbacks,
  outside the run's Rollbacks.
"""

# No "from __future__ import annotations": chaostoolkit's discovery and the
# experiment validator read these annotations as types.
from typing import Any

from harness.chaostoolkit import runs
from harness.settings import LabSettings

__all__ = [
    "begin_mechanism",
    "replay_fault_sequence",
    "restore_after_sequence",
    "restore_pipeline",
    "strike_mechanism",
]


def begin_mechanism(mechanism: str, negative_control: bool = False) -> dict[str, Any]:
    """Begin a run: switch off (a control), steady state, bound, reconciliation window."""
    return runs.summary(runs.begin(mechanism, negative_control, LabSettings()))


def strike_mechanism(mechanism: str) -> dict[str, Any]:
    """Strike the open run's fault; the proof that it landed, or why the run is inconclusive."""
    return runs.summary(runs.strike(mechanism))


def restore_pipeline(mechanism: str, timeout: float = 300.0) -> dict[str, Any]:
    """Run the open run's rollbacks, end it, and wait until the pipeline is whole again."""
    return runs.restore(mechanism, LabSettings(), timeout).as_json()


def replay_fault_sequence(steps: list, plant: str = "") -> dict[str, Any]:  # type: ignore[type-arg]
    """Replay a fault sequence a property search found (harness.property.replay): the
    verdict, the broken promises and the step after which they broke."""
    from harness.chaostoolkit import sequences

    return sequences.run(steps, plant or None, LabSettings())


def restore_after_sequence(plant: str = "", timeout: float = 300.0) -> dict[str, Any]:
    """Put 05's application back if a weakness was planted; wait until the pipeline is whole."""
    from harness.chaostoolkit import sequences

    sequences.restore(LabSettings(), plant or None, timeout)
    return {"whole": True, "planted": plant}
