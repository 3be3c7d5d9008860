"""A fault sequence replayed: once on a pipeline, and as a runnable chaostoolkit experiment.

``replay(pipeline, steps)`` strikes the steps in order from a steady state, reads the
promises after each one and at the end, and lifts every fault whatever happens: the
same path the search takes, used by ``harness chaos replay``, by the chaostoolkit
action ``replay_fault_sequence`` and by the tests.

``experiment(...)`` is the document a search writes for the sequence it shrank, for
``chaos run --rollback-strategy always replay.json``: the steady-state hypothesis
(the pipeline whole, and the last replayed sequence kept its promises: true before any
replay), so the hypothesis after the method deviates when the failure comes back; the
method, the action that replays the steps (with the planted weakness, when the search
had one) and the probe that puts its verdict in the journal; the rollback that restores
the pipeline whatever stopped the method. Its
``configuration`` keeps the hypothesis seed and database the failure came from, for
``pytest -m property --hypothesis-seed``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.chaostoolkit.probes import OUTCOME_TOLERANCE
from harness.property.pipeline import Pipeline
from harness.property.steps import Step, render_sequence

__all__ = ["Replayed", "experiment", "replay", "write_experiment"]


@dataclass
class Replayed:
    """What one replay of a sequence saw."""

    steps: list[Step]
    verdict: str = "passed"
    """passed, failed, or inconclusive (the only broken promises were unreadable)."""
    broken: list[str] = field(default_factory=list)
    after_step: int | None = None
    """The step after which a promise broke (1-based); None: at the end, or never."""

    def as_json(self) -> dict[str, Any]:
        """The action's output in chaostoolkit's journal."""
        return {
            "verdict": self.verdict,
            "broken": self.broken,
            "after_step": self.after_step,
            "steps": [s.as_json() for s in self.steps],
        }


def _judged(replayed: Replayed, broken: list[str], after: int | None) -> Replayed:
    replayed.broken, replayed.after_step = broken, after
    unreadable = all(b.startswith("unreadable") for b in broken)
    replayed.verdict = "inconclusive" if unreadable else "failed"
    return replayed


def replay(pipeline: Pipeline, steps: Sequence[Step]) -> Replayed:
    """Strike the steps from a steady state; the first broken promises, if any."""
    replayed = Replayed(list(steps))
    try:
        pipeline.begin()
        for index, step in enumerate(steps, 1):
            pipeline.strike(step)
            broken = pipeline.promises()
            if broken:
                return _judged(replayed, broken, index)
        broken = pipeline.end()
        return _judged(replayed, broken, None) if broken else replayed
    finally:
        pipeline.lift()


def experiment(
    steps: Sequence[Step],
    plant: str | None,
    seed: int,
    database: str,
    failure: str,
) -> dict[str, Any]:
    """The chaostoolkit experiment that replays a sequence (see the module docstring)."""
    actions, probes = "harness.chaostoolkit.actions", "harness.chaostoolkit.probes"
    arguments: dict[str, Any] = {"steps": [s.as_json() for s in steps]}
    if plant:
        arguments["plant"] = plant
    return {
        "version": "1.0.0",
        "title": f"a fault sequence of {len(steps)} steps found by a property-based search",
        "description": (
            "Replays the sequence a hypothesis search shrank (harness.property). It broke: "
            f"{failure or 'nothing (no failure was found)'}. Steps:\n{render_sequence(steps)}"
        ),
        "tags": ["spark", "property-search"],
        "configuration": {
            "hypothesis_seed": seed,
            "hypothesis_database": database,
            "planted_weakness": plant or "",
        },
        "runtime": {"rollbacks": {"strategy": "always"}},
        "steady-state-hypothesis": {
            "title": "the pipeline is whole: nodes Ready, application RUNNING, data flowing",
            "probes": [
                {
                    "type": "probe",
                    "name": "pipeline-whole",
                    "tolerance": True,
                    "provider": {"type": "python", "module": probes, "func": "pipeline_whole"},
                },
                {
                    "type": "probe",
                    "name": "the last replayed sequence kept its promises",
                    "tolerance": True,
                    "provider": {
                        "type": "python",
                        "module": probes,
                        "func": "sequence_kept_promises",
                    },
                },
            ],
        },
        "method": [
            {
                "type": "action",
                "name": "replay the fault sequence",
                "provider": {
                    "type": "python",
                    "module": actions,
                    "func": "replay_fault_sequence",
                    "arguments": arguments,
                },
            },
            {
                "type": "probe",
                "name": "the sequence's verdict",
                "tolerance": dict(OUTCOME_TOLERANCE),
                "provider": {"type": "python", "module": probes, "func": "sequence_outcome"},
            },
        ],
        "rollbacks": [
            {
                "type": "action",
                "name": "restore the pipeline",
                "provider": {
                    "type": "python",
                    "module": actions,
                    "func": "restore_after_sequence",
                    **({"arguments": {"plant": plant}} if plant else {}),
                },
            }
        ],
    }


def write_experiment(path: Path, document: dict[str, Any]) -> Path:
    """Write the experiment (JSON) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path
