"""Mechanism 11, executor_decommission: an evicted executor hands its work back, then exits.

What provides it: with ``spark.decommission.enabled`` Spark gives every executor pod a
preStop hook that runs ``spark.kubernetes.decommission.script`` (BasicExecutorFeatureStep),
and the executor JVM handles SIGPWR. Our image's script (harness/images/assets/spark/
decom.sh; upstream's image ships its own at the same path) sends SIGPWR and waits for the
JVM: the executor tells the driver it is decommissioning (no new tasks are offered to
it), finishes its running tasks, migrates its shuffle blocks to a peer
(``spark.storage.decommission.*``) and exits 0, before the kubelet's SIGTERM.

Trigger: evict one executor pod through the Eviction API, as ``kubectl drain`` does to
each pod of a node, with the pod's own grace period so its preStop hook runs
(harness.chaos.evictions.evict). It landed when the eviction was answered 201 and the
pod with that UID is terminating. A whole node is not drained: the broker's
PodDisruptionBudget (maxUnavailable 0) refuses its eviction, so a drain of the broker's
node never completes, and a cordoned worker leaves the one other worker to take every
replacement, which tests capacity, not decommission.

Verification. "No failed tasks" alone cannot fail here: tasks take well under a second,
so a SIGTERM between two micro-batches fails none either. The run therefore checks the
decommission path itself, watching the pod to its end and following its log:
- the executor pod carried the preStop hook running the decommission script;
- its container ended with exit 0 (Completed), not 143 (SIGTERM's 128 + 15), within the
  pod's grace period (harness.observe.pod_end: its last state, from the watch);
- its log has the JVM's decommissioning lines (``Decommission executor N``, ``Finished
  decommissioning``), not only our script's;
- the driver's REST API (``allexecutors``, read inside the driver pod) lists the executor
  removed with a decommission as its reason (``Executor decommission: ...``);
- the driver's failed-task count did not rise across the fault;
- a replacement executor is ready under the same driver (same UID), the application stays
  RUNNING and the stream makes progress after it (executors.ExecutorLoss).
Evidence beside the checks: the termination message our script writes, the migration
lines of the executor's log, the driver's decommission lines. MTTR is eviction →
executor count restored.
Integrity: the window's events, exactly once.

Bound: the pod's grace period (the kubelet's SIGTERM, then its kill, end any decommission
by then: 30 s, 05's executor template) + executor_replacement's terms (the loss seen,
allocation batch delay, a new executor pod's start).

Negative control: the twin without ``spark.decommission.enabled`` (no preStop hook, no
SIGPWR handler; harness.spark_application.control_twin), same fault. Declared failure:
the kubelet's SIGTERM ends the executor (the JVM's shutdown: exit 143) and the driver
records its removal for a reason that is not a decommission. Seen as soon as both are,
seconds after the eviction. The control heals, and so fails, if the driver records a
decommission or the container exits 0.
"""

from __future__ import annotations

import re
import time
from typing import Any, ClassVar

from harness.chaos.evictions import evict
from harness.errors import Inconclusive, ObserverUnavailable, WaitTimeout
from harness.mechanisms.executors import ExecutorLoss
from harness.mechanisms.model import Bound, Term
from harness.mechanisms.template import Seen, register
from harness.observe.pod_end import PodEnd, Termination
from harness.observe.wait import wait_until

__all__ = [
    "SIGTERM_EXIT",
    "SWITCH",
    "ExecutorDecommission",
    "decommission_failures",
    "failed_tasks",
    "is_decommission",
    "jvm_decommission_lines",
    "prestop_command",
    "removal",
    "sigterm_evidence",
    "without_decommission",
]

