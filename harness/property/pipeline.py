"""What a property-based search runs against: the protocol, and recorded transitions.

The search (harness.property.search) drives a ``Pipeline``: an example starts from a
verified steady state (``begin``), each step strikes (``strike``) and the promises are
read right after it (``promises``); the example ends (``end``) with every fault lifted,
the wait for recovery within the bound, the reconciliation of the example's window and
the cluster's invariants; ``restore`` brings the pipeline back to its steady state
between examples (restored, not rebuilt). ``lift`` ends every fault in force at once.

``RecordedPipeline`` answers from recorded transitions (how long each fault took to
heal on the real cluster, the bound, the retry budget): the unit tests search it, find
its planted weakness and check the shrunk sequence, with no cluster and no clock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from harness.errors import InvalidInput
from harness.property.steps import FAULTS, Active, Step

__all__ = ["Pipeline", "RecordedPipeline", "Transitions", "gave_up"]


class Pipeline(Protocol):
    """The system under a search; the live one and the recorded one both are."""

    def clock(self) -> float:
        """Seconds on the search's clock (monotonic; simulated when recorded)."""
        ...

    def begin(self) -> None:
        """Start an example from a verified steady state; open its reconciliation window."""
        ...

    def strike(self, step: Step) -> dict[str, Any]:
        """Lift the faults whose hold ended, strike this one, keep the gap; the evidence."""
        ...

    def promises(self) -> list[str]:
        """The promises broken right now (empty when none is)."""
        ...

    def end(self) -> list[str]:
        """Lift every fault, wait for the recovery within its bound, reconcile the window,
        check the invariants: the promises broken at the end of the example."""
        ...

    def lift(self) -> None:
        """End every fault in force now (their rollbacks); safe to repeat."""
        ...

    def restore(self) -> None:
        """Bring the pipeline back to its steady state (the application recreated when it
        gave up); HarnessError when it cannot be."""
        ...


def gave_up(app: dict[str, Any]) -> str | None:
    """Why the operator will never run this SparkApplication again, or None.

    FAILED is final under restartPolicy Never, and under OnFailure once the execution
    attempts exceed onFailureRetries (operator v2.5.2 shouldRetry); under Always the
    operator always resubmits.
    """
    status = app.get("status") or {}
    state = (status.get("applicationState") or {}).get("state", "")
    if state != "FAILED":
        return None
    policy = (app.get("spec") or {}).get("restartPolicy") or {}
    kind = policy.get("type", "Never")
    attempts = int(status.get("executionAttempts", 0))
    if kind == "Never":
        return "FAILED under restartPolicy Never"
    if kind == "OnFailure" and attempts > int(policy.get("onFailureRetries", 0)):
        return (
            f"FAILED after {attempts} execution attempts, restartPolicy OnFailure with"
            f" onFailureRetries {policy.get('onFailureRetries', 0)}: the operator gave up"
        )
    return None


@dataclass(frozen=True)
class Transitions:
    """What the real cluster did, recorded: the data a RecordedPipeline answers from."""

    recovery: dict[str, float]
    """Per fault, seconds from its end (the kill, or the lift of its hold) to progress."""
    bound: float
    """The recovery bound the live search computed (seconds)."""
    retry_budget: int | None = None
    """Execution attempts the application may fail (OnFailure's onFailureRetries);
    None for restartPolicy Always (the pipeline as 05 declares it)."""
    source: str = ""

    @classmethod
    def load(cls, path: Path, retry_budget: int | None = None) -> Transitions:
        """Read recorded transitions (JSON: recovery, bound); InvalidInput on bad fields."""
        raw = json.loads(path.read_text())
        recovery = raw.get("recovery")
        if not isinstance(recovery, dict) or set(recovery) - set(FAULTS):
            raise InvalidInput(str(path), "recovery", f"seconds per fault of {sorted(FAULTS)}")
        if not isinstance(raw.get("bound"), int | float):
            raise InvalidInput(str(path), "bound", "seconds", raw.get("bound"))
        return cls(
            {k: float(v) for k, v in recovery.items()},
            float(raw["bound"]),
            retry_budget,
            str(path),
        )


@dataclass
class RecordedPipeline:
    """A pipeline replayed from recorded transitions, on a simulated clock.

    A fault's disruption ends when it is killed or lifted; progress returns its recorded
    recovery later, unless another fault ends it first. A fault that ends the driver
    uses one execution attempt; past the retry budget the application gave up. ``noise``
    lists the runs (0-based, counted by ``begin``) that see one spurious broken promise,
    to show the re-run telling noise from a failure.
    """

    transitions: Transitions
    noise: set[int] = field(default_factory=set)
    now: float = 0.0
    runs: int = 0
    active: list[Active] = field(default_factory=list)
    attempts: int = 1
    healed_at: float = 0.0
    disrupted_at: float | None = None
    struck: list[Step] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def begin(self) -> None:
        self.runs += 1
        self.active, self.struck, self.disrupted_at = [], [], None

    def strike(self, step: Step) -> dict[str, Any]:
        self._lift_due()
        ends = self.now + step.hold
        self.active.append(Active(step, self.now, ends))
        self.struck.append(step)
        if step.kind.ends_driver or (step.fault == "stop_worker" and step.target == "driver-node"):
            self.attempts += 1
        self.disrupted_at = self.now
        self.healed_at = max(self.healed_at, ends + self.transitions.recovery[step.fault])
        self.now += step.gap
        self._lift_due()
        return {"simulated": True, "at": self.now - step.gap}

    def promises(self) -> list[str]:
        broken = []
        if (self.runs - 1) in self.noise and len(self.struck) == 1:
            broken.append("spurious: an observer hiccup (recorded noise)")
        budget = self.transitions.retry_budget
        if budget is not None and self.attempts > budget + 1:
            broken.append(
                f"application gave up: {self.attempts - 1} execution attempts failed,"
                f" onFailureRetries {budget}"
            )
        if self.disrupted_at is not None and self.healed_at > self.now:
            since = min(a.until for a in self.active) if self.active else self.disrupted_at
            if self.now - since > self.transitions.bound:
                broken.append(f"no progress {self.now - since:.0f}s after the fault")
        return broken

    def end(self) -> list[str]:
        self.lift()
        broken = [p for p in self.promises() if not p.startswith("spurious")]
        if not broken and self.healed_at > self.now:
            if self.healed_at - self.now > self.transitions.bound:
                broken.append("recovery missed its bound")
            self.now = self.healed_at
        return broken

    def lift(self) -> None:
        if self.active:
            self.now = max(self.now, max(a.until for a in self.active))
        self.active = []

    def restore(self) -> None:
        self.lift()
        self.attempts = 1
        self.now = max(self.now, self.healed_at)

    def _lift_due(self) -> None:
        self.active = [a for a in self.active if a.until > self.now]
