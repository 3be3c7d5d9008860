"""PromQL against the lab's real Prometheus, through the API server's service proxy.

No port-forward process to manage: requests go to
``<api server>/api/v1/namespaces/monitoring/services/prometheus:web/proxy`` with the
harness kubeconfig's client certificate, so only a user of that kubeconfig can query.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from prometheus_api_client import PrometheusConnect

from harness.errors import StepFailed
from harness.kube import api_client
from harness.settings import LabSettings

__all__ = ["PROMETHEUS_SERVICE", "Prometheus", "prometheus", "query_value"]

PROMETHEUS_SERVICE = ("monitoring", "prometheus:web")


@dataclass(frozen=True)
class Prometheus:
    """prometheus-api-client for PromQL, plus the HTTP API endpoints it does not wrap."""

    client: PrometheusConnect
    session: requests.Session
    url: str

    def query(self, promql: str) -> list[tuple[dict[str, str], float]]:
        """An instant query's result as (labels, value) pairs."""
        return query_value(self.client, promql)

    def api(self, path: str, **params: str) -> Any:
        """GET /api/v1/<path> and return its data field (rules, alerts, targets, ...)."""
        response = self.session.get(
            f"{self.url}/api/v1/{path}", params=params, timeout=15, verify=self.session.verify
        )
        body = response.json() if response.content else {}
        if response.status_code != 200 or body.get("status") != "success":
            raise StepFailed(
                f"Prometheus API {path}",
                ["GET", response.url],
                response.status_code,
                response.text[:500],
            )
        return body["data"]


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


def query_value(prom: PrometheusConnect, promql: str) -> list[tuple[dict[str, str], float]]:
    """An instant query's result as (labels, value) pairs."""
    result: list[dict[str, Any]] = prom.custom_query(promql)
    return [(dict(r["metric"]), float(r["value"][1])) for r in result]
