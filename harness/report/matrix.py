"""The verdict matrix: the catalog's 18 mechanisms, each with its run and its negative control.

A mechanism's row holds two cells, each passed, failed, inconclusive or not run. Only the
tests generated from the registry count (``test_mechanism[<id>]`` and
``test_negative_control[<id>]``): other tests that record an outcome (the observer-outage
test runs driver_restart's control to assert *inconclusive*) are listed apart, so they
cannot stand in for a control.

A passed mechanism whose control did not pass is *unproven*: nothing showed that its
check can fail, so its pass may be the check's blindness.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from harness.mechanisms.model import Mechanism
from harness.mechanisms.registry import MECHANISMS

__all__ = ["MATRIX_TESTS", "NOT_RUN", "STATUSES", "Cell", "Row", "matrix", "matrix_test"]

MATRIX_TESTS = {"test_mechanism": False, "test_negative_control": True}
"""The generated tests (tests/chaos/test_mechanisms.py) and whether each is the control."""
NOT_RUN = "not run"
STATUSES = ("passed", "failed", "inconclusive", NOT_RUN)

_NODE = re.compile(r"::(?P<func>test_[a-z_]+)\[(?P<id>[a-z_]+)\]$")


def matrix_test(nodeid: str) -> tuple[str, bool] | None:
    """(mechanism id, is the control) for a generated mechanism test's node id, else None."""
    found = _NODE.search(nodeid)
    if found is None or found["func"] not in MATRIX_TESTS or found["id"] not in MECHANISMS:
        return None
    return found["id"], MATRIX_TESTS[found["func"]]


@dataclass(frozen=True)
class Cell:
    """One test of the matrix: its status, the outcome it recorded and why, in words."""

    status: str
    reason: str
    test: dict[str, Any] | None = None
    outcome: dict[str, Any] | None = None

    @property
    def mttr(self) -> float | None:
        """Measured time to recover, when there is one."""
        return None if self.outcome is None else self.outcome.get("mttr_seconds")

    @property
    def bound(self) -> float | None:
        """The bound the MTTR is held to."""
        return None if self.outcome is None else self.outcome.get("bound_seconds")

    @property
    def margin(self) -> float | None:
        """bound - MTTR (negative: over the bound)."""
        mttr, bound = self.mttr, self.bound
        return None if mttr is None or bound is None else round(bound - mttr, 2)


@dataclass(frozen=True)
class Row:
    """One catalog mechanism."""

    mechanism: Mechanism
    implemented: bool | None
    """Whether the run's code had a module for it (None: not recorded)."""
    run: Cell
    control: Cell

    @property
    def unproven(self) -> bool:
        """The mechanism passed but its control did not show that the check can fail."""
        return self.run.status == "passed" and self.control.status != "passed"

    @property
    def label(self) -> str:
        """The row's overall word: the mechanism's status, marked unproven when it is."""
        return "passed, unproven" if self.unproven else self.run.status

    @property
    def exactly_once(self) -> str:
        """'yes (N sent)', 'no: ...', or '' when the run reconciled no window."""
        rec = None if self.run.outcome is None else self.run.outcome.get("reconciliation")
        if not rec:
            return ""
        if rec.get("exactly_once"):
            return f"yes ({rec['sent']:,} sent)"
        return "no: " + "; ".join(rec.get("problems") or ["see the reconciliation"])


def matrix(data: dict[str, Any]) -> list[Row]:
    """All 18 catalog mechanisms in catalog order, from results.json's data."""
    found: dict[tuple[str, bool], dict[str, Any]] = {}
    for test in data.get("tests", []):
        key = matrix_test(test["nodeid"])
        if key is not None:
            found[key] = test
    implemented = data.get("implemented")
    rows = []
    for mid, mech in MECHANISMS.items():
        rows.append(
            Row(
                mech,
                None if implemented is None else mid in implemented,
                _cell(found.get((mid, False)), control=False),
                _cell(found.get((mid, True)), control=True),
            )
        )
    return rows


def _cell(test: dict[str, Any] | None, control: bool) -> Cell:
    if test is None:
        return Cell(NOT_RUN, "no test of this run")
    outcome = test.get("mechanism")
    message = _first_line(test.get("message", ""))
    if outcome is None:
        if test["outcome"] == "skipped":
            return Cell(NOT_RUN, f"skipped: {message}", test)
        if test["outcome"] == "passed":  # cannot happen with the generated tests; be honest
            return Cell("inconclusive", "the test passed without recording an outcome", test)
        return Cell(
            "inconclusive", f"no verdict: the test ended in {test['outcome']}: {message}", test
        )
    verdict = outcome["verdict"]
    if verdict == "passed" and test["outcome"] in ("failed", "error"):
        return Cell("failed", f"after the verdict: {message}", test, outcome)
    return Cell(verdict, _reason(outcome, control), test, outcome)


def _reason(outcome: dict[str, Any], control: bool) -> str:
    verdict = outcome["verdict"]
    if verdict == "inconclusive":
        return str(outcome.get("inconclusive") or "inconclusive")
    if verdict == "failed":
        return str((outcome.get("failures") or ["failed"])[0])
    if control:
        return f"failed as declared: {outcome.get('expected_failure') or ''}".rstrip(": ")
    mttr = outcome.get("mttr_seconds")
    return f"recovered in {mttr:g} s" if mttr is not None else "every check held"


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[0][:300] if lines else ""
