"""PromQL against the lab's real Prometheus, through the API server's service proxy.

No port-forward process to manage: requests go to
``<api server>/api/v1/namespaces/monitoring/services/prometheus:web/proxy`` with the
harness kubeconfig's client certificate, so only a user of that kubeconfig can query.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from prometheus_api_client import PrometheusConnect

from harness.kube import api_client
from harness.settings import LabSettings

__all__ = ["PROMETHEUS_SERVICE", "prometheus", "query_value"]

PROMETHEUS_SERVICE = ("monitoring", "prometheus:web")


@contextmanager
def prometheus(settings: LabSettings, url: str | None = None) -> Iterator[PrometheusConnect]:
    """A Prometheus client: the given URL, or the lab's Prometheus through the API server."""
    session = requests.Session()
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
        yield PrometheusConnect(url=url, session=session, timeout=15)
    finally:
        session.close()


def query_value(prom: PrometheusConnect, promql: str) -> list[tuple[dict[str, str], float]]:
    """An instant query's result as (labels, value) pairs."""
    result: list[dict[str, Any]] = prom.custom_query(promql)
    return [(dict(r["metric"]), float(r["value"][1])) for r in result]
