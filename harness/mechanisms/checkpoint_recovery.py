"""Mechanism 4, checkpoint_recovery: a restarted query resumes from its checkpoint.

Trigger: kill the driver (grace 0) in the middle of a micro-batch: the reader pod polls
the checkpoint (``pipeline-tools checkpoint-info``) and strikes when batch N's offsets are
written but its commit is not.
Verification: the new driver's first batch (``spark_stream_first_batch_id``, from the
query listener via Prometheus) is the last committed batch + 1, not 0; the sink holds
every event exactly once. MTTR is fault → the new driver's first progress.
Negative control: the checkpoint on an emptyDir (and, so the real sink stays whole, a
separate sink directory): the new driver starts at batch 0.
"""

from __future__ import annotations

import time
from typing import Any

from harness.errors import WaitTimeout
from harness.integrity.collect import ensure_reader, read_checkpoint, reconcile_pipeline
from harness.mechanisms import driver_restart
from harness.mechanisms.context import MechanismContext
from harness.mechanisms.driver_restart import APP, recreate_application
from harness.mechanisms.model import Bound, Term
from harness.mechanisms.outcome import Outcome
from harness.observe.wait import wait_until

__all__ = ["bound", "run"]

STRIKE_WINDOW = 60.0
"""Batches start every 5 s: a minute of polling sees many in flight."""


def bound(app: dict[str, Any]) -> Bound:
    """driver_restart's bound plus one trigger interval (the re-run of the open batch)."""
    base = driver_restart.bound(app)
    return Bound((*base.terms, Term("re-run of the open batch", 5, "TRIGGER_INTERVAL")))


def _ephemeral_checkpoint(manifest: dict[str, Any]) -> None:
    """The mechanism switched off: checkpoint on an emptyDir, sink in its own directory."""
    pod = manifest["spec"]["driver"]["template"]["spec"]
    pod["volumes"].append({"name": "ephemeral-checkpoint", "emptyDir": {}})
    container = pod["containers"][0]
    container["volumeMounts"].append({"name": "ephemeral-checkpoint", "mountPath": "/ephemeral"})
    container["env"] = [
        {"name": "CHECKPOINT_PATH", "value": "/ephemeral/events"},
        {"name": "SINK_PATH", "value": "/data/sink/_negative_control"},
    ]


def run(ctx: MechanismContext, negative_control: bool = False) -> Outcome:
    """Kill the driver mid-batch and check where the new one starts."""
    if negative_control:
        ctx.rollbacks.register(
            "recreate the SparkApplication from 05", lambda: recreate_application(ctx)
        )
        ctx.timeline.add(
            "control", APP, "recreate with the checkpoint on an emptyDir (mechanism off)"
        )
        recreate_application(ctx, patch=_ephemeral_checkpoint)
    app = ctx.custom.get_namespaced_custom_object(
        driver_restart.GROUP, driver_restart.VERSION, ctx.namespace, driver_restart.PLURAL, APP
    )
    outcome = Outcome("checkpoint_recovery", negative_control, bound(app))
    ensure_reader(ctx.core, ctx.tools_image)
    driver = driver_restart.running_driver(ctx)
    if driver is None:
        outcome.fail("steady state: no running driver")
        return outcome
    last_batch = ctx.prom_scalar('max(spark_stream_last_batch_id{query="events"})')

    def in_flight() -> tuple[dict[str, Any] | None, str]:
        if negative_control:  # the checkpoint is inside the driver; strike on a fresh batch
            info = {"last_offset_batch": -1, "last_commit_batch": int(last_batch)}
            return info, "negative control: strike now"
        info = read_checkpoint(ctx.core, timeout=20)
        open_batch = info["last_offset_batch"] > info["last_commit_batch"]
        return (
            info if open_batch else None
        ), f"offsets {info['last_offset_batch']}, commits {info['last_commit_batch']}"

    try:
        info = wait_until(
            "a micro-batch in flight (offsets written, not committed)",
            in_flight,
            STRIKE_WINDOW,
            0.2,
        )
    except WaitTimeout as exc:
        outcome.fail(str(exc))
        return outcome
    committed = int(info["last_commit_batch"])
    outcome.evidence["checkpoint_at_fault"] = info
    fault_epoch = time.time()
    ctx.timeline.add(
        "fault", driver.metadata.name, f"delete driver mid-batch (last commit {committed})"
    )
    ctx.core.delete_namespaced_pod(driver.metadata.name, ctx.namespace, grace_period_seconds=0)
    try:
        first_progress = ctx.wait_for_progress(
            after=fault_epoch, timeout=outcome.bound.seconds + 30
        )
    except WaitTimeout as exc:
        outcome.fail(str(exc))
        return outcome
    outcome.mttr_seconds = first_progress - fault_epoch
    ctx.timeline.add("recovered", APP, "first progress of the new driver")
    if not outcome.bound.holds(outcome.mttr_seconds):
        outcome.fail(
            f"recovered in {outcome.mttr_seconds:.1f}s, over the bound {outcome.bound.arithmetic()}"
        )
    first_batch = ctx.prom_scalar(
        "max(spark_stream_first_batch_id"
        f" and spark_stream_driver_start_timestamp_seconds > {fault_epoch:.3f})"
    )
    outcome.evidence["first_batch_after_restart"] = first_batch
    outcome.evidence["last_committed_before"] = committed
    # The checkpoint was read a fraction of a second before the kill: the open batch may
    # have committed in between. Either way the new driver continues after the last
    # commit: at the open batch (re-run) or the one after it, never at 0.
    planned = max(int(info["last_offset_batch"]), committed)
    outcome.evidence["expected_first_batch"] = [committed + 1, planned + 1]
    if not committed + 1 <= first_batch <= planned + 1:
        outcome.fail(
            f"the new driver started at batch {first_batch:.0f}, "
            f"expected {committed + 1}..{planned + 1} (the checkpoint's next batch)"
        )
    outcome.reconciliation = reconcile_pipeline(ctx.core, ctx.tools_image, settle=90.0)
    if not outcome.reconciliation.exactly_once:
        outcome.fail(f"integrity: {outcome.reconciliation.summary()}")
    return outcome
