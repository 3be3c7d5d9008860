"""Property-based chaos on the real pipeline (harness.property): ``pytest -m property``.

Deselected unless the -m expression names ``property``: each search spends its
--property-budget (15 minutes by default). The first searches the pipeline as deployed
and fails when a sequence broke a promise (twice); the second plants a weakness (a retry
budget of one resubmission) and passes only when the search found it and shrank it to
the smallest sequence that shows it: at most two faults that end the driver.
"""

from __future__ import annotations

import pytest

from harness.fixtures.chaos import SEARCH
from harness.fixtures.plugin import REPORT
from harness.mechanisms.context import MechanismContext
from harness.property.search import Budget, budget_from
from harness.property.session import run_search

pytestmark = [pytest.mark.property, pytest.mark.disruptive, pytest.mark.lab]


def _budget(config: pytest.Config) -> Budget:
    return budget_from(lambda name: config.getoption(f"--property-{name}"))


def _search(chaos: MechanismContext, request: pytest.FixtureRequest, plant: str | None) -> dict:
    seed = request.config.getoption("hypothesis_seed", None)
    out = request.config.stash[REPORT].directory / "property" / request.node.name
    data = run_search(
        chaos,
        _budget(request.config),
        out,
        plant=plant,
        seed=None if seed is None else int(seed),
        progress=print,
    )
    request.node.stash[SEARCH] = data
    print(data["summary"])
    struck = [t for t in data["tried"] if t["steps"] and t["verdict"] != "inconclusive"]
    if not struck:
        pytest.fail(
            f"INCONCLUSIVE (not a pass): no sequence was struck and judged: {data['summary']}",
            pytrace=False,
        )
    return data


def test_fault_sequences(chaos: MechanismContext, request: pytest.FixtureRequest) -> None:
    data = _search(chaos, request, plant=None)
    if data["shrunk"] is not None:
        pytest.fail(f"{data['summary']}\nreplay: {' | '.join(data['replay'])}", pytrace=False)


def test_planted_weakness_is_found_and_shrunk(
    chaos: MechanismContext, request: pytest.FixtureRequest
) -> None:
    data = _search(chaos, request, plant="retry-budget")
    if data["shrunk"] is None:
        pytest.fail(f"the planted weakness was not found: {data['summary']}", pytrace=False)
    # Two driver losses exhaust a retry budget of one; a single held fault that ends the
    # driver twice (a fill outlasting a resubmission) would be smaller still, and honest.
    assert 1 <= len(data["shrunk"]) <= 2, data["summary"]
    assert len(data["shrunk"]) <= len(data["original"]), data["summary"]
    assert "gave up" in data["failure"], data["summary"]
