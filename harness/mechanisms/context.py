"""Everything a mechanism run needs: clients, the timeline, the rollbacks, the images."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubernetes import client

from harness.chaos.rollback import Rollbacks
from harness.mechanisms.outcome import Outcome
from harness.observe.prometheus import Prometheus
from harness.observe.timeline import Timeline
from harness.observe.wait import wait_until
from harness.settings import PROJECT_ROOT

__all__ = ["MechanismContext"]


@dataclass
class MechanismContext:
    """One run of one mechanism against the deployed pipeline."""

    api: client.ApiClient
    prom: Prometheus
    rollbacks: Rollbacks
    image_values: dict[str, str]
    """@role_image@ values, to re-render manifests in rollbacks."""
    timeline: Timeline = field(default_factory=Timeline)
    namespace: str = "spark-pipeline"
    kind_config: Path = PROJECT_ROOT / "manifests" / "kind-cluster.yaml"
    """The cluster's kind config: node-failure bounds are computed from its settings."""
    outcome: Outcome | None = None
    """Set by the test with record(); the report reads it."""

    def record(self, outcome: Outcome) -> Outcome:
        """Keep the outcome (with this run's timeline) for the report; return it."""
        outcome.timeline = self.timeline.as_rows()
        self.outcome = outcome
        return outcome

    def outcome_json(self) -> dict[str, Any] | None:
        """The recorded outcome as results.json stores it, with the final timeline."""
        if self.outcome is None:
            return None
        self.outcome.timeline = self.timeline.as_rows()
        return self.outcome.as_json()

    @property
    def core(self) -> client.CoreV1Api:
        """Core API."""
        return client.CoreV1Api(self.api)

    @property
    def custom(self) -> client.CustomObjectsApi:
        """Custom objects (SparkApplications)."""
        return client.CustomObjectsApi(self.api)

    @property
    def tools_image(self) -> str:
        """Our pipeline-tools image."""
        return self.image_values["tools_image"]

    def prom_scalar(self, promql: str) -> float:
        """The query's single value, or 0 when it returns nothing."""
        rows = self.prom.query(promql)
        return rows[0][1] if rows else 0.0

    def prom_scalar_eventually(
        self, promql: str, good: Callable[[float], bool], timeout: float
    ) -> float:
        """Poll a query until its value satisfies good; return the last value either way."""
        last = [0.0]

        def probe() -> tuple[float | None, str]:
            last[0] = self.prom_scalar(promql)
            return (last[0] if good(last[0]) else None), f"{promql} = {last[0]}"

        try:
            return wait_until(f"{promql} to change", probe, timeout, 5.0)
        except Exception:
            return last[0]

    def wait_for_progress(self, after: float, timeout: float) -> float:
        """Wait until a driver started after ``after`` (epoch) reports streaming progress."""

        def probe() -> tuple[float | None, str]:
            first = self.prom_scalar(
                "max(spark_stream_first_progress_timestamp_seconds"
                f" and spark_stream_driver_start_timestamp_seconds > {after:.3f})"
            )
            return (first if first > after else None), f"first progress of a new driver: {first}"

        return wait_until("streaming progress from a new driver", probe, timeout, 3.0)

    def now_epoch(self) -> float:
        """Wall-clock time, for comparing with metric timestamps."""
        return time.time()
