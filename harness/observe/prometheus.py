"""PromQL against the lab's real Prometheus, through the API server's service proxy.

No port-forward process to manage: requests go to
``<api server>/api/v1/namespaces/monitoring/services/prometheus:web/proxy`` with the
harness kubeconfig's client certificate, so only a user of that kubeconfig can query.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from prometheus_api_client import PrometheusConnect

from harness.cluster.timing import parse_duration
from harness.errors import ObserverUnavailable
from harness.kube import api_client
from harness.settings import LabSettings

__all__ = [
    "PROMETHEUS_SERVICE",
    "Prometheus",
    "PrometheusSettings",
    "prometheus",
    "prometheus_settings",
    "query_value",
    "rfc3339_epoch",
]

PROMETHEUS_SERVICE = ("monitoring", "prometheus:web")


@dataclass(frozen=True)
class Prometheus:
    """prometheus-api-client for PromQL, plus the HTTP API endpoints it does not wrap."""

    client: PrometheusConnect
    session: requests.Session
    url: str

    def query(self, promql: str) -> list[tuple[dict[str, str], float]]:
        """An instant query's result as (labels, value) pairs.

        ObserverUnavailable when Prometheus cannot be read: an empty result means "no
        such series", never "Prometheus is down".
        """
        try:
            return query_value(self.client, promql)
        except Exception as exc:  # connection errors, 5xx from the proxy, bad bodies
            raise ObserverUnavailable(
                f"Prometheus could not be read ({promql}): {type(exc).__name__}: {exc}"
            ) from exc

    def scalar(self, promql: str) -> float:
        """The query's single value, or 0 when it returns no series."""
        rows = self.query(promql)
        return rows[0][1] if rows else 0.0

    def api(self, path: str, **params: str) -> Any:
        """GET /api/v1/<path> and return its data field (rules, alerts, targets, ...)."""
        try:
            response = self.session.get(
                f"{self.url}/api/v1/{path}", params=params, timeout=15, verify=self.session.verify
            )
            body = response.json() if response.content else {}
        except (requests.RequestException, ValueError) as exc:
            raise ObserverUnavailable(f"Prometheus API {path}: {exc}") from exc
        if response.status_code != 200 or body.get("status") != "success":
            raise ObserverUnavailable(
                f"Prometheus API {path}: HTTP {response.status_code}: {response.text[:300]}"
            )
        return body["data"]

    def started_at(self) -> float:
        """When this Prometheus process started (epoch seconds), from runtimeinfo.

        A start inside a verdict window means the series the verdict reads have a gap.
        """
        return rfc3339_epoch(str(self.api("status/runtimeinfo")["startTime"]))


@contextmanager
def prometheus(settings: LabSettings, url: str | None = None) -> Iterator[Prometheus]:
    """A Prometheus client: the given URL, or the lab's Prometheus through the API server."""
    session = requests.Session()
    # Environment settings (REQUESTS_CA_BUNDLE, proxies) would override the cluster's CA
    # for requests that do not pass verify= themselves: the lab's settings only.
    session.trust_env = False
    if url is None:
        with api_client(settings) as api:
            conf = api.configuration
            namespace, service = PROMETHEUS_SERVICE
            url = f"{conf.host}/api/v1/namespaces/{namespace}/services/{service}/proxy"
            if conf.cert_file and conf.key_file:
                session.cert = (conf.cert_file, conf.key_file)
            session.verify = conf.ssl_ca_cert or conf.verify_ssl
            if conf.api_key.get("authorization"):
                session.headers["Authorization"] = conf.api_key["authorization"]
    try:
        yield Prometheus(PrometheusConnect(url=url, session=session, timeout=15), session, url)
    finally:
        session.close()


@dataclass(frozen=True)
class PrometheusSettings:
    """The live Prometheus' intervals, which recovery and alert bounds are made of."""

    scrape: float
    evaluation: float


def prometheus_settings(
    api: Any, namespace: str = "monitoring", name: str = "pipeline"
) -> PrometheusSettings:
    """Read scrapeInterval and evaluationInterval from the live Prometheus object (08).

    Prometheus Operator's defaults (30s each) apply where the object leaves one out.
    """
    from kubernetes import client  # the client layer, only when asked

    obj = client.CustomObjectsApi(api).get_namespaced_custom_object(
        "monitoring.coreos.com", "v1", namespace, "prometheuses", name
    )
    spec = obj.get("spec", {})
    return PrometheusSettings(
        parse_duration(str(spec.get("scrapeInterval", "30s"))),
        parse_duration(str(spec.get("evaluationInterval", "30s"))),
    )


def rfc3339_epoch(rfc3339: str) -> float:
    """Epoch seconds of Prometheus' RFC 3339 timestamps (nanoseconds, 'Z')."""
    text = rfc3339.replace("Z", "+00:00")
    if "." in text:  # Python parses at most microseconds
        head, rest = text.split(".", 1)
        digits = "".join(c for c in rest if c.isdigit())
        text = f"{head}.{digits[:6]}{rest[len(digits) :]}"
    return datetime.fromisoformat(text).timestamp()


def query_value(prom: PrometheusConnect, promql: str) -> list[tuple[dict[str, str], float]]:
    """An instant query's result as (labels, value) pairs."""
    result: list[dict[str, Any]] = prom.custom_query(promql)
    return [(dict(r["metric"]), float(r["value"][1])) for r in result]
