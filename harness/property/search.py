"""The search: a hypothesis state machine whose rules are faults and whose invariants are
the pipeline's promises, within a budget, shrinking a failure to the smallest sequence.

Each rule is one fault of harness.property.steps with its parameters drawn by
hypothesis (which target, how long it holds, the gap before the next one); a rule's
precondition is the lab's refusal (steps.refusal): nothing exclusive twice at once,
never both workers down. After every step the promises are read (the application has
not given up, no fault is past its recovery bound); at the end of an example every
fault is lifted and the pipeline must recover within its bound, reconcile exactly
once over the example's window and leave the cluster whole.

A real cluster is noisy, so a broken promise counts only when it breaks again on a
re-run: the pipeline is restored, the same steps are struck again up to the one that
failed, and only when the promise breaks there too (``confirm`` re-runs, default 1) is
the example failing. An example whose failure did not come back is logged as noise and
passes. Hypothesis then shrinks the failing sequence; every candidate runs (and is
confirmed) the same way, so the shrunk sequence is one that fails twice.

The budget: examples, steps per example and seconds on the pipeline's clock (wall
clock on the lab). Generation may start an example only in the first two thirds of the
seconds: the last third is kept for shrinking a failure (a search that finds nothing
ends early rather than find a failure it has no time to shrink; seen on the cluster: a
failure found in the last example of a 780 s search was never shrunk). An example that
would start past its share ends the hypothesis run (BudgetSpent). Shrinking ends the
same way at the full budget; the smallest failure seen so far is then replayed and
confirmed by the search itself, as hypothesis' final replay would have been. (Seen on
the cluster: rejecting the examples past the budget, or running them without striking,
made the same choices draw differently from an earlier run, and hypothesis ended the
search with FlakyStrategyDefinition.) The budget is read when an example starts: one
that has started runs to its end. Every sequence struck is
logged with its verdict and time.

Which faults a rule may strike is decided on the planned timeline (the gaps drawn so
far), never on the live clock: hypothesis needs the same choices to draw the same rules
on every run, and a live clock would make a replay see other preconditions. The plan
is the earlier of the two clocks (each step takes at least its gap), so a fault the plan
still sees in force may already be lifted, never the reverse: the refusal errs on the
safe side.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis import strategies as st
from hypothesis.control import current_build_context
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.errors import FlakyFailure, Unsatisfiable
from hypothesis.stateful import (
    RuleBasedStateMachine,
    get_state_machine_test,
    precondition,
    rule,
)

from harness.errors import InvalidInput
from harness.property.pipeline import Pipeline
from harness.property.steps import (
    DEFAULT_FAULTS,
    FAULTS,
    GAPS,
    Active,
    Step,
    refusal,
    render_sequence,
)

__all__ = [
    "BUDGET_OPTIONS",
    "Budget",
    "BudgetOption",
    "PromiseBroken",
    "SearchResult",
    "Tried",
    "budget_from",
    "search",
]


GENERATE_SHARE = 2 / 3
"""The share of the budget's seconds in which generation may start an example."""


class PromiseBroken(AssertionError):
    """A promise of the pipeline broke, and broke again on a re-run."""


class BudgetSpent(KeyboardInterrupt):
    """Ends the hypothesis run when the budget is spent, raised before an example draws
    anything and caught by search(). A KeyboardInterrupt on purpose: hypothesis' engine
    lets it through without recording the example; any other exception it records, as a
    failure to shrink or (an example that stops before drawing what the same choices drew
    before) as FlakyStrategyDefinition."""


@dataclass(frozen=True)
class Budget:
    """What a search may spend (pytest --property-*, harness chaos search)."""

    examples: int = 4
    """Sequences hypothesis generates (shrink candidates come on top, within seconds)."""
    steps: int = 3
    """The most steps in one sequence."""
    seconds: float = 900.0
    """Wall clock for the whole search, shrinking included: 15 minutes."""
    confirm: int = 1
    """Re-runs a broken promise must break again in to count as a failure."""
    faults: tuple[str, ...] = DEFAULT_FAULTS
    """The rules the search may draw (steps.FAULTS)."""

    def __post_init__(self) -> None:
        for name, value in (("examples", self.examples), ("steps", self.steps)):
            if value < 1:
                raise InvalidInput("property budget", name, "at least 1", value)
        if self.seconds <= 0:
            raise InvalidInput("property budget", "seconds", "more than 0", self.seconds)
        if self.confirm < 0:
            raise InvalidInput("property budget", "confirm", "0 or more re-runs", self.confirm)
        unknown = [f for f in self.faults if f not in FAULTS]
        if unknown or not self.faults:
            raise InvalidInput("property budget", "faults", f"some of {sorted(FAULTS)}", unknown)


