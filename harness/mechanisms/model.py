"""A mechanism has five parts: trigger, verification, bound, integrity, negative control.

The bound is arithmetic, not a number: a sum of terms, each with the setting or the
measurement it comes from, so the report can print how the limit was derived and a
change of setting changes the limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Bound", "Mechanism", "Term"]


@dataclass(frozen=True)
class Term:
    """One addend of a recovery bound."""

    name: str
    seconds: float
    source: str
    """Where the number comes from: a setting (file and field) or a measured start time."""


@dataclass(frozen=True)
class Bound:
    """A recovery bound: the sum of its terms."""

    terms: tuple[Term, ...]

    @property
    def seconds(self) -> float:
        """The limit the measured time to recover is held to."""
        return sum(t.seconds for t in self.terms)

    def arithmetic(self) -> str:
        """'retry 5s + submit 30s + ... = 95s', for reports and assertion messages."""
        parts = " + ".join(f"{t.name} {t.seconds:g}s" for t in self.terms)
        return f"{parts} = {self.seconds:g}s"

    def holds(self, measured: float) -> bool:
        """True when the measured recovery is within the bound."""
        return measured <= self.seconds


@dataclass(frozen=True)
class Mechanism:
    """One self-healing mechanism of the catalog (../shared/spec/mechanisms.md)."""

    number: int
    id: str
    provided_by: str
    trigger: str
    verification: str
    negative_control: str
    touches_data: bool = True
    """Whether exactly-once reconciliation is part of its verdict."""
    notes: tuple[str, ...] = field(default_factory=tuple)
    """What running it taught us (departures, findings), for the report."""
