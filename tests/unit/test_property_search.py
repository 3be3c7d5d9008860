"""The property-based search against recorded transitions: no cluster, a simulated clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import InvalidInput
from harness.property.pipeline import RecordedPipeline, Transitions, gave_up
from harness.property.search import Budget, search
from harness.property.steps import FAULTS, Active, Step, parse_steps, refusal

DATA = Path(__file__).parent / "data" / "property_transitions.json"


def _pipeline(retry_budget: int | None = None, noise: set[int] | None = None) -> RecordedPipeline:
    return RecordedPipeline(Transitions.load(DATA, retry_budget), noise or set())


def test_the_pipeline_as_declared_keeps_every_promise(tmp_path: Path) -> None:
    budget = Budget(examples=20, steps=4, seconds=1e6)
    result = search(_pipeline(), budget, tmp_path / "db", seed_value=1)
    assert not result.found, result.summary()
    assert len(result.tried) >= 10
    assert all(t.verdict == "passed" for t in result.tried)


def test_a_planted_retry_budget_is_found_and_shrunk_to_two_driver_kills(tmp_path: Path) -> None:
    budget = Budget(
        examples=50, steps=5, faults=("kill_executor", "partition_executors", "kill_driver")
    )
    result = search(_pipeline(retry_budget=1), budget, tmp_path / "db", seed_value=7)
    assert result.found, result.summary()
    assert result.original is not None
    assert result.shrunk is not None
    assert len(result.shrunk) == 2, result.summary()
    assert [s.fault for s in result.shrunk] == ["kill_driver", "kill_driver"]
    assert len(result.original) >= len(result.shrunk)
    assert "gave up" in result.failure
    phases = {t.phase for t in result.tried}
    assert "final" in phases
    assert result.tried[-1].verdict == "failed"


def test_a_failure_that_does_not_come_back_on_the_rerun_is_noise(tmp_path: Path) -> None:
    result = search(
        _pipeline(noise={0}), Budget(examples=3, steps=2), tmp_path / "db", seed_value=3
    )
    assert not result.found, result.summary()
    assert result.tried[0].verdict == "noise"
    assert result.tried[0].runs == 2
    assert "spurious" in result.tried[0].problems[0]


def test_without_a_rerun_noise_counts_as_a_failure(tmp_path: Path) -> None:
    # confirm=0: the first broken promise is the verdict (what a noisy cluster must not do)
    pipeline = _pipeline(noise=set(range(100)))
    result = search(pipeline, Budget(examples=3, steps=2, confirm=0), tmp_path / "db", seed_value=3)
    assert result.found


def test_generation_stops_at_two_thirds_of_the_budget(tmp_path: Path) -> None:
    # The budget is on the pipeline's clock: simulated here, so the cut is exact.
    pipeline = _pipeline()
    result = search(
        pipeline, Budget(examples=50, steps=2, seconds=300), tmp_path / "db", seed_value=5
    )
    assert not result.found
    assert result.budget_spent
    assert not result.shrink_cut_short
    assert 0 < len(result.tried) < 50
    assert "budget ran out" in result.summary()


def test_a_failure_found_late_is_still_shrunk_and_replayed(tmp_path: Path) -> None:
    # Seen on the cluster: a failure in the last example of a spent budget was never
    # shrunk, and rejecting the examples past the budget made hypothesis raise
    # FlakyStrategyDefinition. Now the last third of the budget is the shrinker's, the
    # examples past it are drawn but not struck, and the final replay always runs.
    budget = Budget(examples=50, steps=5, seconds=400, faults=("kill_executor", "kill_driver"))
    result = search(_pipeline(retry_budget=1), budget, tmp_path / "db", seed_value=7)
    assert result.found, result.summary()
    assert result.original is not None
    assert result.shrunk is not None
    assert len(result.shrunk) <= len(result.original)
    assert result.tried[-1].phase == "final"
    assert result.tried[-1].verdict == "failed"
    assert "gave up" in result.failure


def test_a_budget_that_ends_shrinking_still_replays_the_smallest_failure(tmp_path: Path) -> None:
    # 60 simulated seconds: the failure is found within the first 40, and shrinking is
    # cut short. The search itself replays the smallest failure seen (hypothesis' final
    # replay never comes: BudgetSpent ends its run).
    budget = Budget(examples=50, steps=5, seconds=60, faults=("kill_executor", "kill_driver"))
    result = search(_pipeline(retry_budget=1), budget, tmp_path / "db", seed_value=7)
    assert result.shrink_cut_short, result.summary()
    assert result.shrunk is not None
    assert result.original is not None
    assert len(result.shrunk) <= len(result.original)
    assert result.tried[-1].phase == "final"
    assert result.tried[-1].verdict == "failed"
    assert "cut short" in result.summary()


def test_exclusive_faults_and_both_workers_down_are_refused() -> None:
    held = Active(Step("stop_worker", "driver-node", 40, 0), since=0.0, until=40.0)
    assert refusal("stop_worker", [held], now=10.0) is not None
    assert refusal("stop_worker", [held], now=41.0) is None
    assert refusal("kill_driver", [held], now=10.0) is None
    fill = Active(Step("fill_checkpoint", "spark-checkpoint", 20, 0), 0.0, 20.0)
    assert "still in force" in (refusal("fill_checkpoint", [fill], 5.0) or "")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"fault": "kill_pod", "target": "driver"}, "fault"),
        ({"fault": "kill_driver", "target": "executor-0"}, "target"),
        ({"fault": "partition_executors", "target": "executors", "hold": 500}, "hold"),
        ({"fault": "kill_driver", "target": "driver", "gap": -1}, "gap"),
        ({"fault": "kill_driver"}, "'target'"),
        ({"fault": "kill_driver", "target": "driver", "when": 3}, "when"),
    ],
)
def test_a_bad_step_names_its_index_and_field(raw: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_steps([{"fault": "kill_driver", "target": "driver"}, raw], "replay.json")
    assert "replay.json: step 1" in str(caught.value)
    assert field in str(caught.value)


def test_every_fault_has_a_rule_in_the_search() -> None:
    from harness.property.search import PipelineMachine

    assert all(callable(getattr(PipelineMachine, name, None)) for name in FAULTS)


@pytest.mark.parametrize(
    ("policy", "state", "attempts", "gives_up"),
    [
        ({"type": "Always"}, "FAILED", 9, False),
        ({"type": "Never"}, "FAILED", 1, True),
        ({"type": "OnFailure", "onFailureRetries": 1}, "FAILED", 1, False),
        ({"type": "OnFailure", "onFailureRetries": 1}, "FAILED", 2, True),
        ({"type": "OnFailure", "onFailureRetries": 1}, "RUNNING", 2, False),
    ],
)
def test_gave_up_reads_the_operators_retry_rule(
    policy: dict[str, object], state: str, attempts: int, gives_up: bool
) -> None:
    app = {
        "spec": {"restartPolicy": policy},
        "status": {"applicationState": {"state": state}, "executionAttempts": attempts},
    }
    assert (gave_up(app) is not None) is gives_up


class _Unreadable(RecordedPipeline):
    def promises(self) -> list[str]:
        return ["unreadable: ObserverUnavailable: Prometheus down"] if self.struck else []


def test_an_unreadable_observer_is_inconclusive_never_a_failure(tmp_path: Path) -> None:
    pipeline = _Unreadable(Transitions.load(DATA))
    result = search(pipeline, Budget(examples=3, steps=3), tmp_path / "db", seed_value=2)
    assert not result.found
    struck = [t for t in result.tried if t.steps]  # hypothesis may also try no step at all
    assert struck
    assert {t.verdict for t in struck} == {"inconclusive"}
    assert all(len(t.steps) == 1 for t in struck)


def _found(tmp_path: Path) -> dict[str, object]:
    from harness.property.session import replay_command

    budget = Budget(examples=20, steps=4, faults=("kill_executor", "kill_driver"))
    result = search(_pipeline(retry_budget=1), budget, tmp_path / "db", seed_value=11)
    return {
        **result.as_json(),
        "plant": "retry-budget",
        "summary": result.summary(),
        "replay": replay_command(result, "retry-budget", tmp_path / "replay.json"),
        "transitions": [],
    }


def test_the_replay_experiment_reproduces_through_its_steady_state(tmp_path: Path) -> None:
    from harness.property.replay import experiment

    steps = [Step("kill_driver", "driver", 0, 5), Step("kill_driver", "driver", 0, 0)]
    doc = experiment(steps, "retry-budget", 42, "/db", "application gave up")
    probes = [p["provider"]["func"] for p in doc["steady-state-hypothesis"]["probes"]]
    assert probes == ["pipeline_whole", "sequence_kept_promises"]
    replayed = doc["method"][0]["provider"]
    assert replayed["func"] == "replay_fault_sequence"
    assert parse_steps(replayed["arguments"]["steps"], "doc") == steps
    assert replayed["arguments"]["plant"] == "retry-budget"
    assert doc["configuration"]["hypothesis_seed"] == 42
    assert doc["rollbacks"][0]["provider"]["func"] == "restore_after_sequence"


def test_the_report_shows_the_original_and_the_shrunk_sequence(tmp_path: Path) -> None:
    from harness.report import RunReport, TestRecord
    from harness.report.render import render_html
    from harness.report.schema import validate

    found = _found(tmp_path)
    record = TestRecord("tests/property/test_search.py::test_planted", "passed", 1.0)
    record.property = found
    data = RunReport("20261204-153000", tmp_path).as_json()
    data["tests"] = RunReport("r1", tmp_path, tests=[record]).as_json()["tests"]
    validate(data, "results.json")
    page = render_html(data)
    assert "Property-based searches" in page
    assert "Shrunk" in page
    assert "kill_driver(driver), then" in page
    assert "--hypothesis-seed=" in page
    assert "planted weakness" in page
