"""dynamic_allocation's application, the driver's reports and the control's decision, pure."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from harness.deploy.validate import pipeline_crd_schemas, validate_documents
from harness.invariants import declared_documents
from harness.mechanisms import dynamic_allocation as module
from harness.mechanisms.allocation import (
    APP,
    BURST,
    CONF,
    MAX,
    MAX_OFFSETS,
    MIN,
    PARTITIONS,
    QUERY,
    TOPIC,
    Batch,
    active_executors,
    autoscale_app,
    drained_at,
    parse_batches,
    scale_down_terms,
    scale_up_terms,
    spark_seconds,
    spark_time,
    task_waits,
)
from harness.mechanisms.dynamic_allocation import DynamicAllocation
from harness.mechanisms.model import Bound
from harness.mechanisms.outcome import Outcome
from harness.mechanisms.registry import mechanism
from harness.mechanisms.template import implemented
from harness.spark_application import APP as JOB
from harness.spark_application import control_twin


def _app(dynamic: bool) -> dict[str, Any]:
    doc = next(
        d
        for d in declared_documents("05-spark-application.yaml")
        if d["kind"] == "SparkApplication" and d["metadata"]["name"] == JOB
    )
    twin: dict[str, Any] = control_twin(doc, APP, QUERY)
    autoscale_app(twin, dynamic)
    return twin


def _env(app: dict[str, Any]) -> dict[str, str]:
    env = app["spec"]["driver"]["template"]["spec"]["containers"][0]["env"]
    names = [e["name"] for e in env]
    assert len(names) == len(set(names)), f"an env var set twice: {names}"
    return {e["name"]: e["value"] for e in env}


def test_the_application_scales_one_to_three_executors_on_its_own_topic() -> None:
    app = _app(dynamic=True)
    spec = app["spec"]
    assert app["metadata"]["name"] == APP
    assert spec["dynamicAllocation"] == {
        "enabled": True,
        "initialExecutors": MIN,
        "minExecutors": MIN,
        "maxExecutors": MAX,
        "shuffleTrackingEnabled": True,
    }
    assert "instances" not in spec["executor"]
    assert "spark.executor.instances" not in spec["sparkConf"]
    assert CONF.items() <= spec["sparkConf"].items()
    assert spec["sparkConf"]["spark.metrics.namespace"] == "events_autoscale"
    assert spec["restartPolicy"] == {"type": "Never"}
    assert _env(app) == {
        "QUERY_NAME": QUERY,
        "STARTING_OFFSETS": "latest",
        "KAFKA_TOPIC": TOPIC,
        "MAX_OFFSETS_PER_TRIGGER": str(MAX_OFFSETS),
    }
    for role in ("driver", "executor"):
        assert spec[role]["labels"]["harness.local/spark-app"] == APP
        volumes = spec[role]["template"]["spec"]["volumes"]
        assert not [v for v in volumes if "persistentVolumeClaim" in v], "emptyDirs only"


def test_its_control_differs_only_in_dynamic_allocation() -> None:
    on, off = _app(dynamic=True), _app(dynamic=False)
    assert off["spec"]["executor"]["instances"] == MIN
    assert "dynamicAllocation" not in off["spec"]
    assert not CONF.keys() & off["spec"]["sparkConf"].keys()
    del on["spec"]["dynamicAllocation"], off["spec"]["executor"]["instances"]
    for key in CONF:
        del on["spec"]["sparkConf"][key]
    assert on == off


@pytest.mark.parametrize("dynamic", [True, False], ids=["dynamic allocation", "control"])
def test_the_application_matches_the_operator_crd(dynamic: bool) -> None:
    assert validate_documents([("autoscale", _app(dynamic))], crds=pipeline_crd_schemas()) == []


def test_07_and_08_let_its_pods_talk_and_scrape_its_driver() -> None:
    policy = next(
        d
        for d in declared_documents("07-networking.yaml")
        if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "spark-autoscale-internal"
    )
    label = {"harness.local/spark-app": APP}
    assert policy["spec"]["podSelector"]["matchLabels"] == label
    assert policy["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"] == label
    assert policy["spec"]["egress"][0]["to"][0]["podSelector"]["matchLabels"] == label
    monitor = next(
        d
        for d in declared_documents("08-monitoring.yaml")
        if d["kind"] == "PodMonitor" and d["metadata"]["name"] == "spark-autoscale"
    )
    assert monitor["spec"]["selector"]["matchLabels"] == {"spark-role": "driver", **label}
    endpoints = {(e["port"], e["path"]) for e in monitor["spec"]["podMetricsEndpoints"]}
    assert endpoints == {("spark-ui", "/metrics/prometheus"), ("stream-metrics", "/metrics")}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1s", 1.0), ("15s", 15.0), ("500ms", 0.5), ("2min", 120.0), ("1h", 3600.0), ("30", 30.0)],
)
def test_spark_time_settings_read_as_seconds(text: str, seconds: float) -> None:
    assert spark_seconds(text) == seconds


def test_a_spark_time_setting_that_is_not_one_is_refused() -> None:
    with pytest.raises(ValueError, match="not a Spark time"):
        spark_seconds("soon")


def test_bounds_are_the_arithmetic_of_the_settings() -> None:
    conf = {**CONF, "spark.kubernetes.allocation.batch.delay": "1s"}
    up = Bound(scale_up_terms(conf, trigger=5.0, poll=2.0))
    assert up.seconds == 5 + 2 + 1 + 1 + 45 + (2 + 2)
    down = Bound(scale_down_terms(conf, poll=2.0))
    assert down.arithmetic() == (
        "executor idle timeout 15s + executor pod deletion grace 5s + pod end seen 5s"
        " + observation 4s = 29s"
    )
    decommission = {
        **conf,
        "spark.decommission.enabled": "true",
        "spark.storage.decommission.replicationReattemptInterval": "2s",
    }
    assert Bound(scale_down_terms(decommission, poll=2.0)).seconds == 15 + 2 + 5 + 5 + 4


def test_the_burst_is_a_backlog_longer_than_the_scale_up_bound() -> None:
    """Each batch waits for a trigger: the drain outlasts the bound, so the added
    executors come while events are unread, and the control's backlog outlives it."""
    up = Bound(scale_up_terms(CONF, trigger=5.0, poll=2.0))
    drain = BURST / MAX_OFFSETS * 5.0
    assert drain > up.seconds * 1.5
    assert PARTITIONS > 2 * MAX, "more tasks per batch than the executors run at once"
    assert MAX_OFFSETS % PARTITIONS == 0, "the cap spread evenly over the partitions"


