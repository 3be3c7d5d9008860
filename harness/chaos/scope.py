"""What every fault injector needs: the cluster, the rollback stack and the timeline."""

from __future__ import annotations

from typing import Protocol

from kubernetes import client

from harness.chaos.rollback import Rollbacks
from harness.observe.timeline import Timeline

__all__ = ["FaultScope"]


class FaultScope(Protocol):
    """Where a fault strikes and where it leaves its undo (a MechanismContext is one)."""

    api: client.ApiClient
    rollbacks: Rollbacks
    timeline: Timeline
