"""How one pod ends: its container's last state and the log lines it wrote on the way out.

A pod deleted with a grace period leaves the API within a second or two of its
containers ending, and its log goes with it: a poll after the fact can miss both. A
``PodEnd`` watches the pod (by name, for one UID) and follows one container's log from
just before the fault, in background threads of their own client, until the pod is
gone, ``stop()`` is called or ``timeout`` passes. A pod's DELETED event carries the pod
as last stored, so the terminated state the kubelet reported before it deleted the pod
is seen even when no MODIFIED event showed it.

``termination`` (a pod object → how the container ended) and ``PodEnd.take`` (log text →
the kept lines) are pure, for the unit tests.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from kubernetes import client, watch

from harness.observe.timeline import Timeline

__all__ = ["PodEnd", "Termination", "termination"]

KEEP_LINES = 200
"""Log lines kept (the newest); a decommission writes a few dozen."""
LINE_CHARS = 400


@dataclass(frozen=True)
class Termination:
    """How a container ended, as the kubelet reported it."""

    exit_code: int
    reason: str
    """Completed (exit 0), Error, OOMKilled, ..."""
    message: str
    """The termination message: what the container, or its preStop hook, wrote to its
    terminationMessagePath (``/dev/termination-log``)."""
    signal: int | None
    finished_at: float | None
    """Epoch seconds, from the kubelet's clock."""

    def as_json(self) -> dict[str, Any]:
        """For the outcome's evidence."""
        return {
            "exit_code": self.exit_code,
            "reason": self.reason,
            "message": self.message[-1000:],
            "signal": self.signal,
            "finished_at": self.finished_at,
        }

    def __str__(self) -> str:
        return f"exit {self.exit_code} {self.reason}"


def termination(pod: Any, container: str) -> Termination | None:
    """The container's terminated state in a pod object (its state, else its last
    state), or None while it has not ended."""
    status = next((s for s in (pod.status.container_statuses or []) if s.name == container), None)
    if status is None:
        return None
    ended = status.state.terminated if status.state else None
    if ended is None and status.last_state is not None:
        ended = status.last_state.terminated
    if ended is None:
        return None
    finished = ended.finished_at.timestamp() if ended.finished_at is not None else None
    return Termination(
        int(ended.exit_code),
        str(ended.reason or ""),
        str(ended.message or ""),
        ended.signal,
        finished,
    )


