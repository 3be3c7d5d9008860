"""Mechanism 10, pdb_drain_block: a PodDisruptionBudget refuses a drain's eviction.

Trigger: drain the node that runs the broker: cordon it, then evict the broker through
the Eviction API for DRAIN_SECONDS, retrying as ``kubectl drain`` does.
Verification: every eviction is refused with 429 while the budget is 0; the broker
keeps its UID and stays Running; the pipeline keeps flowing. The time measured is fault
→ first refusal (the budget acts at once).
Integrity: reconciliation, exactly once.
Negative control: the PDB deleted: the eviction succeeds and the broker is replaced.
"""

from __future__ import annotations

import time
from typing import Any

from kubernetes import client

from harness.chaos.nodes import cordon
from harness.deploy.manifests import load_documents
from harness.integrity.collect import reconcile_pipeline
from harness.mechanisms.context import MechanismContext
from harness.mechanisms.model import Bound, Term
from harness.mechanisms.outcome import Outcome

__all__ = ["bound", "run"]

DRAIN_SECONDS = 20.0
"""How long the drain keeps trying; kubectl drain retries every 5 s until its timeout."""
BROKER = "app.kubernetes.io/name=kafka"


def bound() -> Bound:
    """The budget acts on the first eviction request."""
    return Bound((Term("Eviction API answer", 2, "one API round trip, + margin"),))


def _broker(ctx: MechanismContext) -> client.V1Pod | None:
    pods = ctx.core.list_namespaced_pod(ctx.namespace, label_selector=BROKER).items
    live = [p for p in pods if p.status.phase == "Running" and not p.metadata.deletion_timestamp]
    return live[0] if live else None


def _restore_pdb(ctx: MechanismContext) -> None:
    pdb = next(
        d
        for d in load_documents("06-autoscaling.yaml", ctx.image_values)
        if d["kind"] == "PodDisruptionBudget" and d["metadata"]["name"] == "kafka"
    )
    policy = client.PolicyV1Api(ctx.api)
    try:
        policy.create_namespaced_pod_disruption_budget(ctx.namespace, pdb)
    except client.ApiException as exc:
        if exc.status != 409:
            raise


def run(ctx: MechanismContext, negative_control: bool = False) -> Outcome:
    """Cordon the broker's node and try to evict the broker."""
    outcome = Outcome("pdb_drain_block", negative_control, bound())
    broker = _broker(ctx)
    if broker is None:
        outcome.fail("steady state: no running broker")
        return outcome
    node, uid = broker.spec.node_name, broker.metadata.uid
    if negative_control:
        ctx.rollbacks.register("re-create the kafka PDB from 06", lambda: _restore_pdb(ctx))
        client.PolicyV1Api(ctx.api).delete_namespaced_pod_disruption_budget("kafka", ctx.namespace)
        ctx.timeline.add("control", "kafka", "PDB deleted (mechanism off)")
    begun = time.time()
    cordon(ctx, node)  # registers the uncordon first
    ctx.timeline.add("fault", broker.metadata.name, "evict the broker, as a drain does")
    answers: list[int] = []
    first_refusal: float | None = None
    eviction: dict[str, Any] = {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": broker.metadata.name, "namespace": ctx.namespace},
    }
    while time.time() - begun < DRAIN_SECONDS:
        try:
            ctx.core.create_namespaced_pod_eviction(broker.metadata.name, ctx.namespace, eviction)
            answers.append(201)
            ctx.timeline.add("eviction", broker.metadata.name, "evicted (201)")
            break
        except client.ApiException as exc:
            answers.append(exc.status)
            if exc.status == 429 and first_refusal is None:
                first_refusal = time.time()
                ctx.timeline.add("recovered", broker.metadata.name, "eviction refused (429)")
        ctx.timeline.add("eviction", broker.metadata.name, f"answer {answers[-1]}")
        time.sleep(5.0)  # kubectl drain's retry interval: the drain itself, not a wait
    outcome.evidence["eviction_answers"] = answers
    if first_refusal is None:
        outcome.fail(f"no eviction was refused: answers {answers}")
    else:
        outcome.mttr_seconds = first_refusal - begun
        if not outcome.bound.holds(outcome.mttr_seconds):
            outcome.fail(
                f"refusal after {outcome.mttr_seconds:.1f}s, bound {outcome.bound.arithmetic()}"
            )
    if any(a != 429 for a in answers):
        outcome.fail(f"an eviction was not refused with 429: {answers}")
    after = _broker(ctx)
    outcome.evidence["broker_uid"] = [uid, None if after is None else after.metadata.uid]
    if after is None or after.metadata.uid != uid:
        outcome.fail("the guarded broker did not keep its UID")
    if not negative_control:
        outcome.reconciliation = reconcile_pipeline(ctx.core, ctx.tools_image, settle=90.0)
        if not outcome.reconciliation.exactly_once:
            outcome.fail(f"integrity: {outcome.reconciliation.summary()}")
    return outcome