_LOG = "\n".join(
    [
        '2026-12-03T10:00:00.100000000Z {"ts":"2026-12-03T10:00:00.099Z","level":"INFO",'
        '"msg":"Starting new streaming query.","logger":"MicroBatchExecution"}',
        '2026-12-03T10:00:01.000000000Z {"event": "query_started", "id": "q"}',
        '2026-12-03T10:00:02.500000000Z {"event": "progress", "batch": 0, "rows": 0, "ts": "x"}',
        "2026-12-03T10:00:03.000000000Z 26/12/03 10:00:03 INFO SparkContext: plain log line",
        '2026-12-03T10:00:09.250000000Z {"event": "progress", "batch": 1, "rows": 6000, "ts": "x"}',
        '2026-12-03T10:00:14.750000000Z {"event": "progress", "batch": 2, "rows": 4000, "ts": "x"}',
        "2026-12-03T10:00:15.000000000Z {not json",
    ]
)


def test_batches_are_the_listener_lines_of_the_driver_log() -> None:
    batches = parse_batches(_LOG)
    assert [(b.batch, b.rows) for b in batches] == [(0, 0), (1, 6000), (2, 4000)]
    assert batches[1].at == pytest.approx(spark_time("2026-12-03T10:00:09.250GMT"))


def test_the_drain_is_the_end_of_the_batch_that_read_the_last_event() -> None:
    batches = parse_batches(_LOG)
    assert drained_at(batches, 10000) == batches[2].at
    assert drained_at(batches, 10001) is None


def test_active_executors_are_those_registered_and_not_removed() -> None:
    report = {
        "executors": [
            {"id": "driver", "isActive": True},
            {"id": "1", "isActive": True},
            {"id": "2", "isActive": False, "removeReason": "Executor killed by driver."},
            {"id": "3", "isActive": True},
        ]
    }
    assert active_executors(report) == ["1", "3"]