class PodEnd:
    """Follows one pod to its end: its container's termination and matching log lines."""

    def __init__(
        self,
        api: client.ApiClient,
        namespace: str,
        name: str,
        uid: str,
        container: str,
        pattern: re.Pattern[str],
        timeout: float,
        timeline: Timeline | None = None,
    ) -> None:
        self.api = api
        self.namespace, self.name, self.uid, self.container = namespace, name, uid, container
        self.pattern = pattern
        self.timeline = timeline
        self.begun = time.time()
        self.deadline = time.monotonic() + timeout
        self.stopped = threading.Event()
        self.lock = threading.Lock()
        self.lines: list[str] = []
        """Log lines matching the pattern, in order, without repeats."""
        self.log_read = False
        """Whether any of the container's log could be read."""
        self.log_error = ""
        self.watch_error = ""
        self.gone = threading.Event()
        self._ended: Termination | None = None
        self._partial = ""
        self._seen: set[str] = set()
        self._own: client.ApiClient | None = None
        self._watch: watch.Watch | None = None
        self._log: Any = None
        self._threads: list[threading.Thread] = []

    def start(self) -> PodEnd:
        """Start watching and following (call right before the fault)."""
        # A client of its own, as the Recorder's: an exec on the shared client swaps the
        # request function these threads' requests would go through.
        self._own = client.ApiClient(configuration=self.api.configuration)
        for target, label in ((self._watch_pod, "watch"), (self._follow_log, "log")):
            thread = threading.Thread(target=target, name=f"pod-end-{label}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop both threads and close their client (a rollback; safe to call twice)."""
        self.stopped.set()
        if self._watch is not None:
            self._watch.stop()
        if self._log is not None:
            with contextlib.suppress(Exception):  # a stream closed under its reader
                self._log.close()
        for thread in self._threads:
            thread.join(timeout=5)
        if self._own is not None:
            self._own.close()
            self._own = None

    def ended(self) -> Termination | None:
        """How the container ended, once seen."""
        with self.lock:
            return self._ended

    def kept(self) -> list[str]:
        """The matching log lines so far."""
        with self.lock:
            return list(self.lines)

    def wait(self, timeout: float) -> bool:
        """Wait until the pod is gone (its end, if reported, then seen); True if it is."""
        return self.gone.wait(max(0.0, timeout))

    def take(self, text: str) -> None:
        """Keep the complete lines of a chunk of log text that match the pattern."""
        with self.lock:
            text = self._partial + text
            *complete, self._partial = text.split("\n")
            for line in complete:
                line = line.rstrip("\r")[:LINE_CHARS]
                if line and line not in self._seen and self.pattern.search(line):
                    self._seen.add(line)
                    self.lines.append(line)
            del self.lines[:-KEEP_LINES]

    def _running(self) -> bool:
        return not self.stopped.is_set() and time.monotonic() < self.deadline

    def _saw(self, pod: Any) -> None:
        ended = termination(pod, self.container)
        with self.lock:
            first = ended is not None and self._ended is None
            if ended is not None:
                self._ended = ended
        if first and self.timeline is not None:
            self.timeline.add("symptom", self.name, f"container {self.container} ended {ended}")

    def _watch_pod(self) -> None:
        core = client.CoreV1Api(self._own)
        while self._running() and not self.gone.is_set():
            self._watch = watch.Watch()
            try:
                for event in self._watch.stream(
                    core.list_namespaced_pod,
                    self.namespace,
                    field_selector=f"metadata.name={self.name}",
                    timeout_seconds=10,
                ):
                    pod = event["object"]
                    if pod.metadata.uid != self.uid:  # a successor by the same name
                        self.gone.set()
                        break
                    self._saw(pod)
                    if event["type"] == "DELETED":
                        self.gone.set()
                        break
                    if not self._running():
                        break
                if not self.gone.is_set() and self._absent(core):
                    self.gone.set()  # gone between two watches: its end may be unseen
            except Exception as exc:  # a dropped watch is retried; the last error is kept
                self.watch_error = f"{type(exc).__name__}: {exc}"[:300]
                self.stopped.wait(1.0)

    def _absent(self, core: client.CoreV1Api) -> bool:
        try:
            pod = core.read_namespaced_pod(self.name, self.namespace)
        except client.ApiException as exc:
            if exc.status == 404:
                return True
            raise
        return bool(pod.metadata.uid != self.uid)

    def _follow_log(self) -> None:
        core = client.CoreV1Api(self._own)
        while self._running():
            since = max(1, int(time.time() - self.begun) + 2)
            try:
                self._log = core.read_namespaced_pod_log(
                    self.name,
                    self.namespace,
                    container=self.container,
                    follow=True,
                    since_seconds=since,
                    _preload_content=False,
                )
                for chunk in self._log.stream(4096, decode_content=True):
                    self.log_read = True
                    self.take(chunk.decode("utf-8", "replace"))
                    if not self._running():
                        return
                self.take("\n")  # the last line, if it had no newline
                return  # the container ended: its log is complete
            except client.ApiException as exc:
                self.log_error = f"{exc.status} {exc.reason}"
                if exc.status in (400, 404):  # the container or the pod is gone
                    return
            except Exception as exc:  # a dropped stream is resumed from where it began
                self.log_error = f"{type(exc).__name__}: {exc}"[:300]
            self.stopped.wait(1.0)
