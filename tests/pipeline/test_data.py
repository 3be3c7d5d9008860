"""Every event produced during a minute of flow is in the sink exactly once.

The check covers a window (topic offsets at its start, sink batches since), so its cost
does not grow with the topic, and an older incident in the topic cannot decide it.
"""

from __future__ import annotations

import time

from harness.fixtures.pipeline import Pipeline
from harness.integrity.collect import open_window, reconcile_window
from harness.observe.wait import wait_until

FLOW_SECONDS = 60.0
"""Twelve 5-second micro-batches: enough for several sink commits and metadata log files."""


def test_a_minute_of_flow_reconciles_exactly_once(pipeline: Pipeline) -> None:
    window = open_window(pipeline.core, pipeline.image("tools"))
    opened = time.time()

    def flowed() -> tuple[float | None, str]:
        last = pipeline.prom.scalar(
            'max(spark_stream_last_progress_timestamp_seconds{query="events"})'
        )
        span = last - opened
        return (span if span >= FLOW_SECONDS else None), f"{span:.0f}s of progress in the window"

    wait_until(f"{FLOW_SECONDS:.0f}s of streaming progress", flowed, FLOW_SECONDS + 240, 5.0)
    result = reconcile_window(pipeline.core, pipeline.image("tools"), window, settle=90.0)
    print(f"reconciliation: {result.summary()}")
    assert result.sent > 0, "the window holds no events: nothing was produced"
    assert result.exactly_once, f"{result.summary()}; examples: {result.examples}"