@dataclass
class Tried:
    """One sequence the search ran, as the report shows it."""

    steps: list[Step]
    verdict: str
    """passed, failed (confirmed), noise (broke once, not on the re-run), inconclusive
    (an observer could not be read: no promise was seen broken)."""
    phase: str
    """generate, shrink or final (hypothesis' replay of the failure it reports)."""
    seconds: float
    problems: list[str] = field(default_factory=list)
    runs: int = 1
    skipped_steps: int = 0

    def as_json(self) -> dict[str, Any]:
        """For results.json."""
        return {
            "steps": [s.as_json() for s in self.steps],
            "verdict": self.verdict,
            "phase": self.phase,
            "seconds": round(self.seconds, 1),
            "problems": self.problems,
            "runs": self.runs,
        }


@dataclass
class SearchResult:
    """What a search found: every sequence tried, the first failure and its shrunk form."""

    seed: int
    budget: Budget
    tried: list[Tried] = field(default_factory=list)
    original: list[Step] | None = None
    shrunk: list[Step] | None = None
    failure: str = ""
    seconds: float = 0.0
    database: str = ""
    budget_spent: bool = False
    """Whether the budget's seconds ran out before the examples did."""
    shrink_cut_short: bool = False
    """Whether the budget ended shrinking before hypothesis had tried every candidate:
    the shrunk sequence is the smallest failure seen, perhaps not the smallest there is."""
    smallest: tuple[list[Step], str] | None = None
    """The smallest confirmed failure so far and its broken promises (shrinking's best)."""

    @property
    def found(self) -> bool:
        """Whether a sequence failed (confirmed)."""
        return self.shrunk is not None

    def summary(self) -> str:
        """What it found, in a few lines."""
        counted = {v: sum(t.verdict == v for t in self.tried) for v in ("passed", "failed")}
        head = (
            f"{len(self.tried)} sequences in {self.seconds:.0f}s (seed {self.seed}):"
            f" {counted['passed']} passed, {counted['failed']} failed"
        )
        if self.budget_spent:
            head += f" (the {self.budget.seconds:.0f}s budget ran out)"
        if self.shrink_cut_short:
            head += "; shrinking was cut short by the budget"
        if not self.found:
            return head + "; the pipeline kept every promise"
        assert self.original is not None
        assert self.shrunk is not None
        return (
            f"{head}\nfirst failing sequence ({len(self.original)} steps):\n"
            f"{render_sequence(self.original)}\nshrunk to {len(self.shrunk)} steps:\n"
            f"{render_sequence(self.shrunk)}\nbroken: {self.failure}"
        )

    def as_json(self) -> dict[str, Any]:
        """For results.json and the report."""
        return {
            "seed": self.seed,
            "budget": {
                "examples": self.budget.examples,
                "steps": self.budget.steps,
                "seconds": self.budget.seconds,
                "confirm": self.budget.confirm,
                "faults": list(self.budget.faults),
            },
            "seconds": round(self.seconds, 1),
            "tried": [t.as_json() for t in self.tried],
            "original": None if self.original is None else [s.as_json() for s in self.original],
            "shrunk": None if self.shrunk is None else [s.as_json() for s in self.shrunk],
            "failure": self.failure,
            "database": self.database,
            "budget_spent": self.budget_spent,
            "shrink_cut_short": self.shrink_cut_short,
        }


@dataclass(frozen=True)
class BudgetOption:
    """One knob of a Budget, as pytest (``--property-<name>``) and ``harness search``
    (``--<name>``) both offer it: one table, so the two cannot drift apart."""

    name: str
    type: Callable[[str], Any]
    default: Any
    help: str


BUDGET_OPTIONS = (
    BudgetOption("examples", int, Budget.examples, "sequences a search generates"),
    BudgetOption("steps", int, Budget.steps, "the most faults in one sequence"),
    BudgetOption(
        "budget",
        float,
        Budget.seconds,
        "seconds for a search, shrinking included (generation stops at two thirds)",
    ),
    BudgetOption("confirm", int, Budget.confirm, "re-runs a broken promise must break again in"),
    BudgetOption(
        "faults",
        str,
        ",".join(DEFAULT_FAULTS),
        f"the faults a search draws, comma-separated, of {', '.join(FAULTS)}",
    ),
)


