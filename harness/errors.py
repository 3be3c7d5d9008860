"""The harness's errors: one root, with subclasses that say what went wrong."""

from __future__ import annotations

__all__ = [
    "CleanupFailed",
    "ClusterUnavailable",
    "FaultNotLanded",
    "HarnessError",
    "Inconclusive",
    "InvalidInput",
    "ObserverUnavailable",
    "StepFailed",
    "WaitTimeout",
]


class HarnessError(Exception):
    """Root of every error the harness raises on purpose."""


class InvalidInput(HarnessError):
    """Something a user wrote (a file, an option) is wrong; nothing was changed."""

    def __init__(self, source: str, field: str, expected: str, got: object = None) -> None:
        self.source, self.field, self.expected, self.got = source, field, expected, got
        found = "" if got is None else f", got {got!r}"
        super().__init__(f"{source}: field {field!r}: expected {expected}{found}")


class StepFailed(HarnessError):
    """A setup or build step failed; carries the command and the tail of its output."""

    def __init__(self, step: str, command: list[str], returncode: int, tail: str) -> None:
        self.step, self.command, self.returncode, self.tail = step, command, returncode, tail
        shown = " ".join(command)
        if len(shown) > 300:
            shown = shown[:300] + " ..."
        super().__init__(
            f"step {step!r} failed (exit {returncode})\n  command: {shown}\n"
            f"  output (last lines):\n{_indent(tail)}"
        )


class ClusterUnavailable(HarnessError):
    """The cluster (or Docker under it) cannot be reached or is not healthy."""


class WaitTimeout(HarnessError):
    """A condition did not become true before its deadline."""

    def __init__(
        self,
        expected: str,
        last_seen: str,
        seconds: float,
        probe_errors: int = 0,
        last_error: str = "",
        probes: int = 0,
    ) -> None:
        self.expected, self.last_seen, self.seconds = expected, last_seen, seconds
        self.probe_errors, self.last_error, self.probes = probe_errors, last_error, probes
        """How often the probe itself failed (an observer that could not be read), of how
        many reads."""
        unread = (
            f"\n  the probe failed {probe_errors} of {probes} time(s), last: {last_error}"
            if probe_errors
            else ""
        )
        super().__init__(
            f"timed out after {seconds:.0f}s waiting for: {expected}\n  last seen: {last_seen}"
            + unread
        )


class Inconclusive(HarnessError):
    """A verdict cannot be decided: never a pass, never a failure of the system under test."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class FaultNotLanded(Inconclusive):
    """The fault cannot be shown to have struck (no process killed, no UID changed, ...)."""


class ObserverUnavailable(Inconclusive):
    """An observer (Prometheus, the API server) could not be read when the verdict needed it."""


class CleanupFailed(HarnessError):
    """A rollback or cleanup could not restore the cluster."""


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
