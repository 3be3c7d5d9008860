"""What the report shows beside a failed or inconclusive run: the Kubernetes events of its
window and the tail of the logs of the pods it concerned.

Read once, after the verdict, and never allowed to change it: every read that fails is
noted in the result instead of raised.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kubernetes import client

__all__ = ["EVENT_LIMIT", "LOG_LINES", "failure_diagnostics"]

EVENT_LIMIT = 40
"""Events kept: warnings first, then the newest."""
LOG_LINES = 40
"""Lines of each log excerpt: a stack trace's head and the lines before it."""
LOG_PODS = 3
"""Pods whose log is excerpted: the drivers the timeline names, then the operator."""


def failure_diagnostics(
    api: client.ApiClient, namespaces: tuple[str, ...], since: float, pods: list[str]
) -> dict[str, Any]:
    """Events since ``since`` (epoch) in the namespaces, and log tails of ``pods``
    (names, drivers first) and of the Spark operator."""
    core = client.CoreV1Api(api)
    found: dict[str, Any] = {"events": [], "logs": [], "errors": []}
    for ns in namespaces:
        try:
            items = core.list_namespaced_event(ns, _request_timeout=15).items
        except Exception as exc:  # diagnostics must never decide or break the verdict
            found["errors"].append(f"events of {ns}: {type(exc).__name__}: {exc}"[:300])
            continue
        for e in items:
            at = _epoch(e.last_timestamp or e.event_time or e.first_timestamp)
            if at is not None and at < since:
                continue
            found["events"].append(
                {
                    "at": at,
                    "type": e.type,
                    "reason": e.reason,
                    "object": f"{e.involved_object.kind}/{e.involved_object.name}",
                    "namespace": ns,
                    "message": (e.message or "")[:400],
                    "count": e.count or 1,
                }
            )
    found["events"].sort(key=lambda e: (e["type"] != "Warning", -(e["at"] or 0)))
    del found["events"][EVENT_LIMIT:]
    targets = [(namespaces[0], p) for p in sorted(pods, key=lambda n: "driver" not in n)]
    targets = targets[: LOG_PODS - 1] + _operator_pods(core, found)
    for ns, pod in targets[:LOG_PODS]:
        try:
            text = core.read_namespaced_pod_log(pod, ns, tail_lines=LOG_LINES, _request_timeout=15)
        except Exception as exc:
            found["errors"].append(f"log of {ns}/{pod}: {type(exc).__name__}"[:300])
            continue
        found["logs"].append({"pod": f"{ns}/{pod}", "lines": str(text).splitlines()[-LOG_LINES:]})
    return found


def _operator_pods(core: client.CoreV1Api, found: dict[str, Any]) -> list[tuple[str, str]]:
    try:
        pods = core.list_namespaced_pod("spark-operator", _request_timeout=15).items
    except Exception as exc:
        found["errors"].append(f"operator pods: {type(exc).__name__}"[:300])
        return []
    return [("spark-operator", p.metadata.name) for p in pods if "controller" in p.metadata.name][
        :1
    ]


def _epoch(value: Any) -> float | None:
    if isinstance(value, datetime):
        return value.timestamp()
    return None