def budget_from(values: Callable[[str], Any]) -> Budget:
    """The Budget from each option's value, ``values(name)`` (InvalidInput when one is
    wrong)."""
    faults = tuple(f for f in str(values("faults")).split(",") if f)
    return Budget(
        int(values("examples")),
        int(values("steps")),
        float(values("budget")),
        int(values("confirm")),
        faults,
    )


def _holds(fault: str) -> st.SearchStrategy[int]:
    low, high = FAULTS[fault].holds
    return st.integers(low, high)


def _targets(fault: str) -> st.SearchStrategy[str]:
    return st.sampled_from(FAULTS[fault].targets)


_GAP = st.integers(*GAPS)


class _Search:
    """The search's state across examples: the pipeline, the budget, the log."""

    def __init__(
        self,
        pipeline: Pipeline,
        budget: Budget,
        result: SearchResult,
        progress: Callable[[str], None] | None,
    ) -> None:
        self.pipeline, self.budget, self.result = pipeline, budget, result
        self.progress = progress
        self.began = pipeline.clock()
        self.needs_restore = False
        self.final = False
        """The search's own final replay (after BudgetSpent), as hypothesis' would be."""

    def spent(self) -> bool:
        """Whether an example starting now is past its share of the budget."""
        if self.final or _final():
            return False
        share = 1.0 if self.result.original is not None else GENERATE_SHARE
        if self.pipeline.clock() - self.began <= self.budget.seconds * share:
            return False
        self.result.budget_spent = True
        if self.result.original is not None:
            self.result.shrink_cut_short = True
        return True

    def phase(self) -> str:
        if self.final or _final():
            return "final"
        return "shrink" if self.result.original is not None else "generate"


def _final() -> bool:
    try:
        return bool(current_build_context().is_final)
    except Exception:  # outside a hypothesis run
        return False


class PipelineMachine(RuleBasedStateMachine):
    """Faults as rules, the pipeline's promises checked after each one."""

    search: _Search

    def __init__(self) -> None:
        super().__init__()
        self.steps: list[Step] = []
        self.active: list[Active] = []
        self.planned = 0.0
        """Seconds on the planned timeline: the gaps drawn so far."""
        self.skipped = 0
        self.broken: list[str] = []
        self.runs = 1
        self.began = time.monotonic()
        self.verdict = "passed"
        self.started = False
        if self.search.spent():
            self.verdict = "skipped"
            raise BudgetSpent()

    def _allowed(self, fault: str) -> bool:
        return fault in self.search.budget.faults and (
            refusal(fault, self.active, self.planned) is None
        )

    def _start(self) -> None:
        """The pipeline restored and in its steady state: at the first strike, so that an
        example that draws no step costs nothing."""
        if self.search.needs_restore:
            self.search.pipeline.restore()
        self.search.needs_restore = True
        self.search.pipeline.begin()
        self.began, self.started = time.monotonic(), True

    def _step(self, step: Step) -> None:
        self.active.append(Active(step, self.planned, self.planned + step.hold))
        self.planned += step.gap
        if self.verdict == "inconclusive":
            self.skipped += 1
            return
        if not self.started:
            self._start()
        self.steps.append(step)
        pipeline = self.search.pipeline
        pipeline.strike(step)
        broken = pipeline.promises()
        if broken:
            self._confirm(broken, at_end=False)

    def _confirm(self, broken: list[str], at_end: bool) -> None:
        """Re-run the steps so far from a restored pipeline; raise when it breaks again."""
        pipeline = self.search.pipeline
        if all(b.startswith("unreadable") for b in broken):  # not seen is not failed
            self.verdict, self.broken = "inconclusive", broken
            return
        for _ in range(self.search.budget.confirm):
            self.runs += 1
            pipeline.lift()
            pipeline.restore()
            pipeline.begin()
            again: list[str] = []
            for step in self.steps:
                pipeline.strike(step)
                again = pipeline.promises()
                if again:
                    break
            if not again and at_end:
                again = pipeline.end()
            if not again:
                self.verdict = "noise"
                self.broken = broken
                return
            broken = again
        self.verdict, self.broken = "failed", broken
        raise PromiseBroken(
            f"broken after {len(self.steps)} steps, and again on {self.runs - 1} re-run(s):"
            f" {'; '.join(broken)}\n{render_sequence(self.steps)}"
        )

    @precondition(lambda self: self._allowed("kill_driver"))
    @rule(aim=_targets("kill_driver"), gap=_GAP)
    def kill_driver(self, aim: str, gap: int) -> None:
        self._step(Step("kill_driver", aim, 0, gap))

    @precondition(lambda self: self._allowed("kill_executor"))
    @rule(aim=_targets("kill_executor"), gap=_GAP)
    def kill_executor(self, aim: str, gap: int) -> None:
        self._step(Step("kill_executor", aim, 0, gap))

    @precondition(lambda self: self._allowed("partition_executors"))
    @rule(aim=_targets("partition_executors"), hold=_holds("partition_executors"), gap=_GAP)
    def partition_executors(self, aim: str, hold: int, gap: int) -> None:
        self._step(Step("partition_executors", aim, hold, gap))

    @precondition(lambda self: self._allowed("fill_checkpoint"))
    @rule(aim=_targets("fill_checkpoint"), hold=_holds("fill_checkpoint"), gap=_GAP)
    def fill_checkpoint(self, aim: str, hold: int, gap: int) -> None:
        self._step(Step("fill_checkpoint", aim, hold, gap))

    @precondition(lambda self: self._allowed("stop_worker"))
    @rule(aim=_targets("stop_worker"), hold=_holds("stop_worker"), gap=_GAP)
    def stop_worker(self, aim: str, hold: int, gap: int) -> None:
        self._step(Step("stop_worker", aim, hold, gap))

    def teardown(self) -> None:
        try:
            if self.verdict == "passed" and self.steps:
                broken = self.search.pipeline.end()
                if broken:
                    self._confirm(broken, at_end=True)
        finally:
            self.search.pipeline.lift()
            if self.steps:
                self.search.result.tried.append(
                    Tried(
                        list(self.steps),
                        self.verdict,
                        self.search.phase(),
                        time.monotonic() - self.began,
                        self.broken,
                        self.runs,
                        self.skipped,
                    )
                )
                tried = self.search.result.tried[-1]
                if self.search.progress is not None:
                    self.search.progress(
                        f"sequence {len(self.search.result.tried)} ({tried.phase}):"
                        f" {tried.verdict} in {tried.seconds:.0f}s,"
                        f" {[s.describe() for s in tried.steps]}"
                    )
                result = self.search.result
                if self.verdict == "failed":
                    failure = (list(self.steps), "; ".join(self.broken))
                    if result.original is None:
                        result.original = list(self.steps)
                    if result.smallest is None or len(self.steps) < len(result.smallest[0]):
                        result.smallest = failure
                    if self.search.phase() == "final":
                        result.shrunk, result.failure = failure


