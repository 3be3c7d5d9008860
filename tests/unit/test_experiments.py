"""Experiment files are validated before they run; the verdict is the harness's own."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from harness.errors import InvalidInput
from harness.experiments import validate_experiment, verdict
from harness.mechanisms.runner import IMPLEMENTED
from harness.settings import PROJECT_ROOT

EXPERIMENTS = sorted((PROJECT_ROOT / "experiments").glob("*.json"))
BASE = json.loads((PROJECT_ROOT / "experiments" / "driver_restart.json").read_text())


@pytest.mark.parametrize("path", EXPERIMENTS, ids=[p.stem for p in EXPERIMENTS])
def test_every_experiment_file_is_valid(path: Path) -> None:
    validate_experiment(path)


def _write(tmp_path: Path, doc: Any) -> Path:
    path = tmp_path / "bad.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def _broken(change: str) -> Any:
    doc = copy.deepcopy(BASE)
    if change == "no-method":
        del doc["method"]
    elif change == "empty-method":
        doc["method"] = []
    elif change == "unknown-func":
        doc["method"][0]["provider"]["func"] = "delete_everything"
    elif change == "other-module":
        doc["method"][0]["provider"]["module"] = "os"
    elif change == "unknown-argument":
        doc["method"][0]["provider"]["arguments"]["force"] = True
    elif change == "unknown-mechanism":
        doc["method"][0]["provider"]["arguments"]["mechanism"] = "driver_restrat"
    elif change == "not-implemented":
        doc["method"][0]["provider"]["arguments"]["mechanism"] = "hpa_scale"
    elif change == "bad-negative":
        doc["method"][0]["provider"]["arguments"]["negative_control"] = "yes"
    elif change == "no-tolerance":
        del doc["steady-state-hypothesis"]["probes"][0]["tolerance"]
    return doc


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ("no-method", "method"),
        ("empty-method", "method"),
        ("unknown-func", "method[0].provider.func"),
        ("other-module", "method[0].provider.module"),
        ("unknown-argument", "method[0].provider.arguments.force"),
        ("unknown-mechanism", "method[0].provider.arguments.mechanism"),
        ("not-implemented", "method[0].provider.arguments.mechanism"),
        ("bad-negative", "method[0].provider.arguments.negative_control"),
        ("no-tolerance", "steady-state-hypothesis.probes[0].tolerance"),
    ],
)
def test_a_bad_file_names_file_and_field(tmp_path: Path, change: str, field: str) -> None:
    path = _write(tmp_path, _broken(change))
    with pytest.raises(InvalidInput) as info:
        validate_experiment(path)
    assert str(path) in str(info.value)
    assert field in str(info.value)


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, '{"title": "x",\n  "method": [}')
    with pytest.raises(InvalidInput, match="line 2"):
        validate_experiment(path)


def _journal(healed: bool, negative: bool, after_met: bool = True) -> dict[str, Any]:
    return {
        "status": "completed",
        "steady_states": {
            "before": {"steady_state_met": True},
            "after": {"steady_state_met": after_met},
        },
        "run": [
            {
                "status": "succeeded",
                "activity": {
                    "name": "x",
                    "provider": {
                        "func": "run_mechanism",
                        "arguments": {"mechanism": "driver_restart", "negative_control": negative},
                    },
                },
                "output": {"healed": healed, "failures": [] if healed else ["did not come back"]},
            }
        ],
        "rollbacks": [{"status": "succeeded", "activity": {"name": "r"}, "output": True}],
    }


def test_verdict_passes_a_healed_mechanism() -> None:
    assert verdict(_journal(healed=True, negative=False)).passed


def test_completed_journal_with_unhealed_mechanism_fails() -> None:
    result = verdict(_journal(healed=False, negative=False))
    assert not result.passed
    assert "did not come back" in result.reasons[0]


def test_completed_journal_with_failed_steady_state_fails() -> None:
    result = verdict(_journal(healed=True, negative=False, after_met=False))
    assert not result.passed
    assert "steady state after" in result.reasons[0]


def test_negative_control_passes_only_when_the_check_failed() -> None:
    assert verdict(_journal(healed=False, negative=True)).passed
    assert not verdict(_journal(healed=True, negative=True)).passed


def test_every_implemented_mechanism_has_both_experiments() -> None:
    for mechanism_id in IMPLEMENTED:
        for name in (f"{mechanism_id}.json", f"{mechanism_id}_negative_control.json"):
            path = PROJECT_ROOT / "experiments" / name
            assert path.is_file(), f"{path} missing for implemented mechanism {mechanism_id}"
            validate_experiment(path)