def _stage(stage: int, submitted: str, launches: list[str]) -> dict[str, Any]:
    return {"stageId": stage, "numTasks": len(launches), "submissionTime": submitted,
            "launchTimes": launches}  # fmt: skip


def test_task_waits_are_the_last_launch_after_the_stage_was_submitted() -> None:
    t = "2026-12-03T10:00:{:06.3f}GMT".format
    report = {
        "stages": [
            _stage(0, t(1.0), [t(1.1)]),  # before the burst
            _stage(1, t(10.0), [t(10.1), t(10.9), t(11.8), t(12.7), t(13.4), t(14.0)]),
            _stage(2, t(20.0), []),  # not launched yet
        ]
    }
    waits = task_waits(report, since=spark_time(t(5.0)))
    assert [(w.stage, w.tasks, w.max_wait) for w in waits] == [(1, 6, 4.0)]


# The control's decision, with the cluster replaced by what it would report.


def _pod(name: str, uid: str = "") -> Any:
    return SimpleNamespace(metadata=SimpleNamespace(name=name, uid=uid))


class _App:
    def __init__(self, executors: list[str]) -> None:
        self.executors = executors

    def pods(self, role: str, ready: bool = False) -> list[Any]:
        return [_pod("d", "uid-d")] if role == "driver" else [_pod(n) for n in self.executors]

    def pod_names(self, role: str) -> set[str]:
        return set(self.executors)

    def state(self) -> str:
        return "RUNNING"


def _control(
    monkeypatch: pytest.MonkeyPatch, now: float, registered: list[str], pods: list[str]
) -> DynamicAllocation:
    t = "2026-12-03T10:00:{:06.3f}GMT".format
    burst = spark_time(t(0.0))
    report = {
        "executors": [{"id": "driver", "isActive": True}]
        + [{"id": i, "isActive": True} for i in registered],
        "stages": [_stage(1, t(6.0), [t(6.1 + 0.8 * i) for i in range(PARTITIONS)])],
    }
    batches = [Batch(1, MAX_OFFSETS, burst + 12), Batch(2, MAX_OFFSETS, burst + 17)]
    monkeypatch.setattr(module, "read_driver", lambda *a, **k: json.loads(json.dumps(report)))
    monkeypatch.setattr(module, "read_batches", lambda *a: batches)
    monkeypatch.setattr(module.time, "time", lambda: burst + now)
    m = DynamicAllocation.__new__(DynamicAllocation)
    m.ctx = SimpleNamespace(core=None, namespace="spark-pipeline")  # type: ignore[assignment]
    m.autoscale = _App(pods)  # type: ignore[assignment]
    m.outcome = Outcome(m.id, True, Bound(scale_up_terms(CONF, trigger=5.0, poll=2.0)))
    m.negative_control, m.peak, m.backlog_timeout = True, 0, 1.0
    m.fault_epoch = m.landed_at = burst
    m.driver, m.driver_uid, m.before_pods = "d", "uid-d", {"e1"}
    return m


def test_the_control_waits_out_the_scale_up_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    m = _control(monkeypatch, now=30.0, registered=["1"], pods=["e1"])
    evidence, seen = m.control_failed()
    assert evidence is None
    assert "30s of the 58s bound" in seen


def test_the_control_fails_as_declared_with_its_evidence(monkeypatch: pytest.MonkeyPatch) -> None:
    m = _control(monkeypatch, now=62.0, registered=["1"], pods=["e1"])
    evidence, _ = m.control_failed()
    assert evidence is not None
    assert evidence["executors_peak"] == MIN
    assert evidence["events_unread"] == BURST - 2 * MAX_OFFSETS
    assert evidence["batches_at_cap"] == 2
    assert evidence["longest_task_wait_s"] == pytest.approx(0.1 + 0.8 * (PARTITIONS - 1))
    assert evidence["tasks_per_stage"] == PARTITIONS
    assert m.control_healed()[0] is None


def test_a_control_whose_executors_rose_healed(monkeypatch: pytest.MonkeyPatch) -> None:
    m = _control(monkeypatch, now=62.0, registered=["1", "2"], pods=["e1", "e2"])
    assert m.control_failed()[0] is None
    assert m.control_healed()[0] is not None


def test_it_is_registered_and_reconciles_no_window() -> None:
    assert implemented()["dynamic_allocation"] is DynamicAllocation
    assert mechanism("dynamic_allocation").touches_data is False
