"""What one mechanism run measured, in the shape results.json and the report use."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from harness.integrity.reconcile import Reconciliation
from harness.mechanisms.model import Bound

__all__ = ["Outcome"]


@dataclass
class Outcome:
    """The verdict and its evidence."""

    mechanism: str
    negative_control: bool
    bound: Bound
    mttr_seconds: float | None = None
    """Fault to recovery; None when it did not recover within the deadline."""
    failures: list[str] = field(default_factory=list)
    """Every check that failed, in words."""
    reconciliation: Reconciliation | None = None
    timeline: list[dict[str, Any]] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    """PromQL series and object states that proved each check."""

    @property
    def healed(self) -> bool:
        """Every check passed, within the bound."""
        return not self.failures

    def fail(self, message: str) -> None:
        """Record a failed check."""
        self.failures.append(message)

    def as_json(self) -> dict[str, Any]:
        """results.json entry."""
        return {
            "mechanism": self.mechanism,
            "negative_control": self.negative_control,
            "healed": self.healed,
            "mttr_seconds": None if self.mttr_seconds is None else round(self.mttr_seconds, 2),
            "bound_seconds": self.bound.seconds,
            "bound_arithmetic": self.bound.arithmetic(),
            "failures": self.failures,
            "reconciliation": None
            if self.reconciliation is None
            else {**asdict(self.reconciliation), "exactly_once": self.reconciliation.exactly_once},
            "timeline": self.timeline,
            "evidence": self.evidence,
        }
