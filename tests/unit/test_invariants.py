"""The invariants' pure checks on recorded API answers: budgets (06) and alerts (08)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from harness.invariants import budget_problems, declared_documents, rule_problems

DATA = Path(__file__).parent / "data"


def _budgets() -> list[dict[str, Any]]:
    live: list[dict[str, Any]] = json.loads((DATA / "poddisruptionbudgets.json").read_text())
    return live


def _rules() -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = json.loads((DATA / "prometheus-rules.json").read_text())["data"][
        "groups"
    ]
    return groups


def test_every_budget_06_declares_is_there() -> None:
    assert budget_problems(declared_documents("06-autoscaling.yaml"), _budgets()) == []


def test_a_deleted_budget_is_missing() -> None:
    live = [b for b in _budgets() if b["metadata"]["name"] != "kafka"]
    assert budget_problems(declared_documents("06-autoscaling.yaml"), live) == [
        "PodDisruptionBudget spark-pipeline/kafka (06) missing"
    ]


def test_a_loosened_budget_is_drift() -> None:
    live = copy.deepcopy(_budgets())
    kafka = next(b for b in live if b["metadata"]["name"] == "kafka")
    kafka["spec"]["maxUnavailable"] = 1
    assert budget_problems(declared_documents("06-autoscaling.yaml"), live) == [
        "PodDisruptionBudget spark-pipeline/kafka (06): spec.maxUnavailable: declared 0, live has 1"
    ]


def test_every_alert_08_declares_is_loaded() -> None:
    assert rule_problems(declared_documents("08-monitoring.yaml"), _rules()) == []


def test_an_alert_prometheus_has_not_loaded_is_a_problem() -> None:
    groups = copy.deepcopy(_rules())
    for group in groups:
        group["rules"] = [r for r in group["rules"] if r["name"] != "CheckpointVolumeAlmostFull"]
    assert rule_problems(declared_documents("08-monitoring.yaml"), groups) == [
        "alert CheckpointVolumeAlmostFull (08) not loaded in Prometheus"
    ]


def test_a_recording_rule_of_the_same_name_is_not_the_alert() -> None:
    groups = copy.deepcopy(_rules())
    rule = next(r for g in groups for r in g["rules"] if r["name"] == "SparkDriverDown")
    rule["type"] = "recording"
    assert rule_problems(declared_documents("08-monitoring.yaml"), groups) == [
        "alert SparkDriverDown (08) not loaded in Prometheus"
    ]


def test_an_alert_loaded_with_another_for_or_failing_is_a_problem() -> None:
    groups = copy.deepcopy(_rules())
    rules = {r["name"]: r for g in groups for r in g["rules"]}
    rules["SparkDriverDown"]["duration"] = 0
    rules["KafkaUnavailable"]["health"] = "err"
    rules["KafkaUnavailable"]["lastError"] = "many-to-many matching not allowed"
    assert rule_problems(declared_documents("08-monitoring.yaml"), groups) == [
        "alert SparkDriverDown loaded with for 0s, 08 declares 30s",
        "alert KafkaUnavailable fails to evaluate: many-to-many matching not allowed",
    ]
