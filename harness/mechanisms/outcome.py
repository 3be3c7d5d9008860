"""What one mechanism run measured and decided, in the shape results.json and the report use.

Three verdicts:

* passed       - for a mechanism: it recovered within its bound and every check held;
                 for a negative control: the mechanism's check failed for the reason the
                 control declares, and that evidence is recorded;
* failed       - the opposite: a check failed (or, for a control, the mechanism healed
                 with it switched off, or failed for another reason than the declared one);
* inconclusive - the run cannot say: the steady state did not hold before the strike,
                 the fault cannot be shown to have landed, or an observer (Prometheus,
                 the API server) could not be read when the verdict needed it. Never a
                 pass, for a mechanism or for a control.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from harness.integrity.reconcile import Reconciliation
from harness.mechanisms.model import Bound

__all__ = ["Outcome", "Verdict"]


class Verdict(StrEnum):
    """The three verdicts of a run."""

    PASSED = "passed"
    FAILED = "failed"
    INCONCLUSIVE = "inconclusive"


@dataclass
class Outcome:
    """The verdict and its evidence."""

    mechanism: str
    negative_control: bool
    bound: Bound
    mttr_seconds: float | None = None
    """Fault to recovery; None when it did not recover within the deadline."""
    failures: list[str] = field(default_factory=list)
    """Every check that failed, in words (for a control: why the control did not pass)."""
    inconclusive: str | None = None
    """Why no verdict could be reached; set, it overrides everything else."""
    expected_failure: str = ""
    """A control's declared failure evidence, in words."""
    control_evidence: dict[str, Any] | None = None
    """What a control saw that proves the declared failure; None when it was not seen."""
    landed: dict[str, Any] | None = None
    """Proof that the fault struck: targets by name and UID, the observed effect."""
    reconciliation: Reconciliation | None = None
    timeline: list[dict[str, Any]] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    """PromQL series and object states that proved each check."""
    phases: dict[str, float] = field(default_factory=dict)
    """Where the run's time went (seconds): switch-off, steady state, recovery, checks, ..."""

    @property
    def verdict(self) -> Verdict:
        """passed, failed or inconclusive (see the module docstring)."""
        if self.inconclusive is not None:
            return Verdict.INCONCLUSIVE
        if self.negative_control:
            seen = self.control_evidence is not None
            return Verdict.PASSED if seen and not self.failures else Verdict.FAILED
        return Verdict.PASSED if not self.failures else Verdict.FAILED

    @property
    def healed(self) -> bool:
        """Whether the mechanism's own check held (for a control: it must not)."""
        if self.negative_control:
            return self.control_evidence is None and self.inconclusive is None
        return self.verdict is Verdict.PASSED

    def fail(self, message: str) -> None:
        """Record a failed check."""
        self.failures.append(message)

    def explain(self) -> str:
        """One paragraph for assertion messages and junit: the verdict and why."""
        kind = "negative control" if self.negative_control else "mechanism"
        head = f"{self.mechanism} ({kind}): {self.verdict.value.upper()}"
        if self.inconclusive is not None:
            return f"{head}: {self.inconclusive}"
        if self.negative_control and self.verdict is Verdict.PASSED:
            return f"{head}: the check failed as declared ({self.expected_failure})"
        if self.failures:
            return f"{head}: " + "; ".join(self.failures)
        mttr = "" if self.mttr_seconds is None else f"MTTR {self.mttr_seconds:.1f}s, "
        return f"{head}: {mttr}bound {self.bound.arithmetic()}"

    def as_json(self) -> dict[str, Any]:
        """results.json entry."""
        return {
            "mechanism": self.mechanism,
            "negative_control": self.negative_control,
            "verdict": self.verdict.value,
            "healed": self.healed,
            "inconclusive": self.inconclusive,
            "mttr_seconds": None if self.mttr_seconds is None else round(self.mttr_seconds, 2),
            "bound_seconds": self.bound.seconds,
            "bound_arithmetic": self.bound.arithmetic(),
            "bound_terms": [asdict(t) for t in self.bound.terms],
            "failures": self.failures,
            "expected_failure": self.expected_failure or None,
            "control_evidence": self.control_evidence,
            "landed": self.landed,
            "reconciliation": None
            if self.reconciliation is None
            else {
                **asdict(self.reconciliation),
                "exactly_once": self.reconciliation.exactly_once,
                "problems": self.reconciliation.problems,
            },
            "timeline": self.timeline,
            "evidence": self.evidence,
            "phases": {k: round(v, 1) for k, v in self.phases.items()},
        }
