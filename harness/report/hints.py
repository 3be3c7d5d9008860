"""Short hints of what usually causes a failure or an inconclusive verdict, from its words.

Learned on the lab (docs/mechanisms.md): a hint is a place to start looking, not a
diagnosis; the report prints it under the failure with the events and logs.
"""

from __future__ import annotations

import re

__all__ = ["HINTS", "hint"]

HINTS: tuple[tuple[str, str], ...] = (
    (
        r"steady state did not hold",
        "The pipeline was not healthy before the strike: usually the after-effects of the"
        " previous test (a twin still running, a node not Ready yet) or a slow bring-up on"
        " 2 cores. Nothing was struck.",
    ),
    (
        r"could not be read|unreadable|Prometheus restarted",
        "An observer could not be read: Prometheus restarting, or the API server's proxy"
        " answering 5xx under load. Check the monitoring namespace's pods and events.",
    ),
    (
        r"never struck|not land|no running driver|FaultNotLanded",
        "The fault could not be shown to land: its target did not exist at the strike (a"
        " restart in progress) or the injector lacked the rights to act.",
    ),
    (
        r"healed with it switched off",
        "The switch did not disable the mechanism: the setting did not reach the live"
        " object, or another mechanism healed the fault (the control then proves nothing).",
    ),
    (
        r"declared failure was not seen",
        "The control's declared failure did not appear within the bound: the switch may"
        " take longer to take effect than the strike (a rule still loaded, a setting read"
        " at start-up only).",
    ),
    (
        r"over the bound",
        "Recovery was slower than its bound: on 2 cores, a JVM starved of CPU while other"
        " pods start, an image pull, or the operator's retry backoff growing with"
        " submissionAttempts (harness.mechanisms.bounds.retry_backoff).",
    ),
    (
        r"integrity|missing|duplicated|unexpected",
        "Exactly-once broke: duplicates usually mean a batch replayed without the sink's"
        " idempotence (checkpoint lost, or on an emptyDir); missing events a window read"
        " before the sink caught up, or retention trimming the topic.",
    ),
    (
        r"invariants broken|left something behind",
        "The cluster was not whole after the rollbacks: a rollback that failed, or a"
        " resubmitted application slower than the invariants' 300 s.",
    ),
    (
        r"timed out",
        "The mechanism did not recover within bound + margin: read the last state seen and"
        " the events (a pod Pending on resources or a PVC, CrashLoopBackOff, the operator"
        " not resubmitting).",
    ),
)


def hint(text: str) -> str | None:
    """The first hint whose pattern the failure's words match."""
    for pattern, advice in HINTS:
        if re.search(pattern, text, re.IGNORECASE):
            return advice
    return None
