"""The notifications Alertmanager sent to the harness's webhook receiver (08's alert-receiver).

Read through the API server's service proxy, like Prometheus: GET /alerts returns every
webhook body the receiver kept, with the time it arrived.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kubernetes import client

from harness.errors import ObserverUnavailable
from harness.observe.prometheus import rfc3339_epoch

__all__ = ["RECEIVER", "Notification", "notifications"]

RECEIVER = ("monitoring", "alert-receiver:http")


@dataclass(frozen=True)
class Notification:
    """One alert of one webhook notification: its name, status and arrival time."""

    alertname: str
    status: str
    """firing or resolved."""
    received_at: float
    starts_at: str


def notifications(api: client.ApiClient, alertname: str | None = None) -> list[Notification]:
    """Every alert the receiver got (optionally of one alertname), oldest first.

    ObserverUnavailable when the receiver cannot be read: an empty list means "none sent".
    """
    namespace, service = RECEIVER
    try:
        response = client.CoreV1Api(api).connect_get_namespaced_service_proxy_with_path(
            service, namespace, "alerts", _preload_content=False, _request_timeout=15
        )
        body: Any = json.loads(response.data or b"[]")
    except Exception as exc:  # 5xx from the proxy, connection errors, bad bodies
        raise ObserverUnavailable(f"alert receiver could not be read: {exc}") from exc
    seen: list[Notification] = []
    for item in body or []:
        received = rfc3339_epoch(str(item["received_at"]))
        for alert in (item.get("payload") or {}).get("alerts", []):
            name = str(alert.get("labels", {}).get("alertname", ""))
            if alertname is None or name == alertname:
                status = str(alert.get("status", ""))
                seen.append(Notification(name, status, received, str(alert.get("startsAt", ""))))
    return sorted(seen, key=lambda n: n.received_at)
