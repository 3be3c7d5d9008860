"""Chaos and self-healing test harness for a Spark streaming pipeline on kind."""

from harness.errors import (
    CleanupFailed,
    ClusterUnavailable,
    HarnessError,
    InvalidInput,
    StepFailed,
    WaitTimeout,
)
from harness.settings import LabSettings, Versions

__all__ = [
    "CleanupFailed",
    "ClusterUnavailable",
    "HarnessError",
    "InvalidInput",
    "LabSettings",
    "StepFailed",
    "Versions",
    "WaitTimeout",
]
__version__ = "0.1.0"
