"""After two minutes of flow every event produced is in the sink exactly once."""

from __future__ import annotations

from fixtures.pipeline import Pipeline
from harness.integrity.collect import reconcile_pipeline
from harness.observe.wait import wait_until

FLOW_SECONDS = 120.0


def test_two_minutes_of_flow_reconcile_exactly_once(pipeline: Pipeline) -> None:
    def flowed() -> tuple[float | None, str]:
        # Progress reports from the current driver: batches completed since it started.
        rows = pipeline.prom.query(
            'max(spark_stream_last_progress_timestamp_seconds{query="events"})'
            ' - max(spark_stream_driver_start_timestamp_seconds{query="events"})',
        )
        span = rows[0][1] if rows else 0.0
        return (span if span >= FLOW_SECONDS else None), f"{span:.0f}s of progress so far"

    wait_until(f"{FLOW_SECONDS:.0f}s of streaming progress", flowed, FLOW_SECONDS + 240, 5.0)
    result = reconcile_pipeline(pipeline.core, pipeline.image("tools"), settle=90.0)
    print(f"reconciliation: {result.summary()}")
    assert result.sent > 0, "the topic holds no events: nothing was produced"
    assert result.exactly_once, f"{result.summary()}; examples: {result.examples}"