def search(
    pipeline: Pipeline,
    budget: Budget,
    database: Path,
    seed_value: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> SearchResult:
    """Search fault sequences against the pipeline within the budget; what it found.

    ``database`` keeps hypothesis' examples (a failure found is replayed first next
    time); ``seed_value`` makes generation repeat (pytest --hypothesis-seed, harness
    chaos search --seed); a random one is drawn and recorded when none is given.
    """
    chosen = random.SystemRandom().getrandbits(32) if seed_value is None else seed_value
    result = SearchResult(chosen, budget, database=str(database))
    began = time.monotonic()
    machine: type[PipelineMachine] = type("PipelineSearch", (PipelineMachine,), {})
    machine.search = _Search(pipeline, budget, result, progress)
    test = get_state_machine_test(
        machine,
        settings=settings(
            max_examples=budget.examples,
            stateful_step_count=budget.steps,
            deadline=None,
            database=DirectoryBasedExampleDatabase(str(database)),
            suppress_health_check=list(HealthCheck),
            phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink),
            report_multiple_bugs=False,
            print_blob=False,
        ),
    )
    try:
        try:
            seed(chosen)(test)()
        except BudgetSpent:
            if result.smallest is not None:
                _replay(machine, result.smallest[0])
    except PromiseBroken as exc:
        if result.shrunk is None:  # the final replay did not log (should not happen)
            result.failure = str(exc).splitlines()[0]
    except Unsatisfiable:  # hypothesis found no example to run at all
        result.budget_spent = True
    except FlakyFailure as exc:  # the shrunk sequence passed on hypothesis' final replay
        result.failure = f"flaky: the failure did not come back on the final replay: {exc}"
    finally:
        if result.smallest is not None and result.shrunk is None and not result.failure:
            result.failure = "flaky: the failure did not come back on the final replay"
        result.seconds = time.monotonic() - began
        try:
            pipeline.lift()
        finally:
            if progress is not None:
                progress(result.summary())
    return result


def _replay(machine: type[PipelineMachine], steps: list[Step]) -> None:
    """The final replay of the smallest failure, struck and confirmed as in the search
    (raises PromiseBroken when it fails again), for a search the budget ended."""
    machine.search.final = True
    run = machine()
    try:
        for step in steps:
            run._step(step)
    finally:
        run.teardown()
