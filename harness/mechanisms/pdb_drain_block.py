"""Mechanism 10, pdb_drain_block: a PodDisruptionBudget refuses a drain's eviction.

Trigger: drain the node that runs the broker: cordon it (harness.chaos.nodes.cordon),
then evict the broker through the Eviction API (harness.chaos.evictions.evict_pod),
retrying every DRAIN_RETRY seconds for DRAIN_SECONDS as ``kubectl drain`` does. It
landed when the API server answered the eviction.
Verification: the first eviction is refused with 429 (the budget acts at once), every
retry is refused too, the broker keeps its UID and stays Running, the pipeline keeps
flowing. The time measured is fault → first refusal.
Integrity: the window's events, exactly once.
Negative control: the PDB deleted, same fault. Declared failure: the eviction is
answered 201 (the broker is evicted); a refusal would mean a budget still guards it.
"""

from __future__ import annotations

import time
from typing import Any

from kubernetes import client

from harness.chaos.evictions import evict_pod
from harness.chaos.nodes import cordon
from harness.deploy.manifests import load_documents
from harness.errors import FaultNotLanded
from harness.mechanisms.model import Bound, Term
from harness.mechanisms.template import MechanismTemplate, Seen, register
from harness.observe.wait import wait_until

__all__ = ["PdbDrainBlock"]

DRAIN_SECONDS = 20.0
"""How long the drain keeps trying; kubectl drain retries every 5 s until its timeout."""
DRAIN_RETRY = 5.0
BROKER = "app.kubernetes.io/name=kafka"
PDB = "kafka"


@register
class PdbDrainBlock(MechanismTemplate):
    """Cordon the broker's node and try to evict the broker."""

    id = "pdb_drain_block"
    expected_failure = "the broker's eviction is answered 201 (no budget refuses it)"
    poll = 0.5

    def switch_off(self) -> None:
        policy = client.PolicyV1Api(self.ctx.api)
        self.ctx.rollbacks.register("re-create the kafka PDB from 06", self._restore_pdb)
        policy.delete_namespaced_pod_disruption_budget(PDB, self.ctx.namespace)

        def gone() -> Seen[bool]:
            names = {
                p.metadata.name
                for p in policy.list_namespaced_pod_disruption_budget(self.ctx.namespace).items
            }
            return (True if PDB not in names else None), f"PDBs {sorted(names)}"

        wait_until(f"PDB {PDB} deleted", gone, 30.0, 0.5)

    def steady_state(self) -> Seen[bool]:
        broker = self._broker()
        return (True if broker is not None else None), f"broker {broker}"

    def bound(self) -> Bound:
        return Bound((Term("Eviction API answer", 2, "one API round trip, + margin"),))

    def strike(self) -> dict[str, Any]:
        broker = self._broker()
        if broker is None:
            raise FaultNotLanded("no running broker to evict")
        self.broker, self.uid = broker.metadata.name, broker.metadata.uid
        cordon(self.ctx, broker.spec.node_name)  # registers the uncordon first
        self.evicted_at = time.time()
        self.answers = [evict_pod(self.ctx, self.ctx.namespace, self.broker)]
        self.answered_at = time.time()
        if self.answers[0] not in (201, 429):
            raise FaultNotLanded(f"the eviction was answered {self.answers[0]}, not 201 or 429")
        return {
            "node": broker.spec.node_name,
            "pod": self.broker,
            "uid": self.uid,
            "answer": self.answers[0],
        }

    def recovered(self) -> Seen[float]:
        refused = self.answers[0] == 429
        return (self.answered_at if refused else None), f"answers {self.answers}"

    def mttr(self, recovered_at: float) -> float:
        """From the eviction request to its refusal (the cordon before it is not the PDB's)."""
        return recovered_at - self.evicted_at

    def check(self) -> None:
        """The drain goes on: every retry for DRAIN_SECONDS must be refused as well."""
        while time.time() - self.fault_epoch < DRAIN_SECONDS:
            time.sleep(DRAIN_RETRY)  # kubectl drain's retry interval: the drain itself
            self.answers.append(evict_pod(self.ctx, self.ctx.namespace, self.broker))
        self.note("eviction_answers", self.answers)
        if any(a != 429 for a in self.answers):
            self.fail(f"an eviction was not refused with 429: {self.answers}")
        after = self._broker()
        self.note("broker_uid", [self.uid, None if after is None else after.metadata.uid])
        if after is None or after.metadata.uid != self.uid:
            self.fail("the guarded broker did not keep its UID")

    def control_failed(self) -> Seen[dict[str, Any]]:
        evicted = self.answers[0] == 201
        seen = f"answers {self.answers}"
        return (
            {"eviction_answer": 201, "pod": self.broker, "uid": self.uid} if evicted else None
        ), seen

    def _broker(self) -> client.V1Pod | None:
        pods = self.ctx.core.list_namespaced_pod(self.ctx.namespace, label_selector=BROKER).items
        live = [
            p for p in pods if p.status.phase == "Running" and not p.metadata.deletion_timestamp
        ]
        return live[0] if live else None

    def _restore_pdb(self) -> None:
        pdb = next(
            d
            for d in load_documents("06-autoscaling.yaml", self.ctx.image_values)
            if d["kind"] == "PodDisruptionBudget" and d["metadata"]["name"] == PDB
        )
        try:
            client.PolicyV1Api(self.ctx.api).create_namespaced_pod_disruption_budget(
                self.ctx.namespace, pdb
            )
        except client.ApiException as exc:
            if exc.status != 409:
                raise
