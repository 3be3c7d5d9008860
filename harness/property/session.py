"""One property-based search on the lab, as pytest, the CLI and the bench run it.

``run_search`` plants the weakness when asked (its restore registered first), searches
within the budget, and writes what it found beside the run's report: search.json
(every sequence tried, the original and the shrunk failure, what each step did on the
cluster) and, for a failure, replay.json, the chaostoolkit experiment that replays the
shrunk sequence. The hypothesis database lives in .hypothesis/property/<plant>, one per
configuration, so the next search replays a failure it found first.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.mechanisms.context import MechanismContext
from harness.property.live import LivePipeline
from harness.property.replay import experiment, write_experiment
from harness.property.search import Budget, SearchResult, search
from harness.settings import PROJECT_ROOT

__all__ = ["database_for", "replay_command", "run_search"]


def database_for(plant: str | None, root: Path = PROJECT_ROOT) -> Path:
    """Where hypothesis keeps this configuration's examples."""
    return root / ".hypothesis" / "property" / (plant or "as-declared")


def replay_command(result: SearchResult, plant: str | None, replay: Path | None) -> list[str]:
    """The commands that replay the failure: the experiment, and the seeded pytest run."""
    commands = []
    if replay is not None:
        commands.append(f"chaos run --rollback-strategy always {replay}")
    budget = result.budget
    chosen = "test_planted_weakness_is_found_and_shrunk" if plant else "test_fault_sequences"
    commands.append(
        f"pytest tests/property -m property -k {chosen} --hypothesis-seed={result.seed}"
        f" --property-examples={budget.examples} --property-steps={budget.steps}"
        f" --property-faults={','.join(budget.faults)}"
    )
    return commands


def run_search(
    ctx: MechanismContext,
    budget: Budget,
    out: Path,
    plant: str | None = None,
    seed: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Search on the live pipeline; the search's JSON (as search.json holds it)."""
    pipeline = LivePipeline(ctx, plant)
    pipeline.plant_weakness()
    database = database_for(plant)
    result = search(pipeline, budget, database, seed, progress)
    out.mkdir(parents=True, exist_ok=True)
    replay = None
    if result.shrunk is not None:
        doc = experiment(result.shrunk, plant, result.seed, str(database), result.failure)
        replay = write_experiment(out / "replay.json", doc)
    data = {
        **result.as_json(),
        "plant": plant or "",
        "summary": result.summary(),
        "replay": replay_command(result, plant, replay),
        "transitions": pipeline.transitions,
    }
    (out / "search.json").write_text(json.dumps(data, indent=2, default=str) + "\n")
    return data
