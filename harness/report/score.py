"""The resilience score: a number only together with its formula and its breakdown.

Per mechanism that ran (its test or its control has a result), points:

* 1   - the mechanism passed and its negative control passed (proven);
* 0.5 - the mechanism passed, its control did not pass or did not run (unproven);
* 0   - the mechanism failed, was inconclusive, or did not run while its control did.

score = 100 * (sum of points) / (mechanisms that ran). Inconclusive and "no data" earn
nothing, so the score stays within 0-100 and can only be raised by a verdict. Coverage
(how many of the catalog's 18 ran) is printed beside it: a high score over two
mechanisms says little.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.report.matrix import NOT_RUN, Row

__all__ = ["FORMULA", "Score", "points", "score"]

FORMULA = (
    "score = 100 * sum(points) / mechanisms run; points: 1 passed with its control passed,"
    " 0.5 passed but unproven, 0 failed, inconclusive or not run"
)


def points(row: Row) -> float:
    """One mechanism's points (see the module docstring)."""
    if row.run.status != "passed":
        return 0.0
    return 1.0 if row.control.status == "passed" else 0.5


@dataclass(frozen=True)
class Score:
    """The score, what it is made of, and the coverage it stands on."""

    value: float | None
    """0-100, or None when no mechanism ran."""
    breakdown: dict[str, float]
    """Points per mechanism that ran."""
    ran: int
    catalog: int

    def text(self) -> str:
        """'83.3 / 100 (6 of 18 mechanisms ran)'."""
        if self.value is None:
            return f"no score: none of the {self.catalog} mechanisms ran"
        return f"{self.value:.1f} / 100 ({self.ran} of {self.catalog} mechanisms ran)"


def score(rows: list[Row]) -> Score:
    """The score over the rows that ran."""
    ran = [r for r in rows if r.run.status != NOT_RUN or r.control.status != NOT_RUN]
    breakdown = {r.mechanism.id: points(r) for r in ran}
    value = None if not ran else round(100 * sum(breakdown.values()) / len(ran), 1)
    return Score(value, breakdown, len(ran), len(rows))
