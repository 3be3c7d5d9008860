"""A timeline of what happened during a fault: pod, node and SparkApplication changes.

``Timeline`` is pure data with the arithmetic the verdicts need (time from the fault to
the first symptom and to recovery). ``Recorder`` fills it from Kubernetes watches in
background threads, with monotonic timestamps relative to its start, so the numbers do
not depend on clock differences between this machine and the nodes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client, watch

__all__ = ["Event", "Recorder", "Timeline"]


@dataclass(frozen=True)
class Event:
    """One observation: when (seconds since the timeline began), about what, what."""

    at: float
    source: str
    """'pod', 'node', 'sparkapplication', 'fault', 'check', ..."""
    name: str
    what: str


@dataclass
class Timeline:
    """Events in order, plus the marks the verdict is computed from."""

    events: list[Event] = field(default_factory=list)
    began: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def now(self) -> float:
        """Seconds since the timeline began."""
        return time.monotonic() - self.began

    def add(self, source: str, name: str, what: str, at: float | None = None) -> Event:
        """Record an event (now, unless at is given)."""
        event = Event(self.now() if at is None else at, source, name, what)
        with self.lock:
            self.events.append(event)
        return event

    def ordered(self) -> list[Event]:
        """Events sorted by time."""
        with self.lock:
            return sorted(self.events, key=lambda e: e.at)

    def first(self, predicate: Callable[[Event], bool], after: float = 0.0) -> Event | None:
        """The earliest event at or after ``after`` that matches."""
        return next((e for e in self.ordered() if e.at >= after and predicate(e)), None)

    def mark(self, source: str) -> Event | None:
        """The first event of a source ('fault', 'recovered', ...)."""
        return self.first(lambda e: e.source == source)

    def seconds_between(self, start: str, end: str) -> float | None:
        """Time from the first ``start`` mark to the first ``end`` mark after it."""
        begin = self.mark(start)
        if begin is None:
            return None
        finish = self.first(lambda e: e.source == end, after=begin.at)
        return None if finish is None else finish.at - begin.at

    def as_rows(self) -> list[dict[str, Any]]:
        """JSON-ready rows for results.json."""
        return [
            {"at": round(e.at, 3), "source": e.source, "name": e.name, "what": e.what}
            for e in self.ordered()
        ]


class Recorder:
    """Watches pods (of the given namespaces), nodes and SparkApplications into a Timeline."""

    def __init__(
        self, api: client.ApiClient, timeline: Timeline, namespaces: Iterable[str]
    ) -> None:
        # A client of its own: an exec (kubernetes.stream) swaps the request function of
        # the client it runs on, which would break these watch threads' requests.
        self.api = client.ApiClient(configuration=api.configuration)
        self.timeline = timeline
        self.namespaces = tuple(namespaces)
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.watches: list[watch.Watch] = []

    def __enter__(self) -> Recorder:
        core = client.CoreV1Api(self.api)
        custom = client.CustomObjectsApi(self.api)
        for ns in self.namespaces:
            self._start(f"pods/{ns}", core.list_namespaced_pod, {"namespace": ns}, _pod_line)
            self._start(
                f"sparkapplications/{ns}",
                custom.list_namespaced_custom_object,
                {
                    "group": "sparkoperator.k8s.io",
                    "version": "v1beta2",
                    "namespace": ns,
                    "plural": "sparkapplications",
                },
                _app_line,
            )
        self._start("nodes", core.list_node, {}, _node_line)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for w in self.watches:
            w.stop()
        for t in self.threads:
            t.join(timeout=10)
        self.api.close()

    def _start(
        self,
        label: str,
        lister: Callable[..., Any],
        kwargs: dict[str, str],
        line: Callable[[Any], tuple[str, str, str] | None],
    ) -> None:
        w = watch.Watch()
        self.watches.append(w)

        def run() -> None:
            last: dict[str, str] = {}
            while not self.stop.is_set():
                try:
                    for item in w.stream(lister, timeout_seconds=30, **kwargs):
                        seen = line(item["object"])
                        if seen is None:
                            continue
                        source, name, what = seen
                        if last.get(name) != what or item["type"] == "DELETED":
                            last[name] = what
                            self.timeline.add(source, name, f"{item['type']} {what}")
                        if self.stop.is_set():
                            return
                except Exception as exc:  # a dropped watch is retried, and noted
                    if not self.stop.is_set():
                        self.timeline.add("watch", label, f"restarted after {type(exc).__name__}")
                        self.stop.wait(1.0)

        thread = threading.Thread(target=run, name=f"watch-{label}", daemon=True)
        thread.start()
        self.threads.append(thread)


def _pod_line(pod: Any) -> tuple[str, str, str] | None:
    statuses = pod.status.container_statuses or []
    ready = bool(statuses) and all(s.ready for s in statuses)
    terminating = " terminating" if pod.metadata.deletion_timestamp else ""
    reasons = [
        (s.state.waiting.reason if s.state.waiting else s.state.terminated.reason)
        for s in statuses
        if s.state and (s.state.waiting or s.state.terminated)
    ]
    detail = f" {','.join(r for r in reasons if r)}" if reasons else ""
    return (
        "pod",
        pod.metadata.name,
        f"{pod.status.phase} ready={ready} node={pod.spec.node_name}{terminating}{detail}",
    )


def _node_line(node: Any) -> tuple[str, str, str] | None:
    ready = [c.status for c in (node.status.conditions or []) if c.type == "Ready"]
    cordoned = " cordoned" if node.spec.unschedulable else ""
    return "node", node.metadata.name, f"Ready={ready[0] if ready else 'Unknown'}{cordoned}"


def _app_line(app: dict[str, Any]) -> tuple[str, str, str] | None:
    status = app.get("status", {})
    state = status.get("applicationState", {}).get("state", "NEW")
    attempts = status.get("executionAttempts", 0)
    return "sparkapplication", app["metadata"]["name"], f"{state} attempts={attempts}"