CONTAINER = "spark-kubernetes-executor"
EXECUTOR_ID_LABEL = "spark-exec-id"
"""Spark's label of an executor pod with its executor id (Constants.SPARK_EXECUTOR_ID_LABEL)."""
SWITCH = "spark.decommission.enabled"
SCRIPT_CONF = "spark.kubernetes.decommission.script"
DEFAULT_SCRIPT = "/opt/decom.sh"
DEFAULT_GRACE = 30.0
"""A pod's terminationGracePeriodSeconds when its spec leaves it out."""
SIGTERM_EXIT = 143
"""128 + SIGTERM: the JVM's exit status after its shutdown on SIGTERM (tini passes it on)."""
EXECUTOR_LOG = re.compile(
    r"decommission|migrat|shuffle|RECEIVED SIGNAL|shutdown|self-exiting", re.IGNORECASE
)
"""The lines of the victim's log that are kept: the JVM's decommissioning and block
migration, our script's lines, a SIGTERM's shutdown (the control)."""
DECOMMISSIONING = re.compile(r"decommission", re.IGNORECASE)
STARTUP = "Registering SIG"
"""The JVM's start-up line (``Registering SIGPWR handler to trigger decommissioning``):
it names decommissioning, but says the handler is there, not that it ran."""
MIGRATED = re.compile(r"\bMigrated\b")
"""BlockManagerDecommissioner's line for each shuffle block moved to a peer."""
SCRIPT_MARK = "decom.sh:"
"""Our decom.sh's lines carry it; the JVM's own decommissioning lines do not."""
REMOVAL_WITHIN = 30.0
"""How long the driver may take to list the executor removed once its pod has ended."""
END_MARGIN = 15.0
"""Past the grace period: the kubelet's kill, its last status update, the pod's deletion."""


def without_decommission(manifest: dict[str, Any]) -> None:
    """The control's switch: the twin without spark.decommission.enabled (default false),
    so Spark adds no preStop hook and the executor JVM handles no SIGPWR."""
    manifest["spec"]["sparkConf"].pop(SWITCH, None)


def prestop_command(pod: Any, container: str = CONTAINER) -> list[str] | None:
    """The exec command of the container's preStop hook; None without one."""
    spec = next((c for c in pod.spec.containers or [] if c.name == container), None)
    hook = spec.lifecycle.pre_stop if spec is not None and spec.lifecycle is not None else None
    handler = getattr(hook, "_exec", None) if hook is not None else None
    return [str(part) for part in handler.command or []] if handler is not None else None


def is_decommission(reason: Any) -> bool:
    """Whether the driver's removal reason is a decommission (Spark's ExecutorDecommission
    reason reads ``Executor decommission: ...``; the executor's own ``Finished
    decommissioning``)."""
    return isinstance(reason, str) and DECOMMISSIONING.search(reason) is not None


def removal(rows: list[dict[str, Any]], executor_id: str) -> dict[str, Any] | None:
    """The driver's row for this executor once it is removed (inactive); else None."""
    row = next((r for r in rows if str(r.get("id")) == executor_id), None)
    return row if row is not None and row.get("isActive") is False else None


def jvm_decommission_lines(lines: list[str]) -> list[str]:
    """The executor JVM's own decommissioning lines: not our script's, not its start-up's."""
    return [
        line
        for line in lines
        if DECOMMISSIONING.search(line) and SCRIPT_MARK not in line and STARTUP not in line
    ]


def failed_tasks(rows: list[dict[str, Any]]) -> int:
    """Tasks failed on all the driver's executors, live and removed."""
    return sum(int(r.get("failedTasks") or 0) for r in rows)


def decommission_failures(
    hook: list[str] | None,
    script: str,
    ended: Termination,
    jvm_lines: list[str],
    removed: dict[str, Any] | None,
    failed: int,
) -> list[str]:
    """Why the evicted executor did not leave through decommission; empty when it did."""
    failures: list[str] = []
    if not hook or script not in hook:
        failures.append(
            f"the executor pod had no preStop hook running {script} (it had {hook}):"
            f" {SWITCH} did not reach the pod"
        )
    if ended.exit_code != 0:
        failures.append(
            f"the executor container ended {ended}, not exit 0 (143 is SIGTERM, 137 the kill"
            " after the grace period): the decommission did not end it"
        )
    if not jvm_lines:
        failures.append("the executor's log has no decommissioning line of the JVM")
    if removed is None:
        failures.append("the driver does not list the executor as removed")
    elif not is_decommission(removed.get("removeReason")):
        failures.append(
            f"the driver removed executor {removed.get('id')} for"
            f" {str(removed.get('removeReason'))[:200]!r}, not a decommission"
        )
    if failed > 0:
        failures.append(f"{failed} task(s) failed across the decommission (driver's failedTasks)")
    return failures


