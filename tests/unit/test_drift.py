"""The live SparkApplication compared with 05: defaults ignored, every declared change seen.

The live object is tests/unit/data/sparkapplication-events-stream.json (05 as the API
server stores it, with the operator's status); each case changes it the way a negative
control or a half-done rollback would, and the comparison must name the field.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.drift import SPARK_APPLICATION_EXACT, drift
from harness.invariants import application_problems, declared_documents

DATA = Path(__file__).parent / "data"
IMAGES = {
    "spark_image": "harness.local/spark:4.2.0-5f0c1e2a",
    "kafka_image": "harness.local/kafka:4.4.0-9b1d33c0",
    "tools_image": "harness.local/pipeline-tools:0.1.0-3e7a9d41",
}


def _declared(images: dict[str, str] | None = IMAGES) -> dict[str, Any]:
    return next(
        d
        for d in declared_documents("05-spark-application.yaml", images)
        if d["kind"] == "SparkApplication"
    )


def _live() -> dict[str, Any]:
    live: dict[str, Any] = json.loads((DATA / "sparkapplication-events-stream.json").read_text())
    return live


def _spec_drift(live: dict[str, Any], images: dict[str, str] | None = IMAGES) -> list[str]:
    return drift(_declared(images)["spec"], live["spec"], SPARK_APPLICATION_EXACT, "spec")


def test_the_recorded_application_is_as_05_declares_it() -> None:
    assert application_problems(_declared(), _live()) == []


def test_fields_the_server_or_operator_default_are_ignored() -> None:
    live = _live()
    spec = live["spec"]
    spec["memoryOverheadFactor"] = "0.4"
    spec["driver"]["template"]["spec"]["containers"][0]["terminationMessagePath"] = "/dev/log"
    spec["driver"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["readOnly"] = False
    spec["executor"]["template"]["spec"]["tolerations"] = []
    spec["executor"]["javaOptions"] = None
    assert _spec_drift(live) == []


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(spec: dict[str, Any]) -> None:
        target = spec
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _drop_volume(role: str, name: str) -> Callable[[dict[str, Any]], None]:
    def change(spec: dict[str, Any]) -> None:
        template = spec[role]["template"]["spec"]
        template["volumes"] = [v for v in template["volumes"] if v["name"] != name]

    return change


def _add_volume(spec: dict[str, Any]) -> None:
    spec["executor"]["template"]["spec"]["volumes"].append({"name": "scratch", "emptyDir": {}})


def _swap_checkpoint_to_emptydir(spec: dict[str, Any]) -> None:
    for volume in spec["driver"]["template"]["spec"]["volumes"]:
        if volume["name"] == "checkpoint":
            volume.pop("persistentVolumeClaim")
            volume["emptyDir"] = {}


TOLERATE_UNREACHABLE = [
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"}
]

CHANGES: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "restart_policy_never": (
        _set(["restartPolicy", "type"], "Never"),
        "spec.restartPolicy.type: declared 'Always', live has 'Never'",
    ),
    "restart_policy_gains_a_retry_budget": (
        _set(["restartPolicy", "onFailureRetries"], 3),
        "spec.restartPolicy.onFailureRetries: not declared, live has 3",
    ),
    "spark_conf_value_changed": (
        _set(["sparkConf", "spark.network.timeout"], "600s"),
        "spec.sparkConf['spark.network.timeout']: declared '60s', live has '600s'",
    ),
    "spark_conf_entry_added": (
        _set(["sparkConf", "spark.task.maxFailures"], "1"),
        "spec.sparkConf['spark.task.maxFailures']: not declared, live has '1'",
    ),
    "spark_conf_entry_removed": (
        lambda spec: spec["sparkConf"].pop("spark.sql.streaming.minBatchesToRetain"),
        "spec.sparkConf['spark.sql.streaming.minBatchesToRetain']: declared '20', missing live",
    ),
    "executor_instances": (
        _set(["executor", "instances"], 1),
        "spec.executor.instances: declared 2, live has 1",
    ),
    "driver_toleration_added": (
        _set(["driver", "template", "spec", "tolerations"], TOLERATE_UNREACHABLE),
        "spec.driver.template.spec.tolerations: not declared, live has",
    ),
    "executor_toleration_added": (
        _set(["executor", "template", "spec", "tolerations"], TOLERATE_UNREACHABLE),
        "spec.executor.template.spec.tolerations: not declared, live has",
    ),
    "driver_volume_removed": (
        _drop_volume("driver", "checkpoint"),
        "spec.driver.template.spec.volumes[checkpoint]: declared, missing live",
    ),
    "executor_volume_added": (
        _add_volume,
        "spec.executor.template.spec.volumes[scratch]: not declared, live has it",
    ),
    "checkpoint_on_emptydir": (
        _swap_checkpoint_to_emptydir,
        "spec.driver.template.spec.volumes[checkpoint].persistentVolumeClaim: declared",
    ),
    "driver_mount_removed": (
        lambda spec: spec["driver"]["template"]["spec"]["containers"][0]["volumeMounts"].pop(0),
        "spec.driver.template.spec.containers[spark-kubernetes-driver].volumeMounts"
        "[checkpoint]: declared, missing live",
    ),
    "image_changed": (
        _set(["image"], "harness.local/spark:4.1.0-old"),
        "spec.image: declared 'harness.local/spark:4.2.0-5f0c1e2a', live has",
    ),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_changed_application_is_seen(change: str) -> None:
    live = copy.deepcopy(_live())
    apply, expected = CHANGES[change]
    apply(live["spec"])
    found = _spec_drift(live)
    assert any(line.startswith(expected) for line in found), found
    assert len(found) == 1, found


def test_without_image_values_everything_but_the_images_is_compared() -> None:
    live = _live()
    live["spec"]["image"] = "harness.local/spark:4.1.0-old"
    assert _spec_drift(live, images=None) == []
    live["spec"]["restartPolicy"]["type"] = "Never"
    assert _spec_drift(live, images=None) == [
        "spec.restartPolicy.type: declared 'Always', live has 'Never'"
    ]


def test_an_application_not_running_is_a_problem() -> None:
    live = _live()
    live["status"]["applicationState"]["state"] = "SUBMISSION_FAILED"
    assert application_problems(_declared(), live) == [
        "SparkApplication events-stream is SUBMISSION_FAILED, not RUNNING"
    ]


@pytest.mark.parametrize(
    ("declared", "live", "expected"),
    [
        ({"a": 1}, {"a": "1"}, []),
        ({"a": True}, {"a": "true"}, []),
        ({"a": None}, {"a": None}, []),
        ({"a": [1, 2]}, {"a": [1, 2, 3]}, ["a: declared [1, 2], live has [1, 2, 3]"]),
        ({"a": {"b": 1}}, {"a": "x"}, ["a: declared {'b': 1}, live has 'x'"]),
        ({"a": "@spark_image@"}, {"a": "anything"}, []),
        ({"a": []}, {"a": [{"x": 1}]}, ["a: declared none, live has [{'x': 1}]"]),
    ],
    ids=[
        "number_as_string",
        "bool_as_string",
        "both_null",
        "list_grew",
        "mapping_replaced",
        "placeholder_not_compared",
        "empty_list_filled",
    ],
)
def test_drift_rules(declared: Any, live: Any, expected: list[str]) -> None:
    assert drift(declared, live) == expected
