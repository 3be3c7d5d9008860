"""Everything a mechanism run needs: clients, the timeline, the rollbacks, the images."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubernetes import client

from harness.chaos.rollback import Rollbacks
from harness.errors import ObserverUnavailable, WaitTimeout
from harness.mechanisms.outcome import Outcome
from harness.observe.prometheus import Prometheus, PrometheusSettings, prometheus_settings
from harness.observe.timeline import Timeline
from harness.observe.wait import wait_until
from harness.settings import PROJECT_ROOT
from harness.spark_application import CONTROL, CONTROL_QUERY, SparkApplication

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
    """Set by record(); the report reads it."""

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
        """Custom objects (SparkApplications, PrometheusRules)."""
        return client.CustomObjectsApi(self.api)

    @property
    def app(self) -> SparkApplication:
        """The streaming job (05's SparkApplication)."""
        return SparkApplication(self.api, self.prom, self.image_values, namespace=self.namespace)

    def prom_settings(self) -> PrometheusSettings:
        """The live Prometheus' scrape and evaluation intervals (08's Prometheus object)."""
        return prometheus_settings(self.api)

    @property
    def control_app(self) -> SparkApplication:
        """The negative controls' twin of the job (harness.spark_application.control_twin)."""
        return SparkApplication(
            self.api,
            self.prom,
            self.image_values,
            name=CONTROL,
            namespace=self.namespace,
            query=CONTROL_QUERY,
        )

    @property
    def tools_image(self) -> str:
        """Our pipeline-tools image."""
        return self.image_values["tools_image"]

    def metric_eventually(
        self, promql: str, good: Callable[[float], bool], timeout: float, interval: float = 5.0
    ) -> float:
        """Poll a query until its value satisfies good; return the last value either way.

        ObserverUnavailable when Prometheus could not be read on the way and the value
        never became good: "it did not change" and "it could not be read" differ.
        """
        last = [0.0]

        def probe() -> tuple[float | None, str]:
            last[0] = self.prom.scalar(promql)
            return (last[0] if good(last[0]) else None), f"{promql} = {last[0]}"

        try:
            return wait_until(f"{promql} to change", probe, timeout, interval)
        except WaitTimeout as exc:
            if exc.probe_errors:
                raise ObserverUnavailable(
                    f"Prometheus unreadable while waiting for {promql}: {exc.last_error}"
                ) from exc
            return last[0]