def sigterm_evidence(ended: Termination | None, removed: dict[str, Any] | None) -> dict[str, Any]:
    """The control's declared failure, once certain: SIGTERM ended the executor (exit 143)
    and the driver removed it for another reason than a decommission; else empty."""
    if ended is None or removed is None or ended.exit_code != SIGTERM_EXIT:
        return {}
    reason = removed.get("removeReason")
    if is_decommission(reason):
        return {}
    return {
        "exit_code": ended.exit_code,
        "termination_reason": ended.reason,
        "remove_reason": str(reason)[:300],
    }


@register
class ExecutorDecommission(ExecutorLoss):
    """Evict an executor; it decommissions through its preStop hook; Spark replaces it."""

    id = "executor_decommission"
    expected_failure = (
        f"without {SWITCH} the evicted executor has no preStop hook: the kubelet's SIGTERM"
        f" ends its JVM (exit {SIGTERM_EXIT}) and the driver records its removal for a"
        " reason that is not a decommission"
    )
    poll: ClassVar[float] = 2.0
    """Each poll of the control reads the driver's REST API through an exec."""

    def switch_off(self) -> None:
        self.start_twin(without_decommission)

    def steady_state(self) -> Seen[bool]:
        """The executors ready, and each registered with the driver: the JVM registers its
        SIGPWR handler before it registers, and SIGPWR's default action ends a process."""
        held, seen = super().steady_state()
        if held is None:
            return None, seen
        ids = {
            str((p.metadata.labels or {}).get(EXECUTOR_ID_LABEL))
            for p in self.app.pods("executor", ready=True)
        }
        active = {str(r.get("id")) for r in self.app.driver_executors() if r.get("isActive")}
        missing = sorted(ids - active)
        if missing:
            return None, f"{seen}; executors {missing} not active in the driver yet"
        return True, f"{seen}, active in the driver"

    def bound(self) -> Bound:
        graces = [
            p.spec.termination_grace_period_seconds for p in self.app.pods("executor", ready=True)
        ]
        self.grace = float(max((g for g in graces if g is not None), default=DEFAULT_GRACE))
        return Bound(
            (
                Term(
                    "decommission, within the executor pod's grace period",
                    self.grace,
                    "executor pods' terminationGracePeriodSeconds (05 executor template):"
                    " the kubelet's SIGTERM and kill end any decommission by then",
                ),
                *super().bound().terms,
            )
        )

    def strike(self) -> dict[str, Any]:
        ns = self.ctx.namespace
        name = self.victim()
        pod = self.ctx.core.read_namespaced_pod(name, ns)
        self.pod, self.uid = name, str(pod.metadata.uid)
        self.executor_id = str((pod.metadata.labels or {}).get(EXECUTOR_ID_LABEL, ""))
        if not self.executor_id:
            raise Inconclusive(f"executor pod {name} has no {EXECUTOR_ID_LABEL} label")
        self.hook = prestop_command(pod)
        self.script = self.app.spark_conf(SCRIPT_CONF, DEFAULT_SCRIPT)
        if self.negative_control and self.hook:
            raise Inconclusive(
                f"the twin's executor {name} has the preStop hook {self.hook} with {SWITCH}"
                " removed: decommission is not switched off, the control cannot be judged"
            )
        self.failed_before = failed_tasks(self.app.driver_executors())
        self.ended_now: Termination | None = None
        self.removed_now: dict[str, Any] | None = None
        follow = self.outcome.bound.seconds + self.margin + 120.0  # past the checks
        self.end = PodEnd(
            self.ctx.api, ns, name, self.uid, CONTAINER, EXECUTOR_LOG, follow, self.ctx.timeline
        )
        self.ctx.rollbacks.register(f"stop following executor pod {name}", self.end.stop)
        self.end.start()
        # The strike is the eviction; the reads before it are not the mechanism's time.
        self.fault_epoch = time.time()
        landed = evict(self.ctx, ns, name)
        return {**landed, "executor_id": self.executor_id, "prestop": self.hook}

    def check(self) -> None:
        super().check()
        ended = self._end()
        if ended is None:
            return
        lines = self.end.kept()
        jvm = jvm_decommission_lines(lines)
        rows = self._removed_rows()
        removed = removal(rows, self.executor_id)
        failed = failed_tasks(rows) - self.failed_before
        self.note("executor", {"pod": self.pod, "id": self.executor_id, "prestop": self.hook})
        self.note("termination", ended.as_json())
        if ended.finished_at is not None:
            self.note("eviction_to_exit_s", round(ended.finished_at - self.fault_epoch, 1))
        self.note("executor_decommission_log", jvm[-20:])
        self.note("decom_script_log", [line for line in lines if SCRIPT_MARK in line])
        self.note("shuffle_blocks_migrated", sum(1 for line in lines if MIGRATED.search(line)))
        self.note("driver_removal", removed)
        self.note("failed_tasks_during", failed)
        self.note("driver_decommission_log", self._driver_lines())
        for failure in decommission_failures(self.hook, self.script, ended, jvm, removed, failed):
            self.fail(failure)

    def control_failed(self) -> Seen[dict[str, Any]]:
        past = time.time() - self.fault_epoch
        self.ended_now = self.end.ended()
        self.removed_now = removal(self.app.driver_executors(), self.executor_id)
        reason = None if self.removed_now is None else self.removed_now.get("removeReason")
        seen = (
            f"{past:.0f}s after the eviction: executor {self.executor_id} container"
            f" {self.ended_now or 'not ended'}, driver's removal reason {str(reason)[:120]!r}"
        )
        evidence = sigterm_evidence(self.ended_now, self.removed_now)
        if not evidence:
            return None, seen
        return {
            **evidence,
            "seconds_after_eviction": round(past, 1),
            "pod": self.pod,
            "executor_id": self.executor_id,
            "prestop": self.hook,
            "executor_log": self.end.kept()[-10:],
        }, seen

    def control_healed(self) -> Seen[float]:
        """Healed with the switch off: the driver records a decommission, or the container
        exits 0 (read by control_failed in the same poll)."""
        reason = None if self.removed_now is None else self.removed_now.get("removeReason")
        exited = self.ended_now is not None and self.ended_now.exit_code == 0
        healed = is_decommission(reason) or exited
        seen = f"decommission recorded={is_decommission(reason)}, container exit 0={exited}"
        return (time.time() if healed else None), seen

    def _end(self) -> Termination | None:
        """How the evicted executor's container ended, once its pod is gone (waiting out
        the grace period at most); None, a failure recorded, if the pod outlives it."""
        left = self.fault_epoch + self.grace + END_MARGIN - time.time()
        gone = self.end.wait(left)
        ended = self.end.ended()
        if not gone and ended is None:
            self.fail(
                f"the evicted executor pod {self.pod} still runs {self.grace + END_MARGIN:.0f}s"
                " after its eviction, past its grace period"
            )
            return None
        if ended is None:
            raise ObserverUnavailable(
                f"how executor {self.pod}'s container ended was not seen"
                f" (watch: {self.end.watch_error or 'no error'})"
            )
        if not self.end.log_read:
            raise ObserverUnavailable(
                f"executor {self.pod}'s log could not be followed: {self.end.log_error}"
            )
        return ended

    def _removed_rows(self) -> list[dict[str, Any]]:
        """The driver's executors once it lists the evicted one removed (or at the deadline)."""

        def probe() -> Seen[list[dict[str, Any]]]:
            rows = self.app.driver_executors()
            found = removal(rows, self.executor_id)
            return (rows if found is not None else None), f"executor {self.executor_id}: {found}"

        try:
            return wait_until(
                f"the driver to list executor {self.executor_id} removed",
                probe,
                REMOVAL_WITHIN,
                2.0,
            )
        except WaitTimeout as exc:
            if exc.probe_errors:
                raise ObserverUnavailable(
                    f"the driver's REST API could not be read: {exc.last_error}"
                ) from exc
            return self.app.driver_executors()

    def _driver_lines(self) -> list[str]:
        """The driver's log lines about decommissioning since the eviction (evidence)."""
        driver = self.app.driver()
        if driver is None:
            return []
        try:
            text = self.ctx.core.read_namespaced_pod_log(
                driver.metadata.name,
                self.ctx.namespace,
                since_seconds=int(time.time() - self.fault_epoch) + 2,
                tail_lines=5000,
            )
        except Exception as exc:  # evidence only: the checks do not read it
            return [f"driver log unreadable: {type(exc).__name__}: {exc}"[:300]]
        return [line[-300:] for line in text.splitlines() if DECOMMISSIONING.search(line)][-20:]
