"""An isolation's stand-ins keep every other pod's allowances and none of the targets'."""

from __future__ import annotations

from typing import Any

from harness.chaos.network import stand_ins
from harness.chaos.selectors import matches
from harness.invariants import CHAOS_LABEL

TARGET = {"spark-role": "executor", "harness.local/spark-app": "events-stream"}


def _policy(selector: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "spark-app-internal", "namespace": "spark-pipeline"},
        "spec": {"podSelector": selector, "policyTypes": ["Ingress"]},
    }


def _selected(copies: list[dict[str, Any]], labels: dict[str, str]) -> bool:
    return any(matches(c["spec"]["podSelector"], labels) for c in copies)


def test_stand_ins_select_everything_but_the_targets() -> None:
    copies = stand_ins(_policy({}), TARGET, "abcd1234")
    assert len(copies) == len(TARGET)
    assert not _selected(copies, {**TARGET, "other": "x"})
    assert _selected(copies, {"spark-role": "driver", "harness.local/spark-app": "events-stream"})
    assert _selected(copies, {"spark-role": "executor", "harness.local/spark-app": "control"})
    assert _selected(copies, {"app.kubernetes.io/name": "kafka"})


def test_stand_ins_keep_the_original_selector_and_are_marked() -> None:
    original = _policy({"matchLabels": {"app.kubernetes.io/part-of": "spark-pipeline"}})
    copies = stand_ins(original, TARGET, "abcd1234")
    assert not _selected(copies, {"app.kubernetes.io/name": "kafka"})  # never selected
    part_of = {"app.kubernetes.io/part-of": "spark-pipeline"}
    assert _selected(copies, {**part_of, "spark-role": "driver"})
    assert not _selected(copies, {**part_of, **TARGET})
    for copy in copies:
        assert copy["metadata"]["labels"][CHAOS_LABEL] == "isolate-keep"
        assert copy["metadata"]["name"].startswith("spark-app-internal-keep-abcd1234-")
    assert "matchExpressions" not in original["spec"]["podSelector"], "the original is untouched"
