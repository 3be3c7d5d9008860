"""Mechanism 4, checkpoint_recovery: a restarted query resumes from its checkpoint.

Trigger: kill the driver (grace 0) in the middle of a micro-batch: the reader pod polls
the checkpoint (``pipeline-tools checkpoint-info``) and strikes when batch N's offsets are
written but its commit is not.
Verification: the new driver's first batch (``spark_stream_first_batch_id``, from the
query listener via Prometheus) is the last committed batch + 1, not 0; the sink holds
every event of the window exactly once. MTTR is fault → the new driver's first progress.

Negative control: the job's twin (an application beside the job,
harness.spark_application.control_twin), whose checkpoint and sink are on emptyDirs,
same fault (the checkpoint is inside the driver then, so the strike does not wait for a
batch in flight). Declared failure: the new driver reports first batch 0 although the
checkpoint it replaced had committed batches.
"""

from __future__ import annotations

from typing import Any

from harness.chaos.pods import delete_pod
from harness.errors import FaultNotLanded, WaitTimeout
from harness.integrity.collect import ensure_reader, read_checkpoint
from harness.mechanisms.bounds import restart_terms
from harness.mechanisms.model import Bound, Term
from harness.mechanisms.template import MechanismTemplate, Seen, register
from harness.observe.wait import wait_until

__all__ = ["CheckpointRecovery", "resumes_after_checkpoint"]

STRIKE_WINDOW = 60.0
"""Batches start every trigger interval (5 s): a minute of polling sees many in flight."""


def resumes_after_checkpoint(
    run: MechanismTemplate, checkpoint: dict[str, Any], first_batch: float | None
) -> None:
    """Check that a new driver continued after the checkpoint's last commit, not at 0.

    The checkpoint is read a moment before the fault: the open batch may commit in
    between, so the new driver starts at the open batch (re-run) or the one after it.
    """
    committed = int(checkpoint["last_commit_batch"])
    planned = max(int(checkpoint["last_offset_batch"]), committed)
    run.note("first_batch_after_restart", first_batch)
    run.note("expected_first_batch", [committed + 1, planned + 1])
    if first_batch is None:
        run.fail("the new driver reported no first batch")
    elif not committed + 1 <= first_batch <= planned + 1:
        run.fail(
            f"the new driver started at batch {first_batch:.0f}, "
            f"expected {committed + 1}..{planned + 1} (the checkpoint's next batch)"
        )


@register
class CheckpointRecovery(MechanismTemplate):
    """Kill the driver mid-batch; the next one starts where the checkpoint says."""

    id = "checkpoint_recovery"
    expected_failure = "the new driver starts at batch 0 after batches had been committed"

    control_on_twin = True

    def switch_off(self) -> None:
        self.start_twin()  # the twin's checkpoint is on an emptyDir: that is the switch

    def steady_state(self) -> Seen[bool]:
        held, seen = super().steady_state()
        if held and self.negative_control:  # the twin must have a committed batch to lose
            last = self.app.last_batch()
            return (True if last >= 1 else None), f"{seen}, last batch {last:.0f}"
        return held, seen

    def bound(self) -> Bound:
        trigger = self.app.trigger_seconds()
        rerun = Term("re-run of the open batch", trigger, "pipeline-config TRIGGER_INTERVAL")
        return Bound((*restart_terms(self.ctx), rerun))

    def strike(self) -> dict[str, Any]:
        driver = self.app.driver()
        if driver is None:
            raise FaultNotLanded("no running driver to kill")
        if self.negative_control:  # the checkpoint is inside the driver: strike at once
            last = self.app.last_batch()
            if last < 1:
                raise FaultNotLanded(f"no committed batch to lose yet (last batch {last})")
            self.checkpoint = {"last_offset_batch": int(last), "last_commit_batch": int(last)}
        else:
            ensure_reader(self.ctx.core, self.ctx.tools_image)
            try:
                self.checkpoint = wait_until(
                    "a micro-batch in flight (offsets written, not committed)",
                    _in_flight(self),
                    STRIKE_WINDOW,
                    0.2,
                )
            except WaitTimeout as exc:
                raise FaultNotLanded(f"no batch in flight to strike: {exc}") from exc
        self.note("checkpoint_at_fault", self.checkpoint)
        self.ctx.timeline.add(
            "fault", driver.metadata.name, f"mid-batch (last commit {self.checkpoint})"
        )
        return delete_pod(self.ctx, self.ctx.namespace, driver.metadata.name, verify_gone=True)

    def recovered(self) -> Seen[float]:
        first = self.app.first_progress_after(self.fault_epoch)
        seen = f"first new progress {first}" if first else self.app.restart_seen(self.fault_epoch)
        return (first or None), seen

    def check(self) -> None:
        resumes_after_checkpoint(
            self, self.checkpoint, self.app.first_batch_after(self.fault_epoch)
        )

    def control_failed(self) -> Seen[dict[str, Any]]:
        first = self.app.first_batch_after(self.fault_epoch)
        seen = f"first batch of a new driver: {first}"
        if first == 0:
            return {"first_batch": 0, "committed_before": self.checkpoint}, seen
        return None, seen

    def control_healed(self) -> Seen[float]:
        first = self.app.first_batch_after(self.fault_epoch)
        committed = int(self.checkpoint["last_commit_batch"])
        healed = first is not None and first > committed
        return (1.0 if healed else None), f"first batch of a new driver: {first}"


def _in_flight(run: CheckpointRecovery) -> Any:
    def probe() -> Seen[dict[str, Any]]:
        info = read_checkpoint(run.ctx.core, timeout=20)
        open_batch = info["last_offset_batch"] > info["last_commit_batch"]
        seen = f"offsets {info['last_offset_batch']}, commits {info['last_commit_batch']}"
        return (info if open_batch else None), seen

    return probe
