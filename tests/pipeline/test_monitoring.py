"""Prometheus sees the whole pipeline: targets up, the metrics the checks read, the rules."""

from __future__ import annotations

from typing import Any

from harness.fixtures.pipeline import Pipeline
from harness.observe.wait import wait_until

EXPECTED_POOLS = {
    "podMonitor/spark-pipeline/spark-driver/0",
    "podMonitor/spark-pipeline/spark-driver/1",
    "podMonitor/spark-pipeline/spark-driver/2",
    "podMonitor/spark-operator/spark-operator/0",
    "serviceMonitor/spark-pipeline/ingest/0",
    "serviceMonitor/monitoring/kube-state-metrics/0",
    "serviceMonitor/monitoring/kubelet/0",
}
"""Every monitor of 08-monitoring.yaml, one scrape pool per endpoint."""

EXPECTED_ALERTS = {
    "SparkDriverDown",
    "SparkStreamingStalled",
    "CheckpointVolumeAlmostFull",
    "SinkVolumeAlmostFull",
    "SparkApplicationResubmitted",
    "KafkaUnavailable",
    "IngestDegraded",
    "BackupJobFailed",
    "PipelineTargetDown",
    "NodeNotReady",
}

SCRAPE_SETTLE = 120.0
"""Scrape interval 5s; a new target's first scrape and the config reload take longer."""
ALERT_WINDOW_SETTLE = 360.0
"""The longest alert look-back (5 min) plus rule evaluation and scrape."""


def test_every_prometheus_target_is_up(pipeline: Pipeline) -> None:
    def all_up() -> tuple[list[dict[str, Any]] | None, str]:
        targets = pipeline.prom.api("targets", state="active")["activeTargets"]
        pools = {t["scrapePool"] for t in targets}
        down = [
            f"{t['scrapePool']} {t['scrapeUrl']}: {t['lastError']}"
            for t in targets
            if t["health"] != "up"
        ]
        missing = EXPECTED_POOLS - pools
        ok = not down and not missing
        return (targets if ok else None), f"missing pools {sorted(missing)}; down {down}"

    targets = wait_until("every expected target scraped and up", all_up, SCRAPE_SETTLE, 5.0)
    assert len(targets) >= len(EXPECTED_POOLS)


def _present(pipeline: Pipeline, promql: str) -> list[tuple[dict[str, str], float]]:
    def probe() -> tuple[list[tuple[dict[str, str], float]] | None, str]:
        rows = pipeline.prom.query(promql)
        return (rows or None), f"{promql} returned nothing"

    return wait_until(f"series for {promql}", probe, SCRAPE_SETTLE, 5.0)


def test_operator_and_spark_metrics_are_present(pipeline: Pipeline) -> None:
    # The operator: exactly one leader, and it counts the running application. Its
    # spark_application_submit_count exists only once the *current* leader has submitted
    # something (a failover resets it), so it is not required at steady state.
    leaders = _present(pipeline, 'leader_election_master_status{namespace="spark-operator"}')
    assert sum(v for _, v in leaders) == 1, f"expected one operator leader: {leaders}"
    assert max(v for _, v in _present(pipeline, "spark_application_running_count")) >= 1
    reconciles = _present(
        pipeline, 'sum(controller_runtime_reconcile_total{controller="sparkapplication"})'
    )
    assert reconciles[0][1] > 0, "the operator has not reconciled the SparkApplication"
    # Spark's own driver metrics, under the fixed namespace (not the changing app id).
    rate = _present(
        pipeline, "metrics_events_stream_driver_spark_streaming_events_inputRate_total_Value"
    )
    assert rate, "streaming metrics missing: is spark.sql.streaming.metricsEnabled set?"
    executors = _present(pipeline, 'metrics_executor_totalCores{executor_id!="driver"}')
    assert len(executors) >= 2, f"expected 2 executors, saw {executors}"
    # The job's listener: batch ids and rows.
    assert max(v for _, v in _present(pipeline, "spark_stream_last_batch_id")) >= 0
    # The kubelet: the checkpoint volume's real capacity (256 MiB tmpfs) and usage.
    capacity = _present(
        pipeline,
        'kubelet_volume_stats_capacity_bytes{namespace="spark-pipeline",'
        'persistentvolumeclaim="spark-checkpoint"}',
    )
    assert capacity[0][1] == 256 * 1024 * 1024
    used = _present(
        pipeline,
        'kubelet_volume_stats_used_bytes{namespace="spark-pipeline",'
        'persistentvolumeclaim="spark-checkpoint"}',
    )
    assert used[0][1] > 0, "the checkpoint volume reports no usage"


def test_alert_rules_are_loaded_and_none_fires_at_steady_state(pipeline: Pipeline) -> None:
    def loaded() -> tuple[set[str] | None, str]:
        groups = pipeline.prom.api("rules")["groups"]
        names = {r["name"] for g in groups for r in g["rules"] if r["type"] == "alerting"}
        return (names if names >= EXPECTED_ALERTS else None), f"loaded: {sorted(names)}"

    wait_until("the pipeline's alert rules loaded", loaded, SCRAPE_SETTLE, 5.0)

    def quiet() -> tuple[bool | None, str]:
        firing = pipeline.prom.query('ALERTS{alertstate="firing"}')
        names = sorted({labels.get("alertname", "?") for labels, _ in firing})
        return (True if not firing else None), f"firing: {names}"

    # A reused cluster may carry the last fault's alerts for up to their window
    # (SparkApplicationResubmitted looks back 5 minutes); steady state outlasts them.
    wait_until("no alert firing at steady state", quiet, ALERT_WINDOW_SETTLE, 10.0)
